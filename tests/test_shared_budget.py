"""One Telegram rate for every sender process: the shared budget (``coordination.budget``) on PostgreSQL.

(a) Budget clients in this process, each with its own engine, on one row: the granted windows
    never overlap, tokens stay under the limit over every sliding second, and a pause by one
    reaches the others within a chunk.
(b) The issue's test: three real ``python -m bot sender`` processes on one database, against the
    fake Bot API enforcing the same limit the senders are configured with: no 429s, nothing lost,
    no duplicates (beyond what was in flight in a killed process); one is killed mid-run and the
    other two finish its share after the lease.
(c) A 429 answered to one sender pauses all three.

PostgreSQL only (``TEST_DATABASE_URL_PG``; skipped without it, like ``tests/pg.py`` says).
"""

from __future__ import annotations

import asyncio
import bisect
import gc
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from bot.sender.runner import shared_pace
from broadcasts.models import Delivery, DeliveryStatus
from coordination.budget import Grant, PostgresBudgetStore, SharedRateBudget
from coordination.models import RateBudget
from storage.engine import create_engine, create_schema, session_factory
from tests.fake_bot_api import Call, FakeBotAPI
from tests.netfault import FaultyProxy
from tests.pg import pg_url  # noqa: F401  (fixture)
from tests.test_broadcast_sender import (
    SenderProcess,
    Sessions,
    add_groups,
    announce,
    copies_per_chat,
    db_url,
    deliveries,
    progress,
    sends,
    start_sender_process,
    supergroups,
    wait_done,
    wait_until,
)

LIMIT = 60  # the fake server's limit over a sliding second, and the senders' configured rate


@pytest.fixture
async def sessions(pg_url: str) -> AsyncIterator[Sessions]:  # noqa: F811
    engine = create_engine(pg_url)
    await create_schema(engine)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        fake.rate_limit(global_per_second=LIMIT)
        yield fake


def max_in_a_second(times: list[float]) -> int:
    """The most of ``times`` within any sliding second (as the fake server and Telegram count)."""
    times = sorted(times)
    return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


class LoggingStore(PostgresBudgetStore):
    """The real store, remembering every window it granted."""

    def __init__(self, *args: object, windows: list[Grant], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.windows = windows

    async def grant(self, count: int, span: float) -> Grant:
        grant = await super().grant(count, span)
        self.windows.append(grant)
        return grant


class CountingStore(PostgresBudgetStore):
    """The real store, counting grant attempts that failed."""

    failures = 0

    async def grant(self, count: int, span: float) -> Grant:
        try:
            return await super().grant(count, span)
        except Exception:
            self.failures += 1
            raise


async def test_no_token_while_the_database_is_away_then_at_once_when_it_is_back(pg_url: str) -> None:  # noqa: F811
    url = make_url(pg_url)
    proxy = FaultyProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    engine = create_engine(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    await create_schema(engine)
    store = CountingStore(engine, "away")
    budget = SharedRateBudget(store, 200, chunk_seconds=0.05)
    try:
        for _ in range(30):
            assert await budget.acquire()
        proxy.cut()
        await asyncio.sleep(0.2)  # the tokens granted before the cut are past (a chunk is 50 ms)
        waiting = asyncio.create_task(budget.acquire())
        await wait_until(lambda: store.failures >= 3, 10, "the grant was not retried")
        assert not waiting.done()  # no grant, no token
        proxy.mode = "up"
        assert await asyncio.wait_for(waiting, 5)
        stop = asyncio.Event()
        proxy.cut()
        await asyncio.sleep(0.2)
        stopping = asyncio.create_task(budget.acquire(stop))
        await wait_until(lambda: store.failures >= 4, 10, "the grant was not tried")
        stop.set()
        assert await asyncio.wait_for(stopping, 1) is False  # a stopping sender is not held up
    finally:
        proxy.mode = "up"
        await budget.close()
        await engine.dispose()
        await proxy.stop()


# --- (a) budget clients in one process ----------------------------------------------------------


async def test_the_grant_statement(pg_url: str) -> None:  # noqa: F811
    engine = create_engine(pg_url)
    await create_schema(engine)
    store = PostgresBudgetStore(engine, "sql")
    try:
        first = await store.grant(5, 0.05)  # no row yet: it is made, the window starts now
        assert first.start == pytest.approx(first.now) and first.end == pytest.approx(first.now + 0.05)
        second = await store.grant(5, 0.05)  # back to back after the first, not at "now"
        assert second.start == pytest.approx(first.end) and second.now < second.start
        await store.pause(2.0)
        await store.pause(0.5)  # a shorter pause does not shorten it
        paused = await store.grant(5, 0.05)
        assert paused.paused_until == pytest.approx(paused.now + 2.0, abs=0.1)
        assert paused.start == pytest.approx(paused.paused_until)  # grants start after the pause
        async with engine.begin() as connection:  # the clock stepped back an hour: tat is far ahead
            await connection.execute(update(RateBudget).values(tat=RateBudget.tat + 3600, paused_until=0))
        reset = await store.grant(5, 0.05)
        assert reset.start == pytest.approx(reset.now, abs=0.1)  # reset, not an hour's stall
    finally:
        await engine.dispose()


async def test_clients_on_one_row_get_disjoint_windows_and_stay_under_the_limit(pg_url: str) -> None:  # noqa: F811
    limit, clients, seconds = 200, 4, 2.5
    engines = [create_engine(pg_url) for _ in range(clients)]  # one per "process": own connections
    await create_schema(engines[0])
    windows: list[Grant] = []
    budgets = [
        SharedRateBudget(LoggingStore(engine, "test", windows=windows), shared_pace(limit), chunk_seconds=0.05)
        for engine in engines
    ]
    handed: list[list[float]] = [[] for _ in budgets]
    started = time.monotonic()

    async def spend(index: int) -> None:
        while time.monotonic() - started < seconds:
            assert await budgets[index].acquire()
            handed[index].append(time.monotonic())

    try:
        await asyncio.gather(*(spend(i) for i in range(clients)))
    finally:
        for budget in budgets:
            await budget.close()
        for engine in engines:
            await engine.dispose()

    ordered = sorted(windows, key=lambda grant: grant.start)
    overlaps = [(a, b) for a, b in itertools.pairwise(ordered) if a.end > b.start + 1e-6]
    assert not overlaps, overlaps[:3]
    everything = [t for times in handed for t in times]
    assert all(times for times in handed)  # every client got its turn
    assert max_in_a_second(everything) <= limit
    # Together they use the budget, not a quarter of it each.
    steady = [t for t in everything if started + 0.5 <= t < started + seconds - 0.1]
    assert len(steady) / (seconds - 0.6) >= 0.9 * shared_pace(limit)


async def test_a_pause_by_one_client_stops_the_others_within_a_chunk(pg_url: str) -> None:  # noqa: F811
    limit, chunk = 100, 0.05
    engines = [create_engine(pg_url) for _ in range(3)]
    await create_schema(engines[0])
    budgets = [
        SharedRateBudget(PostgresBudgetStore(engine, "test"), shared_pace(limit), chunk_seconds=chunk)
        for engine in engines
    ]
    handed: list[tuple[int, float]] = []
    paused_at: list[float] = []
    stop = asyncio.Event()

    async def spend(index: int) -> None:
        while await budgets[index].acquire(stop):
            handed.append((index, time.monotonic()))
            if index == 0 and len(handed) >= 100 and not paused_at:
                paused_at.append(time.monotonic())
                budgets[0].pause(1.0)  # as the sender does on a 429

    async def run() -> None:
        await wait_until(lambda: bool(paused_at) and time.monotonic() > paused_at[0] + 1.5, 30, "no pause")
        stop.set()

    try:
        await asyncio.gather(run(), *(spend(i) for i in range(3)))
    finally:
        for budget in budgets:
            await budget.close()
        async with session_factory(engines[0])() as session:
            row = await session.get(RateBudget, "test")
        for engine in engines:
            await engine.dispose()

    pause = paused_at[0]
    assert row is not None and row.paused_until > 0
    inside = [(index, t - pause) for index, t in handed if pause < t < pause + 1.0]
    assert not [entry for entry in inside if entry[0] == 0]  # the one that saw the 429: at once
    # The others: at most tokens handed out before their read of the row came back (they read it
    # half a chunk before a token once their news is a chunk old): within a chunk, a chunk's worth.
    assert all(offset < 2 * chunk for _, offset in inside), inside
    assert len(inside) <= budgets[1].chunk, inside
    assert {index for index, t in handed if t > pause + 1.0} == {0, 1, 2}  # then all go on


# --- (b), (c) three sender processes ------------------------------------------------------------


@pytest.fixture
def no_collector_stalls() -> Iterator[None]:
    """No garbage collection in this process (the fake server's) while the senders run.

    The fake server stamps each request when its event loop gets to it. A full collection over
    its growing record of calls stalls that loop for up to ~100 ms; the requests that queued
    meanwhile get nearly one stamp — a burst the senders never sent, which its sliding-second
    limit then answers with a 429 (measured: 3 senders at 500/s, 2 429s with the collector,
    none and 0.96 of the limit without).
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def start_senders(server: FakeBotAPI, sessions: Sessions, workdir: Path, lease: float) -> list[SenderProcess]:
    return [
        start_sender_process(
            server,
            db_url(sessions),
            workdir,
            f"sender-{index}",
            BROADCAST_RATE_PER_SECOND=str(LIMIT),  # the whole bot's rate, for the three together
            BROADCAST_LEASE_SECONDS=str(lease),
        )
        for index in range(1, 4)
    ]


def accepted(server: FakeBotAPI) -> list[Call]:
    return sorted(sends(server), key=lambda call: call.time)


async def claimed_by(sessions: Sessions, worker: str) -> set[int]:
    """Deliveries ``worker`` holds (claimed, not finished)."""
    async with sessions() as session:
        query = select(Delivery.id).where(Delivery.claimed_by == worker, Delivery.status == DeliveryStatus.SENDING)
        return set((await session.scalars(query)).all())


@pytest.mark.slow
@pytest.mark.usefixtures("no_collector_stalls")
async def test_three_sender_processes_share_one_limit_and_survive_a_kill(
    sessions: Sessions, server: FakeBotAPI, tmp_path: Path
) -> None:
    chats = supergroups(3_000)
    announcement_id = await announce(sessions, await add_groups(sessions, chats))
    workers = start_senders(server, sessions, tmp_path, lease=5)  # short: the killed one's rows come back soon
    try:
        await wait_until(lambda: len(sends(server)) >= 1_000, 120, "a third was never sent")
        victim = workers[0]
        victim.kill()  # SIGKILL: no hand-back, its claimed rows wait for their lease
        killed_at = time.monotonic()
        orphaned = await claimed_by(sessions, "sender-1")
        state = await wait_done(sessions, announcement_id, timeout=150)
    finally:
        codes = [worker.terminate() for worker in workers[1:]]
        workers[0].kill()
    logs = [worker.log.read_text() for worker in workers]
    assert codes == [0, 0], logs

    calls = accepted(server)
    refused = [round(c.time - calls[0].time, 3) for c in server.calls_of("sendMessage") if c.error_code == 429]
    busiest = max_in_a_second([call.time for call in calls])
    assert server.stats.rate_limited == 0, (refused, busiest)  # three senders, one limit: never a 429
    assert busiest <= LIMIT
    assert (state.sent, state.failed, state.pending) == (len(chats), 0, 0)
    copies = copies_per_chat(server)
    assert set(copies) == set(chats)  # nothing lost
    # A second copy only for a message in flight in the killed process (at most its 8 sends).
    twice = {chat for chat, count in copies.items() if count > 1}
    assert max(copies.values()) <= 2 and len(twice) <= 8, twice
    first_copy = {call.chat_id: call.time for call in reversed(calls)}
    assert all(first_copy[chat] <= killed_at for chat in twice)

    # The killed sender had work in hand; the other two finished it after the lease.
    assert orphaned, "the killed sender held no claimed rows"
    rows = {row.id: row for row in await deliveries(sessions, announcement_id)}
    assert all(rows[i].status == DeliveryStatus.SENT for i in orphaned)
    assert {rows[i].claimed_by for i in orphaned} <= {"sender-2", "sender-3"}
    by_worker = Counter(row.claimed_by for row in rows.values())
    assert set(by_worker) >= {"sender-2", "sender-3"}, by_worker

    # One limit shared, not one each: the three together kept close to it (not a third of it).
    window = [c.time for c in calls if calls[0].time + 1 <= c.time <= killed_at]
    rate = len(window) / (window[-1] - window[0])
    assert 0.85 * LIMIT <= rate <= LIMIT, rate
    for log in logs[1:]:
        assert "Traceback" not in log, log


@pytest.mark.slow
@pytest.mark.usefixtures("no_collector_stalls")
async def test_a_429_to_one_sender_pauses_all_of_them(sessions: Sessions, server: FakeBotAPI, tmp_path: Path) -> None:
    chats = supergroups(1_200)
    announcement_id = await announce(sessions, await add_groups(sessions, chats))
    workers = start_senders(server, sessions, tmp_path, lease=60)
    try:
        await wait_until(lambda: len(sends(server)) >= 300, 120, "the broadcast never got going")
        server.fail_next("sendMessage", 429, retry_after=2)  # the next send, whichever sender's it is
        await wait_until(lambda: server.stats.too_many_requests > 0, 30, "no send got the 429")
        state = await wait_done(sessions, announcement_id, timeout=120)
    finally:
        codes = [worker.terminate() for worker in workers]
    logs = [worker.log.read_text() for worker in workers]
    assert codes == [0, 0, 0], logs

    [refused] = [c for c in server.calls_of("sendMessage") if c.error_code == 429]
    assert refused.done_time is not None
    pause_start, pause_end = refused.done_time, refused.done_time + 2.0
    calls = accepted(server)
    during = [round(c.time - pause_start, 3) for c in calls if pause_start < c.time < pause_end]
    # Only sends that left before the other senders learned of the pause (they read the row at
    # least every chunk, 50 ms, while sending), nothing later in the two seconds.
    assert all(offset < 0.15 for offset in during), during
    assert len(during) <= 3, during  # one chunk (3 messages at 60/s) at most
    assert any(c.time >= pause_end for c in calls)  # and then they went on
    assert server.stats.rate_limited == 0
    assert (state.sent, state.failed, state.pending) == (len(chats), 0, 0)
    assert set(copies_per_chat(server).values()) == {1}
    async with sessions() as session:
        row = await session.get(RateBudget, "telegram")
    assert row is not None and row.paused_until > 0  # the pause went through the shared row
    state = await progress(sessions, announcement_id)
    assert state.sent == len(chats)
