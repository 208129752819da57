"""Group tags in SQL: the 0003 data move (both ways), audience and search queries, group migration.

Every test runs on SQLite and on PostgreSQL (``backend_url``; PostgreSQL needs
``TEST_DATABASE_URL_PG``, see ``tests/pg.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from broadcasts.migration import migrate_group
from broadcasts.models import Delivery, Group, GroupTag
from broadcasts.outbox import BroadcastRepository
from broadcasts.registry import GroupRepository, search_text
from broadcasts.scope import Scope
from storage.engine import create_engine, create_schema, session_factory
from storage.migrate import alembic_config, database_revision, head_revision, schema_differences
from tests.pg import backend_url, pg_url  # noqa: F401  (fixtures)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
MANY = 2_345  # more than one batch (2,000) of the data move

# The tables as revision 0002 left them (Core only: the models have moved on).
WHEN = sa.DateTime(timezone=True)
groups_0002 = sa.table(
    "groups",
    *(sa.column(name) for name in ("id", "chat_id", "title", "chat_type", "province", "commune")),
    *(sa.column(name, sa.Boolean) for name in ("is_forum", "active")),
    sa.column("labels", sa.JSON),
    *(sa.column(name, WHEN) for name in ("registered_at", "updated_at")),
)
announcements_0002 = sa.table(
    "announcements",
    *(sa.column(name) for name in ("id", "sender_user_id", "sender_chat_id", "kind", "text", "status", "total")),
    *(sa.column(name, sa.Boolean) for name in ("pin", "silent", "report_sent")),
    sa.column("audience", sa.JSON),
    sa.column("created_at", WHEN),
)
deliveries_0002 = sa.table(
    "deliveries",
    *(sa.column(name) for name in ("id", "announcement_id", "group_id", "chat_id", "status", "attempts")),
    *(sa.column(name, WHEN) for name in ("next_attempt_at", "updated_at")),
)


@pytest.fixture
async def engine(backend_url: str) -> AsyncIterator[AsyncEngine]:  # noqa: F811
    engine = create_engine(backend_url)
    yield engine
    await engine.dispose()


async def to_revision(engine: AsyncEngine, revision: str, *, down: bool = False) -> None:
    move = command.downgrade if down else command.upgrade
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: move(alembic_config(sync), revision))


def old_group(
    group_id: int, title: str, province: str | None, commune: str | None, labels: list[Any]
) -> dict[str, Any]:
    return {
        "id": group_id,
        "chat_id": -1_001_000_000_000 - group_id,
        "title": title,
        "chat_type": "supergroup",
        "is_forum": False,
        "active": group_id != 2,
        "province": province,
        "commune": commune,
        "labels": labels,
        "registered_at": NOW,
        "updated_at": NOW,
    }


OLD_GROUPS = [
    old_group(1, "Tổ CNSCĐ Ba Đình", "ha_noi", "Phường Ba Đình", ["vùng cao", "Vùng Cao", "VUNG CAO", "biên giới"]),
    old_group(2, "Nhóm cũ", None, None, []),  # inactive, untagged
    old_group(3, "Tổ Đắk Glei", None, "Xã Đắk Glei", ["Đoàn viên"]),
    old_group(4, "Tổ lạ", "ca_mau", "!!!", ["#", "ok"]),  # "!!!" and "#" fold to nothing: never matchable
]
EXPECTED_TAGS = {
    1: [("tinh", "ha_noi", "Hà Nội"), ("xa", "phuong ba dinh", "Phường Ba Đình"),
        ("nhan", "vung cao", "vùng cao"), ("nhan", "bien gioi", "biên giới")],
    2: [],
    3: [("xa", "xa dak glei", "Xã Đắk Glei"), ("nhan", "doan vien", "Đoàn viên")],
    4: [("tinh", "ca_mau", "Cà Mau"), ("nhan", "ok", "ok")],
}  # fmt: skip


async def fill_0002(engine: AsyncEngine) -> None:
    """Groups with every kind of tag (and MANY plain ones), an announcement and its deliveries."""
    many = [old_group(100 + i, f"Tổ {i}", "hue", None, [f"nhãn {i % 7}"]) for i in range(MANY)]
    async with engine.begin() as connection:
        await connection.execute(sa.insert(groups_0002), [*OLD_GROUPS, *many])
        await connection.execute(
            sa.insert(announcements_0002),
            [{"id": 1, "sender_user_id": 7, "sender_chat_id": 7, "kind": "text", "text": "Họp", "pin": False,
              "silent": False, "audience": ["tinh:ha_noi"], "status": "sending", "total": 2, "created_at": NOW,
              "report_sent": False}],
        )  # fmt: skip
        await connection.execute(
            sa.insert(deliveries_0002),
            [
                {"id": n, "announcement_id": 1, "group_id": n, "chat_id": -1_001_000_000_000 - n, "status": status,
                 "attempts": 0, "next_attempt_at": NOW, "updated_at": NOW}
                for n, status in ((1, "pending"), (3, "sent"))
            ],
        )  # fmt: skip
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table in ("groups", "announcements", "deliveries"):
                await connection.execute(
                    sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )


async def columns_of(engine: AsyncEngine, table: str) -> set[str]:
    async with engine.connect() as connection:
        found = await connection.run_sync(lambda sync: sa.inspect(sync).get_columns(table))
    return {column["name"] for column in found}


async def test_upgrade_moves_tags_into_their_table_and_downgrade_moves_them_back(engine: AsyncEngine) -> None:
    await to_revision(engine, "0002")
    await fill_0002(engine)
    async with engine.connect() as connection:
        deliveries_before = (await connection.execute(sa.text("SELECT * FROM deliveries ORDER BY id"))).all()

    await create_schema(engine)  # 0002 → head
    assert await database_revision(engine) == head_revision()
    async with engine.connect() as connection:
        assert await connection.run_sync(schema_differences) == []
    assert not {"province", "commune", "labels"} & await columns_of(engine, "groups")

    sessions = session_factory(engine)
    async with sessions() as session:
        tags = (await session.execute(sa.select(GroupTag).order_by(GroupTag.group_id, GroupTag.id))).scalars().all()
        by_group: dict[int, list[tuple[str, str, str]]] = {}
        for tag in tags:
            by_group.setdefault(tag.group_id, []).append((tag.kind, tag.key, tag.display))
        for group_id, expected in EXPECTED_TAGS.items():
            assert by_group.get(group_id, []) == expected, group_id
        assert len(tags) == sum(map(len, EXPECTED_TAGS.values())) + 2 * MANY
        last = (MANY - 1) % 7
        assert by_group[100 + MANY - 1] == [("tinh", "hue", "Huế"), ("nhan", f"nhan {last}", f"nhãn {last}")]

        groups = (await session.scalars(sa.select(Group).order_by(Group.id))).all()
        assert len(groups) == len(OLD_GROUPS) + MANY
        for group in groups:  # the migration's search column is the one the repository writes
            assert group.search_text == search_text(group.title, group.province, group.commune, group.labels)
        first = groups[0]
        assert (first.province, first.commune, first.labels) == ("ha_noi", "Phường Ba Đình", ["vùng cao", "biên giới"])
        assert first.tag_set == {"tinh:ha_noi", "xa:phuong ba dinh", "nhan:vung cao", "nhan:bien gioi"}
        assert first.search_text == "to cnscd ba dinh\nphuong ba dinh\nha noi\nvung cao\nbien gioi"
        assert (groups[1].active, groups[1].labels, groups[1].search_text) == (False, [], "nhom cu")
        assert [(g.chat_id, g.title, g.active) for g in groups[:4]] == [
            (row["chat_id"], row["title"], row["active"]) for row in OLD_GROUPS
        ]
    async with engine.connect() as connection:
        assert (await connection.execute(sa.text("SELECT * FROM deliveries ORDER BY id"))).all() == deliveries_before
        assert (await connection.execute(sa.text("SELECT audience FROM announcements"))).scalar_one() in (
            ["tinh:ha_noi"],
            '["tinh:ha_noi"]',
        )

    await to_revision(engine, "0002", down=True)
    assert await database_revision(engine) == "0002"
    assert "search_text" not in await columns_of(engine, "groups")
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                sa.select(groups_0002.c.id, groups_0002.c.province, groups_0002.c.commune, groups_0002.c.labels)
                .order_by(groups_0002.c.id)
                .limit(5)
            )
        ).all()
        assert not await connection.run_sync(lambda sync: sa.inspect(sync).has_table("group_tags"))
    assert [tuple(row) for row in rows] == [
        (1, "ha_noi", "Phường Ba Đình", ["vùng cao", "biên giới"]),
        (2, None, None, []),
        (3, None, "Xã Đắk Glei", ["Đoàn viên"]),
        (4, "ca_mau", None, ["ok"]),
        (100, "hue", None, ["nhãn 0"]),
    ]
    await create_schema(engine)  # and up again
    async with engine.connect() as connection:
        assert await connection.run_sync(schema_differences) == []
        assert (await connection.execute(sa.text("SELECT count(*) FROM group_tags"))).scalar_one() == len(tags)


# --- the repository ---------------------------------------------------------------------------


@pytest.fixture
async def sessions(engine: AsyncEngine) -> Any:
    await create_schema(engine)
    return session_factory(engine)


async def add(session: AsyncSession, chat_id: int, title: str, province: str | None = None,
              commune: str | None = None, labels: tuple[str, ...] = (), active: bool = True) -> Group:  # fmt: skip
    groups = GroupRepository(session)
    group = await groups.register(chat_id, title, "supergroup", False)
    if province:
        await groups.set_province(chat_id, province)
    if commune:
        await groups.set_commune(chat_id, commune)
    for label in labels:
        await groups.add_label(chat_id, label)
    if not active:
        await groups.deactivate(chat_id)
    return group


async def test_tag_edits_keep_one_place_and_the_search_column(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        groups = GroupRepository(session)
        group = await add(session, -1, "Tổ Ba Đình", "ha_noi", "phuong ba dinh", ("vùng cao", "Vùng Cao", "biên giới"))
        assert (group.province, group.commune, group.labels) == ("ha_noi", "phuong ba dinh", ["vùng cao", "biên giới"])
        await groups.set_province(-1, "hue")
        await groups.set_province(-1, "atlantis")  # unknown: nothing changes
        await groups.set_commune(-1, "Phường  Ba Đình")  # same key: the new spelling is kept
        await groups.remove_label(-1, "VUNG CAO")
        await groups.add_label(-1, "đoàn viên")
        await groups.register(-1, "Tổ CNSCĐ Ba Đình", "supergroup", True)
    async with sessions() as session:
        edited = await GroupRepository(session).by_chat(-1)
        assert edited is not None
        assert (edited.province, edited.commune, edited.labels) == ("hue", "Phường Ba Đình", ["biên giới", "đoàn viên"])
        assert edited.search_text == "to cnscd ba dinh\nphuong ba dinh\nhue\nbien gioi\ndoan vien"
        assert len(edited.tags) == 4
    async with sessions() as session, session.begin():
        groups = GroupRepository(session)
        await groups.set_commune(-1, "…")  # nothing to match on: clears
        await groups.set_province(-1, None)
    async with sessions() as session:
        cleared = await GroupRepository(session).by_chat(-1)
        assert cleared is not None and (cleared.province, cleared.commune) == (None, None)
        assert cleared.search_text == "to cnscd ba dinh\nbien gioi\ndoan vien"
    # The database itself refuses a second province for one group.
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            again = await GroupRepository(session).by_chat(-1)
            assert again is not None
            session.add_all([GroupTag(group_id=again.id, kind="tinh", key=k, display=k) for k in ("hue", "ca_mau")])


async def test_reach_and_count_in_sql(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        a = await add(session, -1, "A", "ha_noi", "Phường Ba Đình", ("vùng cao",))
        b = await add(session, -2, "B", "ha_noi", "Phường Kim Mã")
        c = await add(session, -3, "C", "hue", None, ("Vùng Cao", "biên giới"))
        d = await add(session, -4, "D")
        await add(session, -5, "E", "ha_noi", "Phường Ba Đình", ("vùng cao",), active=False)  # never reached
    async with sessions() as session:
        groups = GroupRepository(session)
        assert await groups.reach(Scope.nothing()) == (nothing := await groups.reach(Scope.nothing(), ["tinh:hue"]))
        assert (nothing.group_ids, nothing.tag_counts) == ([], {})
        everything = await groups.reach(Scope.everything())
        assert everything.group_ids == [a.id, b.id, c.id, d.id]
        assert everything.tag_counts == {
            "tinh:ha_noi": 2, "tinh:hue": 1, "xa:phuong ba dinh": 1, "xa:phuong kim ma": 1,
            "nhan:vung cao": 2, "nhan:bien gioi": 1,
        }  # fmt: skip
        hanoi = Scope.tagged({"tinh:ha_noi"})
        assert await groups.reach(hanoi) == (reach := await groups.reach(hanoi, ()))
        assert reach.group_ids == [a.id, b.id]
        assert reach.tag_counts == {"tinh:ha_noi": 2, "xa:phuong ba dinh": 1, "xa:phuong kim ma": 1, "nhan:vung cao": 1}
        # Chosen tags narrow the groups, not the counts; any spelling of a tag will do.
        chosen = await groups.reach(Scope.everything(), ["nhan:VÙNG CAO", "xa:phường kim mã"])
        assert chosen.group_ids == [a.id, b.id, c.id] and chosen.tag_counts == everything.tag_counts
        assert (await groups.reach(hanoi, ["nhan:vung cao"])).group_ids == [a.id]
        assert (await groups.reach(hanoi, ["tinh:hue"])).group_ids == []
        assert (await groups.reach(Scope.everything(), ["xa:", "bogus"])).group_ids == []  # never "everyone"
        mixed = Scope.tagged({"tinh:hue", "xa:phuong kim ma", "nhan:nowhere"})
        assert (await groups.reach(mixed)).group_ids == [b.id, c.id]
        assert await groups.count(mixed) == 2 and await groups.count(Scope.everything()) == 4
        assert await groups.count(Scope.everything(), ["nhan:vung cao"]) == 2
        assert await groups.count(Scope.nothing()) == 0 and await groups.count(hanoi, ["bogus"]) == 0
        # A scope of 40,000 tags: more than either database takes as bound parameters.
        huge = Scope.tagged({f"nhan:nhan {i}" for i in range(40_000)} | {"xa:phuong ba dinh"})
        assert (await groups.reach(huge)).group_ids == [a.id]
        assert await groups.count(Scope.everything(), sorted(huge.tags)) == 1
    async with sessions() as session:  # edits of the same session count, before any commit
        groups = GroupRepository(session)
        await groups.set_province(-4, "hue")
        assert (await groups.reach(Scope.tagged({"tinh:hue"}))).group_ids == [c.id, d.id]


async def test_search_in_sql(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        await add(session, -1_001_234_567_890, "Tổ Ba Đình", "ha_noi", "Phường Ba Đình", ("vùng cao",))
        await add(session, -2, "Đội xã Đắk Glei", None, None, ("biên giới",))
        await add(session, -3, "Zeta", "hue", active=False)
        for i in range(25):
            await add(session, -100 - i, f"Nhóm {i:02d}", "can_tho")
    async with sessions() as session:
        groups = GroupRepository(session)

        async def titles(text: str, scope: Scope | None = None, **page: int) -> tuple[list[str], int]:
            found, total = await groups.search(text, scope or Scope.everything(), **page)
            return [g.title for g in found], total

        assert await titles("ba dinh") == (["Tổ Ba Đình"], 1)
        assert await titles("BẮC", Scope.everything()) == ([], 0)
        assert await titles("HA NOI") == (["Tổ Ba Đình"], 1)  # province name
        assert await titles("Vung Cao") == (["Tổ Ba Đình"], 1)  # label
        assert await titles("dak glei") == (["Đội xã Đắk Glei"], 1)
        assert await titles("ha_noi") == ([], 0)  # "_" is no wildcard
        assert await titles("dinh\nphuong") == ([], 0)  # never across two fields
        assert await titles("-1001234567890") == (["Tổ Ba Đình"], 1)  # chat id
        assert await titles("1001234567890") == (["Tổ Ba Đình"], 1)  # without the minus
        assert await titles("huế") == (["Zeta"], 1)  # inactive groups are found too
        everything, total = await titles("", limit=100)
        assert total == 28 and everything[:2] == ["Đội xã Đắk Glei", "Nhóm 00"] and everything[-1] == "Zeta"
        assert everything[-2:] == ["Tổ Ba Đình", "Zeta"]  # inactive last; then folded title ("Đ" as "d")
        pages = [await titles("nhom", limit=10, offset=offset) for offset in (0, 10, 20, 30)]
        assert [len(page) for page, _ in pages] == [10, 10, 5, 0] and {total for _, total in pages} == {25}
        assert [title for page, _ in pages for title in page] == [f"Nhóm {i:02d}" for i in range(25)]
        assert await titles("nhom", limit=0) == ([], 25)
        assert await titles("", Scope.tagged({"tinh:ha_noi", "nhan:bien gioi"})) == (
            ["Đội xã Đắk Glei", "Tổ Ba Đình"],
            2,
        )
        assert await titles("nhom", Scope.tagged({"tinh:ha_noi"})) == ([], 0)
        assert await titles("", Scope.nothing()) == ([], 0)


async def test_migrate_group_merges_tags_and_re_aims_deliveries(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        old = await add(session, -10, "Tổ cũ", "ha_noi", "Phường Ba Đình", ("vùng cao", "biên giới"))
        new = await add(session, -1_000_000_000_010, "Tổ mới", "hue", None, ("Biên Giới",))
        alone = await add(session, -20, "Tổ lẻ", "ca_mau")
        outbox = BroadcastRepository(session)
        both = await outbox.create_announcement(
            sender_user_id=1, sender_chat_id=1, kind="text", text="1", group_ids=[old.id, new.id, alone.id]
        )
        only_old = await outbox.create_announcement(
            sender_user_id=1, sender_chat_id=1, kind="text", text="2", group_ids=[old.id, alone.id]
        )
        old_id, new_id, alone_id = old.id, new.id, alone.id
    async with sessions() as session, session.begin():
        sending = await BroadcastRepository(session).claim("worker", 1, 60)  # oldest first: both → old group
        assert [(d.announcement_id, d.group_id) for d in sending] == [(both.id, old_id)]
    async with sessions() as session, session.begin():
        kept = await migrate_group(session, -10, -1_000_000_000_010)
        assert kept is not None and kept.id == new_id
        # The supergroup keeps its province, gains the commune and the label it lacked.
        assert (kept.province, kept.commune, kept.labels) == ("hue", "Phường Ba Đình", ["Biên Giới", "vùng cao"])
        assert kept.search_text == search_text(kept.title, "hue", "Phường Ba Đình", ["Biên Giới", "vùng cao"])
        moved_alone = await migrate_group(session, -20, -1_000_000_000_020)  # nobody registered the supergroup
        assert moved_alone is not None and moved_alone.id == alone_id and moved_alone.chat_type == "supergroup"
        assert await migrate_group(session, -30, -1_000_000_000_030) is None  # unknown on both sides
    async with sessions() as session:
        old_row = await session.get(Group, old_id)
        assert old_row is not None and not old_row.active and old_row.chat_id == -10
        assert old_row.labels == ["vùng cao", "biên giới"]  # the old row keeps its tags, for history
        rows = (await session.scalars(sa.select(Delivery).order_by(Delivery.announcement_id, Delivery.id))).all()
        got = {(d.announcement_id, d.group_id, d.chat_id, d.status) for d in rows}
    assert got == {
        (both.id, old_id, -1_000_000_000_010, "sending"),  # in flight: re-aimed, stays with its row
        (both.id, new_id, -1_000_000_000_010, "pending"),
        (both.id, alone_id, -1_000_000_000_020, "pending"),
        (only_old.id, new_id, -1_000_000_000_010, "pending"),  # moved to the kept row
        (only_old.id, alone_id, -1_000_000_000_020, "pending"),
    }


async def test_merge_cancels_a_pending_duplicate(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        old = await add(session, -10, "Tổ cũ")
        new = await add(session, -1_000_000_000_010, "Tổ mới")
        both = await BroadcastRepository(session).create_announcement(
            sender_user_id=1, sender_chat_id=1, kind="text", text="1", group_ids=[old.id, new.id]
        )
    async with sessions() as session, session.begin():
        await migrate_group(session, -10, -1_000_000_000_010)
    async with sessions() as session:
        rows = (await session.scalars(sa.select(Delivery).where(Delivery.announcement_id == both.id))).all()
        got = sorted((d.group_id, d.chat_id, d.status, d.error) for d in rows)
    assert got == [
        (old.id, -10, "cancelled", "merged: the supergroup already has this announcement"),
        (new.id, -1_000_000_000_010, "pending", None),
    ]
