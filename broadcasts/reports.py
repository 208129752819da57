"""Figures of an announcement for the people who sent it: progress, failures by reason, the CSV."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcasts.models import Announcement, AnnouncementStatus, Delivery, Group
from broadcasts.outbox import CANCELLED, FAILED, PENDING, SENDING, SENT
from storage.base import as_utc

CSV_HEADER = ("nhóm", "chat_id", "lý do")


def reason_kind(reason: str | None) -> str:
    """``"forbidden: bot was kicked"`` → ``"forbidden"``."""
    return (reason or "").split(":", 1)[0].strip() or "unknown"


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int
    pending: int  # pending + sending
    cancelled: int
    started_at: datetime | None
    finished_at: datetime | None
    status: str = AnnouncementStatus.SENDING

    @property
    def done(self) -> int:
        """Deliveries with a final result."""
        return self.sent + self.failed + self.cancelled

    @property
    def finished(self) -> bool:
        return self.status in (AnnouncementStatus.DONE, AnnouncementStatus.CANCELLED)


class Failure(NamedTuple):
    group_title: str
    chat_id: int
    reason: str


class ReportRepository:
    """Read-only; takes a session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def progress(self, announcement_id: int) -> Progress:
        announcement = await self.session.get(Announcement, announcement_id, populate_existing=True)
        if announcement is None:
            raise LookupError(f"no announcement {announcement_id}")
        rows = await self.session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.announcement_id == announcement_id)
            .group_by(Delivery.status)
        )
        counts: Counter[str] = Counter(dict(rows.tuples().all()))
        return Progress(
            total=announcement.total,
            sent=counts[SENT],
            failed=counts[FAILED],
            pending=counts[PENDING] + counts[SENDING],
            cancelled=counts[CANCELLED],
            started_at=as_utc(announcement.started_at) if announcement.started_at else None,
            finished_at=as_utc(announcement.finished_at) if announcement.finished_at else None,
            status=announcement.status,
        )

    async def failure_counts(self, announcement_id: int) -> dict[str, int]:
        """Failed deliveries by reason kind (``forbidden``, ``bad_request``, ``network``, …)."""
        rows = await self.session.scalars(
            select(Delivery.error).where(Delivery.announcement_id == announcement_id, Delivery.status == FAILED)
        )
        return dict(Counter(reason_kind(reason) for reason in rows).most_common())

    async def failures(self, announcement_id: int) -> list[Failure]:
        """(group title, chat id, reason) of every failed delivery, by title."""
        rows = await self.session.execute(
            select(Group.title, Delivery.chat_id, Delivery.error)
            .join(Group, Group.id == Delivery.group_id)
            .where(Delivery.announcement_id == announcement_id, Delivery.status == FAILED)
            .order_by(Group.title, Delivery.id)
        )
        return [Failure(title, chat_id, error or "") for title, chat_id, error in rows.tuples()]

    async def failures_csv(self, announcement_id: int) -> bytes:
        """The failures as CSV, UTF-8 with a BOM so Excel shows Vietnamese correctly."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CSV_HEADER)
        for failure in await self.failures(announcement_id):
            writer.writerow((failure.group_title, failure.chat_id, failure.reason))
        return buffer.getvalue().encode("utf-8-sig")
