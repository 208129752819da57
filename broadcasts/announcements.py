"""The lifecycle of announcements: scheduled → sending → done, or scheduled → cancelled.

Only the sender starts due announcements and closes finished ones (its sweep); the bot's
progress job reads them and marks the final report sent. Takes a session; never commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broadcasts.models import Announcement, AnnouncementStatus, Delivery, DeliveryStatus
from broadcasts.outbox import OPEN_STATUSES
from storage.base import as_utc, utc_now


class AnnouncementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, announcement_id: int) -> Announcement | None:
        return await self.session.get(Announcement, announcement_id)

    async def announcements(self, ids: Iterable[int]) -> list[Announcement]:
        wanted = list(set(ids))
        if not wanted:
            return []
        return list((await self.session.scalars(select(Announcement).where(Announcement.id.in_(wanted)))).all())

    async def start_due(self, now: datetime | None = None) -> list[int]:
        """Scheduled announcements whose time has come → ``sending``; returns their ids."""
        now = as_utc(now or utc_now())
        result = await self.session.execute(
            update(Announcement)
            .where(Announcement.status == AnnouncementStatus.SCHEDULED, Announcement.scheduled_at <= now)
            .values(status=AnnouncementStatus.SENDING, started_at=now)
            .returning(Announcement.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(result.scalars().all())

    async def finish_if_done(self, announcement_id: int, now: datetime | None = None) -> bool:
        """``sending`` → ``done`` (with ``finished_at``) when no delivery is pending or sending.

        True only for the call that made the change, so a report can be sent exactly once.
        """
        now = as_utc(now or utc_now())
        open_rows = exists().where(Delivery.announcement_id == Announcement.id, Delivery.status.in_(OPEN_STATUSES))
        result = await self.session.execute(
            update(Announcement)
            .where(Announcement.id == announcement_id, Announcement.status == AnnouncementStatus.SENDING, ~open_rows)
            .values(status=AnnouncementStatus.DONE, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def finish_all_done(self, now: datetime | None = None) -> list[int]:
        """:meth:`finish_if_done` for every ``sending`` announcement; returns the ids just finished."""
        now = as_utc(now or utc_now())
        open_rows = exists().where(Delivery.announcement_id == Announcement.id, Delivery.status.in_(OPEN_STATUSES))
        result = await self.session.execute(
            update(Announcement)
            .where(Announcement.status == AnnouncementStatus.SENDING, ~open_rows)
            .values(status=AnnouncementStatus.DONE, finished_at=now)
            .returning(Announcement.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(result.scalars().all())

    async def cancel(self, announcement_id: int, now: datetime | None = None) -> bool:
        """Cancel an announcement that has not started (``scheduled``); its deliveries too."""
        now = as_utc(now or utc_now())
        result = await self.session.execute(
            update(Announcement)
            .where(Announcement.id == announcement_id, Announcement.status == AnnouncementStatus.SCHEDULED)
            .values(status=AnnouncementStatus.CANCELLED, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return False
        await self.session.execute(
            update(Delivery)
            .where(Delivery.announcement_id == announcement_id, Delivery.status.in_(OPEN_STATUSES))
            .values(status=DeliveryStatus.CANCELLED, lease_until=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return True

    async def scheduled(self, sender_user_id: int | None = None) -> list[Announcement]:
        """Announcements waiting for their time, soonest first (of one sender if given)."""
        query = select(Announcement).where(Announcement.status == AnnouncementStatus.SCHEDULED)
        if sender_user_id is not None:
            query = query.where(Announcement.sender_user_id == sender_user_id)
        return list((await self.session.scalars(query.order_by(Announcement.scheduled_at, Announcement.id))).all())

    async def in_progress(self) -> list[Announcement]:
        """Announcements being sent (for progress messages)."""
        query = select(Announcement).where(Announcement.status == AnnouncementStatus.SENDING).order_by(Announcement.id)
        return list((await self.session.scalars(query)).all())

    async def announcements_needing_report(self) -> list[Announcement]:
        """Finished announcements whose final report has not been sent yet."""
        query = (
            select(Announcement)
            .where(Announcement.status == AnnouncementStatus.DONE, Announcement.report_sent.is_(False))
            .order_by(Announcement.id)
        )
        return list((await self.session.scalars(query)).all())

    async def mark_reported(self, announcement_id: int) -> bool:
        result = await self.session.execute(
            update(Announcement)
            .where(Announcement.id == announcement_id, Announcement.report_sent.is_(False))
            .values(report_sent=True)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def recent_of(self, sender_user_id: int, limit: int) -> list[Announcement]:
        """The sender's latest announcements, newest first."""
        query = (
            select(Announcement)
            .where(Announcement.sender_user_id == sender_user_id)
            .order_by(Announcement.id.desc())
            .limit(limit)
        )
        return list((await self.session.scalars(query)).all())
