"""The curation inbox, curated examples and curators on a real SQLite file (PostgreSQL: test_database_backends).

Records are seeded as the bot writes them (feedback and picks set afterwards), tickets through
the support desk's repository; the knowledge base is the real content.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from curation.grouping import closest, grouping_key, similarity
from curation.inbox import LOOKBACK, InboxRepository
from curation.roles import CuratorRepository
from knowledge.content_files import CURATED_FILE, Content, CuratedEntry, load_content, write_content
from knowledge.models import CuratedExample
from knowledge.repository import KnowledgeRepository
from records.repository import NewRecord, RecordRepository
from storage.base import as_utc
from storage.engine import create_engine, create_schema, session_factory
from support.models import EventKind
from support.repository import TicketRepository

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
CURATOR = 7_000_000_077
IMPORTED = "Bị lừa mất tiền trên mạng"  # an imported example of attt_bi_lua


def test_the_key_ignores_accents_case_telex_punctuation_and_abbreviations() -> None:
    assert grouping_key("caif ddawtj VNeID") == grouping_key("Cài đặt vneid!!") == "cai dat vneid"
    assert grouping_key("ko dc") == grouping_key("Không được.") == "khong duoc"
    assert grouping_key("Hoà bình") == grouping_key("hòa   bình") and grouping_key("???") == ""
    assert similarity("cai dat vneid", "cai dat vneid a") >= 0.85
    assert similarity("cai dat vneid", "huong dan cai dat zalo") == 0.0
    assert closest("cai dat vneid a", [("dang nhap vneid", 1), ("cai dat vneid", 2), ("cai dat vneid o", 3)]) == 3
    assert closest("cai dat vneid a", [("cai dat vneid b", 4), ("cai dat vneid o", 3)]) == 4  # a tie: the first
    assert closest("thoi tiet", [("cai dat vneid", 1)]) is None


@pytest.fixture
async def engine(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('curation') / 'inbox.db'}")
    await create_schema(engine)
    yield engine
    await engine.dispose()


def record(record_id: int, minutes: float, text: str, decision: str = "unknown") -> NewRecord:
    return NewRecord(
        id=record_id,
        created_at=T0 + timedelta(minutes=minutes),
        chat_type="private",
        user_id=11,
        chat_id=11,
        normalized_text=text,
        decision=decision,
        topic_id="vneid_cai_dat" if decision == "answer" else None,
        candidates=[],
        confidence=0.3,
        latency_ms=5.0,
        nlu_source="rasa",
    )


async def answered_ticket(
    session: AsyncSession, question: str, minutes: float, topic: str, record_id: int | None
) -> int:
    tickets = TicketRepository(session)
    at = T0 + timedelta(minutes=minutes)
    ticket, _ = await tickets.open(
        user_id=12,
        origin_chat_type="private",
        origin_chat_id=12,
        question=question,
        guesses=[],
        province=None,
        now=at,
        record_id=record_id,
    )
    await tickets.responded(ticket, EventKind.TOPIC_ANSWER, 99, at + timedelta(minutes=1), detail=topic)
    return ticket.id


async def seed(session: AsyncSession) -> dict[str, int]:
    """Eleven records and two answered tickets: ten items (a ticket joins its record), two records stay out."""
    records = RecordRepository(session)
    await records.add_many(
        [
            record(1, 1, "caif ddawtj vneid"),
            record(2, 2, "Cài đặt VNeID!!"),
            record(3, 3, "cài đặt vneid ạ"),  # a near-duplicate
            record(4, 4, "dang nhap dich vu cong ko dc"),
            record(5, 5, "Đăng nhập dịch vụ công không được", "answer"),
            record(6, 6, "đăng ký tạm trú online", "clarify"),
            record(7, 7, "gia hạn tạm trú", "clarify"),  # no pick: not in
            record(8, 0, "cai dat vneid", "answer"),  # answered, no 👎 (yet): not in
            record(9, 8, "bị lừa qua trò chơi kim cương rồng bay"),
            record(10, 8.5, "???"),  # in, but without words: in no group
            record(11, 0.5, "bi lua mat tien tren mang"),
        ]
    )
    await records.set_feedback(5, -1)
    await records.set_chosen_topic(6, "dvc_cu_tru")
    ticket_of_9 = await answered_ticket(session, "bị lừa qua trò chơi kim cương rồng bay", 8.2, "attt_bi_lua", 9)
    loose = await answered_ticket(session, "Dang ky tam tru online", 9, "dvc_cu_tru", None)
    return {"ticket_of_9": ticket_of_9, "loose_ticket": loose}


async def inbox_lifecycle(engine: AsyncEngine, content: Content) -> None:
    """Ingest (twice, concurrently), views, resolutions and the merge, re-import, skip, delete."""
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await KnowledgeRepository(session).sync_content(content)
        tickets = await seed(session)

    async def ingest() -> int:
        async with sessions() as session, session.begin():
            return await InboxRepository(session).ingest(NOW)

    assert sorted(await asyncio.gather(ingest(), ingest())) == [0, 10]  # two processes: nothing twice
    assert await ingest() == 0
    async with sessions() as session, session.begin():
        await RecordRepository(session).set_feedback(8, -1)  # a late 👎
    assert await ingest() == 1

    async with sessions() as session:
        inbox = InboxRepository(session)
        assert await inbox.open_count() == 5
        tam_tru = await inbox.next_group()
        assert tam_tru is not None and tam_tru.is_open
        assert (tam_tru.count, tam_tru.labels, tam_tru.record_ids) == (2, {"dvc_cu_tru": 2}, (6,))
        assert tam_tru.ticket_ids == (tickets["loose_ticket"],)
        assert as_utc(tam_tru.newest_at) == T0 + timedelta(minutes=9)
        lua = await inbox.next_group(exclude_ids=[tam_tru.id])
        assert lua is not None and lua.texts == ("bị lừa qua trò chơi kim cương rồng bay",)
        assert (lua.count, lua.labels, lua.ticket_ids) == (1, {"attt_bi_lua": 1}, (tickets["ticket_of_9"],))
        dvc = await inbox.next_group(exclude_ids=[tam_tru.id, lua.id])
        assert dvc is not None and dvc.count == 2 and dvc.record_ids == (5, 4)
        vneid = await inbox.next_group(exclude_ids=[tam_tru.id, lua.id, dvc.id])
        assert vneid is not None and vneid.count == 4 and vneid.record_ids == (3, 2, 1, 8)
        assert vneid.texts == ("cài đặt vneid ạ", "Cài đặt VNeID!!", "caif ddawtj vneid")
        assert as_utc(vneid.newest_at) == T0 + timedelta(minutes=3)
        mat_tien = await inbox.next_group(exclude_ids=[tam_tru.id, lua.id, dvc.id, vneid.id])
        assert mat_tien is not None and mat_tien.key == grouping_key(IMPORTED)

    async with sessions() as session, session.begin():
        inbox = InboxRepository(session)
        assert await inbox.resolve(vneid.id, "vneid_cai_dat", CURATOR, NOW) == 2  # two keys
        assert await inbox.resolve(mat_tien.id, "attt_bao_cao", CURATOR, NOW) == 1
        assert await inbox.resolve(vneid.id, "vneid_cai_dat", CURATOR, NOW) == 0  # a second tap
        with pytest.raises(ValueError, match="unknown label"):
            await inbox.resolve(dvc.id, "khong_co_topic_nay", CURATOR, NOW)
        assert not (await inbox.get(vneid.id)).is_open  # type: ignore[union-attr]
        assert await inbox.curated_since(NOW - timedelta(seconds=1)) == 3 and await inbox.curated_since(NOW) == 0
        row = await session.scalar(select(CuratedExample).where(CuratedExample.key == "cai dat vneid"))
        assert row is not None and (row.label, row.text, row.curator_id) == (
            "vneid_cai_dat",
            "Cài đặt VNeID!!",
            CURATOR,
        )
        assert as_utc(row.created_at) == NOW and row.sources == {"records": [2, 1, 8], "tickets": [], "group": vneid.id}

    async def merged() -> dict[str, list[str]]:
        async with sessions() as session:
            return await KnowledgeRepository(session).training_examples()

    def check(examples: dict[str, list[str]]) -> None:
        assert IMPORTED not in examples["attt_bi_lua"] and "bi lua mat tien tren mang" in examples["attt_bao_cao"]
        keys = {label: {grouping_key(t) for t in texts} for label, texts in examples.items()}
        owners = [label for label, found in keys.items() if "cai dat vneid" in found]
        assert owners == ["vneid_cai_dat"] and "Cài đặt VNeID!!" in examples["vneid_cai_dat"]

    check(await merged())
    async with sessions() as session, session.begin():  # `python -m knowledge import` after a git pull
        report = await KnowledgeRepository(session).sync_content(content)
        assert not report.changed
    check(await merged())
    async with sessions() as session:
        knowledge = KnowledgeRepository(session)
        assert await knowledge.curated_count() == 3
        assert ("attt_bao_cao", "bi lua mat tien tren mang") in await knowledge.curated_examples()

    async with sessions() as session, session.begin():
        inbox = InboxRepository(session)
        assert await inbox.skip(tam_tru.id, NOW) and await inbox.delete(dvc.id, NOW)
        assert not await inbox.delete(dvc.id, NOW) and not await inbox.skip(vneid.id, NOW)
        assert await inbox.open_count() == 2
        assert [g.id for g in [await inbox.next_group()] if g] == [lua.id]  # skipped ones come last
        assert (await inbox.next_group(exclude_ids=[lua.id])).id == tam_tru.id  # type: ignore[union-attr]
        await RecordRepository(session).add_many(
            [record(12, 20, "Đăng nhập dịch vụ công ko được"), record(13, 21, "cài đặt VNEID")]
        )
        assert await inbox.ingest(NOW) == 2
        again = await inbox.next_group()
        assert again is not None and again.record_ids == (13,) and again.id != vneid.id  # a new group
        reopened = await inbox.next_group(exclude_ids=[again.id])
        assert reopened is not None and reopened.record_ids == (12,) and reopened.id != dvc.id
        # The curator changes their mind: the key moves to the other label.
        assert await inbox.resolve(again.id, "vneid_muc_1", CURATOR, NOW + timedelta(minutes=1)) == 1
    examples = await merged()
    assert "cài đặt VNEID" in examples["vneid_muc_1"] and "Cài đặt VNeID!!" not in examples["vneid_cai_dat"]


async def test_inbox_lifecycle(engine: AsyncEngine, content: Content, tmp_path: Path) -> None:
    await inbox_lifecycle(engine, content)
    await curated_yaml_round_trip(engine, content, tmp_path)


async def curated_yaml_round_trip(engine: AsyncEngine, content: Content, folder: Path) -> None:
    """After ``inbox_lifecycle``: export writes curated.yaml, import loads it back (idempotent upsert)."""
    sessions = session_factory(engine)
    async with sessions() as session:
        exported = await KnowledgeRepository(session).export_content()
        before = await KnowledgeRepository(session).training_examples()
    assert [r.entry for r in exported.topics] == [r.entry for r in content.topics]  # imported examples only
    assert [(e.label, e.text, e.curator) for e in exported.curated] == [
        ("vneid_cai_dat", "cài đặt vneid ạ", CURATOR),
        ("attt_bao_cao", "bi lua mat tien tren mang", CURATOR),
        ("vneid_muc_1", "cài đặt VNEID", CURATOR),
    ]
    write_content(Content(curated=exported.curated), folder / "export")
    reloaded = load_content(folder / "export")
    assert reloaded.problems == [] and reloaded.curated == exported.curated

    # Into a database that lost them (a fresh one), twice: added once, then nothing changes.
    async with sessions() as session, session.begin():
        await session.execute(delete(CuratedExample))
    committed = replace(content, curated=reloaded.curated)
    async with sessions() as session, session.begin():
        first = await KnowledgeRepository(session).sync_content(committed)
    async with sessions() as session, session.begin():
        second = await KnowledgeRepository(session).sync_content(committed)
    assert first.curated_added == 3 and not second.changed
    async with sessions() as session:
        assert await KnowledgeRepository(session).training_examples() == before
        assert (await KnowledgeRepository(session).export_content()).curated == exported.curated

    # A committed file naming a topic that is gone: reported, the rest still loads.
    gone = CuratedEntry(label="chu_de_da_bo", text="câu hỏi cũ")
    weather = CuratedEntry(label="out_of_scope", text="thời tiết hôm nay", at=NOW)
    async with sessions() as session, session.begin():
        third = await KnowledgeRepository(session).sync_content(replace(committed, curated=[gone, weather]))
    assert third.curated_added == 1
    assert third.curated_skipped == ["chu_de_da_bo: 'câu hỏi cũ' (label is no active topic)"]


def test_a_broken_curated_file_is_a_content_problem(tmp_path: Path) -> None:
    (tmp_path / CURATED_FILE).write_text("- {label: Bad Label, text: ''}\n- just text\n", encoding="utf-8")
    problems = [str(p) for p in load_content(tmp_path).problems if p.file == CURATED_FILE]
    assert len(problems) == 3 and problems[0].startswith("curated.yaml: example #1: label")


async def test_late_feedback_is_collected_within_the_lookback_only(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        records = RecordRepository(session)
        await records.add_many([record(1, -60 * 24 * 30, "rất cũ"), record(2, 0, "mới đây")])
        await records.add_many([record(3, -60 * 24 * 8, "tuần trước nữa", "answer")])
        await records.add_many([record(4, -60 * 24 * 6, "tuần trước", "answer")])
        inbox = InboxRepository(session)
        assert await inbox.ingest(NOW) == 2  # the first run reads everything
        await records.set_feedback(3, -1)  # 8 days after: beyond LOOKBACK
        await records.set_feedback(4, -1)
        assert timedelta(days=7) == LOOKBACK and await inbox.ingest(NOW) == 1
        group = await inbox.next_group(exclude_ids=[(await inbox.next_group()).id])  # type: ignore[union-attr]
        assert group is not None and group.record_ids == (4,)


async def test_curators_are_granted_and_revoked(engine: AsyncEngine) -> None:
    admins = frozenset({1})
    async with session_factory(engine)() as session, session.begin():
        curators = CuratorRepository(session)
        assert await curators.is_curator(1, admins) and not await curators.is_curator(5, admins)
        await curators.grant(5, 1, T0)
        await curators.grant(5, 1, NOW)  # again: updated, not doubled
        await curators.grant(3, 1, T0)
        assert [(c.user_id, as_utc(c.granted_at)) for c in await curators.all()] == [(3, T0), (5, NOW)]
        assert await curators.is_curator(5, admins)
        assert await curators.revoke(5) and not await curators.revoke(5)
        assert not await curators.is_curator(5, admins) and [c.user_id for c in await curators.all()] == [3]
