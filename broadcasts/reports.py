"""Figures of an announcement for the people who sent it: progress, failures by reason, the CSVs.

With the "✅ Đã nhận" button also the acknowledgements: totals, the provinces and communes with
most groups still waiting (a Telegram message holds 4,096 characters), every group in a CSV.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from answering.formatting import MESSAGE_LIMIT
from broadcasts.acknowledgements import AcknowledgementRepository, Place, Places, Reminder, ReminderState, Row, Totals
from broadcasts.models import Announcement, AnnouncementStatus, Delivery, Group
from broadcasts.outbox import CANCELLED, FAILED, PENDING, SENDING, SENT
from broadcasts.tags import PROVINCES
from broadcasts.when import format_moment
from markup.telegram_html import visible_length
from storage.base import as_utc
from texts import acknowledgements as say

CSV_HEADER = ("nhóm", "chat_id", "lý do")
TOP_PLACES = 10  # provinces and communes shown in the message; all of them are in the CSV


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


@dataclass(frozen=True)
class AckReport:
    """The acknowledgements of an announcement with the button (of its original, for a reminder)."""

    announcement_id: int
    reminder_of: int | None = None  # set for a reminder: its figures are the original's
    totals: Totals = field(default_factory=lambda: Totals(0, 0, 0, 0))
    provinces: Places = field(default_factory=lambda: Places([], 0))
    communes: Places = field(default_factory=lambda: Places([], 0))
    reminder: ReminderState = field(default_factory=lambda: ReminderState(Reminder.NO_BUTTON))


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """CSV in UTF-8 with a BOM so Excel shows Vietnamese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


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
        """The failures as CSV (group title, chat id, reason)."""
        return csv_bytes(CSV_HEADER, [tuple(failure) for failure in await self.failures(announcement_id)])

    async def acknowledgements(
        self, announcement_id: int, now: datetime, reminder_after: timedelta, top: int = TOP_PLACES
    ) -> AckReport | None:
        """Acknowledgement figures (None: the announcement has no button); a reminder names its original."""
        announcement = await self.session.get(Announcement, announcement_id)
        if announcement is None or not announcement.ack_button:
            return None
        if announcement.reminder_of is not None:
            return AckReport(announcement_id, reminder_of=announcement.reminder_of)
        acks = AcknowledgementRepository(self.session)
        # Every province (35 places at most, with "no province"): their sums are the totals.
        provinces = await acks.by_province(announcement_id, len(PROVINCES) + 1)
        return AckReport(
            announcement_id,
            totals=Totals(
                sum(p.groups for p in provinces.top),
                sum(p.sent for p in provinces.top),
                sum(p.acked for p in provinces.top),
                sum(p.waiting for p in provinces.top),
            ),
            provinces=Places(provinces.top[:top], provinces.total),
            communes=await acks.by_commune(announcement_id, top),
            reminder=await acks.reminder_state(announcement_id, now, reminder_after),
        )

    async def acknowledgements_csv(self, announcement_id: int) -> bytes:
        """Every group of the audience: title, chat id, province, commune, delivery status, acknowledged, when.

        The time is Vietnam time; the tapper's id is not exported (the sender needs to know which
        teams received the announcement, not who in them tapped). Written chunk by chunk.
        """
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(say.CSV_HEADER)
        async for rows in AcknowledgementRepository(self.session).rows(announcement_id):
            writer.writerows(csv_row(row) for row in rows)
        return buffer.getvalue().encode("utf-8-sig")


def csv_row(row: Row) -> tuple[object, ...]:
    return (
        row.title,
        row.chat_id,
        PROVINCES.get(row.province, row.province) if row.province else "",
        row.commune or "",
        say.DELIVERY_STATUS.get(row.status, row.status),
        say.CSV_YES if row.acked_at else say.CSV_NO,
        format_moment(row.acked_at, say.CSV_TIME_PATTERN) if row.acked_at else "",
    )


# --- the acknowledgement section of a report (pure) --------------------------------------------


def province_name(key: str | None) -> str:
    return escape(PROVINCES.get(key, key)) if key else say.NO_PROVINCE


def place_line(place: Place, *, commune: bool) -> str:
    """``• Hà Nội: ✅ 3 · ⏳ 5``, or for a commune ``• Phường Ba Đình (Hà Nội): …``."""
    name = province_name(place.province)
    if commune:
        name = say.COMMUNE_NAME.format(
            commune=escape(place.commune) if place.commune else say.NO_COMMUNE, province=name
        )
    return say.LINE.format(name=name, acked=place.acked, waiting=place.waiting)


def _reminder_line(report: AckReport, *, button: bool) -> str:
    state = report.reminder
    if state.status is Reminder.ALLOWED:
        if button:
            return say.REMINDER_READY.format(count=state.waiting)
        return say.REMINDER_AVAILABLE.format(count=state.waiting, id=report.announcement_id)
    if state.status is Reminder.TOO_EARLY:
        return say.REMINDER_DUE.format(when=format_moment(state.due_at), id=report.announcement_id)
    if state.status is Reminder.ALREADY and state.reminder_id is not None:
        return say.REMINDER_SENT.format(id=state.reminder_id)
    return ""


def _section(report: AckReport, provinces: int, communes: int, *, button: bool) -> str:
    parts = [say.SECTION.format(acked=report.totals.acked, waiting=report.totals.waiting, sent=report.totals.sent)]
    for places, shown, block, more in (
        (report.provinces, provinces, say.BY_PROVINCE, say.MORE_PROVINCES),
        (report.communes, communes, say.BY_COMMUNE, say.MORE_COMMUNES),
    ):
        lines = [place_line(place, commune=places is report.communes) for place in places.top[:shown]]
        if places.total > shown:
            lines.append(more.format(count=places.total - shown))
        if shown:
            parts.append(block.format(lines="\n".join(lines)))
    parts.append(_reminder_line(report, button=button))
    return "".join(parts)


def acknowledgement_text(report: AckReport, *, room: int = MESSAGE_LIMIT, button: bool = False) -> str:
    """The report's acknowledgement section within ``room`` visible characters (places dropped to fit).

    ``button``: the report carries the reminder button (otherwise the text points to /baocao).
    """
    if report.reminder_of is not None:
        return say.OF_REMINDER.format(original=report.reminder_of)
    provinces, communes = len(report.provinces.top), len(report.communes.top)
    while True:
        text = _section(report, provinces, communes, button=button)
        if visible_length(text) <= room or provinces + communes == 0:
            return text
        if communes:
            communes -= 1
        else:
            provinces -= 1
