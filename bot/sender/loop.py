"""The broadcast sender: works the delivery outbox (``broadcasts.outbox``) down at Telegram's pace.

A helper task claims due deliveries in batches ahead of need; the send loop waits for a token
of the global rate (a token bucket, paused for ``retry_after`` when Telegram answers 429),
keeps each group under its per-minute limit, and starts at most ``concurrency`` sends at a
time. Each result is committed right after its Telegram call returns (results finishing
together share a commit); a send holds its concurrency slot until its result is committed,
so a crash can repeat at most ``concurrency`` messages (those in flight). Claimed rows not
started yet are handed back on a clean stop, or claimed again after the lease after a crash.

The sender has its own ``telegram.Bot`` (its own HTTP connection pool, no PTB rate limiter)
so the bot application's answers in private chats keep flowing during a broadcast.

Several senders may run against one PostgreSQL database (claims use ``SKIP LOCKED``); each
keeps its own rate, so give each its share of the bot's limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from bot.sender.settings import BroadcastSettings
from bot.settings import BotSettings
from broadcasts.outbox import BroadcastRepository, as_utc
from broadcasts.registry import GroupRepository
from broadcasts.models import Announcement, Delivery
from storage.base import utc_now

logger = logging.getLogger(__name__)

# httpcore imports the optional ``sniffio`` anew for every lock it makes (several per request).
# When it is not installed each attempt walks sys.path (measured: a seventh of the sender's CPU
# at 500 msg/s). A None entry makes the import fail at once, which is what it would do anyway.
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]

T = TypeVar("T")
Work = Callable[[BroadcastRepository], Awaitable[T]]
FinishedHook = Callable[[int], Awaitable[None]]
# A result waiting for the group commit: a (delivery id, message id) that was sent, or other work.
_Queued = tuple[int, int | None] | Callable[[BroadcastRepository], Awaitable[Any]]
_Pending = tuple[_Queued, "asyncio.Future[Any]"]

GROUP_WINDOW_SECONDS = 60.0
MAX_MIGRATIONS = 2  # group → supergroup happens once; allow one more hop, then give up
SWEEP_SECONDS = 1.0  # how often to start due scheduled announcements and close finished ones
STOP_CHECK_SECONDS = 0.1  # longer waits for a token (a 429 pause) end early when the sender stops
GROUP_COMMIT_SECONDS = 0.0  # extra wait to gather results before a commit (0: one yield to the loop)
PACING = 0.97  # share of the configured rate the token bucket hands out
BURST_SECONDS = 0.01  # tokens that may be saved up, in seconds of the rate


# ------------------------------------------------------------------------------ limiters


class TokenBucket:
    """The global rate: ``rate`` tokens a second, at most ``burst`` saved up (GCRA form).

    :meth:`pause` stops every acquirer until the time has passed (Telegram's ``retry_after``);
    no saved-up burst is spent right after a pause.
    """

    def __init__(self, rate: float, burst: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.interval = 1.0 / rate
        self.tolerance = max(0.0, burst - 1.0) * self.interval
        self._clock = clock
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
                if stop is None or wait < STOP_CHECK_SECONDS:
                    await asyncio.sleep(wait)  # the usual case: a few milliseconds, no stop check needed
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), wait)


class GroupSpacing:
    """At most ``per_minute`` sends into one chat in any 60 seconds (this process's sends)."""

    def __init__(
        self, per_minute: int, window: float = GROUP_WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute = per_minute
        self.window = window
        self._clock = clock
        self._sent: dict[int, deque[float]] = {}

    def ready_in(self, chat_id: int) -> float:
        """Seconds until one more message may go to ``chat_id`` (0: now)."""
        times = self._sent.get(chat_id)
        if not times:
            return 0.0
        now = self._clock()
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) < self.per_minute:
            return 0.0
        return times[0] + self.window - now

    def record(self, chat_id: int) -> None:
        self._sent.setdefault(chat_id, deque()).append(self._clock())

    def forget_old(self) -> None:
        """Drop chats with nothing in the window (keeps memory flat over 20,000 groups)."""
        horizon = self._clock() - self.window
        for chat_id in [c for c, times in self._sent.items() if not times or times[-1] <= horizon]:
            del self._sent[chat_id]

    def __len__(self) -> int:
        return len(self._sent)


# ---------------------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class Content:
    kind: str
    text: str
    file_id: str | None
    pin: bool
    silent: bool

    @classmethod
    def of(cls, announcement: Announcement) -> Content:
        return cls(announcement.kind, announcement.text, announcement.file_id, announcement.pin, announcement.silent)


@dataclass
class Job:
    """A claimed delivery, detached from the session."""

    id: int
    announcement_id: int
    chat_id: int
    attempts: int
    lease_until: datetime

    @classmethod
    def of(cls, delivery: Delivery) -> Job:
        assert delivery.lease_until is not None
        return cls(
            delivery.id, delivery.announcement_id, delivery.chat_id, delivery.attempts, as_utc(delivery.lease_until)
        )


@dataclass
class SenderStats:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0  # network errors put back for a later attempt
    retry_after: int = 0  # 429 answers honoured
    migrated: int = 0
    deferred: int = 0  # put back to respect a group's per-minute limit
    pin_failures: int = 0
    failures: dict[str, int] = field(default_factory=dict)


def retry_after_seconds(error: RetryAfter) -> float:
    value: Any = error.retry_after
    return float(value.total_seconds()) if isinstance(value, timedelta) else float(value)


def failure_reason(error: TelegramError) -> str:
    """``"forbidden: …"``, ``"chat_not_found: …"``, ``"bad_request: …"`` from a Telegram error."""
    message = error.message
    if isinstance(error, Forbidden):
        return f"forbidden: {message.removeprefix('Forbidden: ')}"
    lower = message.lower()
    text = message.removeprefix("Bad Request: ")
    if "chat not found" in lower:
        return f"chat_not_found: {text}"
    return f"bad_request: {text}"


# -------------------------------------------------------------------------------- sender


class BroadcastSender:
    """Sends due deliveries until ``stop`` is set (see the module docstring)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bot: Bot,
        settings: BroadcastSettings,
        worker_id: str | None = None,
        *,
        on_finished: FinishedHook | None = None,
    ) -> None:
        self.sessions = sessions
        self.bot = bot
        self.settings = settings
        self.worker_id = (worker_id or settings.sender_worker_id)[:64]
        self.on_finished = on_finished
        self.rate = settings.rate_per_second
        # Paced a little below the configured rate, with little saved-up burst: a limit counted
        # over a sliding second (as Telegram's is) must not be crossed by scheduling jitter.
        self.bucket = TokenBucket(self.rate * PACING, burst=max(1.0, self.rate * BURST_SECONDS))
        self.spacing = GroupSpacing(settings.broadcast_per_group_per_minute)
        self.concurrency = settings.broadcast_concurrency
        self.batch_size = max(2 * self.concurrency, min(int(self.rate / 2), 500))
        self.lease = settings.broadcast_lease_seconds
        self.stats = SenderStats()
        bind = getattr(sessions, "kw", {}).get("bind")
        self._sqlite = bind is None or bind.dialect.name == "sqlite"
        # SQLite has one writer: queue our own transactions instead of spinning on busy_timeout.
        self._db_gate: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if self._sqlite else contextlib.nullcontext()
        )
        self._buffer: deque[Job] = deque()
        self._contents: dict[int, Content] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(self.concurrency)
        self._stop = asyncio.Event()
        self._have_jobs = asyncio.Event()  # the buffer got jobs (or the sender stops)
        self._want_jobs = asyncio.Event()  # the buffer runs low (or the sender stops)
        self._last_sweep = 0.0
        self._results: list[_Pending] = []
        self._result_writer: asyncio.Task[None] | None = None

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
            if self._result_writer is not None:
                await asyncio.gather(self._result_writer, return_exceptions=True)
            await self._hand_back()
            with contextlib.suppress(Exception):
                await self._sweep()
            logger.info("broadcast sender %s stopped: %s", self.worker_id, self.stats)

    async def _wake_on_stop(self) -> None:
        await self._stop.wait()
        self._have_jobs.set()
        self._want_jobs.set()

    async def _feed(self) -> None:
        """Keep the buffer filled ahead of the send loop; sweep once a second."""
        poll = self.settings.broadcast_poll_seconds
        while not self._stop.is_set():
            try:
                if time.monotonic() - self._last_sweep >= SWEEP_SECONDS:
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
            # Nothing due (or the buffer is full enough): wait to be asked, or poll again.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._want_jobs.wait(), min(poll, SWEEP_SECONDS))

    async def _refill(self) -> int:
        """Claim up to a batch of due deliveries into the buffer; how many came."""
        want = self.batch_size - len(self._buffer)

        async def claim(repo: BroadcastRepository) -> list[Job]:
            rows = await repo.claim(self.worker_id, want, self.lease, utc_now())
            unknown = {row.announcement_id for row in rows} - self._contents.keys()
            for announcement in await repo.announcements(unknown):
                self._contents[announcement.id] = Content.of(announcement)
            return [Job.of(row) for row in rows]

        try:
            jobs = await self._write(claim)
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
            await self._write(lambda repo: repo.release([job.id], self.worker_id, at))
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
            held = await self._write(lambda repo: repo.extend_lease([j.id for j in jobs], self.worker_id, until))
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
            await self._write(lambda repo: repo.release(ids, self.worker_id))
        except DBAPIError:
            logger.warning("could not hand back %d claimed deliveries; they return after the lease", len(ids))

    async def _sweep(self) -> None:
        """Start scheduled announcements whose time came; close those with nothing left to send."""
        self._last_sweep = time.monotonic()

        async def sweep(repo: BroadcastRepository) -> tuple[list[int], list[int]]:
            return await repo.start_due(utc_now()), await repo.finish_all_done(utc_now())

        try:
            started, finished = await self._write(sweep)
        except DBAPIError:
            logger.exception("broadcast sweep failed")
            return
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

    # -------------------------------------------------------------------------- database

    async def _write(self, work: Work[T]) -> T:
        """Run ``work`` in its own short transaction; retry while the database is busy or away."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(10.0, self.lease)
        pause = 0.05
        while True:
            try:
                async with self._db_gate, self.sessions() as session, session.begin():
                    return await work(BroadcastRepository(session))
            except IntegrityError:
                raise
            except DBAPIError as error:
                if loop.time() >= deadline:
                    raise
                logger.warning("database write failed (%s); retrying in %.2fs", error.orig or error, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    async def _record(self, work: Work[T]) -> T:
        """Record one send's result; returns once it is committed.

        Results that arrive while a commit runs are committed together in the next one
        (group commit; "sent" results in one executemany): a transaction costs far more than
        the update in it (SQLite: several aiosqlite thread hops, one writer at a time;
        PostgreSQL: three round trips), and at hundreds of messages a second that decides
        the rate. A send keeps its concurrency slot until its own result is committed, so at
        most ``concurrency`` sends can be repeated after a crash, exactly as with one
        transaction per result.
        """
        result: T = await self._enqueue(work)
        return result

    async def _record_sent(self, delivery_id: int, message_id: int | None) -> None:
        await self._enqueue((delivery_id, message_id))

    def _enqueue(self, item: _Queued) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._results.append((item, future))
        if self._result_writer is None or self._result_writer.done():
            self._result_writer = asyncio.create_task(self._write_results(), name="broadcast-results")
        return future

    async def _write_results(self) -> None:
        """Commit queued results, one transaction per batch, until the queue is empty."""
        while self._results:
            await asyncio.sleep(GROUP_COMMIT_SECONDS)
            batch, self._results = self._results, []
            sent = [item for item, _ in batch if isinstance(item, tuple)]

            async def apply(
                repo: BroadcastRepository, batch: list[_Pending] = batch, sent: list[tuple[int, int | None]] = sent
            ) -> list[Any]:
                await repo.mark_sent_many(sent)
                return [None if isinstance(item, tuple) else await item(repo) for item, _ in batch]

            try:
                values = await self._write(apply)
            except Exception:
                # Keep one bad result from failing the others: one transaction each.
                for item, future in batch:
                    work = item if not isinstance(item, tuple) else self._sent_work(*item)
                    try:
                        value = await self._write(work)
                    except Exception as error:
                        if not future.done():
                            future.set_exception(error)
                    else:
                        if not future.done():
                            future.set_result(value)
                continue
            for (_, future), value in zip(batch, values, strict=True):
                if not future.done():
                    future.set_result(value)

    @staticmethod
    def _sent_work(delivery_id: int, message_id: int | None) -> Work[bool]:
        return lambda repo: repo.mark_sent(delivery_id, message_id)

    # --------------------------------------------------------------------------- sending

    async def _send(self, content: Content, chat_id: int) -> Message:
        extra: dict[str, Any] = {"disable_notification": content.silent}
        if self.settings.allow_paid_broadcast:
            extra["allow_paid_broadcast"] = True
        if content.kind == "photo":
            return await self.bot.send_photo(
                chat_id, content.file_id or "", caption=content.text or None, parse_mode=ParseMode.HTML, **extra
            )
        if content.kind == "document":
            return await self.bot.send_document(
                chat_id, content.file_id or "", caption=content.text or None, parse_mode=ParseMode.HTML, **extra
            )
        return await self.bot.send_message(
            chat_id,
            content.text,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            **extra,
        )

    async def _deliver(self, job: Job) -> None:
        """One delivery; its concurrency slot is freed once the result is committed."""
        try:
            await self._deliver_job(job)
        except Exception:
            # The row stays claimed and is taken again after its lease.
            logger.exception("delivery %d to %d: unexpected error", job.id, job.chat_id)
        finally:
            self._slots.release()

    async def _deliver_job(self, job: Job) -> None:
        content = self._contents[job.announcement_id]
        chat_id = job.chat_id
        for hop in range(MAX_MIGRATIONS + 1):
            try:
                message = await self._send(content, chat_id)
            except ChatMigrated as error:
                if hop == MAX_MIGRATIONS:
                    await self._fail(job, f"migrated: chat moved again to {error.new_chat_id}")
                    return
                if not await self._migrate(job, chat_id, error.new_chat_id):
                    return
                chat_id = error.new_chat_id
                await self.bucket.acquire()  # the resend is one more message
                self.spacing.record(chat_id)
                continue
            except RetryAfter as error:
                await self._honour_retry_after(job, retry_after_seconds(error))
                return
            except Forbidden as error:
                await self._forbidden(job, chat_id, failure_reason(error))
                return
            except BadRequest as error:  # before NetworkError: BadRequest is one of its subclasses
                await self._fail(job, failure_reason(error))
                return
            except NetworkError as error:  # TimedOut included
                await self._retry_or_fail(job, "network", error)
                return
            except TelegramError as error:
                await self._retry_or_fail(job, "error", error)
                return
            await self._sent(job, message.message_id)
            if content.pin:
                await self._pin(job, chat_id, message.message_id, content.silent)
            return

    async def _sent(self, job: Job, message_id: int) -> None:
        await self._record_sent(job.id, message_id)
        self.stats.sent += 1

    async def _honour_retry_after(self, job: Job, seconds: float) -> None:
        """429: every send pauses; this delivery waits too, and the try does not count."""
        self.bucket.pause(seconds)
        self.stats.retry_after += 1
        logger.warning("Telegram asked to wait %gs; every send pauses", seconds)
        at = utc_now() + timedelta(seconds=seconds)
        reason = f"retry_after: {seconds:g}s"
        await self._record(
            lambda repo: repo.retry_later(job.id, at, reason, count_attempt=False, worker_id=self.worker_id)
        )

    async def _forbidden(self, job: Job, chat_id: int, reason: str) -> None:
        """Kicked or blocked: the group is inactive from now on; the delivery failed."""

        async def forbid(repo: BroadcastRepository) -> None:
            await GroupRepository(repo.session).deactivate(chat_id)
            await repo.mark_failed(job.id, reason)

        await self._record(forbid)
        self._count_failure(reason)

    async def _fail(self, job: Job, reason: str) -> None:
        await self._record(lambda repo: repo.mark_failed(job.id, reason))
        self._count_failure(reason)

    def _count_failure(self, reason: str) -> None:
        self.stats.failed += 1
        kind = reason.split(":", 1)[0]
        self.stats.failures[kind] = self.stats.failures.get(kind, 0) + 1

    async def _retry_or_fail(self, job: Job, kind: str, error: TelegramError) -> None:
        reason = f"{kind}: {error.message}"
        if job.attempts >= self.settings.broadcast_max_attempts:
            await self._fail(job, reason)
            return
        backoff = min(
            self.settings.broadcast_retry_base_seconds * 2 ** (job.attempts - 1),
            self.settings.broadcast_retry_max_seconds,
        )
        at = utc_now() + timedelta(seconds=backoff)
        self.stats.retried += 1
        await self._record(lambda repo: repo.retry_later(job.id, at, reason, worker_id=self.worker_id))

    async def _migrate(self, job: Job, old_chat_id: int, new_chat_id: int) -> bool:
        """Follow group → supergroup; False when the new chat already has its own delivery."""
        self.stats.migrated += 1

        async def follow(repo: BroadcastRepository, *, registry: bool) -> bool:
            twin = await repo.other_delivery_to(job.announcement_id, new_chat_id, job.id)
            if registry:
                await GroupRepository(repo.session).migrate(old_chat_id, new_chat_id)
            await repo.redirect(job.id, new_chat_id)
            if twin is not None:
                # The supergroup is in this announcement on its own: it gets that copy, not two.
                await repo.mark_sent(job.id, None, note=f"migrated: delivered by delivery {twin.id}")
                return False
            return True

        try:
            return await self._write(lambda repo: follow(repo, registry=True))
        except IntegrityError:
            # Both chats are registered and both have deliveries of one announcement: the
            # registry cannot merge them here; at least this delivery follows the chat.
            logger.warning("group %d → %d: registry not migrated (clashing deliveries)", old_chat_id, new_chat_id)
            return await self._write(lambda repo: follow(repo, registry=False))

    async def _pin(self, job: Job, chat_id: int, message_id: int, silent: bool) -> None:
        """Pin the announcement; a failure is only a note on the (sent) delivery."""
        for _ in range(2):
            await self.bucket.acquire()
            try:
                await self.bot.pin_chat_message(chat_id, message_id, disable_notification=silent)
                return
            except RetryAfter as error:
                self.bucket.pause(retry_after_seconds(error))
                self.stats.retry_after += 1
                note = f"pin: {error.message}"
            except TelegramError as error:
                note = f"pin: {error.message.removeprefix('Bad Request: ')}"
                break
        self.stats.pin_failures += 1
        await self._record(lambda repo: repo.add_note(job.id, note))


# ------------------------------------------------------------------------------- wiring


def build_sender_bot(bot_settings: BotSettings, settings: BroadcastSettings) -> Bot:
    """The sender's own ``Bot``: own connection pool, no rate limiter, the configured API server."""
    if bot_settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    kwargs: dict[str, Any] = {}
    if bot_settings.telegram_api_base_url:
        kwargs["base_url"] = bot_settings.telegram_api_base_url
        kwargs["base_file_url"] = bot_settings.telegram_api_file_url or bot_settings.telegram_api_base_url.replace(
            "/bot", "/file/bot", 1
        )
    return Bot(
        bot_settings.telegram_bot_token.get_secret_value(),
        request=HTTPXRequest(connection_pool_size=settings.broadcast_concurrency + 4),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        **kwargs,
    )


@dataclass
class SenderTask:
    """A sender running as a task inside another program (the bot application)."""

    sender: BroadcastSender
    task: asyncio.Task[None]
    stop_event: asyncio.Event
    bot: Bot

    async def stop(self, timeout: float = 30.0) -> None:
        """Let in-flight sends finish, hand back the rest, close the sender's HTTP pool."""
        self.stop_event.set()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout)
        except TimeoutError:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        finally:
            await self.bot.shutdown()


BOT_DATA_KEY = "broadcast_sender"


async def start_sender_task(
    application: Any,
    *,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    settings: BroadcastSettings | None = None,
    on_finished: FinishedHook | None = None,
) -> SenderTask:
    """Run a sender inside the bot application (call from ``post_init`` once services exist).

    Uses ``application.bot_data["settings"]`` (BotSettings) for the token and API server and,
    unless given, ``application.bot_data["services"].runtime.sessions`` for the database.
    The handle is kept in ``application.bot_data["broadcast_sender"]``.
    """
    bot_settings: BotSettings = application.bot_data["settings"]
    if sessions is None:
        sessions = application.bot_data["services"].runtime.sessions
    settings = settings or BroadcastSettings()
    bot = build_sender_bot(bot_settings, settings)
    await bot.initialize()
    stop = asyncio.Event()
    sender = BroadcastSender(sessions, bot, settings, settings.sender_worker_id, on_finished=on_finished)
    task = asyncio.create_task(sender.run(stop), name="broadcast-sender")
    handle = SenderTask(sender, task, stop, bot)
    application.bot_data[BOT_DATA_KEY] = handle
    return handle


async def stop_sender_task(application: Any, timeout: float = 30.0) -> None:
    """Stop the sender started by :func:`start_sender_task` (no-op if none is running)."""
    handle: SenderTask | None = application.bot_data.pop(BOT_DATA_KEY, None)
    if handle is not None:
        await handle.stop(timeout)
