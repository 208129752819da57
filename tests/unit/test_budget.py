"""The shared rate budget's local side on a fake clock: how granted windows become tokens.

The store is an in-memory stand-in for the ``rate_budgets`` row (the same GCRA step as the
SQL, in a "database clock" far from the local one); the SQL itself is tested on PostgreSQL in
``tests/test_shared_budget.py``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time

import pytest

from coordination.budget import Grant, SharedRateBudget
from coordination.schedule import ClockOffset, TokenSchedule
from tests.conftest import FakeClock

DB_EPOCH = 1_796_000_000.0  # the database's clock: seconds since 1970, not the local monotonic clock


class FakeSleeper:
    """Advances the fake clock instead of waiting, and remembers each wait."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float, stop: asyncio.Event | None) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)
        for _ in range(5):  # a real wait lets other tasks (a grant in flight) finish their short work
            await asyncio.sleep(0)


class FakeRow:
    """One ``rate_budgets`` row: the grant and pause statements' arithmetic, in the database clock."""

    def __init__(self, clock: FakeClock, failures: int = 0) -> None:
        self.clock = clock
        self.tat = 0.0
        self.paused_until = 0.0
        self.windows: list[tuple[float, float]] = []
        self.failures = failures  # the next calls that fail (the database is away)
        self.calls = 0
        self.peeks = 0

    def now(self) -> float:
        return self.clock() + DB_EPOCH

    def _maybe_fail(self) -> None:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionRefusedError("the database is away")

    async def grant(self, count: int, span: float) -> Grant:
        await asyncio.sleep(0)
        self._maybe_fail()
        now = self.now()
        start = max(self.tat, now, self.paused_until)
        self.tat = start + span
        self.windows.append((start, self.tat))
        return Grant(start=start, end=self.tat, paused_until=self.paused_until, now=now)

    async def pause(self, seconds: float) -> None:
        await asyncio.sleep(0)
        self._maybe_fail()
        self.paused_until = max(self.paused_until, self.now() + seconds)

    async def peek(self) -> tuple[float, float]:
        await asyncio.sleep(0)
        self.peeks += 1
        return self.paused_until, self.now()


def budget_on(row: FakeRow, clock: FakeClock, rate: float, chunk_seconds: float = 0.05) -> SharedRateBudget:
    return SharedRateBudget(row, rate, chunk_seconds=chunk_seconds, clock=clock, sleep=FakeSleeper(clock))


async def times_of(budget: SharedRateBudget, clock: FakeClock, count: int) -> list[float]:
    start, times = clock.now, []
    for _ in range(count):
        assert await budget.acquire()
        times.append(round(clock.now - start, 9))
    return times


async def test_a_chunk_is_spread_evenly_over_its_window(clock: FakeClock) -> None:
    row = FakeRow(clock)
    budget = budget_on(row, clock, rate=100)  # chunks of 5 tokens, 50 ms each
    assert budget.chunk == 5
    times = await times_of(budget, clock, 20)
    assert times == pytest.approx([i * 0.01 for i in range(20)])  # one each 1/rate, across chunks
    starts = [start - DB_EPOCH - 1000.0 for start, _ in row.windows]
    assert starts[:4] == pytest.approx([0.0, 0.05, 0.10, 0.15])  # back to back, fetched ahead of need
    assert budget.dropped == 0


async def test_a_grant_fetched_ahead_costs_no_round_trip_wait(clock: FakeClock) -> None:
    row = FakeRow(clock)
    budget = budget_on(row, clock, rate=1000)  # chunks of 50
    await times_of(budget, clock, 200)
    assert row.calls == 4 + 1  # one grant per chunk, the next one already asked for
    assert budget.grants == row.calls


class VirtualTime:
    """Sleeps for several concurrent waiters: the earliest wakes first, the clock jumps to it."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def sleep(self, seconds: float, stop: asyncio.Event | None) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (self.clock.now + seconds, next(self._order), woken))
        await woken

    async def run(self) -> None:
        while True:
            for _ in range(20):  # everyone else runs until they wait again
                await asyncio.sleep(0)
            if self._waiting:
                at, _, woken = heapq.heappop(self._waiting)
                self.clock.advance(max(0.0, at - self.clock.now))
                woken.set_result(None)


async def test_two_budgets_on_one_row_never_hand_out_the_same_slot(clock: FakeClock) -> None:
    row = FakeRow(clock)
    virtual = VirtualTime(clock)
    first, second = (SharedRateBudget(row, 100, clock=clock, sleep=virtual.sleep) for _ in range(2))
    driver = asyncio.create_task(virtual.run())
    handed: list[float] = []

    async def take(budget: SharedRateBudget, count: int) -> None:
        for _ in range(count):
            assert await budget.acquire()
            handed.append(clock.now)

    await asyncio.gather(take(first, 30), take(second, 30))
    driver.cancel()
    handed.sort()
    gaps = [b - a for a, b in itertools.pairwise(handed)]
    assert min(gaps) == pytest.approx(0.01)  # 60 tokens at 100/s between them, never two in a slot
    windows = sorted(row.windows)
    assert all(a_end <= b_start + 1e-9 for (_, a_end), (b_start, _) in itertools.pairwise(windows))


async def test_pause_stops_at_once_and_drops_the_rest_of_the_chunk(clock: FakeClock) -> None:
    row = FakeRow(clock)
    budget = budget_on(row, clock, rate=100)
    start = clock.now
    assert await budget.acquire()  # a chunk of 5 granted, 1 used
    budget.pause(2.0)  # Telegram said retry_after=2
    assert budget.delay() == pytest.approx(2.0)
    assert budget.dropped == 4  # the rest of the chunk is inside the pause
    await budget.close()  # the pause is written to the row in the background
    assert row.paused_until == pytest.approx(row.now() + 2.0)
    assert await budget.acquire()
    assert clock.now - start == pytest.approx(2.0)  # nothing before the pause ends, then at once


async def test_a_pause_seen_by_another_process_reaches_this_one_at_its_next_grant(clock: FakeClock) -> None:
    row = FakeRow(clock)
    mine = budget_on(row, clock, rate=100)  # chunks of 5; the next one is asked for with 5 left
    other = budget_on(row, clock, rate=100)
    assert await mine.acquire()
    other.pause(3.0)  # the other sender got the 429
    await other.close()  # its write reached the row
    assert row.paused_until == pytest.approx(row.now() + 3.0)
    # The rest of the chunk in hand (until its next grant), then nothing before the pause ends.
    assert await times_of(mine, clock, 5) == pytest.approx([0.01, 0.02, 0.03, 0.04, 3.0])
    assert mine.dropped == 5  # the chunk fetched ahead (before the pause), inside the pause
    assert row.windows[-1][0] == pytest.approx(row.paused_until)  # the new window starts after it


async def test_with_the_rate_shared_a_pause_is_still_seen_within_a_chunk_of_time(clock: FakeClock) -> None:
    row = FakeRow(clock)
    virtual = VirtualTime(clock)
    # Three senders: each uses a chunk (5 tokens, 50 ms of the rate) only every 150 ms.
    budgets = [SharedRateBudget(row, 100, clock=clock, sleep=virtual.sleep) for _ in range(3)]
    driver = asyncio.create_task(virtual.run())
    handed: list[tuple[int, float]] = []
    paused_at: list[float] = []

    async def take(index: int) -> None:
        while clock.now < 1002.0:
            assert await budgets[index].acquire()
            handed.append((index, clock.now))
            if index == 0 and clock.now >= 1000.5 and not paused_at:
                paused_at.append(clock.now)
                budgets[0].pause(1.0)

    await asyncio.gather(*(take(i) for i in range(3)))
    driver.cancel()
    start = paused_at[0]
    inside = [(index, round(t - start, 3)) for index, t in handed if start < t < start + 1.0]
    # The others read the row within half a chunk before each token once their news is a chunk
    # old, so none went out inside the pause (the reads answer at once here; on a real database a
    # token may go out during a read's round trip).
    assert inside == []
    assert {index for index, t in handed if t >= start + 1.0} == {0, 1, 2}
    assert row.peeks > 0


async def test_grants_start_after_paused_until(clock: FakeClock) -> None:
    row = FakeRow(clock)
    await row.pause(1.5)  # a pause already in the row when this sender starts
    budget = budget_on(row, clock, rate=50)
    start = clock.now
    assert await budget.acquire()
    assert clock.now - start == pytest.approx(1.5)
    assert row.windows[0][0] == pytest.approx(row.paused_until)


async def test_a_late_token_is_dropped_not_used_late(clock: FakeClock) -> None:
    row = FakeRow(clock)
    budget = budget_on(row, clock, rate=100)  # chunks of 5 (50 ms)
    assert await budget.acquire()
    clock.advance(0.2)  # the sender was busy: its window has passed
    start = clock.now
    assert await budget.acquire()
    assert clock.now == pytest.approx(start)  # at once, from a new window that starts now
    assert budget.dropped == 4  # the passed window's tokens went unused: they belong to the past
    assert row.windows[-1][0] == pytest.approx(row.now())


async def test_the_grant_is_retried_while_the_database_is_away(clock: FakeClock) -> None:
    row = FakeRow(clock, failures=3)
    sleeper = FakeSleeper(clock)
    budget = SharedRateBudget(row, 100, clock=clock, sleep=sleeper)
    assert await budget.acquire()  # only once a grant came through
    assert row.calls == 4 and budget.grants == 1
    assert sleeper.waits == pytest.approx([0.05, 0.1, 0.2])  # backoff between the attempts


async def test_a_pause_write_is_retried_until_it_reaches_the_row(clock: FakeClock) -> None:
    row = FakeRow(clock)
    budget = budget_on(row, clock, rate=100)
    row.failures = 2
    budget.pause(30.0)
    await asyncio.wait_for(budget.close(), 5)
    assert row.paused_until == pytest.approx(row.now() + 30.0)


async def test_stop_ends_acquire_promptly_while_no_grant_comes() -> None:
    class Away:
        async def grant(self, count: int, span: float) -> Grant:
            await asyncio.Event().wait()  # a connection that never answers
            raise AssertionError("unreachable")

        async def pause(self, seconds: float) -> None:
            raise ConnectionRefusedError

        async def peek(self) -> tuple[float, float]:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

    budget = SharedRateBudget(Away(), 100)
    stop = asyncio.Event()
    waiting = asyncio.create_task(budget.acquire(stop))
    for _ in range(10):
        await asyncio.sleep(0)
    assert not waiting.done()  # no grant: no token
    stop.set()
    assert await asyncio.wait_for(waiting, 1.0) is False
    await budget.close()


async def test_stop_ends_a_long_pause_promptly() -> None:
    budget = SharedRateBudget(FakeRow(FakeClock()), 100)  # the real clock and wait
    budget._pause_locally(time.monotonic() + 30.0)
    stop = asyncio.Event()
    waiting = asyncio.create_task(budget.acquire(stop))
    for _ in range(10):
        await asyncio.sleep(0)
    assert not waiting.done()
    stop.set()
    assert await asyncio.wait_for(waiting, 1.0) is False


def test_schedule_drops_only_tokens_before_a_moment() -> None:
    schedule = TokenSchedule(late=0.0)
    schedule.add(10.0, 0.1, 5)  # 10.0 … 10.4
    schedule.add(11.0, 0.1, 5)  # 11.0 … 11.4
    assert schedule.drop_before(10.2) == 2
    assert schedule.next_at(10.0) == pytest.approx(10.2)  # a token exactly at the moment stays
    assert schedule.drop_before(11.05) == 3 + 1
    assert len(schedule) == 4
    assert schedule.next_at(11.1) == pytest.approx(11.1)


def test_clock_offset_trusts_the_shortest_round_trip() -> None:
    offset = ClockOffset()
    offset.add(db_now=DB_EPOCH + 5.0, sent=4.0, received=6.0)  # 2 s round trip: vague
    offset.add(db_now=DB_EPOCH + 10.001, sent=10.0, received=10.002)  # 2 ms: precise
    offset.add(db_now=DB_EPOCH + 21.5, sent=20.0, received=21.0)  # waited for the row lock
    assert offset.local(DB_EPOCH + 12.0) == pytest.approx(12.0, abs=1e-6)
