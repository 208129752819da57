"""The curation inbox: what the assistant did not know or got wrong, grouped by meaning.

What goes in (``ingest``): every "I don't know" record, a clarification whose member then
picked a topic (the pick is an implicit label), a 👎, and a support ticket a supporter answered
with a topic (that topic is an implicit label; a ticket opened from a record joins the record's
item). Items with the same grouping key, or a near-duplicate one, share an open group
(``curation.grouping``).

Reading records stays index-backed on a large table: only records asked since the newest
ingested record minus ``LOOKBACK`` are read (the ``created_at`` index), and ``NOT EXISTS`` on the
unique ``inbox_items.record_id`` skips those already in. A 👎 or a pick more than ``LOOKBACK``
after its question is therefore not collected. Tickets are read through the ``kind`` index of
``ticket_events`` (only ``topic_answer`` events: few). Unique ``record_id`` / ``ticket_id`` and
one open group per key (a partial unique index) make ingesting twice, or from two processes at
once, add nothing twice.

Decisions: ``resolve`` turns a group into curated examples of one label (one per distinct key,
with who, when and which records and tickets; the same key under any other curated label is
removed). ``skip`` keeps the group open but puts it behind every unskipped one (oldest skip
first). ``delete`` dismisses it for good: its items stay (so they are not read again), and a
later question with the same key opens a new group, as it does after a resolution.

Repositories never commit; callers do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from curation.grouping import CANDIDATES, closest, grouping_key, head_word, tail_word
from curation.models import GroupStatus, InboxGroup, InboxItem, ItemReason, ItemSource
from knowledge.models import CuratedExample, Topic
from knowledge.repository import KnowledgeRepository
from nlu.decision import OUT_OF_SCOPE, Decision
from records.models import QuestionRecord
from storage.base import as_utc
from support.models import EventKind, Ticket, TicketEvent

LOOKBACK = timedelta(days=7)  # how late a 👎 or a pick may come and still be collected
BATCH = 2_000  # records read per query while ingesting
SAMPLES = 3  # different texts a group view shows
VIEW_IDS = 50  # record and ticket ids a group view carries, newest first
MAX_SOURCE_IDS = 500  # ids kept in one curated example's provenance, newest first


@dataclass(frozen=True)
class GroupView:
    """A group as the curator sees it; plain values, safe to keep after the session closes."""

    id: int
    key: str
    status: GroupStatus
    texts: tuple[str, ...]  # up to SAMPLES different texts, newest first
    count: int  # questions in the group
    newest_at: datetime
    labels: dict[str, int]  # implicit labels seen (picked topics, ticket topics) → times, most first
    record_ids: tuple[int, ...]  # newest first, at most VIEW_IDS
    ticket_ids: tuple[int, ...]
    skipped_at: datetime | None = None
    label: str | None = None  # the resolution's label

    @property
    def is_open(self) -> bool:
        return self.status == GroupStatus.OPEN


@dataclass
class _Provenance:
    text: str
    records: list[int] = field(default_factory=list)
    tickets: list[int] = field(default_factory=list)


def _merge_ids(new: Iterable[int], old: Iterable[int]) -> list[int]:
    merged = list(dict.fromkeys([*new, *old]))
    return merged[:MAX_SOURCE_IDS]


class _Grouper:
    """Finds or opens the group of a key during one ``ingest``, caching what it has read."""

    def __init__(self, session: AsyncSession, insert: Any) -> None:
        self.session = session
        self.insert = insert
        self.exact: dict[str, int] = {}
        self.near: dict[tuple[str, str], list[tuple[str, int]]] = {}  # ("head"|"tail", word) → (key, id)

    async def _candidates(self, side: str, word: str) -> list[tuple[str, int]]:
        if (side, word) not in self.near:
            column = InboxGroup.head if side == "head" else InboxGroup.tail
            rows = await self.session.execute(
                select(InboxGroup.key, InboxGroup.id)
                .where(InboxGroup.status == GroupStatus.OPEN, column == word)
                .order_by(InboxGroup.newest_at.desc(), InboxGroup.id.desc())
                .limit(CANDIDATES)
            )
            self.near[(side, word)] = [(key, group_id) for key, group_id in rows]
        return self.near[(side, word)]

    async def _open_with_key(self, key: str) -> int | None:
        found: int | None = await self.session.scalar(
            select(InboxGroup.id).where(InboxGroup.status == GroupStatus.OPEN, InboxGroup.key == key)
        )
        return found

    async def group_for(self, key: str, asked_at: datetime, now: datetime) -> tuple[int, bool]:
        """(group id, whether it was opened now) for a non-empty key."""
        if key in self.exact:
            return self.exact[key], False
        head, tail = head_word(key), tail_word(key)
        found = await self._open_with_key(key)
        if found is None:
            found = closest(key, [*await self._candidates("head", head), *await self._candidates("tail", tail)])
        if found is not None:
            self.exact[key] = found
            return found, False
        values = {"key": key, "head": head, "tail": tail, "status": GroupStatus.OPEN}
        statement = self.insert(InboxGroup).values(**values, created_at=now, newest_at=asked_at)
        opened = await self.session.scalar(statement.on_conflict_do_nothing().returning(InboxGroup.id))
        if opened is None:  # another process opened it meanwhile
            found = await self._open_with_key(key)
            assert found is not None
            self.exact[key] = found
            return found, False
        self.exact[key] = opened
        for side, word in (("head", head), ("tail", tail)):
            if (side, word) in self.near:
                self.near[(side, word)].insert(0, (key, opened))
        return opened, True

    def forget(self, key: str) -> None:
        group_id = self.exact.pop(key, None)
        for candidates in self.near.values():
            candidates[:] = [c for c in candidates if c[1] != group_id]


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self) -> Any:
        postgres = self.session.get_bind().dialect.name == "postgresql"
        return pg_insert if postgres else sqlite_insert

    # --- what goes in ----------------------------------------------------------------------

    async def ingest(self, now: datetime) -> int:
        """Pull new items from question records and ticket events; the number of items added."""
        grouper = _Grouper(self.session, self._insert())
        return await self._ingest_records(grouper, now) + await self._ingest_tickets(grouper, now)

    async def _add(self, grouper: _Grouper, now: datetime, **values: Any) -> bool:
        """Insert one item into its group; False when it is in already (another process)."""
        key, asked_at = values["key"], values["asked_at"]
        group_id, opened = await grouper.group_for(key, asked_at, now) if key else (None, False)
        statement = grouper.insert(InboxItem).values(**values, group_id=group_id, added_at=now)
        added = await self.session.scalar(statement.on_conflict_do_nothing().returning(InboxItem.id))
        if added is None:
            if opened:  # the group was opened for this item only
                await self.session.execute(delete(InboxGroup).where(InboxGroup.id == group_id))
                grouper.forget(key)
            return False
        if group_id is not None:
            await self.session.execute(
                update(InboxGroup)
                .where(InboxGroup.id == group_id, InboxGroup.newest_at < asked_at)
                .values(newest_at=asked_at)
            )
        return True

    async def _ingest_records(self, grouper: _Grouper, now: datetime) -> int:
        record = QuestionRecord
        newest = await self.session.scalar(
            select(func.max(InboxItem.asked_at)).where(InboxItem.source == ItemSource.RECORD)
        )
        query = select(
            record.id, record.created_at, record.normalized_text, record.decision, record.chosen_topic_id
        ).where(
            or_(
                record.decision == Decision.UNKNOWN,
                and_(record.decision == Decision.CLARIFY, record.chosen_topic_id.is_not(None)),
                record.feedback == -1,
            ),
            ~exists().where(InboxItem.record_id == record.id),
        )
        if newest is not None:
            query = query.where(record.created_at >= as_utc(newest) - LOOKBACK)
        query = query.order_by(record.created_at, record.id).limit(BATCH)
        added = 0
        while True:  # each round's items are excluded from the next by NOT EXISTS
            rows = (await self.session.execute(query)).all()
            for record_id, asked_at, text, decision, chosen in rows:
                if decision == Decision.UNKNOWN:
                    reason = ItemReason.UNKNOWN
                elif decision == Decision.CLARIFY and chosen is not None:
                    reason = ItemReason.CLARIFIED
                else:
                    reason = ItemReason.DISLIKED
                added += await self._add(
                    grouper,
                    now,
                    source=ItemSource.RECORD,
                    reason=reason,
                    record_id=record_id,
                    text=text,
                    key=grouping_key(text),
                    label_hint=chosen,
                    asked_at=asked_at,
                )
            if len(rows) < BATCH:
                return added

    async def _ingest_tickets(self, grouper: _Grouper, now: datetime) -> int:
        event, ticket = TicketEvent, Ticket
        rows = await self.session.execute(
            select(event.ticket_id, event.detail, ticket.question, ticket.record_id, ticket.created_at)
            .join(ticket, ticket.id == event.ticket_id)
            .where(event.kind == EventKind.TOPIC_ANSWER, ~exists().where(InboxItem.ticket_id == event.ticket_id))
            .order_by(event.at, event.id)
        )
        latest = {row.ticket_id: row for row in rows}  # answered twice: the last topic counts
        added = 0
        for ticket_id, topic, question, record_id, asked_at in latest.values():
            if record_id is not None:
                joined = await self.session.execute(
                    update(InboxItem)
                    .where(InboxItem.record_id == record_id, InboxItem.ticket_id.is_(None))
                    .values(ticket_id=ticket_id, label_hint=topic)
                )
                if getattr(joined, "rowcount", 0):
                    continue
            added += await self._add(
                grouper,
                now,
                source=ItemSource.TICKET,
                reason=ItemReason.TICKET_ANSWER,
                record_id=record_id,
                ticket_id=ticket_id,
                text=question,
                key=grouping_key(question),
                label_hint=topic,
                asked_at=asked_at,
            )
        return added

    # --- what the curator sees -------------------------------------------------------------

    async def _view(self, group: InboxGroup) -> GroupView:
        item = InboxItem
        mine = item.group_id == group.id
        count = await self.session.scalar(select(func.count()).select_from(item).where(mine))
        newest_text = func.max(item.asked_at)
        texts = await self.session.scalars(
            select(item.text).where(mine).group_by(item.text).order_by(newest_text.desc(), item.text).limit(SAMPLES)
        )
        hints = await self.session.execute(
            select(item.label_hint, func.count())
            .where(mine, item.label_hint.is_not(None))
            .group_by(item.label_hint)
            .order_by(func.count().desc(), item.label_hint)
        )
        newest_first = (item.asked_at.desc(), item.id.desc())
        records = await self.session.scalars(
            select(item.record_id).where(mine, item.record_id.is_not(None)).order_by(*newest_first).limit(VIEW_IDS)
        )
        tickets = await self.session.scalars(
            select(item.ticket_id).where(mine, item.ticket_id.is_not(None)).order_by(*newest_first).limit(VIEW_IDS)
        )
        return GroupView(
            id=group.id,
            key=group.key,
            status=GroupStatus(group.status),
            texts=tuple(texts.all()),
            count=int(count or 0),
            newest_at=as_utc(group.newest_at),
            labels={str(label): int(n) for label, n in hints},
            record_ids=tuple(int(r) for r in records.all() if r is not None),
            ticket_ids=tuple(int(t) for t in tickets.all() if t is not None),
            skipped_at=as_utc(group.skipped_at) if group.skipped_at else None,
            label=group.label,
        )

    async def get(self, group_id: int) -> GroupView | None:
        group = await self.session.get(InboxGroup, group_id)
        return None if group is None else await self._view(group)

    async def next_group(self, exclude_ids: Sequence[int] = ()) -> GroupView | None:
        """The open group with the newest question; skipped groups after all others, oldest skip first."""
        query = select(InboxGroup).where(InboxGroup.status == GroupStatus.OPEN)
        if exclude_ids:
            query = query.where(InboxGroup.id.not_in(list(exclude_ids)))
        group = await self.session.scalar(
            query.order_by(
                InboxGroup.skipped_at.is_not(None),
                InboxGroup.skipped_at,
                InboxGroup.newest_at.desc(),
                InboxGroup.id.desc(),
            ).limit(1)
        )
        return None if group is None else await self._view(group)

    async def open_count(self) -> int:
        count = await self.session.scalar(
            select(func.count()).select_from(InboxGroup).where(InboxGroup.status == GroupStatus.OPEN)
        )
        return int(count or 0)

    # --- decisions -------------------------------------------------------------------------

    async def resolve(self, group_id: int, label: str, curator_id: int, now: datetime) -> int:
        """Make the group's questions curated examples of ``label``; the number of examples created.

        One example per distinct key (the newest text of it), with its records and tickets. A
        group that is no longer open gives 0 (a second tap); an unknown label raises ValueError.
        """
        group = await self.session.scalar(select(InboxGroup).where(InboxGroup.id == group_id).with_for_update())
        if group is None or group.status != GroupStatus.OPEN:
            return 0
        if label != OUT_OF_SCOPE and not await self.session.scalar(
            select(Topic.id).where(Topic.id == label, Topic.active)
        ):
            raise ValueError(f"unknown label {label!r}: neither an active topic nor {OUT_OF_SCOPE}")
        rows = await self.session.execute(
            select(InboxItem.key, InboxItem.text, InboxItem.record_id, InboxItem.ticket_id)
            .where(InboxItem.group_id == group_id)
            .order_by(InboxItem.asked_at.desc(), InboxItem.id.desc())
        )
        parts: dict[str, _Provenance] = {}
        for key, text, record_id, ticket_id in rows:
            part = parts.setdefault(key, _Provenance(text))
            if record_id is not None:
                part.records.append(int(record_id))
            if ticket_id is not None:
                part.tickets.append(int(ticket_id))
        created = 0
        for key, part in parts.items():
            if key:
                created += await self._curate(label, key, part, group_id, curator_id, now)
        group.status, group.label, group.closed_by, group.closed_at = GroupStatus.RESOLVED, label, curator_id, now
        await self.session.flush()
        return created

    async def _curate(
        self, label: str, key: str, part: _Provenance, group_id: int, curator_id: int, now: datetime
    ) -> int:
        """Upsert one curated example (1 when created); the key leaves every other curated label."""
        await self.session.execute(
            delete(CuratedExample).where(CuratedExample.key == key, CuratedExample.label != label)
        )
        sources = {
            "records": part.records[:MAX_SOURCE_IDS],
            "tickets": part.tickets[:MAX_SOURCE_IDS],
            "group": group_id,
        }
        values = {"label": label, "key": key, "text": part.text, "curator_id": curator_id, "created_at": now}
        statement = self._insert()(CuratedExample).values(**values, sources=sources)
        if await self.session.scalar(statement.on_conflict_do_nothing().returning(CuratedExample.id)) is not None:
            return 1
        row = await self.session.scalar(
            select(CuratedExample).where(CuratedExample.label == label, CuratedExample.key == key)
        )
        assert row is not None
        old = row.sources or {}
        row.sources = {
            "records": _merge_ids(part.records, old.get("records", [])),
            "tickets": _merge_ids(part.tickets, old.get("tickets", [])),
            "group": group_id,
        }
        return 0

    async def skip(self, group_id: int, now: datetime) -> bool:
        """Show the group later; False when it is not open."""
        result = await self.session.execute(
            update(InboxGroup)
            .where(InboxGroup.id == group_id, InboxGroup.status == GroupStatus.OPEN)
            .values(skipped_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def delete(self, group_id: int, now: datetime) -> bool:
        """Dismiss the group for good; False when it is not open."""
        result = await self.session.execute(
            update(InboxGroup)
            .where(InboxGroup.id == group_id, InboxGroup.status == GroupStatus.OPEN)
            .values(status=GroupStatus.DELETED, closed_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def curated_since(self, moment: datetime) -> int:
        """Curated examples made after ``moment`` (the "retrain after N new examples" trigger)."""
        return await KnowledgeRepository(self.session).curated_since(moment)
