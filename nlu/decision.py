"""Turn a classifier ranking into answer / clarify / unknown.

Kept apart from the classifier so thresholds can be calibrated on
cross-validated rankings (``nlu.calibration``) and applied unchanged at run
time, whichever classifier (Rasa or the lexical fallback) produced the ranking.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum

OUT_OF_SCOPE = "out_of_scope"
MAX_CANDIDATES = 3


class Decision(StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Thresholds:
    """Confidence cut-offs; see ``nlu.calibration`` for how they are chosen."""

    answer: float = 0.5
    margin: float = 0.0
    clarify: float = 0.15
    candidate: float = 0.08

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> Thresholds:
        return cls(**{k: float(v) for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Calibration:
    """Thresholds per classifier, chosen by ``nlu.calibration`` at training time."""

    rasa: Thresholds = field(default_factory=Thresholds)
    lexical: Thresholds = field(default_factory=lambda: Thresholds(0.5, 0.0, 0.3, 0.25))

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {"rasa": self.rasa.to_dict(), "lexical": self.lexical.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, dict[str, float]]) -> Calibration:
        return cls(rasa=Thresholds.from_dict(data["rasa"]), lexical=Thresholds.from_dict(data["lexical"]))


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    topic: str | None
    candidates: list[str]
    confidence: float


def decide(ranking: list[tuple[str, float]], thresholds: Thresholds) -> Verdict:
    """Answer only when the top topic is clearly ahead; otherwise ask or admit ignorance.

    ``ranking`` is sorted by confidence, best first, and may contain
    ``out_of_scope``. A wrong answer costs a villager more than a question back,
    so anything uncertain becomes a clarification, and anything unlikely becomes
    "I don't know".
    """
    if not ranking:
        return Verdict(Decision.UNKNOWN, None, [], 0.0)
    top_label, top_score = ranking[0]
    topics = [(label, score) for label, score in ranking if label != OUT_OF_SCOPE]
    if top_label == OUT_OF_SCOPE or not topics:
        return Verdict(Decision.UNKNOWN, None, [], top_score)
    best, best_score = topics[0]
    second_score = topics[1][1] if len(topics) > 1 else 0.0
    if best_score >= thresholds.answer and best_score - second_score >= thresholds.margin:
        return Verdict(Decision.ANSWER, best, [best], best_score)
    if best_score >= thresholds.clarify:
        candidates = [best] + [label for label, score in topics[1:MAX_CANDIDATES] if score >= thresholds.candidate]
        if len(candidates) == 1 and len(topics) > 1:
            candidates.append(topics[1][0])
        return Verdict(Decision.CLARIFY, None, candidates, best_score)
    return Verdict(Decision.UNKNOWN, None, [], best_score)
