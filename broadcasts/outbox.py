"""The durable broadcast outbox: creating an announcement's deliveries, claiming them, their results.

Announcements' own lifecycle is in ``broadcasts.announcements``; figures and the failure CSV
in ``broadcasts.reports``.

Life of a delivery::

    pending ──claim──▶ sending ──▶ sent | failed
       ▲                  │
       └── retry_later ◀──┘        (pending|sending of a cancelled announcement → cancelled)

A sender *claims* due rows (status ``sending``, ``claimed_by``, ``lease_until``) and records
each result in its own short transaction right after the Telegram call returns, so a crash
can only repeat what was in flight. A row still ``sending`` after its lease ran out was
abandoned by a crashed sender and is claimed again.

Announcement status: ``scheduled`` (waits for ``scheduled_at``) → ``sending`` → ``done``;
``scheduled`` → ``cancelled``. Only ``sending`` announcements are claimed from, which makes
"cancel" and "start" two mutually exclusive single-row updates.

Datetimes are stored in UTC. SQLite gives them back naive; :func:`as_utc` makes them aware.

Like the other repositories this takes a session and never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Table,
    bindparam,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from broadcasts.claiming import Claimed, claim_statement
from broadcasts.models import Announcement, AnnouncementStatus, ContentKind, Delivery, DeliveryStatus, Group
from storage.base import as_utc, utc_now

# Delivery statuses by their old names (other modules import these); the values are the StrEnums'.
PENDING, SENDING, SENT, FAILED, CANCELLED = (
    DeliveryStatus.PENDING,
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.CANCELLED,
)
SCHEDULED, DONE = AnnouncementStatus.SCHEDULED, AnnouncementStatus.DONE  # announcement-only statuses
OPEN_STATUSES = (PENDING, SENDING)
ERROR_LENGTH = 255  # Delivery.error is a String(255)
_CHUNK = 5_000  # ids per IN (...) list: SQLite and asyncpg both cap bound parameters near 32k
_KINDS = frozenset(ContentKind)


def clip(text: str, limit: int = ERROR_LENGTH) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class BroadcastRepository:
    """Announcements and their deliveries. Takes a session; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def _uncount_attempt(self) -> Any:
        """``attempts - 1`` (not below 0): give back the attempt a claim counted."""
        larger = func.greatest if self._postgres else func.max  # SQLite: max(a, b) is the scalar max
        return larger(Delivery.attempts - 1, 0)

    # ------------------------------------------------------------------------- creating

    async def create_announcement(
        self,
        *,
        sender_user_id: int,
        sender_chat_id: int,
        kind: str,
        text: str,
        file_id: str | None = None,
        pin: bool = False,
        silent: bool = False,
        audience: Sequence[str] = (),
        scheduled_at: datetime | None = None,
        group_ids: Iterable[int],
        now: datetime | None = None,
        ack_button: bool = False,
        reminder_of: int | None = None,
    ) -> Announcement:
        """One announcement and one pending delivery per group, in the caller's transaction.

        Unknown group ids are skipped (``total`` counts the deliveries made). The deliveries are
        made in the database, ``INSERT … SELECT`` from ``groups`` in chunks of ids: no row
        travels to Python and back (100,000 groups take a few seconds, see
        ``docs/broadcast-performance.md``). Returns the announcement, attached to the session.
        """
        if kind not in _KINDS:
            raise ValueError(f"unknown announcement kind {kind!r}")
        if kind != ContentKind.TEXT and not file_id:
            raise ValueError(f"a {kind} announcement needs a file_id")
        now = as_utc(now or utc_now())
        when = as_utc(scheduled_at) if scheduled_at is not None else None
        later = when is not None and when > now
        ids = list(dict.fromkeys(group_ids))
        announcement = Announcement(
            sender_user_id=sender_user_id,
            sender_chat_id=sender_chat_id,
            kind=kind,
            text=text,
            file_id=file_id,
            pin=pin,
            silent=silent,
            audience=list(audience),
            status=AnnouncementStatus.SCHEDULED if later else AnnouncementStatus.SENDING,
            scheduled_at=when,
            total=0,
            created_at=now,
            started_at=None if later else now,
            ack_button=ack_button,
            reminder_of=reminder_of,
        )
        self.session.add(announcement)
        await self.session.flush()
        stamp = DateTime(timezone=True)
        columns = ("announcement_id", "group_id", "chat_id", "status", "attempts", "next_attempt_at", "updated_at")
        total = 0
        for start in range(0, len(ids), _CHUNK):
            rows = select(
                literal(announcement.id, Integer),
                Group.id,
                Group.chat_id,
                literal(str(PENDING), String),
                literal(0, Integer),
                literal(when if when is not None else now, stamp),
                literal(now, stamp),
            ).where(Group.id.in_(ids[start : start + _CHUNK]))
            result = await self.session.execute(insert(Delivery).from_select(columns, rows))
            total += int(result.rowcount)  # type: ignore[attr-defined]
        announcement.total = total
        return announcement

    # -------------------------------------------------------------------------- claiming

    async def claim(
        self, worker_id: str, limit: int, lease_seconds: float, now: datetime | None = None
    ) -> list[Claimed]:
        """Atomically take up to ``limit`` due deliveries for ``worker_id``.

        Due: ``pending`` with ``next_attempt_at <= now``, or ``sending`` whose lease ran out
        (its sender crashed), of an announcement that is ``sending`` (not scheduled for later,
        not cancelled). Claimed rows get ``status='sending'``, ``claimed_by``,
        ``lease_until = now + lease_seconds`` and ``attempts + 1``. Oldest due first.

        PostgreSQL: one statement, ``WITH picked AS MATERIALIZED (SELECT id … ORDER BY
        next_attempt_at, id LIMIT :n FOR UPDATE OF deliveries SKIP LOCKED) UPDATE deliveries
        SET … WHERE id = ANY(ARRAY(SELECT id FROM picked)) AND <due again> RETURNING …`` (the
        ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`` pattern, with the sub-select
        as a CTE so it runs exactly once); concurrent senders skip each other's locked rows
        instead of waiting, and the repeated condition re-checks a row that changed between
        the sub-select and the lock, so no row is handed to two senders. The statement and its
        index are in ``broadcasts.claiming``.

        SQLite: the same single ``UPDATE … WHERE id IN (SELECT … LIMIT :n) RETURNING …``
        without the locking clause. SQLite has one writer at a time: the statement takes the
        write lock before it reads, so another sender (thread or process) waits on
        ``busy_timeout`` and then sees the committed claim. Call it as the only statement of
        its own short write transaction.

        Rows come back as :class:`Claimed` tuples (their lease is ``now + lease_seconds``).
        """
        statement = self.claim_statement(worker_id, limit, lease_seconds, as_utc(now or utc_now()))
        claimed = [Claimed._make(row) for row in await self.session.execute(statement)]
        claimed.sort(key=lambda row: (row.next_attempt_at, row.id))  # one back end: all naive or all aware
        return claimed

    def claim_statement(self, worker_id: str, limit: int, lease_seconds: float, now: datetime) -> Any:
        """The claim's ``UPDATE … RETURNING`` for this back end (``broadcasts.claiming``; tests ``EXPLAIN`` it)."""
        return claim_statement(worker_id, limit, lease_seconds, now, postgres=self._postgres)

    async def extend_lease(self, delivery_ids: Sequence[int], worker_id: str, until: datetime) -> set[int]:
        """Push the lease of rows this worker still holds; returns the ids it still holds."""
        if not delivery_ids:
            return set()
        result = await self.session.execute(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids), Delivery.status == SENDING, Delivery.claimed_by == worker_id[:64])
            .values(lease_until=as_utc(until))
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
        return set(result.scalars().all())

    async def release(
        self, delivery_ids: Sequence[int], worker_id: str, at: datetime | None = None, reason: str | None = None
    ) -> int:
        """Give claimed but unsent rows back (pending at ``at``); the claim's attempt is not counted."""
        if not delivery_ids:
            return 0
        now = utc_now()
        values: dict[str, Any] = {
            "status": PENDING,
            "attempts": self._uncount_attempt(),
            "next_attempt_at": as_utc(at or now),
            "claimed_by": None,
            "lease_until": None,
            "updated_at": now,
        }
        if reason is not None:
            values["error"] = clip(reason)
        result = await self.session.execute(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids), Delivery.status == SENDING, Delivery.claimed_by == worker_id[:64])
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # -------------------------------------------------------------------------- results

    async def mark_sent(self, delivery_id: int, message_id: int | None, note: str | None = None) -> bool:
        """The message is in the group (whoever holds the claim now: it was delivered)."""
        now = utc_now()
        result = await self.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status != SENT)
            .values(
                status=SENT,
                message_id=message_id,
                error=clip(note) if note else None,
                lease_until=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_sent_many(self, sent: Sequence[tuple[int, int | None]]) -> None:
        """:meth:`mark_sent` for many ``(delivery_id, message_id)`` pairs in one executemany."""
        if not sent:
            return
        table = Delivery.__table__
        assert isinstance(table, Table)
        statement = (
            update(table)
            .where(table.c.id == bindparam("delivery_id"), table.c.status != SENT)
            .values(
                status=SENT, message_id=bindparam("sent_message_id"), error=None, lease_until=None, updated_at=utc_now()
            )
        )
        await self.session.execute(
            statement, [{"delivery_id": delivery_id, "sent_message_id": message_id} for delivery_id, message_id in sent]
        )

    async def add_note(self, delivery_id: int, note: str) -> None:
        """A remark on a sent delivery, e.g. ``"pin: not enough rights"``."""
        await self.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(error=clip(note), updated_at=utc_now())
            .execution_options(synchronize_session=False)
        )

    async def mark_failed(self, delivery_id: int, reason: str, *, worker_id: str | None = None) -> bool:
        """Final failure (``reason`` like ``"forbidden: …"``); only while the row is being sent."""
        query = update(Delivery).where(Delivery.id == delivery_id, Delivery.status.in_(OPEN_STATUSES))
        if worker_id is not None:
            query = query.where(Delivery.claimed_by == worker_id[:64])
        result = await self.session.execute(
            query.values(status=FAILED, error=clip(reason), lease_until=None, updated_at=utc_now()).execution_options(
                synchronize_session=False
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def retry_later(
        self,
        delivery_id: int,
        at: datetime,
        reason: str,
        *,
        count_attempt: bool = True,
        worker_id: str | None = None,
    ) -> bool:
        """Back to pending until ``at``; keeps the attempt the claim counted unless ``count_attempt=False``."""
        values: dict[str, Any] = {
            "status": PENDING,
            "next_attempt_at": as_utc(at),
            "error": clip(reason),
            "claimed_by": None,
            "lease_until": None,
            "updated_at": utc_now(),
        }
        if not count_attempt:
            values["attempts"] = self._uncount_attempt()
        query = update(Delivery).where(Delivery.id == delivery_id, Delivery.status == SENDING)
        if worker_id is not None:
            query = query.where(Delivery.claimed_by == worker_id[:64])
        result = await self.session.execute(query.values(**values).execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def redirect(self, delivery_id: int, chat_id: int) -> None:
        """Point one delivery at another chat id (after a migration)."""
        await self.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(chat_id=chat_id, updated_at=utc_now())
            .execution_options(synchronize_session=False)
        )

    async def other_delivery_to(self, announcement_id: int, chat_id: int, delivery_id: int) -> Delivery | None:
        """Another delivery of the same announcement already aimed at ``chat_id`` (not cancelled)."""
        found: Delivery | None = await self.session.scalar(
            select(Delivery)
            .where(
                Delivery.announcement_id == announcement_id,
                Delivery.chat_id == chat_id,
                Delivery.id != delivery_id,
                Delivery.status != CANCELLED,
            )
            .limit(1)
        )
        return found

    async def follow_group_migration(
        self, old_group_id: int | None, new_group_id: int | None, old_chat_id: int, new_chat_id: int
    ) -> None:
        """Deliveries follow a group → supergroup upgrade (``broadcasts.migration.migrate_group``).

        When two rows were merged, pending deliveries move to the kept row unless it already has
        one of the same announcement: then the old one is cancelled (one copy per group, never
        two). Pending and sending deliveries aimed at the old chat id are aimed at the new one.
        """
        now = utc_now()
        if old_group_id is not None and new_group_id is not None and old_group_id != new_group_id:
            kept = aliased(Delivery)
            already = select(kept.announcement_id).where(kept.group_id == new_group_id)
            await self.session.execute(
                update(Delivery)
                .where(
                    Delivery.group_id == old_group_id,
                    Delivery.status == DeliveryStatus.PENDING,
                    Delivery.announcement_id.in_(already),
                )
                .values(
                    status=DeliveryStatus.CANCELLED,
                    error="merged: the supergroup already has this announcement",
                    updated_at=now,
                )
            )
            await self.session.execute(
                update(Delivery)
                .where(Delivery.group_id == old_group_id, Delivery.status == DeliveryStatus.PENDING)
                .values(group_id=new_group_id, updated_at=now)
            )
        await self.session.execute(
            update(Delivery)
            .where(Delivery.chat_id == old_chat_id, Delivery.status.in_(OPEN_STATUSES))
            .values(chat_id=new_chat_id, updated_at=now)
        )
