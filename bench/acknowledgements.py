"""Acknowledgement figures for an announcement to 100,000 groups: how long the report's queries take.

Groups are spread over the 34 provinces and about 3,300 communes; every delivery is sent and
about 60% of the groups have acknowledged. Timed (best of ``--repeat``): the totals, the top
provinces and communes (GROUP BY), the reminder check, the whole report section, the CSV of
every group, one tap; and once, creating the reminder to the 40% still waiting. The same run
goes on SQLite and, given ``--pg-url`` or ``TEST_DATABASE_URL_PG``, on PostgreSQL (a new
database there, dropped afterwards).

    .venv/bin/python bench/acknowledgements.py [--groups 100000] [--pg-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from broadcasts.acknowledgements import AcknowledgementRepository
from broadcasts.models import Acknowledgement, AnnouncementStatus, Delivery, DeliveryStatus, Group, GroupTag
from broadcasts.outbox import BroadcastRepository
from broadcasts.reports import ReportRepository, acknowledgement_text
from broadcasts.tags import PROVINCES, fold
from storage.base import utc_now
from storage.engine import create_engine, create_schema, session_factory
from tests.pg import scratch_database

CHUNK = 5_000
COMMUNES_PER_PROVINCE = 97  # 34 × 97 ≈ 3,300 communes, as after July 2025


async def prepare(url: str, count: int) -> tuple[Any, int]:
    engine = create_engine(url)
    await create_schema(engine)
    sessions = session_factory(engine)
    provinces = list(PROVINCES)
    async with sessions() as session, session.begin():
        rows = [
            {"chat_id": -1_001_000_000_000 - i, "title": f"Tổ CNSCĐ {i}", "chat_type": "supergroup", "active": True}
            for i in range(count)
        ]
        for start in range(0, count, CHUNK):
            await session.execute(insert(Group), rows[start : start + CHUNK])
        ids = list((await session.scalars(select(Group.id).order_by(Group.id))).all())
        tags: list[dict[str, Any]] = []
        for n, group_id in enumerate(ids):
            province = provinces[n % len(provinces)]
            if n % 50:  # one group in fifty has no tags at all
                tags.append({"group_id": group_id, "kind": "tinh", "key": province, "display": PROVINCES[province]})
                commune = f"Xã {n // len(provinces) % COMMUNES_PER_PROVINCE} {PROVINCES[province]}"
                tags.append({"group_id": group_id, "kind": "xa", "key": fold(commune), "display": commune})
        for start in range(0, len(tags), CHUNK):
            await session.execute(insert(GroupTag), tags[start : start + CHUNK])
        announcement = await BroadcastRepository(session).create_announcement(
            sender_user_id=1, sender_chat_id=1, kind="text", text="Họp tổ", group_ids=ids
        )
        announcement.ack_button = True
        announcement_id = announcement.id
        await session.execute(
            update(Delivery).where(Delivery.announcement_id == announcement_id).values(status=DeliveryStatus.SENT)
        )
        now = utc_now()
        announcement.status, announcement.finished_at = AnnouncementStatus.DONE, now
        acks = [
            {"announcement_id": announcement_id, "group_id": group_id, "user_id": 7, "acked_at": now}
            for n, group_id in enumerate(ids)
            if n % 5 < 3
        ]
        for start in range(0, len(acks), CHUNK):
            await session.execute(insert(Acknowledgement), acks[start : start + CHUNK])
    return engine, announcement_id


async def best(repeat: int, work: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


async def run(backend: str, url: str, count: int, repeat: int) -> None:
    started = time.perf_counter()
    engine, announcement_id = await prepare(url, count)
    print(f"{backend}: {count} groups prepared in {time.perf_counter() - started:.1f} s")
    sessions = session_factory(engine)

    def timed(call: Callable[[Any], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
        async def once() -> object:
            async with sessions() as session:
                return await call(session)

        return once

    now, day = utc_now() + timedelta(days=2), timedelta(hours=24)
    chat = -1_001_000_000_000 - (count - 1)  # the last group: index 4 mod 5, not acknowledged yet
    figures: dict[str, float] = {
        "totals": await best(repeat, timed(lambda s: AcknowledgementRepository(s).totals(announcement_id))),
        "top provinces": await best(
            repeat, timed(lambda s: AcknowledgementRepository(s).by_province(announcement_id, 10))
        ),
        "top communes": await best(
            repeat, timed(lambda s: AcknowledgementRepository(s).by_commune(announcement_id, 10))
        ),
        "reminder check": await best(
            repeat, timed(lambda s: AcknowledgementRepository(s).reminder_state(announcement_id, now, day))
        ),
        "report section": await best(
            repeat,
            timed(
                lambda s: _section(ReportRepository(s), announcement_id, now, day),
            ),
        ),
        "CSV (all groups)": await best(
            repeat, timed(lambda s: ReportRepository(s).acknowledgements_csv(announcement_id))
        ),
    }

    async def one_tap() -> object:
        async with sessions() as session, session.begin():
            return await AcknowledgementRepository(session).record_tap(announcement_id, chat, 8)

    figures["tap"] = await best(repeat, one_tap)

    async def remind() -> object:  # once: there is one reminder per announcement
        async with sessions() as session, session.begin():
            reminder = await AcknowledgementRepository(session).create_reminder(
                announcement_id, sender_user_id=1, sender_chat_id=1, now=now, after=day, header="🔔", too_long="🔔"
            )
            return reminder.total

    figures["reminder (40,000)"] = await best(1, remind)
    async with sessions() as session:
        size = len(await ReportRepository(session).acknowledgements_csv(announcement_id))
    for name, ms in figures.items():
        print(f"  {name:18} {ms:9.1f} ms")
    print(f"  CSV size           {size / 1e6:9.1f} MB")
    await engine.dispose()


async def _section(reports: ReportRepository, announcement_id: int, now: Any, day: timedelta) -> str:
    found = await reports.acknowledgements(announcement_id, now, day)
    assert found is not None
    return acknowledgement_text(found)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL_PG"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        await run("sqlite", f"sqlite+aiosqlite:///{folder}/bench.db", args.groups, args.repeat)
    if args.pg_url:
        async with scratch_database(args.pg_url, "bench_ack") as url:
            await run("postgresql", url, args.groups, args.repeat)


if __name__ == "__main__":
    asyncio.run(main())
