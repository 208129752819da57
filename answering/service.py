"""Asking on behalf of a chat: the pipeline plus the question record, inline matches, top topics.

No Telegram types: the Telegram features and any other front end call these.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

from answering.pipeline import AnswerPipeline, Reply
from answering.runtime import Runtime
from knowledge.repository import KnowledgeSnapshot, TopicView
from nlu.decision import OUT_OF_SCOPE
from nlu.normalize import normalize
from records.repository import NewRecord, RecordIds, RecordRepository
from records.writer import RecordWriter
from storage.base import utc_now

INLINE_RESULTS = 5
INLINE_MIN_SCORE = 0.03
TOP_TOPICS_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class Asked:
    reply: Reply
    record_id: int


class AnsweredMessages:
    """Normalised text of recently answered messages, to tell whether an edit changed the question."""

    def __init__(self, capacity: int = 20_000) -> None:
        self._items: OrderedDict[tuple[int, int], str] = OrderedDict()
        self._capacity = capacity

    def remember(self, chat_id: int, message_id: int, normalized: str) -> None:
        self._items[(chat_id, message_id)] = normalized
        self._items.move_to_end((chat_id, message_id))
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def get(self, chat_id: int, message_id: int) -> str | None:
        return self._items.get((chat_id, message_id))


@dataclass
class AnswerService:
    runtime: Runtime
    records: RecordWriter
    record_ids: RecordIds = field(default_factory=RecordIds)
    answered: AnsweredMessages = field(default_factory=AnsweredMessages)
    _top_topics: tuple[float, list[str]] = (0.0, [])

    @property
    def pipeline(self) -> AnswerPipeline:
        return self.runtime.pipeline

    @property
    def knowledge(self) -> KnowledgeSnapshot:
        return self.runtime.knowledge

    async def ask(self, text: str, *, user_id: int, chat_id: int, chat_type: str) -> Asked:
        """Answer and queue the record; the database write happens after the reply."""
        reply = await self.pipeline.answer(text)
        record_id = self.record_ids.next()
        self.records.add(
            NewRecord(
                id=record_id,
                created_at=utc_now(),
                chat_type=chat_type,
                user_id=user_id,
                chat_id=chat_id,
                normalized_text=reply.normalized,
                decision=reply.decision.value,
                topic_id=reply.topic,
                candidates=list(reply.candidates),
                confidence=reply.confidence,
                latency_ms=reply.latency_ms,
                nlu_source=reply.source.value,
            )
        )
        return Asked(reply, record_id)

    async def matching_topics(self, text: str) -> list[TopicView]:
        """Topics for an inline query: best matches, or the most asked when the query is empty."""
        if not text.strip():
            return [self.knowledge.topics[t] for t in await self.most_asked_topics()]
        normalized = normalize(text)
        if not normalized:
            return []
        classification = await self.pipeline.classifier.classify(normalized)
        topics = [
            self.knowledge.topics[label]
            for label, score in classification.ranking
            if label != OUT_OF_SCOPE and label in self.knowledge.topics and score >= INLINE_MIN_SCORE
        ]
        return topics[:INLINE_RESULTS]

    async def most_asked_topics(self) -> list[str]:
        cached_at, topics = self._top_topics
        if time.monotonic() - cached_at < TOP_TOPICS_TTL_SECONDS and topics:
            return topics
        async with self.runtime.sessions() as session:
            asked = await RecordRepository(session).top_topics(INLINE_RESULTS)
        asked = [t for t in asked if t in self.knowledge.topics]
        # Too few records yet: fill up with the first topics of the menu.
        for topic_id in self.knowledge.topics:
            if len(asked) >= INLINE_RESULTS:
                break
            if topic_id not in asked and not topic_id.startswith("tro_ly_"):
                asked.append(topic_id)
        self._top_topics = (time.monotonic(), asked)
        return asked
