"""The broadcast sender: works the delivery outbox (``broadcasts.outbox``) down at Telegram's pace.

A helper task claims due deliveries in batches ahead of need; the send loop waits for a token
of the global rate (a token bucket, paused for ``retry_after`` when Telegram answers 429),
keeps each group under its per-minute limit, and starts at most ``concurrency`` sends at a
time. Each result is committed right after its Telegram call returns (results finishing
together share a commit, :mod:`bot.sender.results`); a send holds its concurrency slot until
its result is committed, so a crash can repeat at most ``concurrency`` messages (those in
flight). Claimed rows not started yet are handed back on a clean stop, or claimed again after
the lease after a crash. One delivery (the call, what its answer means, its result) is
:mod:`bot.sender.delivery`.

The sender owns the announcements' lifecycle: its sweep (once a second, and as soon as the
sender runs out of work) starts scheduled announcements whose time came and closes those with
nothing left to send.

The sender's sends go through its own lean HTTP pool (:mod:`bot.sender.http`, to the same
Bot API server as its ``telegram.Bot``), so the bot application's answers in private chats keep
flowing during a broadcast, and a message costs little CPU.

Several senders may run against one PostgreSQL database (claims use ``SKIP LOCKED``); there
they share one rate, the bot's (``bucket``: ``coordination.budget``, wired in
:mod:`bot.sender.runner`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot

from bot.sender.delivery import Content, Deliverer, Job, SenderStats
from bot.sender.http import BulkApi
from bot.sender.limits import GroupSpacing, RateLimiter, TokenBucket
from bot.sender.outcomes import RetryPolicy
from bot.sender.results import ResultWriter
from bot.sender.settings import BroadcastSettings
from broadcasts.announcements import AnnouncementRepository
from broadcasts.outbox import BroadcastRepository
from storage.base import utc_now

logger = logging.getLogger(__name__)

FinishedHook = Callable[[int], Awaitable[None]]

SWEEP_SECONDS = 1.0  # how often to start due scheduled announcements and close finished ones
PACING = 0.97  # share of the configured rate the token bucket hands out
BURST_SECONDS = 0.01  # tokens that may be saved up, in seconds of the rate


class BroadcastSender:
    """Sends due deliveries until ``stop`` is set (see the module docstring).

    ``group_messages_per_minute`` is the bot's per-group limit (``BotSettings``).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bot: Bot,
        settings: BroadcastSettings,
        worker_id: str | None = None,
        *,
        group_messages_per_minute: int,
        on_finished: FinishedHook | None = None,
        bucket: RateLimiter | None = None,
    ) -> None:
        self.sessions = sessions
        self.bot = bot
        self.settings = settings
        self.worker_id = (worker_id or settings.sender_worker_id)[:64]
        self.on_finished = on_finished
        self.rate = settings.rate_per_second
        # Paced a little below the configured rate, with little saved-up burst: a limit counted
        # over a sliding second (as Telegram's is) must not be crossed by scheduling jitter.
        # ``bucket``: a rate shared with other senders (same interface); else this process's own.
        self.bucket = bucket or TokenBucket(self.rate * PACING, burst=max(1.0, self.rate * BURST_SECONDS))
        self.spacing = GroupSpacing(group_messages_per_minute)
        self.concurrency = settings.concurrency
        self.batch_size = max(2 * self.concurrency, min(int(self.rate / 2), 500))
        self.lease = settings.broadcast_lease_seconds
        self.stats = SenderStats()
        self.results = ResultWriter(sessions, retry_seconds=self.lease)
        self.paid = settings.allow_paid_broadcast
        self.api = BulkApi(bot.base_url, connections=self.concurrency + 4)
        self.deliverer = Deliverer(
            self.api, self.worker_id, self.bucket, self.spacing, self.results, RetryPolicy.of(settings), self.stats
        )
        self._buffer: deque[Job] = deque()
        self._contents: dict[int, Content] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(self.concurrency)
        self._stop = asyncio.Event()
        self._have_jobs = asyncio.Event()  # the buffer got jobs (or the sender stops)
        self._want_jobs = asyncio.Event()  # the buffer runs low, a sweep is wanted, or the sender stops
        self._last_sweep = 0.0
        self._sweep_wanted = False

    # ------------------------------------------------------------------------ main loop

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set; then let in-flight sends finish and hand back the rest.

        This loop only starts sends; a helper task (:meth:`_feed`) claims the next batch
        while the current one is being sent, and does the periodic sweep.
        """
        self._stop = stop
        logger.info("broadcast sender %s: %.0f msg/s, %d in flight", self.worker_id, self.rate, self.concurrency)
        watcher = asyncio.create_task(self._wake_on_stop(), name="broadcast-stop")
        feeder = asyncio.create_task(self._feed(), name="broadcast-feed")
        try:
            while not stop.is_set():
                if not self._buffer:
                    self._have_jobs.clear()
                    self._want_jobs.set()
                    await self._have_jobs.wait()
                    continue
                if len(self._buffer) <= self.batch_size // 2:
                    self._want_jobs.set()
                await self._slots.acquire()
                if not self._buffer:  # handed back while we waited (lease lost)
                    self._slots.release()
                    continue
                job = self._buffer.popleft()
                wait = self.spacing.ready_in(job.chat_id)
                if wait > 0:
                    self._slots.release()
                    await self._defer(job, wait)
                    continue
                if not await self.bucket.acquire(stop):
                    self._slots.release()
                    self._buffer.appendleft(job)
                    break
                if not await self._lease_ok(job):
                    self._slots.release()
                    continue
                self.spacing.record(job.chat_id)
                task = asyncio.create_task(self._deliver(job), name=f"delivery-{job.id}")
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
        finally:
            stop.set()
            await asyncio.gather(feeder, return_exceptions=True)
            watcher.cancel()
            if self._inflight:
                await asyncio.gather(*self._inflight, return_exceptions=True)
            await self.results.drain()
            await self._hand_back()
            with contextlib.suppress(Exception):
                await self._sweep()
            await self.api.close()
            logger.info("broadcast sender %s stopped: %s", self.worker_id, self.stats)

    async def _wake_on_stop(self) -> None:
        await self._stop.wait()
        self._have_jobs.set()
        self._want_jobs.set()

    async def _feed(self) -> None:
        """Keep the buffer filled ahead of the send loop; sweep once a second and when asked."""
        poll = self.settings.broadcast_poll_seconds
        while not self._stop.is_set():
            try:
                if self._sweep_wanted or time.monotonic() - self._last_sweep >= SWEEP_SECONDS:
                    await self._sweep()
                if len(self._buffer) <= self.batch_size // 2:
                    self._want_jobs.clear()
                    if await self._refill():
                        self._have_jobs.set()
                        continue
                elif self._want_jobs.is_set():
                    self._want_jobs.clear()
            except Exception:  # never let the feeder die: the send loop would wait for ever
                logger.exception("broadcast feeder failed; trying again shortly")
            # Nothing due (or the buffer is full enough): wait to be asked, to poll, or to sweep.
            next_sweep = self._last_sweep + SWEEP_SECONDS - time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._want_jobs.wait(), max(0.0, min(poll, next_sweep)))

    def _want_sweep(self) -> None:
        """Sweep at the feeder's next turn (an announcement may just have got its last result)."""
        self._sweep_wanted = True
        self._want_jobs.set()

    async def _refill(self) -> int:
        """Claim up to a batch of due deliveries into the buffer; how many came."""
        want = self.batch_size - len(self._buffer)

        async def claim(repo: BroadcastRepository) -> list[Job]:
            now = utc_now()
            rows = await repo.claim(self.worker_id, want, self.lease, now)
            unknown = {row.announcement_id for row in rows} - self._contents.keys()
            for announcement in await AnnouncementRepository(repo.session).announcements(unknown):
                self._contents[announcement.id] = Content.of(announcement, paid=self.paid)
            lease_until = now + timedelta(seconds=self.lease)
            return [Job.of(row, lease_until) for row in rows]

        try:
            jobs = await self.results.write(claim)
        except DBAPIError:
            logger.exception("claiming deliveries failed; trying again shortly")
            return 0
        if self._stop.is_set():
            self._buffer.extend(jobs)  # handed back with the rest
            return 0
        self.stats.claimed += len(jobs)
        self._buffer.extend(jobs)
        return len(jobs)

    async def _defer(self, job: Job, seconds: float) -> None:
        """The group had its share this minute: back to pending until it may get more."""
        self.stats.deferred += 1
        at = utc_now() + timedelta(seconds=seconds)
        try:
            await self.results.write(lambda repo: repo.release([job.id], self.worker_id, at))
        except DBAPIError:
            logger.exception("could not defer delivery %d; it returns after the lease", job.id)

    async def _lease_ok(self, job: Job) -> bool:
        """Renew the leases of buffered rows before they run short (e.g. after a long 429 pause)."""
        margin = min(self.lease / 2, 30.0)
        now = utc_now()
        if (job.lease_until - now).total_seconds() >= margin:
            return True
        jobs = [job, *self._buffer]
        until = now + timedelta(seconds=self.lease)
        try:
            held = await self.results.write(lambda repo: repo.extend_lease([j.id for j in jobs], self.worker_id, until))
        except DBAPIError:
            logger.exception("could not renew leases; skipping delivery %d until its lease runs out", job.id)
            return False
        for kept in jobs:
            if kept.id in held:
                kept.lease_until = until
        lost = {j.id for j in jobs} - held
        if lost:
            logger.warning("%d claimed deliveries were taken over by another sender", len(lost))
            self._buffer = deque(j for j in self._buffer if j.id not in lost)
        return job.id in held

    async def _hand_back(self) -> None:
        """Claimed but never started: pending again, at once, without counting an attempt."""
        if not self._buffer:
            return
        ids = [job.id for job in self._buffer]
        self._buffer.clear()
        try:
            await self.results.write(lambda repo: repo.release(ids, self.worker_id))
        except DBAPIError:
            logger.warning("could not hand back %d claimed deliveries; they return after the lease", len(ids))

    async def _sweep(self) -> None:
        """Start scheduled announcements whose time came; close those with nothing left to send."""
        self._last_sweep = time.monotonic()
        self._sweep_wanted = False

        async def sweep(repo: BroadcastRepository) -> tuple[list[int], list[int]]:
            lifecycle = AnnouncementRepository(repo.session)
            return await lifecycle.start_due(utc_now()), await lifecycle.finish_all_done(utc_now())

        try:
            started, finished = await self.results.write(sweep)
        except DBAPIError:
            logger.exception("broadcast sweep failed")
            return
        self.stats.sweeps += 1
        for announcement_id in started:
            logger.info("announcement %d: scheduled time reached, sending", announcement_id)
        for announcement_id in finished:
            logger.info("announcement %d: done", announcement_id)
            self._contents.pop(announcement_id, None)
            if self.on_finished is not None:
                try:
                    await self.on_finished(announcement_id)
                except Exception:
                    logger.exception("on_finished hook failed for announcement %d", announcement_id)
        self.spacing.forget_old()

    # --------------------------------------------------------------------------- sending

    async def _deliver(self, job: Job) -> None:
        """One delivery; its concurrency slot is freed once the result is committed."""
        try:
            await self.deliverer.deliver(job, self._contents[job.announcement_id])
        except Exception:
            # The row stays claimed and is taken again after its lease.
            logger.exception("delivery %d to %d: unexpected error", job.id, job.chat_id)
        finally:
            self._slots.release()
            if not self._buffer and len(self._inflight) <= 1:
                self._want_sweep()  # out of work: close a finished announcement now, not at the next tick
