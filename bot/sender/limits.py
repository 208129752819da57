"""The sender's rate limits: the global token bucket and the per-group spacing.

Pure: no Telegram, no database. The clock (and the bucket's sleep) are injected, so tests
run them on a fake clock. :class:`RateLimiter` is what the sender needs of its global rate:
this process's :class:`TokenBucket` (SQLite, one sender) or the budget every sender shares
(``coordination.budget.SharedRateBudget``, PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

GROUP_WINDOW_SECONDS = 60.0
STOP_CHECK_SECONDS = 0.1  # longer waits for a token (a 429 pause) end early when the sender stops

Clock = Callable[[], float]
# Wait ``seconds``, or less if the event (when given) is set first.
Sleep = Callable[[float, "asyncio.Event | None"], Awaitable[None]]


async def sleep_unless_stopped(seconds: float, stop: asyncio.Event | None) -> None:
    """Sleep ``seconds`` on the event loop's clock; a long wait ends early once ``stop`` is set."""
    if stop is None or seconds < STOP_CHECK_SECONDS:
        await asyncio.sleep(seconds)  # the usual case: a few milliseconds, no stop check needed
    else:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


class RateLimiter(Protocol):
    """The global rate as the sender uses it (a token per message, a pause on a 429)."""

    async def acquire(self, stop: asyncio.Event | None = None) -> bool:
        """Wait for a token; False (no token taken) if ``stop`` is set first."""
        ...

    def pause(self, seconds: float) -> None:
        """Telegram's ``retry_after``: no token for ``seconds`` (for every sender sharing the rate)."""
        ...

    def delay(self) -> float:
        """Seconds until a token is available (0: now)."""
        ...


class TokenBucket:
    """The global rate: ``rate`` tokens a second, at most ``burst`` saved up (GCRA form).

    :meth:`pause` stops every acquirer until the time has passed (Telegram's ``retry_after``);
    no saved-up burst is spent right after a pause.
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = sleep_unless_stopped,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.interval = 1.0 / rate
        self.tolerance = max(0.0, burst - 1.0) * self.interval
        self._clock = clock
        self._sleep = sleep
        self._tat = 0.0  # theoretical arrival time of the next token
        self.paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        until = self._clock() + max(0.0, seconds)
        if until > self.paused_until:
            self.paused_until = until
        self._tat = max(self._tat, self.paused_until + self.tolerance)

    def delay(self) -> float:
        """Seconds until a token is available (0: now)."""
        now = self._clock()
        return max(0.0, self._tat - self.tolerance - now, self.paused_until - now)

    async def acquire(self, stop: asyncio.Event | None = None) -> bool:
        """Wait for a token; False (no token taken) if ``stop`` is set first."""
        async with self._lock:
            while True:
                if stop is not None and stop.is_set():
                    return False
                wait = self.delay()
                if wait <= 0:
                    self._tat = max(self._tat, self._clock()) + self.interval
                    return True
                await self._sleep(wait, stop)


class GroupSpacing:
    """At most ``per_minute`` sends into one chat in any 60 seconds (this process's sends).

    A broadcast sends one message to each of 100,000 groups: a chat with one send in the window
    keeps a bare float, and only a chat with more gets a deque (measured: the deques alone were
    48 MiB at 1,000/s).
    """

    def __init__(self, per_minute: int, window: float = GROUP_WINDOW_SECONDS, clock: Clock = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self.window = window
        self._clock = clock
        self._sent: dict[int, float | deque[float]] = {}

    def ready_in(self, chat_id: int) -> float:
        """Seconds until one more message may go to ``chat_id`` (0: now)."""
        times = self._sent.get(chat_id)
        if times is None:
            return 0.0
        now = self._clock()
        if not isinstance(times, deque):
            if times <= now - self.window:
                del self._sent[chat_id]
                return 0.0
            return 0.0 if self.per_minute > 1 else times + self.window - now
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) < self.per_minute:
            return 0.0
        return times[0] + self.window - now

    def record(self, chat_id: int) -> None:
        now = self._clock()
        times = self._sent.get(chat_id)
        if times is None:
            self._sent[chat_id] = now
        elif not isinstance(times, deque):
            self._sent[chat_id] = deque((times, now))
        else:
            times.append(now)

    def forget_old(self) -> None:
        """Drop chats with nothing in the window (keeps memory flat over 100,000 groups)."""
        horizon = self._clock() - self.window

        def last(times: float | deque[float]) -> float:
            if not isinstance(times, deque):
                return times
            return times[-1] if times else horizon

        for chat_id in [c for c, times in self._sent.items() if last(times) <= horizon]:
            del self._sent[chat_id]

    def __len__(self) -> int:
        return len(self._sent)
