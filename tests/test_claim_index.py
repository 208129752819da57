"""Claiming stays cheap as the outbox grows: the claim's plan uses an index, not a scan of deliveries.

120,000 delivery rows, almost all sent (old announcements), and one announcement being sent
with 2,000 pending rows: PostgreSQL's ``EXPLAIN`` of the claim (after ``ANALYZE``) reads
deliveries through the partial index of open rows, never a sequential scan. SQLite's
``EXPLAIN QUERY PLAN`` of the same statement uses the index too.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from broadcasts.models import Announcement, AnnouncementStatus, Delivery, DeliveryStatus, Group
from broadcasts.outbox import BroadcastRepository
from storage.base import utc_now
from storage.engine import create_engine, create_schema, session_factory
from tests.pg import backend_url, pg_url  # noqa: F401  (fixtures)

GROUPS = 20_000
OLD_ANNOUNCEMENTS = 6  # × 20,000 groups = 120,000 sent rows
INDEX = "ix_deliveries_open"


@pytest.fixture
async def engine(backend_url: str) -> AsyncIterator[AsyncEngine]:  # noqa: F811
    engine = create_engine(backend_url)
    await create_schema(engine)
    yield engine
    await engine.dispose()


async def fill(engine: AsyncEngine) -> int:
    """Old, finished announcements with sent rows, and one being sent; the open one's id."""
    sessions = session_factory(engine)
    now = utc_now()
    async with sessions() as session, session.begin():
        await session.execute(
            insert(Group),
            [{"chat_id": -1_003_000_000_000 - i, "title": f"Tổ {i}", "chat_type": "supergroup"} for i in range(GROUPS)],
        )
        groups = list((await session.execute(select(Group.id, Group.chat_id))).tuples())
        done = [
            Announcement(
                sender_user_id=1, sender_chat_id=1, kind="text", text="cũ", status=AnnouncementStatus.DONE, total=GROUPS
            )
            for _ in range(OLD_ANNOUNCEMENTS)
        ]
        session.add_all(done)
        await session.flush()
        for number, announcement in enumerate(done):
            sent_at = now - timedelta(days=OLD_ANNOUNCEMENTS - number)
            await session.execute(
                insert(Delivery),
                [
                    {
                        "announcement_id": announcement.id,
                        "group_id": group_id,
                        "chat_id": chat_id,
                        "status": DeliveryStatus.SENT,
                        "attempts": 1,
                        "next_attempt_at": sent_at,
                        "updated_at": sent_at,
                        "message_id": 5,
                    }
                    for group_id, chat_id in groups
                ],
            )
        current = await BroadcastRepository(session).create_announcement(
            sender_user_id=1, sender_chat_id=1, kind="text", text="mới", group_ids=[g for g, _ in groups]
        )
        return current.id


async def plan(session: AsyncSession, statement: object, postgres: bool) -> str:
    """The plan of ``statement`` with its values inlined (SQLite), or as PostgreSQL's generic plan.

    asyncpg prepares statements and PostgreSQL switches to a generic plan (values unknown) after
    five runs: the plan must use the index then too, so PostgreSQL is asked for that one.
    """
    dialect = session.get_bind().dialect
    if not postgres:
        compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})  # type: ignore[attr-defined]
        rows = (await session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all()
        return "\n".join(" ".join(str(value) for value in row) for row in rows)
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    values = tuple(compiled.params[name] for name in compiled.positiontup)
    arguments = ", ".join(
        str(v) if isinstance(v, int) else f"'{v.isoformat() if isinstance(v, datetime) else v}'" for v in values
    )
    connection = await session.connection()
    await connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
    await connection.exec_driver_sql(f"PREPARE claim AS {compiled}")
    rows = (await connection.exec_driver_sql(f"EXPLAIN EXECUTE claim({arguments})")).all()
    await connection.exec_driver_sql("DEALLOCATE claim")
    return "\n".join(str(row[0]) for row in rows)


async def test_the_claim_reads_deliveries_through_an_index(engine: AsyncEngine) -> None:
    postgres = engine.dialect.name == "postgresql"
    current = await fill(engine)
    async with engine.connect() as connection:
        await connection.execute(text("ANALYZE"))
        await connection.commit()
    sessions = session_factory(engine)
    async with sessions() as session:
        statement = BroadcastRepository(session).claim_statement("w", 500, 60, utc_now())
        shown = await plan(session, statement, postgres)
    assert INDEX in shown, shown
    if postgres:
        assert "Seq Scan on deliveries" not in shown, shown
    else:
        assert "SCAN deliveries" not in shown.replace(f"SCAN deliveries USING INDEX {INDEX}", ""), shown

    # And it is quick: claim the whole open announcement in batches.
    claimed = 0
    started = time.perf_counter()
    while True:
        async with sessions() as session, session.begin():
            rows = await BroadcastRepository(session).claim("w", 500, 60)
        if not rows:
            break
        assert {row.announcement_id for row in rows} == {current}
        claimed += len(rows)
    per_claim = (time.perf_counter() - started) / (GROUPS / 500 + 1)
    assert claimed == GROUPS
    assert per_claim < 0.5, f"{per_claim:.3f}s per claim of 500"
