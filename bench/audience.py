"""Audience counting and group search over 100,000 tagged groups: the old Python loop vs SQL.

One data set (34 provinces, ~3,300 communes, a few labels per group, 5 % inactive) is written
twice into one fresh database: as the current schema (``groups`` + ``group_tags``, through
``create_schema``) and as a copy of the 0002 ``groups`` table (province / commune / labels
columns) for the baseline. "before" is the old algorithm, rebuilt here: load every group as
ORM objects, compute each one's tags, scope and match in Python. "after" is
``broadcasts.registry.GroupRepository`` (reach, count, search in SQL). Each operation runs once
to warm up, then ``--repeat`` times in a fresh session; the table shows medians and whether
both gave the same answer.

    .venv/bin/python bench/audience.py [--groups 100000] [--repeat 5] [--pg-url postgresql+asyncpg://…]

SQLite always (a new file); PostgreSQL when ``--pg-url`` names a server (a new database is made
there and dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, String, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from broadcasts.models import Group, GroupTag
from broadcasts.registry import GroupRepository, search_text
from broadcasts.scope import Scope
from broadcasts.tags import PROVINCES, canonical_tag, fold
from storage.engine import create_engine, create_schema, session_factory
from tests.pg import scratch_database

# Syllables of commune names (some fold alike: Thạnh/Thành, Quảng/Quang — as in real names).
WORDS = [
    *("An", "Bình", "Đông", "Tây", "Nam", "Bắc", "Phú", "Hòa", "Thạnh", "Lộc", "Long", "Mỹ", "Tân", "Hưng"),
    *("Phước", "Thới", "Vĩnh", "Quảng", "Nghĩa", "Đức", "Hiệp", "Thuận", "Thành", "Trung", "Sơn", "Hải"),
    *("Lâm", "Hà", "Xuân", "Cẩm", "Kim", "Ngọc", "Minh", "Quang", "Thịnh", "Vạn", "Yên", "Tiến", "Hồng"),
    *("Lạc", "Đa", "Khánh", "Định", "Lợi", "Thủy", "Cát", "Tường", "Phong", "Điền", "Mai", "Châu", "Hội"),
]
LABELS = ("vùng cao", "biên giới", "đoàn viên", "hội phụ nữ", "công an xã", "bưu điện", "trường học", "y tế")
NOW = datetime(2026, 12, 1, tzinfo=UTC)


class OldBase(DeclarativeBase):
    pass


class OldGroup(OldBase):
    """The ``groups`` table as revision 0002 had it (tags in columns), under another name."""

    __tablename__ = "bench_groups_0002"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True, index=True)
    title: Mapped[str] = mapped_column(String(255))
    chat_type: Mapped[str] = mapped_column(String(16))
    is_forum: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean, index=True)
    province: Mapped[str | None] = mapped_column(String(64), index=True)
    commune: Mapped[str | None] = mapped_column(String(128))
    labels: Mapped[list[Any]] = mapped_column(JSON)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- the old algorithm (knowledge/groups.py before tags moved to SQL) ----------------------------


def old_group_tags(group: OldGroup) -> set[str]:
    tags = set()
    if group.province:
        tags.add(f"tinh:{group.province}")
    if group.commune:
        tags.add(f"xa:{fold(group.commune)}")
    tags.update(f"nhan:{fold(str(label))}" for label in group.labels or [])
    return tags


def old_in_scope(group: OldGroup, scope: Iterable[str]) -> bool:
    wanted = {canonical_tag(tag) for tag in scope} - {None}
    return not wanted or bool(old_group_tags(group) & wanted)  # type: ignore[operator]


async def old_all_groups(session: AsyncSession, *, active_only: bool = True) -> list[OldGroup]:
    query = select(OldGroup).order_by(OldGroup.id)
    if active_only:
        query = query.where(OldGroup.active)
    return list((await session.scalars(query)).all())


async def old_reach(session: AsyncSession, scope: Sequence[str], chosen: Sequence[str] = ()) -> Any:
    reachable = [g for g in await old_all_groups(session) if old_in_scope(g, scope)]
    counts: Counter[str] = Counter(tag for g in reachable for tag in old_group_tags(g))
    selected = [g for g in reachable if old_in_scope(g, chosen)] if chosen else reachable
    return [g.id for g in selected], dict(counts)


async def old_search(session: AsyncSession, text: str, *, limit: int = 15, offset: int = 0) -> Any:
    needle = fold(text)
    matches = []
    for group in await old_all_groups(session, active_only=False):
        haystack = " ".join(
            [group.title, group.commune or "", PROVINCES.get(group.province or "", ""), *map(str, group.labels or [])]
        )
        if not needle or needle in fold(haystack) or needle == str(group.chat_id):
            matches.append(group)
    matches.sort(key=lambda g: (not g.active, fold(g.title)))
    return [g.title for g in matches[offset : offset + limit]], len(matches)


# --- the data ----------------------------------------------------------------------------------


def make_groups(count: int, seed: int = 20261201) -> list[dict[str, Any]]:
    """Old-style rows: ~97 communes per province, 90 % with a commune, 0–3 labels, 5 % inactive."""
    rng = random.Random(seed)
    communes: dict[str, list[str]] = {}
    seen: set[str] = set()
    for province in PROVINCES:
        names: list[str] = []
        while len(names) < 97:  # 34 × 97 = 3,298 communes, out of ~5,000 possible names
            name = f"{rng.choice(('Xã', 'Phường'))} {rng.choice(WORDS)} {rng.choice(WORDS)}"
            if fold(name) not in seen:
                seen.add(fold(name))
                names.append(name)
        communes[province] = names
    rows = []
    for n in range(1, count + 1):
        province = rng.choice(list(PROVINCES))
        commune = rng.choice(communes[province]) if rng.random() < 0.9 else None
        rows.append(
            {
                "id": n,
                "chat_id": -1_001_000_000_000 - n,
                "title": f"Tổ CNSCĐ {commune or PROVINCES[province]} {n % 50}",
                "chat_type": "supergroup",
                "is_forum": False,
                "active": rng.random() >= 0.05,
                "province": province if rng.random() < 0.95 else None,
                "commune": commune,
                "labels": rng.sample(LABELS, rng.choice((0, 0, 1, 1, 2, 3))),
                "registered_at": NOW,
                "updated_at": NOW,
            }
        )
    return rows


async def load(engine: AsyncEngine, rows: list[dict[str, Any]]) -> None:
    """The rows into both schemas, 5,000 at a time."""
    await create_schema(engine)
    async with engine.begin() as connection:
        await connection.run_sync(OldBase.metadata.create_all)
    for start in range(0, len(rows), 5_000):
        chunk = rows[start : start + 5_000]
        tags: list[dict[str, Any]] = []
        new_rows = []
        for row in chunk:
            old = {k: row[k] for k in ("id", "chat_id", "title", "chat_type", "is_forum", "active")}
            new_rows.append(
                {**old, "registered_at": NOW, "updated_at": NOW,
                 "search_text": search_text(row["title"], row["province"], row["commune"], row["labels"])}
            )  # fmt: skip
            group_id, province, commune = row["id"], row["province"], row["commune"]
            if province:
                tags.append({"group_id": group_id, "kind": "tinh", "key": province, "display": PROVINCES[province]})
            if commune:
                tags.append({"group_id": group_id, "kind": "xa", "key": fold(commune), "display": commune})
            tags += [{"group_id": group_id, "kind": "nhan", "key": fold(x), "display": x} for x in row["labels"]]
        async with engine.begin() as connection:
            await connection.execute(insert(OldGroup), chunk)
            await connection.execute(insert(Group), new_rows)
            await connection.execute(insert(GroupTag), tags)
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text("SELECT setval(pg_get_serial_sequence('groups', 'id'), max(id)) FROM groups"))
            await connection.execute(text("ANALYZE"))
        else:
            await connection.execute(text("ANALYZE"))


# --- timing ------------------------------------------------------------------------------------


async def timed(engine: AsyncEngine, run: Callable[[AsyncSession], Awaitable[Any]], repeat: int) -> tuple[float, Any]:
    """Median milliseconds over ``repeat`` runs (after one warm-up), each in a fresh session; the result."""
    sessions = session_factory(engine)
    async with sessions() as session:
        result = await run(session)
    times = []
    for _ in range(repeat):
        async with sessions() as session:
            started = time.perf_counter()
            await run(session)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def cases(sample: dict[str, Any]) -> list[tuple[str, Any, Any, Callable[[Any, Any], bool]]]:
    """(name, before, after, same) for every operation measured."""
    province, commune, label = sample["province"], sample["commune"], sample["labels"][0]
    chosen = [f"xa:{commune}", f"nhan:{label}"]
    needle = " ".join(fold(commune).split()[1:])  # a commune's name without "xa" / "phuong"
    one = Scope.tagged({f"tinh:{province}"})
    same_reach = lambda a, b: (a[0], a[1]) == (b.group_ids, b.tag_counts)
    same_count = lambda a, b: len(a[0]) == b
    same_page = lambda a, b: (a[0], a[1]) == ([g.title for g in b[0]], b[1])  # equal titles: any order
    return [
        ("reach, everything", lambda s: old_reach(s, []), lambda s: GroupRepository(s).reach(Scope.everything()),
         same_reach),
        ("reach, everything, 2 chosen", lambda s: old_reach(s, [], chosen),
         lambda s: GroupRepository(s).reach(Scope.everything(), chosen), same_reach),
        (f"reach, 1 province ({province})", lambda s: old_reach(s, [f"tinh:{province}"]),
         lambda s: GroupRepository(s).reach(one), same_reach),
        ("reach, 1 province, 2 chosen", lambda s: old_reach(s, [f"tinh:{province}"], chosen),
         lambda s: GroupRepository(s).reach(one, chosen), same_reach),
        ("count, everything", lambda s: old_reach(s, []), lambda s: GroupRepository(s).count(Scope.everything()),
         same_count),
        ("count, 1 province, 2 chosen", lambda s: old_reach(s, [f"tinh:{province}"], chosen),
         lambda s: GroupRepository(s).count(one, chosen), same_count),
        (f"search '{needle}', page 1", lambda s: old_search(s, needle),
         lambda s: GroupRepository(s).search(needle, Scope.everything(), limit=15), same_page),
        (f"search chat id {sample['chat_id']}", lambda s: old_search(s, str(sample["chat_id"])),
         lambda s: GroupRepository(s).search(str(sample["chat_id"]), Scope.everything(), limit=15), same_page),
    ]  # fmt: skip


async def run_backend(backend: str, url: str, rows: list[dict[str, Any]], repeat: int) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        await load(engine, rows)
        print(f"{backend}: {len(rows):,} groups loaded in {time.perf_counter() - started:.1f} s", flush=True)
        sample = next(r for r in rows if r["active"] and r["province"] and r["commune"] and r["labels"])
        lines = []
        for name, before, after, same in cases(sample):
            before_ms, old = await timed(engine, before, repeat)
            after_ms, new = await timed(engine, after, repeat)
            lines.append((backend, name, before_ms, after_ms, same(old, new)))
        return lines
    finally:
        await engine.dispose()


async def with_pg_database(server_url: str, rows: list[dict[str, Any]], repeat: int) -> list[tuple[Any, ...]]:
    async with scratch_database(server_url, "bench_audience") as database:
        return await run_backend("postgresql", database, rows, repeat)


async def main_async(args: argparse.Namespace) -> int:
    rows = make_groups(args.groups)
    communes = len({fold(r["commune"]) for r in rows if r["commune"]})
    tags = sum(bool(r["province"]) + bool(r["commune"]) + len(r["labels"]) for r in rows)
    workdir = Path(tempfile.mkdtemp(prefix="bench-audience-"))
    try:
        lines = await run_backend("sqlite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}", rows, args.repeat)
        if args.pg_url:
            lines += await with_pg_database(args.pg_url, rows, args.repeat)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"\n{len(rows):,} groups ({sum(not r['active'] for r in rows):,} inactive), {len(PROVINCES)} provinces, "
        f"{communes:,} communes, {tags:,} tags; median of {args.repeat} runs after a warm-up; "
        f"{os.cpu_count()} CPUs"
    )
    header = f"{'back end':11s}{'operation':38s}{'before ms':>11s}{'after ms':>10s}{'before/after':>14s}  same answer"
    print(header)
    print("-" * len(header))
    for backend, name, before_ms, after_ms, same in lines:
        ratio = before_ms / after_ms if after_ms else float("inf")
        print(f"{backend:11s}{name:38s}{before_ms:11.1f}{after_ms:10.1f}{ratio:13.1f}x  {'yes' if same else 'NO'}")
    print("(the old chat-id search compared the folded text, which has lost the minus sign, with the negative id:")
    print(" it never found a group by its id; the new one does, so that line's answers differ on purpose)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg-url", help="a PostgreSQL server (any database on it); a new database is made there")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
