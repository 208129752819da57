"""The quality gate: a candidate model against the current one, on the same regression data.

Regression data, the same for both models:
- the calibration questions (``nlu/calibration_*.yaml``) and the blind evaluation set
  (``nlu/eval/blind_questions.yaml``): questions written apart from training, so a model that
  merely learnt the curated wording cannot look better there than it is;
- held-out folds of the curated examples: the candidate is trained without each fold and asked
  its questions; the current model never saw them. This is where the new lessons must show.

Both models are the project's ``TopicClassifier`` trained in-process on each model's examples
with each model's thresholds; the Rasa component is that same classifier, so the figures are
the served model's. The blind set is only *evaluated* here, never trained or calibrated on.

Rule: the candidate is published unless, on the regression questions, its correct-answer rate
falls more than ``TOLERANCE_POINTS`` below the current model's, or its wrong-answer rate rises
more than ``TOLERANCE_POINTS`` above it. A refusal is not free, but a wrong answer costs more.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from nlu.decision import OUT_OF_SCOPE, Decision, Thresholds, decide
from nlu.reading import rank_messages
from nlu.textclf import TopicClassifier

TOLERANCE_POINTS = 1.0
CURATED_FOLDS = 3


@dataclass(frozen=True)
class Figures:
    """Rates in percent over a set of (gold, question) pairs; gold ``out_of_scope`` must be refused."""

    questions: int
    correct: float  # answered with the right topic, or refused when out of scope
    wrong: float  # answered with another topic (or answered an out-of-scope question)
    refused: float  # in-scope questions refused or sent to clarification

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def score(rankings: Sequence[list[tuple[str, float]]], golds: Sequence[str], thresholds: Thresholds) -> Figures:
    correct = wrong = refused = 0
    for ranking, gold in zip(rankings, golds, strict=True):
        verdict = decide(ranking, thresholds)
        if verdict.decision is Decision.ANSWER:
            if verdict.topic == gold:
                correct += 1
            else:
                wrong += 1
        elif gold == OUT_OF_SCOPE:
            correct += 1  # refused or asked back: nothing wrong was said
        else:
            refused += 1
    total = max(1, len(golds))
    return Figures(len(golds), 100 * correct / total, 100 * wrong / total, 100 * refused / total)


def fit(examples: Mapping[str, Sequence[str]], settings: Mapping[str, object]) -> TopicClassifier:
    texts = [text for texts in examples.values() for text in texts]
    labels = [label for label, texts in examples.items() for _ in texts]
    return TopicClassifier(**settings).fit(texts, labels)  # type: ignore[arg-type]


def evaluate_on(model: TopicClassifier, questions: Sequence[tuple[str, str]], thresholds: Thresholds) -> Figures:
    rankings = rank_messages([text for _, text in questions], model.rank_normalized)
    return score(rankings, [gold for gold, _ in questions], thresholds)


def curated_folds(curated: Sequence[tuple[str, str]], seed: int = 42) -> list[list[tuple[str, str]]]:
    shuffled = list(curated)
    random.Random(seed).shuffle(shuffled)
    count = min(CURATED_FOLDS, len(shuffled))
    return [shuffled[i::count] for i in range(count)] if count else []


def without(examples: Mapping[str, Sequence[str]], held_out: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    removed = {(label, text) for label, text in held_out}
    return {label: [t for t in texts if (label, t) not in removed] for label, texts in examples.items()}


@dataclass(frozen=True)
class GateResult:
    current_regression: Figures
    candidate_regression: Figures
    current_curated: Figures | None
    candidate_curated: Figures | None
    passed: bool
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {
            "current": {
                "regression": self.current_regression.as_dict(),
                "curated": self.current_curated.as_dict() if self.current_curated else None,
            },
            "candidate": {
                "regression": self.candidate_regression.as_dict(),
                "curated": self.candidate_curated.as_dict() if self.candidate_curated else None,
            },
            "tolerance_points": TOLERANCE_POINTS,
            "passed": self.passed,
            "reason": self.reason,
        }


def judge(current: Figures, candidate: Figures) -> tuple[bool, str]:
    if candidate.correct < current.correct - TOLERANCE_POINTS:
        return False, (
            f"correct answers fell from {current.correct:.1f}% to {candidate.correct:.1f}% "
            f"(more than {TOLERANCE_POINTS:.1f} points)"
        )
    if candidate.wrong > current.wrong + TOLERANCE_POINTS:
        return False, (
            f"wrong answers rose from {current.wrong:.1f}% to {candidate.wrong:.1f}% "
            f"(more than {TOLERANCE_POINTS:.1f} points)"
        )
    return True, "not worse than the current model beyond the tolerance"


def run_gate(
    *,
    current_examples: Mapping[str, Sequence[str]],
    current_thresholds: Thresholds,
    candidate_examples: Mapping[str, Sequence[str]],
    candidate_thresholds: Thresholds,
    regression: Sequence[tuple[str, str]],
    curated: Sequence[tuple[str, str]],
    settings: Mapping[str, object],
) -> GateResult:
    """Figures of both models on the same regression questions and curated folds, and the verdict."""
    current_model = fit(current_examples, settings)
    current_regression = evaluate_on(current_model, regression, current_thresholds)
    candidate_regression = evaluate_on(fit(candidate_examples, settings), regression, candidate_thresholds)
    current_curated = candidate_curated = None
    if curated:
        current_curated = evaluate_on(current_model, curated, current_thresholds)
        rankings: list[list[tuple[str, float]]] = []
        golds: list[str] = []
        for fold in curated_folds(curated):
            model = fit(without(candidate_examples, fold), settings)
            rankings += rank_messages([text for _, text in fold], model.rank_normalized)
            golds += [gold for gold, _ in fold]
        candidate_curated = score(rankings, golds, candidate_thresholds)
    passed, reason = judge(current_regression, candidate_regression)
    return GateResult(current_regression, candidate_regression, current_curated, candidate_curated, passed, reason)
