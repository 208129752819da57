"""Question records: the data the statistics and curation features read.

Privacy: records keep Telegram ids, never names; anything that looks like a phone
number is masked before it is stored.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from records.models import QuestionRecord

_PHONE_RE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
PHONE_MASK = "[số điện thoại]"


def mask_phone_numbers(text: str) -> str:
    """Vietnamese phone numbers (0xx…, +84…, spaced or dotted) become a placeholder."""
    return _PHONE_RE.sub(PHONE_MASK, text)


class RecordIds:
    """Unique positive 63-bit ids made without a database round trip, in time order.

    Snowflake layout: milliseconds since 2024 (41 bits, until 2093) | node (10 bits) | sequence
    (12 bits). Each bot process holds a different node number as a database lease
    (``coordination.leases.LeaseKeeper.acquire_node``, set by ``bot.app``), so processes never
    collide; within a process the sequence counts up in one millisecond, and when it overflows
    (4096 ids in one millisecond) the next id waits for the next millisecond (under 1 ms). After a
    clock step back the ids go on from the last millisecond used, so they keep growing. The old
    layout (milliseconds<<20) gave smaller numbers for the same moment, so new ids never meet old
    ones.
    """

    _EPOCH_MS = 1_704_067_200_000
    NODE_BITS = 10
    SEQUENCE_BITS = 12
    NODES = 1 << NODE_BITS

    def __init__(self, node: int = 0, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._last_ms = -1
        self._sequence = 0
        self.node = node

    @property
    def node(self) -> int:
        return self._node

    @node.setter
    def node(self, value: int) -> None:
        if not 0 <= value < self.NODES:
            raise ValueError(f"node {value} is outside 0..{self.NODES - 1}")
        self._node = value

    def _millis(self) -> int:
        return int(self._clock() * 1000) - self._EPOCH_MS

    def next(self) -> int:
        with self._lock:
            millis = self._millis()
            if millis <= self._last_ms:
                if self._sequence + 1 < 1 << self.SEQUENCE_BITS:
                    self._sequence += 1
                    millis = self._last_ms
                elif millis == self._last_ms:  # this millisecond is used up: wait (< 1 ms) for the next
                    while (millis := self._millis()) <= self._last_ms:
                        time.sleep(0.0001)
                    self._sequence = 0
                else:  # the clock stepped back and the sequence is used up: borrow the next millisecond
                    millis, self._sequence = self._last_ms + 1, 0
            else:
                self._sequence = 0
            self._last_ms = millis
            return (
                (millis << (self.NODE_BITS + self.SEQUENCE_BITS)) | (self._node << self.SEQUENCE_BITS) | self._sequence
            )


@dataclass(frozen=True)
class NewRecord:
    id: int
    created_at: datetime
    chat_type: str
    user_id: int
    chat_id: int
    normalized_text: str
    decision: str
    topic_id: str | None
    candidates: list[str]
    confidence: float
    latency_ms: float
    nlu_source: str

    def row(self) -> dict[str, object]:
        values = dict(self.__dict__)
        values["normalized_text"] = mask_phone_numbers(self.normalized_text)
        return values


class RecordRepository:
    """Takes a session; never commits (the caller's unit of work does)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_many(self, records: Sequence[NewRecord]) -> None:
        """Insert in one statement; a record already stored is left as it is."""
        if not records:
            return
        rows = [record.row() for record in records]
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(
                pg_insert(QuestionRecord).values(rows).on_conflict_do_nothing(index_elements=["id"])
            )
        else:
            await self.session.execute(
                sqlite_insert(QuestionRecord).values(rows).on_conflict_do_nothing(index_elements=["id"])
            )

    async def get(self, record_id: int) -> QuestionRecord | None:
        return await self.session.get(QuestionRecord, record_id)

    async def set_feedback(self, record_id: int, value: int) -> None:
        await self.session.execute(update(QuestionRecord).where(QuestionRecord.id == record_id).values(feedback=value))

    async def set_chosen_topic(self, record_id: int, topic_id: str) -> None:
        await self.session.execute(
            update(QuestionRecord).where(QuestionRecord.id == record_id).values(chosen_topic_id=topic_id)
        )

    async def top_topics(self, limit: int, exclude: Iterable[str] = ()) -> list[str]:
        """Most asked topics, counting both direct answers and clarification choices."""
        topic = func.coalesce(QuestionRecord.chosen_topic_id, QuestionRecord.topic_id)
        query = (
            select(topic, func.count())
            .where(topic.is_not(None))
            .group_by(topic)
            .order_by(func.count().desc(), topic)
            .limit(limit + len(list(exclude)))
        )
        excluded = set(exclude)
        return [str(t) for t, _ in (await self.session.execute(query)).all() if t not in excluded][:limit]
