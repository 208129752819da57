"""One Telegram rate shared by every sender process: a GCRA row in PostgreSQL, granted in chunks.

Telegram limits the whole bot (about 30 messages a second, or the paid rate), not each process.
The row ``rate_budgets(name)`` holds ``tat``, the end of the last slot window anyone reserved, in
the database's clock (seconds since the epoch). A grant is one atomic statement that reserves
the next ``n`` slots, the window ``[max(tat, now, paused_until), +n/rate)``, and moves ``tat`` to
its end; the row lock orders grants, so windows of different processes never overlap and
together never exceed the rate. Slots of a process that dies simply pass unused.

Each process then hands its window's tokens out locally, one every ``1/rate`` seconds, on its
monotonic clock (:mod:`coordination.schedule`): no round trip per message, even at 1,000/s. The
next grant is asked for a chunk ahead of need. A token more than ``LATE_SECONDS`` late is
dropped, not used late: a late message would crowd the next window, which belongs to somebody
else.

A 429 (``pause``) pauses this process at once and writes ``paused_until`` to the row in the
background; every later grant starts after it. Every process reads the row's pause with each
grant, and, when its news of the row is a chunk's time old, once more (a plain read) half a
chunk before its next token: it drops the tokens inside a pause within about a chunk, however
many senders share the rate.

Plain code: no Telegram. The SQL is :class:`PostgresBudgetStore`; :class:`SharedRateBudget`
takes any :class:`BudgetStore`, so its logic is tested on a fake clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from coordination.schedule import LATE_SECONDS, ClockOffset, TokenSchedule

logger = logging.getLogger(__name__)

CHUNK_SECONDS = 0.05  # a grant covers this long of the rate (the last chunk learns of a pause late)
MAX_LEAD_SECONDS = 10.0  # a tat further ahead than this (a clock stepped back) is reset to now
GRANT_TIMEOUT_SECONDS = 5.0  # one grant attempt; then it is retried
CALIBRATION_READS = 3  # clock samples before the first grant (the first round trip opens a connection)
RETRY_FIRST_SECONDS = 0.05  # database errors: retried with backoff from this ...
RETRY_MAX_SECONDS = 1.0  # ... up to this
STOP_CHECK_SECONDS = 0.1

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

    async def peek(self) -> tuple[float, float]:
        """``(paused_until, now)`` without reserving anything."""
        ...


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
        self.reads = 0
        self._grant_timeout = grant_timeout
        self._clock = clock
        self._sleep = sleep
        self._tokens = TokenSchedule(late)
        self._offset = ClockOffset()
        self._db_paused_until = 0.0  # the newest paused_until a grant showed (database clock)
        self._check_every = chunk_seconds
        self._last_contact = -math.inf  # local time of the last grant or peek sent
        self._lock = asyncio.Lock()
        self._fetch: asyncio.Task[None] | None = None
        self._peek: asyncio.Task[None] | None = None
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
                    # Within half a chunk of the token, read the row's pause if our news of it is old.
                    if at - now <= self._check_every / 2 and self._stale(at):
                        self._start_peek()
                    await self._sleep(min(at - now, self._check_every / 2), stop)
                    continue
                self._tokens.take()
                if len(self._tokens) <= self.chunk:
                    self._start_fetch()  # a chunk ahead of need: a busy or slow moment costs no slots
                elif self._stale(now):
                    self._start_peek()
                return True

    async def close(self) -> None:
        """Stop granting; wait (briefly) for pause writes still under way."""
        for task in (self._fetch, self._peek):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._writes:
            await asyncio.wait(set(self._writes), timeout=self._grant_timeout)
        logger.info("rate budget: %d grants, %d reads, %d granted tokens unused", self.grants, self.reads, self.dropped)

    # ------------------------------------------------------------------------------ grants

    def _stale(self, moment: float) -> bool:
        """Whether a token at ``moment`` would go out on news of the row older than a chunk's time.

        Grants alone tell of a pause once per chunk this process uses; with several senders
        sharing the rate that is several chunks of time. A read (no reservation) closes the gap.
        """
        asking = any(task is not None and not task.done() for task in (self._fetch, self._peek))
        return not asking and moment - self._last_contact >= self._check_every

    def _start_peek(self) -> None:
        self._last_contact = self._clock()
        self._peek = asyncio.get_running_loop().create_task(self._read_pause(), name="rate-budget-peek")

    async def _read_pause(self) -> None:
        sent = self._clock()
        try:
            async with asyncio.timeout(self._grant_timeout):
                paused_until, now = await self.store.peek()
        except Exception as error:  # the next grant tells (and waits for the database)
            logger.warning("rate budget: reading the pause failed (%s)", error)
            return
        self.reads += 1
        self._offset.add(now, sent, self._clock())
        self._learn_pause(paused_until, now)

    def _learn_pause(self, paused_until: float, now: float) -> None:
        if paused_until > self._db_paused_until:
            self._db_paused_until = paused_until
            if paused_until > now:  # a pause shows up: nothing granted may go inside it
                self._pause_locally(self._offset.local(paused_until))

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
            try:
                async with asyncio.timeout(self._grant_timeout):
                    await self._calibrate()
                    sent = self._last_contact = self._clock()
                    grant = await self.store.grant(count, count * self.interval)
            except Exception as error:  # any failure: wait and ask again
                logger.warning("rate budget: grant failed (%s); retrying in %.2fs", error, pause)
                await self._sleep(pause, None)
                pause = min(pause * 2, RETRY_MAX_SECONDS)
                continue
            self._apply(grant, count, sent, self._clock())
            return

    async def _calibrate(self) -> None:
        """Plain reads until the clock offset has a few samples, before the first grant.

        The first round trip of a process also opens its connection: its sample may be off by
        tens of milliseconds, which would put this process's first windows onto its
        neighbours' (seen as a burst and a 429 when three senders start together).
        """
        while len(self._offset) < CALIBRATION_READS:
            sent = self._clock()
            paused_until, now = await self.store.peek()
            self._offset.add(now, sent, self._clock())
            self._learn_pause(paused_until, now)

    def _apply(self, grant: Grant, count: int, sent: float, received: float) -> None:
        self.grants += 1
        self._offset.add(grant.now, sent, received)
        self._learn_pause(grant.paused_until, grant.now)
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


_PEEK = text(
    f"""
    WITH clock AS ({_NOW})
    SELECT (SELECT paused_until FROM rate_budgets WHERE name = :name) AS paused_until, clock.now FROM clock
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

    async def peek(self) -> tuple[float, float]:
        async with self.engine.connect() as connection:
            row = (await connection.execute(_PEEK, {"name": self.name})).one()
        return float(row.paused_until or 0.0), float(row.now)


def postgres_budget(engine: AsyncEngine, name: str, rate: float, *, chunk_seconds: float) -> SharedRateBudget:
    """The shared budget ``name`` at ``rate`` a second (the whole bot's) on this PostgreSQL database."""
    return SharedRateBudget(PostgresBudgetStore(engine, name), rate, chunk_seconds=chunk_seconds)
