"""One delivery: the Telegram call, its outcome (:mod:`bot.sender.outcomes`), and its recorded result.

:meth:`Deliverer.deliver` returns once the delivery's result is committed (group commit,
:mod:`bot.sender.results`), so the send loop can hold a concurrency slot until then. The call
goes through the lean HTTP path (:mod:`bot.sender.http`) with a body made once per
announcement (:class:`Content`); nothing per message but a few bytes and one small object.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, assert_never

from sqlalchemy.exc import IntegrityError
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

import texts
from bot.callback_data import Acknowledge, encode
from bot.sender.http import ApiFailure, BulkApi, sent_message_id
from bot.sender.limits import GroupSpacing, RateLimiter
from bot.sender.outcomes import (
    Blocked,
    ErrorKind,
    Failed,
    Migrated,
    Outcome,
    PauseAll,
    RetryLater,
    RetryPolicy,
    SendError,
    Sent,
    classify,
    failure_kind,
    pin_note,
    seconds,
)
from bot.sender.results import ResultWriter
from broadcasts.claiming import Claimed
from broadcasts.migration import migrate_group
from broadcasts.models import Announcement, ContentKind
from broadcasts.outbox import BroadcastRepository
from broadcasts.registry import GroupRepository
from storage.base import utc_now

logger = logging.getLogger(__name__)


def send_error(error: TelegramError) -> SendError:
    """What a PTB error says, for :func:`bot.sender.outcomes.classify` (the one place that knows PTB's classes)."""
    if isinstance(error, RetryAfter):
        return SendError(ErrorKind.RETRY_AFTER, error.message, retry_after=error.retry_after)
    if isinstance(error, ChatMigrated):
        return SendError(ErrorKind.MIGRATED, error.message, new_chat_id=error.new_chat_id)
    if isinstance(error, Forbidden):
        return SendError(ErrorKind.FORBIDDEN, error.message)
    if isinstance(error, BadRequest):  # before NetworkError: BadRequest is one of its subclasses
        return SendError(ErrorKind.BAD_REQUEST, error.message)
    if isinstance(error, NetworkError):  # TimedOut included
        return SendError(ErrorKind.NETWORK, error.message)
    return SendError(ErrorKind.OTHER, error.message)


def ack_markup(announcement: Announcement) -> dict[str, Any]:
    """The "✅ Đã nhận" button; a reminder's button acknowledges the original announcement."""
    data = encode(Acknowledge(announcement.reminder_of or announcement.id))
    return {"inline_keyboard": [[{"text": texts.BUTTON_ACK, "callback_data": data}]]}


@dataclass(frozen=True, slots=True)
class Content:
    """One announcement as the Bot API call that sends it: the method and the JSON body after ``chat_id``.

    Built once per announcement; :meth:`body` only puts the chat id in front.
    """

    method: str  # sendMessage | sendPhoto | sendDocument
    tail: bytes  # the JSON object's members after "chat_id", with its closing brace
    pin: bool
    silent: bool

    @classmethod
    def of(cls, announcement: Announcement, *, paid: bool = False) -> Content:
        fields: dict[str, Any]
        if announcement.kind in (ContentKind.PHOTO, ContentKind.DOCUMENT):
            fields = {str(announcement.kind): announcement.file_id or ""}
            if announcement.text:
                fields["caption"] = announcement.text
            fields["parse_mode"] = "HTML"
            method = "sendPhoto" if announcement.kind == ContentKind.PHOTO else "sendDocument"
        else:  # text, and anything unknown goes as text
            fields = {"text": announcement.text, "parse_mode": "HTML", "link_preview_options": {"is_disabled": True}}
            method = "sendMessage"
        fields["disable_notification"] = bool(announcement.silent)
        if paid:
            fields["allow_paid_broadcast"] = True
        if announcement.ack_button:
            fields["reply_markup"] = ack_markup(announcement)
        tail = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))[1:].encode()
        return cls(method, tail, bool(announcement.pin), bool(announcement.silent))

    def body(self, chat_id: int) -> bytes:
        return b'{"chat_id":%d,%b' % (chat_id, self.tail)


@dataclass(slots=True)
class Job:
    """A claimed delivery (plain values from the claim, no ORM object)."""

    id: int
    announcement_id: int
    chat_id: int
    attempts: int
    lease_until: datetime

    @classmethod
    def of(cls, row: Claimed, lease_until: datetime) -> Job:
        return cls(row.id, row.announcement_id, row.chat_id, row.attempts, lease_until)


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
    sweeps: int = 0  # start/close passes over the announcements
    failures: dict[str, int] = field(default_factory=dict)


@dataclass
class Deliverer:
    """Sends one claimed delivery and records its result (the sender's limits and stats, shared)."""

    api: BulkApi
    worker_id: str
    bucket: RateLimiter
    spacing: GroupSpacing
    results: ResultWriter
    retry_policy: RetryPolicy
    stats: SenderStats

    async def deliver(self, job: Job, content: Content) -> None:
        """Send, follow migrations, and record the outcome; returns once it is committed."""
        chat_id = job.chat_id
        migrations = 0
        while True:
            outcome: Outcome
            try:
                outcome = Sent(sent_message_id(await self.api.call(content.method, content.body(chat_id))))
            except ApiFailure as failure:
                outcome = classify(
                    failure.error, attempts=job.attempts, policy=self.retry_policy, migrations=migrations
                )
            if not isinstance(outcome, Migrated):
                await self._settle(job, chat_id, content, outcome)
                return
            if not await self._migrate(job, chat_id, outcome.new_chat_id):
                return
            chat_id = outcome.new_chat_id
            migrations += 1
            await self.bucket.acquire()  # the resend is one more message
            self.spacing.record(chat_id)

    async def _settle(
        self, job: Job, chat_id: int, content: Content, outcome: Sent | Failed | Blocked | RetryLater | PauseAll
    ) -> None:
        """Carry out a final or retry outcome; returns once it is committed."""
        match outcome:
            case Sent(message_id=message_id):
                await self.results.record_sent(job.id, message_id)
                self.stats.sent += 1
                if content.pin:
                    await self._pin(job, chat_id, message_id, content.silent)
            case PauseAll(seconds=seconds):
                # 429: every send pauses; this delivery waits too, and the try does not count.
                self.bucket.pause(seconds)
                self.stats.retry_after += 1
                logger.warning("Telegram asked to wait %gs; every send pauses", seconds)
                await self._retry_later(job, outcome.retry())
            case RetryLater():
                self.stats.retried += 1
                await self._retry_later(job, outcome)
            case Blocked(reason=reason):
                # Kicked or blocked: the group is inactive from now on; the delivery failed.
                async def forbid(repo: BroadcastRepository) -> None:
                    await GroupRepository(repo.session).deactivate(chat_id)
                    await repo.mark_failed(job.id, reason)

                await self.results.record(forbid)
                self._count_failure(reason)
            case Failed(reason=reason):
                await self.results.record(lambda repo: repo.mark_failed(job.id, reason))
                self._count_failure(reason)
            case _:
                assert_never(outcome)

    async def _retry_later(self, job: Job, retry: RetryLater) -> None:
        at = utc_now() + timedelta(seconds=retry.delay)
        await self.results.record(
            lambda repo: repo.retry_later(
                job.id, at, retry.reason, count_attempt=retry.counts_attempt, worker_id=self.worker_id
            )
        )

    def _count_failure(self, reason: str) -> None:
        self.stats.failed += 1
        kind = failure_kind(reason)
        self.stats.failures[kind] = self.stats.failures.get(kind, 0) + 1

    async def _migrate(self, job: Job, old_chat_id: int, new_chat_id: int) -> bool:
        """Follow group → supergroup; False when the new chat already has its own delivery."""
        self.stats.migrated += 1

        async def follow(repo: BroadcastRepository, *, registry: bool) -> bool:
            twin = await repo.other_delivery_to(job.announcement_id, new_chat_id, job.id)
            if registry:  # the group row (and the other deliveries to it) follow too
                await migrate_group(repo.session, old_chat_id, new_chat_id)
            await repo.redirect(job.id, new_chat_id)
            if twin is not None:
                # The supergroup is in this announcement on its own: it gets that copy, not two.
                await repo.mark_sent(job.id, None, note=f"migrated: delivered by delivery {twin.id}")
                return False
            return True

        try:
            return await self.results.write(lambda repo: follow(repo, registry=True))
        except IntegrityError:
            # Both chats are registered and both have deliveries of one announcement: the
            # registry cannot merge them here; at least this delivery follows the chat.
            logger.warning("group %d → %d: registry not migrated (clashing deliveries)", old_chat_id, new_chat_id)
            return await self.results.write(lambda repo: follow(repo, registry=False))

    async def _pin(self, job: Job, chat_id: int, message_id: int, silent: bool) -> None:
        """Pin the announcement; a failure is only a note on the (sent) delivery."""
        for _ in range(2):
            await self.bucket.acquire()
            body = {"chat_id": chat_id, "message_id": message_id, "disable_notification": silent}
            try:
                await self.api.call("pinChatMessage", json.dumps(body).encode())
                return
            except ApiFailure as failure:
                note = pin_note(failure.error)
                if failure.error.kind != ErrorKind.RETRY_AFTER:
                    break
                self.bucket.pause(seconds(failure.error.retry_after))
                self.stats.retry_after += 1
        self.stats.pin_failures += 1
        await self.results.record(lambda repo: repo.add_note(job.id, note))
