"""The answer pipeline: normalise → classify (long messages also sentence by sentence) → decide → format.

Plain code with no Telegram types, so the console, the Telegram handlers, the
benchmarks and the tests all run exactly the same path.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import texts
from answering.formatting import render_clarify, render_topic
from knowledge.repository import KnowledgeSnapshot
from nlu.decision import OUT_OF_SCOPE, Calibration, Decision, decide
from nlu.normalize import normalize
from nlu.reading import combine, parts
from nlu.resilient import Classification, ResilientClassifier, Source

# Questions longer than this are cut before classification (and the user is told).
MAX_QUESTION_CHARS = 500


@dataclass(frozen=True)
class Reply:
    text: str
    normalized: str
    decision: Decision
    topic: str | None
    candidates: list[str]
    confidence: float
    answer: str
    source: Source
    truncated: bool = False
    latency_ms: float = 0.0
    related: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The ``ask --jsonl`` contract."""
        return {
            "text": self.text,
            "decision": self.decision.value,
            "topic": self.topic,
            "candidates": self.candidates,
            "confidence": round(self.confidence, 4),
            "answer": self.answer,
        }


class AnswerPipeline:
    def __init__(
        self,
        classifier: ResilientClassifier,
        knowledge: KnowledgeSnapshot,
        calibration: Calibration,
        *,
        read_long_messages: bool = True,
    ) -> None:
        self.classifier = classifier
        self.knowledge = knowledge
        self.calibration = calibration
        self.read_long_messages = read_long_messages  # off only to measure what reading them costs

    async def _classify(self, kept: str, normalized: str) -> Classification:
        """The whole message's ranking; for a long story, combined with its question sentences'
        (``nlu.reading``), ranked concurrently."""
        pieces = parts(kept) if self.read_long_messages else []
        if not pieces:
            return await self.classifier.classify(normalized)
        whole, *readings = await asyncio.gather(
            self.classifier.classify(normalized), *(self.classifier.classify(normalize(piece)) for piece in pieces)
        )
        if any(reading.source is not Source.RASA for reading in (whole, *readings)):
            return whole  # the fallback's thresholds were calibrated on whole messages
        return Classification(combine(whole.ranking, [reading.ranking for reading in readings]), Source.RASA)

    async def answer(self, text: str) -> Reply:
        started = time.perf_counter()
        truncated = len(text) > MAX_QUESTION_CHARS
        kept = text[:MAX_QUESTION_CHARS]
        if truncated and " " in kept:
            kept = kept.rsplit(" ", 1)[0]  # never cut a word in half
        normalized = normalize(kept)
        if not normalized:
            return Reply(
                text,
                "",
                Decision.UNKNOWN,
                None,
                [],
                0.0,
                texts.EMPTY_QUESTION,
                Source.LEXICAL,
                truncated,
                (time.perf_counter() - started) * 1000,
            )
        classification = await self._classify(kept, normalized)
        # Rasa may know a topic that was retired from the knowledge base since training.
        ranking = [
            (label, score)
            for label, score in classification.ranking
            if label == OUT_OF_SCOPE or label in self.knowledge.topics
        ]
        thresholds = self.calibration.rasa if classification.source is Source.RASA else self.calibration.lexical
        verdict = decide(ranking, thresholds)
        related: list[str] = []
        if verdict.decision is Decision.ANSWER and verdict.topic:
            topic = self.knowledge.topics[verdict.topic]
            answer = render_topic(topic)
            related = [r for r in topic.related if r in self.knowledge.topics][:3]
        elif verdict.decision is Decision.CLARIFY:
            answer = render_clarify(verdict.candidates, self.knowledge)
        else:
            answer = texts.UNKNOWN
        return Reply(
            text=text,
            normalized=normalized,
            decision=verdict.decision,
            topic=verdict.topic,
            candidates=verdict.candidates,
            confidence=verdict.confidence,
            answer=answer,
            source=classification.source,
            truncated=truncated,
            latency_ms=(time.perf_counter() - started) * 1000,
            related=related,
        )
