"""What several bot processes share through the database, on SQLite and PostgreSQL.

Two "processes" are two ``LeaseKeeper``s (two holders) or two limiter instances with their own
engines on one database: exactly what two bot processes have.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from answering.ratelimit import SharedRateLimiter, Verdict
from bot.features.group_search import query_of_page
from bot.jobs import once_per_period
from coordination.conversations import ConversationIndex, ConversationRepository, lookup
from coordination.leases import LeaseKeeper, LeaseRepository
from records.repository import RecordIds
from storage.engine import create_engine, create_schema, session_factory
from storage.numbers import record_id
from tests.pg import backend_url, pg_url  # noqa: F401  (fixtures)

NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
TTL = timedelta(minutes=30)


@pytest.fixture
async def db(backend_url: str) -> AsyncIterator[AsyncEngine]:  # noqa: F811
    engine = create_engine(backend_url)
    await create_schema(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[AsyncEngine]:  # noqa: F811
    engine = create_engine(pg_url)
    await create_schema(engine)
    yield engine
    await engine.dispose()


async def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


# --- leases ----------------------------------------------------------------------------------


async def test_two_holders_one_lease_expiry_and_takeover(db: AsyncEngine) -> None:
    sessions = session_factory(db)

    async def acquire(holder: str, seconds: float) -> str | None:
        async with sessions() as session, session.begin():
            held = await LeaseRepository(session).acquire("job", holder, seconds)
        return held.holder if held else None

    assert await acquire("a", 0.5) == "a"
    assert await acquire("b", 30) is None  # a holds it
    assert await acquire("a", 0.5) == "a"  # renewing one's own lease always works
    await wait_until(lambda: acquire("b", 30))  # a stopped renewing (died): b takes over after the lease
    assert await acquire("a", 30) is None
    async with sessions() as session, session.begin():
        assert not await LeaseRepository(session).release("job", "a")  # not a's any more
        assert await LeaseRepository(session).release("job", "b")
    assert await acquire("a", 30) == "a"  # released: taken at once


async def test_the_daily_job_runs_once_per_day_across_processes_and_restarts(pg: AsyncEngine) -> None:
    runs: list[str] = []
    day = ["2026-11-30"]

    async def digest(context: Any) -> bool:
        runs.append(day[0])
        await asyncio.sleep(0.05)  # both processes are inside at once if the lease did not hold
        return True

    def process() -> tuple[Any, LeaseKeeper]:
        keeper = LeaseKeeper(session_factory(pg))
        keeper.single_process = False
        ready = SimpleNamespace(leases=keeper)
        context = SimpleNamespace(bot_data=SimpleNamespace(opened=ready, ready=ready))
        job = once_per_period("digest", 60, lambda _context: day[0])(digest)  # type: ignore[arg-type]
        return (lambda: job(context)), keeper  # type: ignore[arg-type]

    (first, first_leases), (second, _) = process(), process()
    await asyncio.gather(first(), second(), first(), second())
    assert runs == ["2026-11-30"]
    await first_leases.release_all()  # the holder stops; a new process starts the same day
    restarted, _ = process()
    await asyncio.gather(restarted(), second())
    assert runs == ["2026-11-30"]
    day[0] = "2026-12-01"
    await asyncio.gather(restarted(), second(), restarted())
    assert runs == ["2026-11-30", "2026-12-01"]


async def test_on_sqlite_one_process_always_holds_the_lease(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    await create_schema(engine)
    try:
        old, new = LeaseKeeper(session_factory(engine)), LeaseKeeper(session_factory(engine))
        assert await old.acquire("job", 600) is not None
        assert await old.mark_period("job", "2026-12-01")
        held = await new.acquire("job", 600)  # a restarted bot does not wait for its old lease
        assert held is not None and held.last_period == "2026-12-01"
    finally:
        await engine.dispose()


# --- record ids ---------------------------------------------------------------------------------


def slow_clock(start: float = 1_790_000_000.0, step: float = 0.000_05) -> Any:
    ticks = itertools.count()
    return lambda: start + next(ticks) * step  # 20 calls per millisecond: the sequence overflows nowhere


async def test_record_ids_of_two_processes_never_collide(pg: AsyncEngine) -> None:
    first, second = LeaseKeeper(session_factory(pg)), LeaseKeeper(session_factory(pg))
    for keeper in (first, second):
        keeper.single_process = False
    nodes = await asyncio.gather(
        first.acquire_node("record-node:", RecordIds.NODES, 60),
        second.acquire_node("record-node:", RecordIds.NODES, 60),
    )
    assert nodes[0] != nodes[1]
    a, b = RecordIds(nodes[0], clock=slow_clock()), RecordIds(nodes[1], clock=slow_clock())  # the same clock readings
    made_a = [a.next() for _ in range(20_000)]
    made_b = [b.next() for _ in range(20_000)]
    assert len(set(made_a) | set(made_b)) == 40_000
    assert made_a == sorted(made_a) and all(0 < i < 2**63 and record_id(str(i)) == i for i in made_a + made_b)
    third = LeaseKeeper(session_factory(pg))
    third.single_process = False
    taken = {await keeper.acquire_node("n:", 2, 60) for keeper in (first, second)}
    assert taken == {0, 1}  # a node held by a running process is never given to another
    with pytest.raises(RuntimeError, match="are held"):
        await third.acquire_node("n:", 2, 60)
    await first.release_all()
    assert await third.acquire_node("n:", 2, 60) in taken  # released at shutdown: free again


# --- the per-user limit ---------------------------------------------------------------------------


async def test_two_processes_share_one_budget_per_user(pg_url: str) -> None:  # noqa: F811
    engines = [create_engine(pg_url), create_engine(pg_url)]
    try:
        await create_schema(engines[0])
        first, second = (SharedRateLimiter(e, burst=3, per_second=0.01) for e in engines)
        verdicts = [await limiter.verdict(7) for limiter in (first, second, first, second, first, second)]
        assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.REFUSE_AND_TELL] + [Verdict.REFUSE_SILENTLY] * 2
        assert await first.verdict(8) is Verdict.ALLOW  # another user has a budget of their own
        fast = [SharedRateLimiter(e, burst=1, per_second=2.0) for e in engines]
        assert await fast[0].verdict(9) is Verdict.ALLOW
        assert await fast[1].verdict(9) is Verdict.REFUSE_AND_TELL

        async def refilled() -> bool:
            return await fast[1].verdict(9) is Verdict.ALLOW

        await wait_until(refilled, timeout=5)  # half a second later the budget is back, for the other process too
    finally:
        for engine in engines:
            await engine.dispose()


# --- conversation state -------------------------------------------------------------------------


async def test_conversation_versions_and_expiry(db: AsyncEngine) -> None:
    sessions = session_factory(db)
    async with sessions() as session, session.begin():
        repo = ConversationRepository(session)
        started = await repo.start(1, 1, "thongbao", "content", {"a": 1}, now=NOW, ttl=TTL)
        assert started.version == 1
    async with sessions() as session, session.begin():
        repo = ConversationRepository(session)
        read = await repo.get(1, 1, NOW)
        assert read is not None and read.data == {"a": 1} and read.step == "content"
        moved = await repo.advance(read, "audience", {"a": 2}, now=NOW, ttl=TTL)
        assert moved is not None and moved.version == 2
        assert await repo.advance(read, "options", {"a": 3}, now=NOW, ttl=TTL) is None  # read an older version
    async with sessions() as session, session.begin():
        repo = ConversationRepository(session)
        again = await repo.start(1, 1, "thongbao", "content", {}, now=NOW, ttl=TTL)
        assert again.version == 3  # starting again invalidates whatever an old step holds
        assert await repo.finish(moved) is False
        assert await repo.get(1, 1, NOW + TTL) is None  # expired is absent
        assert await repo.get(1, 1, NOW + TTL - timedelta(seconds=1)) == again
    assert await lookup(db, 1, 1, NOW) == again  # the cheap look-up reads the same
    assert await lookup(db, 1, 1, NOW + TTL) is None and await lookup(db, 1, 2, NOW) is None
    async with sessions() as session, session.begin():
        repo = ConversationRepository(session)
        assert await repo.expire(NOW + TTL) == 1
        assert await repo.get(1, 1, NOW) is None


async def test_a_double_finish_has_one_winner(db: AsyncEngine) -> None:
    sessions = session_factory(db)
    async with sessions() as session, session.begin():
        state = await ConversationRepository(session).start(2, 2, "thongbao", "confirm", {}, now=NOW, ttl=TTL)

    async def finish() -> bool:
        async with sessions() as session, session.begin():
            won = await ConversationRepository(session).finish(state)
            await asyncio.sleep(0.05)  # the transaction stays open: the other waits for it
            return won

    assert sorted(await asyncio.gather(finish(), finish())) == [False, True]


def test_the_group_search_is_read_back_from_the_page() -> None:
    assert query_of_page("👥 12 nhóm khớp «thôn 1» — trang 1/2\n🟢 …") == "thôn 1"
    assert query_of_page("👥 12 nhóm khớp «a » b» — trang 2/3") == "a » b"
    assert query_of_page("👥 40 nhóm — trang 1/3") == ""
    assert query_of_page(None) == ""


def test_the_webhook_secret_is_the_same_in_every_process() -> None:
    from bot.app import webhook_secret
    from bot.settings import BotSettings

    def settings(**values: str) -> BotSettings:
        return BotSettings(_env_file=None, telegram_bot_token="123:abc", **values)  # type: ignore[call-arg, arg-type]

    derived = webhook_secret(settings())
    assert derived == webhook_secret(settings()) and len(derived) == 64 and derived.isalnum()
    assert derived != webhook_secret(BotSettings(_env_file=None, telegram_bot_token="123:other"))  # type: ignore[call-arg, arg-type]
    assert webhook_secret(settings(webhook_secret="chosen-by-the-operator")) == "chosen-by-the-operator"


async def test_on_sqlite_messages_without_a_draft_never_reach_the_database(tmp_path: Any) -> None:
    from sqlalchemy import event

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'index.db'}")
    await create_schema(engine)
    try:
        async with session_factory(engine)() as session, session.begin():
            kept = await ConversationRepository(session).start(5, 5, "thongbao", "content", {}, now=NOW, ttl=TTL)
        index = ConversationIndex(engine)  # a restarted bot: the draft of user 5 is still there
        statements: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        assert await index.lookup(5, 5, NOW) == kept
        reads = len(statements)
        assert await index.lookup(6, 6, NOW) is None and len(statements) == reads  # no statement at all
        index.started(6, 6)
        assert await index.lookup(6, 6, NOW) is None and len(statements) > reads  # known key: read (none yet)
        index.ended(5, 5)
        before = len(statements)
        assert await index.lookup(5, 5, NOW) is None and len(statements) == before
    finally:
        await engine.dispose()


async def test_one_retraining_at_a_time_across_processes(pg: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.features.learning import training

    release = asyncio.Event()
    ran: list[str] = []

    async def retrain_and_publish(context: Any, trigger: str, chat_id: int | None, started_by: int | None) -> None:
        ran.append(trigger)
        await release.wait()  # the training process runs

    monkeypatch.setattr(training, "retrain_and_publish", retrain_and_publish)

    def process() -> Any:
        keeper = LeaseKeeper(session_factory(pg))
        keeper.single_process = False
        return SimpleNamespace(bot_data=SimpleNamespace(retraining=None, ready=SimpleNamespace(leases=keeper)))

    first, second = process(), process()
    assert await training.start_retraining(first, "command", None, None)
    assert not await training.start_retraining(second, "command", None, None)  # another process trains
    assert not await training.start_retraining(first, "count", None, None)  # this one already does
    release.set()
    await first.bot_data.retraining  # done: the lease is released at once
    assert await training.start_retraining(second, "schedule", None, None)
    await second.bot_data.retraining
    assert ran == ["command", "schedule"]
