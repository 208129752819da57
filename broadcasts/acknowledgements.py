"""Acknowledgements ("✅ Đã nhận" under an announcement): taps, figures by place, CSV rows, the one reminder.

A group's first tap counts (who: a Telegram user id; when); later taps find the row already
there. The unique ``(announcement_id, group_id)`` decides under concurrency: the tap is one
``INSERT … ON CONFLICT DO NOTHING RETURNING id`` on SQLite and PostgreSQL alike, so two taps at
once store exactly one row. Taps always name the ORIGINAL announcement (a reminder's button
too), so a group acknowledges once whichever copy it tapped.

Figures are GROUP BY queries over the announcement's deliveries (the audience), its groups'
province and commune tags and the acknowledgements: one row per place, whatever the number of
groups. Like the other repositories this takes a session and never commits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import and_, case, exists, func, null, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from answering.formatting import CAPTION_LIMIT, MESSAGE_LIMIT
from broadcasts.models import (
    Acknowledgement,
    Announcement,
    AnnouncementStatus,
    ContentKind,
    Delivery,
    DeliveryStatus,
    Group,
    GroupTag,
    TagKind,
)
from broadcasts.outbox import BroadcastRepository
from markup.telegram_html import visible_length
from storage.base import as_utc, utc_now


class Tap(StrEnum):
    COUNTED = "counted"  # the group's first tap: stored
    ALREADY = "already"  # the group had acknowledged already: nothing stored
    NOT_IN_AUDIENCE = "not_in_audience"  # no delivery of the announcement to this chat's group
    UNKNOWN = "unknown"  # no such announcement, or it has no button


class Totals(NamedTuple):
    groups: int  # deliveries not cancelled
    sent: int
    acked: int
    waiting: int  # sent and not acknowledged


class Place(NamedTuple):
    """Figures of one province (``commune`` None) or one commune of a province."""

    province: str | None  # a PROVINCES key
    commune: str | None  # as typed (one of the spellings that fold to the same key)
    groups: int
    sent: int
    acked: int
    waiting: int


class Places(NamedTuple):
    top: list[Place]  # most waiting first
    total: int  # places in all (the rest is in the CSV)


class Row(NamedTuple):
    """One group of the CSV."""

    title: str
    chat_id: int
    province: str | None
    commune: str | None
    status: str
    acked_at: datetime | None


class Reminder(StrEnum):
    ALLOWED = "allowed"
    NO_BUTTON = "no_button"  # unknown announcement or one without the button
    IS_REMINDER = "is_reminder"  # a reminder is not reminded again
    NOT_DONE = "not_done"
    ALREADY = "already"
    TOO_EARLY = "too_early"
    NOBODY = "nobody"  # every active group that received it has acknowledged


@dataclass(frozen=True)
class ReminderState:
    status: Reminder
    waiting: int = 0  # groups a reminder would go to
    due_at: datetime | None = None  # when it becomes allowed
    reminder_id: int | None = None  # the reminder already sent

    @property
    def allowed(self) -> bool:
        return self.status is Reminder.ALLOWED


class ReminderRefused(Exception):
    def __init__(self, state: ReminderState) -> None:
        super().__init__(state.status)
        self.state = state


def reminder_text(original: Announcement, header: str, too_long: str) -> str:
    """The header above the original content; the header alone (``too_long``) if both exceed the limit."""
    limit = MESSAGE_LIMIT if original.kind == ContentKind.TEXT else CAPTION_LIMIT
    text = f"{header}\n\n{original.text}" if original.text else header
    return text if visible_length(text) <= limit else too_long


class AcknowledgementRepository:
    """Takes a session; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------------------- taps

    async def original(self, announcement_id: int) -> Announcement | None:
        """The announcement acknowledgements of ``announcement_id`` count for, if it has the button."""
        announcement = await self.session.get(Announcement, announcement_id)
        if announcement is not None and announcement.reminder_of is not None:
            announcement = await self.session.get(Announcement, announcement.reminder_of)
        return announcement if announcement is not None and announcement.ack_button else None

    async def audience_group(self, announcement_id: int, chat_id: int) -> int | None:
        """The group of the announcement's audience that ``chat_id`` is now, if any.

        First the group whose ``chat_id`` it is (``groups.chat_id`` follows migrations), then a
        delivery of this announcement aimed at that chat (a delivery redirected after a
        migration while another row holds the new chat id). Cancelled deliveries sent nothing.
        """
        sent_something = and_(Delivery.announcement_id == announcement_id, Delivery.status != DeliveryStatus.CANCELLED)
        group_id: int | None = await self.session.scalar(
            select(Delivery.group_id)
            .join(Group, Group.id == Delivery.group_id)
            .where(sent_something, Group.chat_id == chat_id)
        )
        if group_id is None:
            group_id = await self.session.scalar(
                select(Delivery.group_id)
                .where(sent_something, Delivery.chat_id == chat_id)
                .order_by(Delivery.id)
                .limit(1)
            )
        return group_id

    async def record_tap(self, announcement_id: int, chat_id: int, user_id: int, now: datetime | None = None) -> Tap:
        """Count the first tap of the group ``chat_id`` on ``announcement_id``'s button."""
        original = await self.original(announcement_id)
        if original is None:
            return Tap.UNKNOWN
        group_id = await self.audience_group(original.id, chat_id)
        if group_id is None:
            return Tap.NOT_IN_AUDIENCE
        postgres = self.session.get_bind().dialect.name == "postgresql"
        insert = postgresql_insert if postgres else sqlite_insert
        statement = (
            insert(Acknowledgement)
            .values(announcement_id=original.id, group_id=group_id, user_id=user_id, acked_at=as_utc(now or utc_now()))
            .on_conflict_do_nothing(index_elements=["announcement_id", "group_id"])
            .returning(Acknowledgement.id)
        )
        inserted = (await self.session.execute(statement)).scalar_one_or_none()
        return Tap.COUNTED if inserted is not None else Tap.ALREADY

    # ---------------------------------------------------------------------------- figures

    def _joined(
        self, announcement_id: int, columns: Callable[[Any, Any], Sequence[Any]], *, places: int = 2
    ) -> tuple[Any, Any, Any]:
        """SELECT ``columns(province, commune)`` FROM the audience with groups, tags and acknowledgements.

        The audience is the announcement's deliveries that are not cancelled; province and commune
        are the groups' ``tinh``/``xa`` tags (at most one each, by a unique index), joined only
        as far as needed (``places``: 0 none, 1 the province, 2 both).
        """
        province, commune = aliased(GroupTag), aliased(GroupTag)
        query = select(*columns(province, commune)).select_from(Delivery).join(Group, Group.id == Delivery.group_id)
        if places >= 1:
            query = query.outerjoin(
                province, and_(province.group_id == Delivery.group_id, province.kind == TagKind.TINH)
            )
        if places >= 2:
            query = query.outerjoin(commune, and_(commune.group_id == Delivery.group_id, commune.kind == TagKind.XA))
        query = query.outerjoin(
            Acknowledgement,
            and_(
                Acknowledgement.announcement_id == Delivery.announcement_id,
                Acknowledgement.group_id == Delivery.group_id,
            ),
        ).where(Delivery.announcement_id == announcement_id, Delivery.status != DeliveryStatus.CANCELLED)
        return query, province, commune

    @staticmethod
    def _counts() -> tuple[Any, Any, Any, Any]:
        """groups, sent, acknowledged, waiting (sent and not acknowledged) as aggregates."""
        sent = Delivery.status == DeliveryStatus.SENT
        return (
            func.count(Delivery.id),
            func.coalesce(func.sum(case((sent, 1), else_=0)), 0),
            func.count(Acknowledgement.id),
            func.coalesce(func.sum(case((and_(sent, Acknowledgement.id.is_(None)), 1), else_=0)), 0),
        )

    async def totals(self, announcement_id: int) -> Totals:
        query, _, _ = self._joined(announcement_id, lambda _p, _c: self._counts(), places=0)
        groups, sent, acked, waiting = (await self.session.execute(query)).one()
        return Totals(int(groups), int(sent), int(acked), int(waiting))

    async def by_province(self, announcement_id: int, limit: int) -> Places:
        """Provinces, most groups waiting first (then most groups, then by key; untagged groups last)."""
        return await self._places(announcement_id, limit, communes=False)

    async def by_commune(self, announcement_id: int, limit: int) -> Places:
        """Communes within their province (one folded name in two provinces: two places)."""
        return await self._places(announcement_id, limit, communes=True)

    async def _places(self, announcement_id: int, limit: int, *, communes: bool) -> Places:
        """The top ``limit`` places in one GROUP BY; ``count(*) OVER ()`` counts all places alongside."""
        groups, sent, acked, waiting = self._counts()
        query, province, commune = self._joined(
            announcement_id,
            lambda p, c: (
                p.key,
                func.min(c.display) if communes else null(),
                groups,
                sent,
                acked,
                waiting,
                func.count().over(),
            ),
            places=2 if communes else 1,
        )
        keys = (province.key, commune.key) if communes else (province.key,)
        query = (
            query.group_by(*keys)
            .order_by(waiting.desc(), groups.desc(), *(key.is_(None) for key in keys), *keys)
            .limit(limit)
        )
        rows = (await self.session.execute(query)).tuples().all()
        top = [Place(key, display, int(g), int(s), int(a), int(w)) for key, display, g, s, a, w, _ in rows]
        return Places(top, int(rows[0][-1]) if rows else 0)

    async def rows(self, announcement_id: int, chunk: int = 2_000) -> AsyncIterator[list[Row]]:
        """Every group of the audience for the CSV, by province, commune and title (no tapper ids).

        Streamed in chunks: 100,000 groups never hold the event loop for long at a stretch.
        """
        query, province, commune = self._joined(
            announcement_id,
            lambda p, c: (Group.title, Group.chat_id, p.key, c.display, Delivery.status, Acknowledgement.acked_at),
        )
        query = query.order_by(
            province.key.is_(None), province.key, commune.key.is_(None), commune.key, Group.title, Delivery.id
        )
        result = await self.session.stream(query.execution_options(yield_per=chunk))
        async for part in result.partitions(chunk):
            yield [
                Row(title, chat_id, key, display, status, as_utc(at) if at else None)
                for title, chat_id, key, display, status, at in part
            ]

    # --------------------------------------------------------------------------- reminder

    def _targets(self, announcement_id: int) -> Any:
        """Group ids a reminder goes to: sent, not acknowledged, still active."""
        acked = exists().where(
            Acknowledgement.announcement_id == announcement_id, Acknowledgement.group_id == Delivery.group_id
        )
        return (
            select(Delivery.group_id)
            .join(Group, Group.id == Delivery.group_id)
            .where(
                Delivery.announcement_id == announcement_id,
                Delivery.status == DeliveryStatus.SENT,
                Group.active.is_(True),
                ~acked,
            )
        )

    async def reminder_state(self, announcement_id: int, now: datetime, after: timedelta) -> ReminderState:
        """Whether the one reminder of ``announcement_id`` may be sent now, and to how many groups."""
        announcement = await self.session.get(Announcement, announcement_id)
        if announcement is None or not announcement.ack_button:
            return ReminderState(Reminder.NO_BUTTON)
        if announcement.reminder_of is not None:
            return ReminderState(Reminder.IS_REMINDER)
        sent_reminder = await self.session.scalar(
            select(Announcement.id).where(Announcement.reminder_of == announcement.id)
        )
        if sent_reminder is not None:
            return ReminderState(Reminder.ALREADY, reminder_id=sent_reminder)
        if announcement.status != AnnouncementStatus.DONE or announcement.finished_at is None:
            return ReminderState(Reminder.NOT_DONE)
        due_at = as_utc(announcement.finished_at) + after
        waiting = int(
            await self.session.scalar(select(func.count()).select_from(self._targets(announcement.id).subquery())) or 0
        )
        if waiting == 0:
            return ReminderState(Reminder.NOBODY, due_at=due_at)
        if as_utc(now) < due_at:
            return ReminderState(Reminder.TOO_EARLY, waiting=waiting, due_at=due_at)
        return ReminderState(Reminder.ALLOWED, waiting=waiting, due_at=due_at)

    async def create_reminder(
        self,
        announcement_id: int,
        *,
        sender_user_id: int,
        sender_chat_id: int,
        now: datetime,
        after: timedelta,
        header: str,
        too_long: str,
    ) -> Announcement:
        """The one reminder: a new announcement to the groups still waiting, in the caller's transaction.

        Raises :class:`ReminderRefused` when it is not allowed now, also when another tap made it
        first (the unique ``reminder_of`` decides; the failed insert is rolled back to a savepoint).
        ``now`` decides whether the time has come; the reminder itself starts at once (real time),
        so the sender sends it. ``too_long`` is the text when header and original do not fit one message.
        """
        state = await self.reminder_state(announcement_id, now, after)
        if not state.allowed:
            raise ReminderRefused(state)
        original = await self.session.get(Announcement, announcement_id)
        assert original is not None  # reminder_state found it
        group_ids = list((await self.session.scalars(self._targets(announcement_id).order_by(Delivery.id))).all())
        try:
            async with self.session.begin_nested():
                reminder = await BroadcastRepository(self.session).create_announcement(
                    sender_user_id=sender_user_id,
                    sender_chat_id=sender_chat_id,
                    kind=original.kind,
                    text=reminder_text(original, header, too_long),
                    file_id=original.file_id,
                    silent=original.silent,
                    audience=original.audience,
                    group_ids=group_ids,
                )
                reminder.ack_button = True
                reminder.reminder_of = original.id
                await self.session.flush()
        except IntegrityError:
            made = await self.session.scalar(select(Announcement.id).where(Announcement.reminder_of == announcement_id))
            raise ReminderRefused(ReminderState(Reminder.ALREADY, reminder_id=made)) from None
        return reminder
