"""One Telegram rate shared by every sender process: a GCRA row in PostgreSQL, granted in chunks.

Telegram limits the whole bot (about 30 messages a second, or the paid rate), not each process.
The row ``rate_budgets(name)`` holds ``tat``, the end of the last slot window anyone reserved, in
the database's clock (seconds since the epoch). A grant is one atomic statement that reserves
the next ``n`` slots, the window ``[max(tat, now, paused_until), +n/rate)``, and moves ``tat`` to
its end; the row lock orders grants, so windows of different processes never overlap and
together never exceed the rate. Slots of a process that dies simply pass unused.

Each process then hands its window's tokens out locally, one every ``1/rate`` seconds, on its
monotonic clock (:class:`TokenSchedule`): no round trip per message, even at 1,000/s. A token
more than :data:`LATE_SECONDS` late is dropped, not used late: a late message would crowd the
next window, which belongs to somebody else.

A 429 (``pause``) pauses this process at once and writes ``paused_until`` to the row in the
background; every later grant starts after it, and every process drops the tokens inside the
pause as soon as a grant shows it — within a chunk (tens of milliseconds) while it is sending.

Plain code: no Telegram. The SQL is :class:`PostgresBudgetStore`; :class:`SharedRateBudget`
takes any :class:`BudgetStore`, so its logic is tested on a fake clock.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)

LATE_SECONDS = 0.01  # a token not used within this long after its slot is dropped (the local bucket saves up as much)
CHUNK_SECONDS = 0.05  # a grant covers this long of the rate (the last chunk learns of a pause late)
MAX_LEAD_SECONDS = 10.0  # a tat further ahead than this (a clock stepped back) is reset to now
GRANT_TIMEOUT_SECONDS = 5.0  # one grant attempt; then it is retried
RETRY_FIRST_SECONDS = 0.05  # database errors: retried with backoff from this ...
RETRY_MAX_SECONDS = 1.0  # ... up to this
STOP_CHECK_SECONDS = 0.1
OFFSET_SAMPLES = 32  # clock offset: the grant with the shortest round trip among the last ones

Clock = Callable[[], float]
Sleep = Callable[[float, "asyncio.Event | None"], Awaitable[None]]


async def sleep_unless_stopped(seconds: float, stop: asyncio.Event | None) -> None:
    """Sleep ``seconds``; a long wait ends early once ``stop`` is set."""
    if stop is None or seconds < STOP_CHECK_SECONDS:
        await asyncio.sleep(seconds)
    else:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


@dataclass(frozen=True)
class Grant:
    """A reserved window ``[start, end)`` and the row's pause, all in the database's clock."""

    start: float
    end: float
    paused_until: float
    now: float  # the database's clock when the statement ran


class BudgetStore(Protocol):
    """Where the shared row lives (:class:`PostgresBudgetStore`; a fake in the unit tests)."""

    async def grant(self, count: int, span: float) -> Grant:
        """Reserve the next window of ``span`` seconds (``count`` slots) after tat, now and the pause."""
        ...

    async def pause(self, seconds: float) -> None:
        """``paused_until = greatest(paused_until, now + seconds)``."""
        ...


class TokenSchedule:
    """Granted tokens on the local clock: window ``i`` has ``count`` tokens at ``start + k·spacing``."""

    def __init__(self, late: float = LATE_SECONDS) -> None:
        self.late = late
        self._windows: list[list[float]] = []  # [next token time, spacing, tokens left], by time
        self.dropped = 0  # tokens never handed out (inside a pause, or too late)

    def __len__(self) -> int:
        return int(sum(window[2] for window in self._windows))

    def add(self, start: float, spacing: float, count: int) -> None:
        if count > 0:
            bisect.insort(self._windows, [start, spacing, float(count)])

    def drop_before(self, moment: float) -> int:
        """Drop every token due before ``moment`` (a pause, or too late to use); how many."""
        dropped = 0
        for window in self._windows:
            first, spacing, left = window
            if first >= moment:
                continue
            # Tokens at first + k·spacing < moment (a hair of float noise is forgiven).
            skip = min(left, math.ceil((moment - first) / spacing - 1e-9)) if spacing > 0 else left
            window[0] = first + skip * spacing
            window[2] = left - skip
            dropped += int(skip)
        self._windows = [window for window in self._windows if window[2] > 0]
        self.dropped += dropped
        return dropped

    def next_at(self, now: float) -> float | None:
        """When the next usable token is due (may be ``<= now``: take it); None: none left."""
        self.drop_before(now - self.late)
        return self._windows[0][0] if self._windows else None

    def take(self) -> None:
        window = self._windows[0]
        window[0] += window[1]
        window[2] -= 1
        if window[2] <= 0:
            self._windows.pop(0)

    def clear(self) -> None:
        self._windows.clear()


class ClockOffset:
    """The database's clock minus the local monotonic clock, from grants (NTP-style).

    A sample is ``db_now - (sent + received) / 2``, wrong by at most half its round trip; the
    sample with the shortest round trip of the last few is used, so a grant that waited for the
    row lock or a slow network does not move our windows.
    """

    def __init__(self, keep: int = OFFSET_SAMPLES) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=keep)  # (round trip, offset)

    def add(self, db_now: float, sent: float, received: float) -> None:
        self._samples.append((received - sent, db_now - (sent + received) / 2))

    @property
    def known(self) -> bool:
        return bool(self._samples)

    def local(self, db_time: float) -> float:
        return db_time - min(self._samples)[1]


class SharedRateBudget:
    """``rate`` tokens a second for all processes together (see the module docstring).

    The interface of the sender's local ``TokenBucket``: :meth:`acquire`, :meth:`pause`,
    :meth:`delay`; plus :meth:`close` to finish the pause writes on shutdown.
    """

    def __init__(
        self,
        store: BudgetStore,
        rate: float,
        *,
        chunk_seconds: float = CHUNK_SECONDS,
        late: float = LATE_SECONDS,
        clock: Clock = time.monotonic,
        sleep: Sleep = sleep_unless_stopped,
        grant_timeout: float = GRANT_TIMEOUT_SECONDS,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.store = store
        self.rate = rate
        self.interval = 1.0 / rate
        self.chunk = max(1, round(rate * chunk_seconds))
        self.paused_until = 0.0  # local clock
        self.grants = 0
        self._grant_timeout = grant_timeout
        self._clock = clock
        self._sleep = sleep
        self._tokens = TokenSchedule(late)
        self._offset = ClockOffset()
        self._db_paused_until = 0.0  # the newest paused_until a grant showed (database clock)
        self._lock = asyncio.Lock()
        self._fetch: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[None]] = set()

    @property
    def dropped(self) -> int:
        """Tokens granted to this process but never handed out (inside a pause, or too late)."""
        return self._tokens.dropped

    # ------------------------------------------------------------------ the bucket interface

    def pause(self, seconds: float) -> None:
        """Pause this process now; tell the others through the row (a background write, retried)."""
        until = self._clock() + max(0.0, seconds)
        self._pause_locally(until)
        task = asyncio.get_running_loop().create_task(self._publish_pause(until), name="rate-budget-pause")
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    def delay(self) -> float:
        """Seconds until a token is available (0: now, or not known before the next grant)."""
        now = self._clock()
        at = self._tokens.next_at(now)
        return max(0.0, self.paused_until - now, (at if at is not None else now) - now)

    async def acquire(self, stop: asyncio.Event | None = None) -> bool:
        """Wait for a token; False (no token taken) if ``stop`` is set first."""
        async with self._lock:
            while True:
                if stop is not None and stop.is_set():
                    return False
                now = self._clock()
                if now < self.paused_until:
                    await self._sleep(self.paused_until - now, stop)
                    continue
                at = self._tokens.next_at(now)
                if at is None:
                    if not await self._wait_for_grant(stop):
                        return False
                    continue
                if at > now:
                    await self._sleep(at - now, stop)
                    continue
                self._tokens.take()
                if len(self._tokens) <= self.chunk // 2:
                    self._start_fetch()  # ahead of need: the next window is there before this one ends
                return True

    async def close(self) -> None:
        """Stop granting; wait (briefly) for pause writes still under way."""
        if self._fetch is not None:
            self._fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._fetch
        if self._writes:
            await asyncio.wait(set(self._writes), timeout=self._grant_timeout)

    # ------------------------------------------------------------------------------ grants

    def _start_fetch(self) -> asyncio.Task[None]:
        if self._fetch is None or self._fetch.done():
            self._fetch = asyncio.get_running_loop().create_task(self._fetch_grant(), name="rate-budget-grant")
        return self._fetch

    async def _wait_for_grant(self, stop: asyncio.Event | None) -> bool:
        """Wait for the next window (retrying while the database is away); False if stopped first."""
        fetch = self._start_fetch()
        if stop is None:
            await asyncio.shield(fetch)
            return True
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if fetch.done():
            fetch.result()
            return True
        fetch.cancel()  # the sender stops: slots it may still reserve simply pass
        return False

    async def _fetch_grant(self) -> None:
        """One grant, retried with backoff until the database answers (never a token without it)."""
        count = self.chunk
        pause = RETRY_FIRST_SECONDS
        while True:
            sent = self._clock()
            try:
                async with asyncio.timeout(self._grant_timeout):
                    grant = await self.store.grant(count, count * self.interval)
            except Exception as error:  # any failure: wait and ask again
                logger.warning("rate budget: grant failed (%s); retrying in %.2fs", error, pause)
                await self._sleep(pause, None)
                pause = min(pause * 2, RETRY_MAX_SECONDS)
                continue
            self._apply(grant, count, sent, self._clock())
            return

    def _apply(self, grant: Grant, count: int, sent: float, received: float) -> None:
        self.grants += 1
        self._offset.add(grant.now, sent, received)
        if grant.paused_until > self._db_paused_until:
            self._db_paused_until = grant.paused_until
            if grant.paused_until > grant.now:  # a pause shows up: nothing granted may go inside it
                self._pause_locally(self._offset.local(grant.paused_until))
        spacing = (grant.end - grant.start) / count
        self._tokens.add(self._offset.local(grant.start), spacing, count)
        self._tokens.drop_before(self.paused_until)

    # ------------------------------------------------------------------------------ pauses

    def _pause_locally(self, until: float) -> None:
        if until > self.paused_until:
            self.paused_until = until
        self._tokens.drop_before(self.paused_until)

    async def _publish_pause(self, until: float) -> None:
        """Write the pause to the row, retrying until it is written or over."""
        pause = RETRY_FIRST_SECONDS
        while (remaining := until - self._clock()) > 0:
            try:
                async with asyncio.timeout(self._grant_timeout):
                    await self.store.pause(remaining)
                return
            except Exception as error:  # any failure: wait and write again
                logger.warning("rate budget: writing a pause failed (%s); retrying in %.2fs", error, pause)
                await self._sleep(pause, None)
                pause = min(pause * 2, RETRY_MAX_SECONDS)


# ---------------------------------------------------------------------------------- the SQL

_NOW = "SELECT extract(epoch FROM clock_timestamp())::float8 AS now"

_GRANT = text(
    f"""
    WITH clock AS ({_NOW})
    INSERT INTO rate_budgets AS b (name, tat, paused_until)
    SELECT :name, clock.now + :span, 0 FROM clock
    ON CONFLICT (name) DO UPDATE SET tat = (
        CASE WHEN b.tat > greatest((SELECT now FROM clock), b.paused_until) + :max_lead
             THEN greatest((SELECT now FROM clock), b.paused_until)
             ELSE greatest(b.tat, (SELECT now FROM clock), b.paused_until) END
    ) + :span
    RETURNING b.tat - :span AS start, b.tat AS end_, b.paused_until, (SELECT now FROM clock) AS now
    """
)

_PAUSE = text(
    f"""
    WITH clock AS ({_NOW})
    INSERT INTO rate_budgets AS b (name, tat, paused_until)
    SELECT :name, 0, clock.now + :seconds FROM clock
    ON CONFLICT (name) DO UPDATE SET paused_until = greatest(b.paused_until, excluded.paused_until)
    """
)


class PostgresBudgetStore:
    """The row ``rate_budgets(name)`` on PostgreSQL: one autocommitted statement per grant or pause.

    A tat more than :data:`MAX_LEAD_SECONDS` ahead cannot come from live grants (their lead is
    a few chunks per sender); it means the clock stepped back, and is reset rather than
    stalling every sender.
    """

    def __init__(self, engine: AsyncEngine, name: str, max_lead: float = MAX_LEAD_SECONDS) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("the shared rate budget needs PostgreSQL (row locks)")
        self.engine = engine
        self.name = name
        self.max_lead = max_lead

    async def grant(self, count: int, span: float) -> Grant:
        async with self.engine.begin() as connection:
            row = (await connection.execute(_GRANT, {"name": self.name, "span": span, "max_lead": self.max_lead})).one()
        return Grant(start=row.start, end=row.end_, paused_until=row.paused_until, now=row.now)

    async def pause(self, seconds: float) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(_PAUSE, {"name": self.name, "seconds": seconds})


def postgres_budget(engine: AsyncEngine, name: str, rate: float, *, chunk_seconds: float) -> SharedRateBudget:
    """The shared budget ``name`` at ``rate`` a second (the whole bot's) on this PostgreSQL database."""
    return SharedRateBudget(PostgresBudgetStore(engine, name), rate, chunk_seconds=chunk_seconds)
