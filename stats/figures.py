"""The figures of a period, from SQL into plain dataclasses (no Telegram, no drawing).

Days are Vietnam days (UTC+7). Counting happens in the database where it can be said portably:
each row's day is a ``CASE`` over the period's day boundaries (computed here, in UTC), so
SQLite and PostgreSQL group the same way without date functions of their own, and only a few
hundred aggregate rows come back even for a million questions. Tickets are few (people answer
them), so their times come back as rows and the medians are taken in Python.

The province of a question is its group's ``tinh`` tag, else the member's chosen province
(``member_provinces``); of a ticket, its ``province`` column, else its origin group's tag.
Questions and tickets of no known province form their own bucket (``province=None``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, distinct, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from broadcasts.models import Group, GroupTag, TagKind
from broadcasts.scope import Scope, ScopeKind
from nlu.decision import Decision
from records.models import QuestionRecord
from storage.base import as_utc
from support.models import MemberProvince, Ticket

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
PRIVATE_CHAT = "private"
UNANSWERED_SHOWN = 5


def vietnam_midnight(day: date) -> datetime:
    """The start of a Vietnam day, as an aware UTC datetime (stored times are UTC)."""
    return as_utc(datetime.combine(day, time(), tzinfo=VIETNAM))


def vietnam_day(moment: datetime) -> date:
    return as_utc(moment).astimezone(VIETNAM).date()


@dataclass(frozen=True)
class Period:
    """``day_count`` Vietnam days from ``first_day``; rows count when ``start <= time < end``."""

    first_day: date
    day_count: int
    end: datetime

    @classmethod
    def last_days(cls, now: datetime, day_count: int) -> Period:
        """The last ``day_count`` Vietnam days, today included (up to ``now``)."""
        today = vietnam_day(now)
        return cls(today - timedelta(days=day_count - 1), day_count, as_utc(now))

    @classmethod
    def whole_day(cls, day: date) -> Period:
        return cls(day, 1, vietnam_midnight(day + timedelta(days=1)))

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(self.day_count)]

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.day_count - 1)

    @property
    def start(self) -> datetime:
        return vietnam_midnight(self.first_day)

    def day_index(self, column: Any) -> ColumnElement[int]:
        """SQL: the 0-based day of ``column`` within the period (rows must already be inside it).

        Nested ``CASE``s halve the days at each level, so a row costs about log2(days) comparisons
        (7 for 90 days) rather than up to one per day: a third of the time on a million rows.
        """
        starts = [vietnam_midnight(day) for day in self.days]

        def between(first: int, last: int) -> ColumnElement[int]:  # the day among first..last
            if first == last:
                return literal(first)
            middle = (first + last + 1) // 2
            return case((column < starts[middle], between(first, middle - 1)), else_=between(middle, last))

        return between(0, len(starts) - 1)

    def contains(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.end)


@dataclass
class DayFigures:
    day: date
    questions: int = 0
    askers: int = 0
    answered: int = 0
    clarified: int = 0
    unknown: int = 0
    helpful: int = 0
    not_helpful: int = 0
    tickets_opened: int = 0
    tickets_closed: int = 0
    # Minutes from opening to the first answer, over that day's tickets answered before the period ended.
    median_first_response: float | None = None


@dataclass
class TopicFigures:
    topic_id: str
    questions: int = 0
    helpful: int = 0
    not_helpful: int = 0


@dataclass
class ProvinceFigures:
    province: str | None  # a PROVINCES key; None = not known
    questions: int = 0
    answered: int = 0
    clarified: int = 0
    unknown: int = 0
    tickets_opened: int = 0


@dataclass
class PeriodFigures:
    period: Period
    days: list[DayFigures]
    topics: list[TopicFigures] = field(default_factory=list)  # most asked first
    provinces: list[ProvinceFigures] = field(default_factory=list)  # most asked first, unknown last
    askers: int = 0  # distinct over the whole period
    tickets_open_at_end: int = 0
    median_first_response: float | None = None  # minutes, over the period's tickets

    def total(self, name: str) -> int:
        """The sum of one ``DayFigures`` count over the period (``"questions"``, ``"unknown"`` …)."""
        return sum(int(getattr(day, name)) for day in self.days)

    @property
    def questions(self) -> int:
        return self.total("questions")

    @property
    def is_empty(self) -> bool:
        return self.questions == 0 and self.total("tickets_opened") == 0 and self.total("tickets_closed") == 0


@dataclass(frozen=True)
class UnansweredQuestion:
    text: str  # normalised and phone-masked when stored
    count: int


def _tag_pairs(scope: Scope) -> list[tuple[str, str]]:
    return [(kind, key) for kind, _, key in (tag.partition(":") for tag in sorted(scope.tags))]


def _scoped_group_chats(scope: Scope) -> Select[tuple[int]]:
    """Chat ids of the groups carrying any tag of a tagged scope."""
    wanted = [and_(GroupTag.kind == kind, GroupTag.key == key) for kind, key in _tag_pairs(scope)]
    return select(Group.chat_id).join(GroupTag, GroupTag.group_id == Group.id).where(or_(*wanted))


def _scoped_provinces(scope: Scope) -> list[str]:
    return [key for kind, key in _tag_pairs(scope) if kind == TagKind.TINH]


def _province_order(figures: ProvinceFigures) -> tuple[bool, int, str]:
    """Most questions first, then by key; the unknown-province bucket last."""
    return figures.province is None, -figures.questions, figures.province or ""


class StatsRepository:
    """Reads the statistics; takes a session and never writes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _questions(self, period: Period, scope: Scope, *columns: Any, province: bool = False) -> Select[Any]:
        """``columns`` of the questions in the period and scope; ``province`` adds that column (last)."""
        if scope.kind is ScopeKind.NOTHING:
            raise ValueError("a scope of nothing has no statistics")
        record = QuestionRecord
        query = select(*columns).select_from(record).where(period.contains(record.created_at))
        if province or scope.kind is ScopeKind.TAGGED:
            query = query.outerjoin(MemberProvince, MemberProvince.user_id == record.user_id)
        if scope.kind is ScopeKind.TAGGED:
            query = query.where(
                or_(
                    and_(record.chat_type != PRIVATE_CHAT, record.chat_id.in_(_scoped_group_chats(scope))),
                    and_(record.chat_type == PRIVATE_CHAT, MemberProvince.province.in_(_scoped_provinces(scope))),
                )
            )
        if province:
            group_province = aliased(GroupTag)
            query = (
                query.outerjoin(Group, and_(Group.chat_id == record.chat_id, record.chat_type != PRIVATE_CHAT))
                .outerjoin(
                    group_province, and_(group_province.group_id == Group.id, group_province.kind == TagKind.TINH)
                )
                .add_columns(func.coalesce(group_province.key, MemberProvince.province).label("province"))
            )
        return query

    def _tickets(self, scope: Scope, *columns: Any) -> Select[Any]:
        """``columns`` of the tickets in scope, with ``province`` (no period filter: callers add theirs)."""
        if scope.kind is ScopeKind.NOTHING:
            raise ValueError("a scope of nothing has no statistics")
        group_province = aliased(GroupTag)
        query = (
            select(*columns)
            .select_from(Ticket)
            .outerjoin(Group, Group.chat_id == Ticket.origin_chat_id)
            .outerjoin(group_province, and_(group_province.group_id == Group.id, group_province.kind == TagKind.TINH))
        )
        if scope.kind is ScopeKind.TAGGED:
            query = query.where(
                or_(
                    Ticket.province.in_(_scoped_provinces(scope)),
                    Ticket.origin_chat_id.in_(_scoped_group_chats(scope)),
                )
            )
        return query.add_columns(func.coalesce(Ticket.province, group_province.key).label("province"))

    async def figures(self, period: Period, scope: Scope, *, top_topics: int | None = None) -> PeriodFigures:
        days = [DayFigures(day) for day in period.days]
        provinces: dict[str | None, ProvinceFigures] = defaultdict(lambda: ProvinceFigures(None))
        result = PeriodFigures(period, days)
        await self._count_questions(period, scope, days, provinces)
        result.askers = await self._count_askers(period, scope, days)
        result.topics = await self._count_topics(period, scope, top_topics)
        result.median_first_response = await self._count_tickets(period, scope, days, provinces)
        result.tickets_open_at_end = await self.open_tickets(scope, period.end)
        for key, figures in provinces.items():
            figures.province = key
        result.provinces = sorted(provinces.values(), key=_province_order)
        return result

    async def _count_questions(
        self, period: Period, scope: Scope, days: list[DayFigures], provinces: dict[str | None, ProvinceFigures]
    ) -> None:
        record = QuestionRecord
        day = period.day_index(record.created_at).label("day")
        rows = self._questions(period, scope, day, record.decision, record.feedback, province=True).subquery()
        grouped = select(rows.c.day, rows.c.decision, rows.c.feedback, rows.c.province, func.count()).group_by(
            rows.c.day, rows.c.decision, rows.c.feedback, rows.c.province
        )
        decision_field = {Decision.ANSWER: "answered", Decision.CLARIFY: "clarified", Decision.UNKNOWN: "unknown"}
        for index, decision, feedback, province, count in (await self.session.execute(grouped)).all():
            figures, place = days[index], provinces[province]
            figures.questions += count
            place.questions += count
            name = decision_field.get(decision)
            if name is not None:
                setattr(figures, name, getattr(figures, name) + count)
                setattr(place, name, getattr(place, name) + count)
            if feedback == 1:
                figures.helpful += count
            elif feedback == -1:
                figures.not_helpful += count

    async def _count_askers(self, period: Period, scope: Scope, days: list[DayFigures]) -> int:
        record = QuestionRecord
        rows = self._questions(period, scope, period.day_index(record.created_at).label("day"), record.user_id)
        sub = rows.subquery()
        per_day = select(sub.c.day, func.count(distinct(sub.c.user_id))).group_by(sub.c.day)
        for index, count in (await self.session.execute(per_day)).all():
            days[index].askers = count
        return int(await self.session.scalar(select(func.count(distinct(sub.c.user_id)))) or 0)

    async def _count_topics(self, period: Period, scope: Scope, limit: int | None) -> list[TopicFigures]:
        record = QuestionRecord
        topic = func.coalesce(record.chosen_topic_id, record.topic_id).label("topic")
        sub = self._questions(period, scope, topic, record.feedback).subquery()
        grouped = (
            select(sub.c.topic, sub.c.feedback, func.count())
            .where(sub.c.topic.is_not(None))
            .group_by(sub.c.topic, sub.c.feedback)
        )
        topics: dict[str, TopicFigures] = {}
        for topic_id, feedback, count in (await self.session.execute(grouped)).all():
            figures = topics.setdefault(topic_id, TopicFigures(topic_id))
            figures.questions += count
            figures.helpful += count if feedback == 1 else 0
            figures.not_helpful += count if feedback == -1 else 0
        ranked = sorted(topics.values(), key=lambda t: (-t.questions, t.topic_id))
        return ranked if limit is None else ranked[:limit]

    async def _count_tickets(
        self, period: Period, scope: Scope, days: list[DayFigures], provinces: dict[str | None, ProvinceFigures]
    ) -> float | None:
        """Opened and closed per day, opened per province; the period's median first response (minutes)."""
        opened = self._tickets(scope, Ticket.created_at, Ticket.first_response_at).where(
            period.contains(Ticket.created_at)
        )
        per_day: dict[int, list[float]] = defaultdict(list)
        everything: list[float] = []
        for created_at, first_response_at, province in (await self.session.execute(opened)).all():
            index = (vietnam_day(created_at) - period.first_day).days
            days[index].tickets_opened += 1
            provinces[province].tickets_opened += 1
            if first_response_at is not None and as_utc(first_response_at) < period.end:
                minutes = (as_utc(first_response_at) - as_utc(created_at)).total_seconds() / 60
                per_day[index].append(minutes)
                everything.append(minutes)
        for index, values in per_day.items():
            days[index].median_first_response = median(values)
        day = period.day_index(Ticket.closed_at).label("day")
        closed = self._tickets(scope, day).where(period.contains(Ticket.closed_at)).subquery()
        per_day_closed = select(closed.c.day, func.count()).group_by(closed.c.day)
        for index, count in (await self.session.execute(per_day_closed)).all():
            days[index].tickets_closed = count
        return median(everything) if everything else None

    async def open_tickets(self, scope: Scope, at: datetime) -> int:
        """Tickets opened before ``at`` and not closed by then (now, for a period ending now)."""
        at = as_utc(at)  # SQLite compares stored UTC text: a bound time in another zone would be misread
        query = self._tickets(scope, Ticket.id).where(
            Ticket.created_at < at, or_(Ticket.closed_at.is_(None), Ticket.closed_at >= at)
        )
        return int(await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    async def unanswered(self, period: Period, scope: Scope, limit: int = UNANSWERED_SHOWN) -> list[UnansweredQuestion]:
        """The most frequent questions the assistant could not answer, by normalised text."""
        record = QuestionRecord
        sub = self._questions(period, scope, record.normalized_text).where(record.decision == Decision.UNKNOWN)
        rows = sub.subquery()
        count = func.count().label("count")
        grouped = (
            select(rows.c.normalized_text, count)
            .group_by(rows.c.normalized_text)
            .order_by(count.desc(), rows.c.normalized_text)
            .limit(limit)
        )
        return [UnansweredQuestion(text, n) for text, n in (await self.session.execute(grouped)).all()]
