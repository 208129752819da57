"""The broadcast sender's rate limits on a fake clock: the global token bucket and the per-group spacing."""

from __future__ import annotations

import asyncio
from collections import deque

import pytest

from bot.sender.limits import GroupSpacing, TokenBucket
from tests.conftest import FakeClock


class FakeSleeper:
    """The bucket's ``sleep``: advances the fake clock instead of waiting, and remembers each wait."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float, stop: asyncio.Event | None) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)
        await asyncio.sleep(0)  # let other acquirers run, as a real wait would


def bucket_on(clock: FakeClock, rate: float, burst: float = 1.0) -> tuple[TokenBucket, FakeSleeper]:
    sleeper = FakeSleeper(clock)
    return TokenBucket(rate, burst=burst, clock=clock, sleep=sleeper), sleeper


async def times_of(bucket: TokenBucket, clock: FakeClock, count: int) -> list[float]:
    """When each of ``count`` tokens was handed out, relative to now."""
    start, times = clock.now, []
    for _ in range(count):
        assert await bucket.acquire()
        times.append(round(clock.now - start, 9))
    return times


async def test_tokens_come_at_the_rate(clock: FakeClock) -> None:
    bucket, _ = bucket_on(clock, rate=200)
    times = await times_of(bucket, clock, 100)
    assert times == pytest.approx([i * 0.005 for i in range(100)])  # the first at once, then one each 1/rate


async def test_an_idle_bucket_hands_out_its_burst_at_once_then_keeps_the_rate(clock: FakeClock) -> None:
    bucket, sleeper = bucket_on(clock, rate=10, burst=5)
    clock.advance(60)  # idle for a while: the burst is saved up, never more
    assert await times_of(bucket, clock, 5) == [0.0] * 5
    assert sleeper.waits == []
    assert await times_of(bucket, clock, 3) == pytest.approx([0.1, 0.2, 0.3])


async def test_a_pause_blocks_every_acquirer_and_spends_no_saved_burst(clock: FakeClock) -> None:
    bucket, _ = bucket_on(clock, rate=100, burst=5)
    clock.advance(60)  # a full burst saved up
    start = clock.now
    bucket.pause(2.0)  # Telegram said retry_after=2
    bucket.pause(0.5)  # a shorter pause does not shorten it
    assert bucket.delay() == pytest.approx(2.0)

    async def one() -> float:
        assert await bucket.acquire()
        return clock.now - start

    times = sorted(await asyncio.gather(*(one() for _ in range(4))))
    # Nobody before the pause ends; after it, one per 1/rate: the saved burst is gone.
    assert times == pytest.approx([2.0, 2.01, 2.02, 2.03])


async def test_acquire_returns_false_without_a_token_when_stop_is_set(clock: FakeClock) -> None:
    bucket, sleeper = bucket_on(clock, rate=10)
    stop = asyncio.Event()
    stop.set()
    assert not await bucket.acquire(stop)
    assert sleeper.waits == []
    assert await times_of(bucket, clock, 2) == pytest.approx([0.0, 0.1])  # the refused call took no token


async def test_a_stop_ends_a_long_pause_at_once() -> None:
    bucket = TokenBucket(rate=100)  # the real clock and wait: the stop must cut the wait short
    bucket.pause(30.0)
    stop = asyncio.Event()
    waiting = asyncio.create_task(bucket.acquire(stop))
    await asyncio.sleep(0)
    assert not waiting.done()  # in the pause
    stop.set()
    assert await asyncio.wait_for(waiting, timeout=1.0) is False


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)


def test_group_spacing_allows_twenty_a_minute(clock: FakeClock) -> None:
    spacing = GroupSpacing(per_minute=20, clock=clock)
    for _ in range(20):
        assert spacing.ready_in(-100) == 0
        spacing.record(-100)
        clock.advance(1)
    assert clock.now == 1020
    assert spacing.ready_in(-100) == pytest.approx(40)  # the first of the 20 leaves the window at 1060
    assert spacing.ready_in(-200) == 0  # other groups are not held up
    clock.advance(39.5)
    assert spacing.ready_in(-100) == pytest.approx(0.5)
    clock.advance(0.5)
    assert spacing.ready_in(-100) == 0
    spacing.record(-100)
    assert spacing.ready_in(-100) == pytest.approx(1)  # the second one leaves next


def test_group_spacing_forgets_quiet_groups_and_keeps_memory_flat(clock: FakeClock) -> None:
    spacing = GroupSpacing(per_minute=1, clock=clock)
    chat = 0
    sizes = []
    for _second in range(300):  # five minutes, 20 new groups every second, one message each
        for _ in range(20):
            chat -= 1
            spacing.record(chat)
        clock.advance(1)
        spacing.forget_old()  # the sender's sweep, once a second
        sizes.append(len(spacing))
    assert max(sizes) <= 20 * 60  # only the groups sent to within the last minute
    assert sizes[-1] == sizes[-60]  # flat
    assert spacing.ready_in(chat) == pytest.approx(59)  # sent to a second ago: remembered, still limited
    clock.advance(60)
    spacing.forget_old()
    assert len(spacing) == 0


def test_group_spacing_keeps_a_bare_time_for_a_chat_with_one_send(clock: FakeClock) -> None:
    """A broadcast sends one message per group: no deque per group (memory at 100,000 groups)."""
    spacing = GroupSpacing(per_minute=2, clock=clock)
    spacing.record(-1)
    assert not isinstance(spacing._sent[-1], deque)
    assert spacing.ready_in(-1) == 0  # one of two used
    clock.advance(10)
    spacing.record(-1)
    assert spacing.ready_in(-1) == pytest.approx(50)  # both used; the first leaves the window at 60
    clock.advance(50)
    assert spacing.ready_in(-1) == 0
    one = GroupSpacing(per_minute=1, clock=clock)
    one.record(-2)
    clock.advance(59)
    assert one.ready_in(-2) == pytest.approx(1)
    clock.advance(1)
    assert one.ready_in(-2) == 0 and len(one) == 0  # left the window: forgotten


def test_concurrency_follows_the_rate_unless_set() -> None:
    from bot.sender.settings import BroadcastSettings

    def settings(**values: object) -> BroadcastSettings:
        return BroadcastSettings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]

    assert settings(broadcast_rate_per_second=25).concurrency == 8
    assert settings(allow_paid_broadcast=True, paid_broadcast_rate_per_second=1000).concurrency == 32
    assert settings(allow_paid_broadcast=True, paid_broadcast_rate_per_second=5000).concurrency == 64
    assert settings(broadcast_concurrency=3).concurrency == 3
