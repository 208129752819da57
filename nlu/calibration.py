"""Choosing the decision thresholds from data.

How (also in the README):
1. Rankings of questions the model was not trained on, from two sources pooled:
   out-of-fold rankings from 5-fold stratified cross-validation over the training
   examples (each held-out example scored as written and without diacritics), and the
   calibration sets (``nlu/calibration_questions.yaml`` and ``nlu/calibration_blind.yaml``:
   realistic questions written apart from training, the second one blind, from the topics'
   scope lines only) ranked by the classifier trained on all examples. Every ranking reads
   a message the way the answer pipeline does (``nlu.reading``: long messages sentence by
   sentence too). The lexical fallback is calibrated on the calibration sets alone
   (leave-one-out over the examples without them).
2. A grid search over (answer, margin) picks the thresholds with the best mean
   utility per question. The utility: +1 for a right answer or a refused out-of-scope
   question; −4 for a wrong answer (a wrong answer about a public service or a scam costs
   a villager money or a trip, and the trust that makes them ask again); 0 for refusing
   an in-scope question (not free: it loses the +1 and sends the member to a person);
   +0.3 for a clarification that offers the right topic, −0.3 for offering topics to an
   out-of-scope question. Without a calibration set, in-scope and out-of-scope are
   averaged separately, because the share of out-of-scope examples we wrote is arbitrary.
3. Below the answer threshold, the clarify band ("Ý bạn là…") is made as wide as
   possible while at most 5% of the out-of-scope questions would be offered a
   clarification instead of an honest "I don't know".
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from nlu.decision import OUT_OF_SCOPE, Decision, Thresholds, decide
from nlu.lexical import LexicalClassifier
from nlu.normalize import fold_diacritics, normalize
from nlu.reading import rank_messages
from nlu.textclf import Ranking, TopicClassifier

WRONG_ANSWER_COST = 4.0
MAX_OOS_CLARIFIED = 0.05
CLARIFY_HIT = 0.3
CLARIFY_OUT_OF_SCOPE = -0.3


@dataclass(frozen=True)
class Scored:
    gold: str
    ranking: Ranking


def _folds(examples: Mapping[str, Sequence[str]], k: int, seed: int) -> list[list[tuple[str, str]]]:
    rng = random.Random(seed)
    folds: list[list[tuple[str, str]]] = [[] for _ in range(k)]
    for intent in sorted(examples):
        texts = list(examples[intent])
        rng.shuffle(texts)
        for index, text in enumerate(texts):
            folds[index % k].append((intent, text))
    return folds


def _fit(pairs: Sequence[tuple[str, str]], settings: Mapping[str, Any]) -> TopicClassifier:
    return TopicClassifier(**settings).fit([text for _, text in pairs], [intent for intent, _ in pairs])


def _score_fold(
    train: list[tuple[str, str]], held_out: list[tuple[str, str]], settings: dict[str, Any]
) -> list[Scored]:
    """One fold: train on the rest; rank each held-out example as written and without diacritics,
    read the way the answer pipeline reads messages (long ones sentence by sentence too)."""
    classifier = _fit(train, settings)
    texts = [text for _, text in held_out]
    views = texts + [fold_diacritics(text) for text in texts]
    golds = [intent for intent, _ in held_out] * 2
    return [Scored(g, r) for g, r in zip(golds, rank_messages(views, classifier.rank_normalized), strict=True)]


def cross_validated(
    examples: Mapping[str, Sequence[str]],
    *,
    settings: Mapping[str, Any] | None = None,
    k: int = 5,
    seed: int = 42,
    workers: int = 1,
) -> list[Scored]:
    """Out-of-fold rankings of the topic classifier, folds trained in ``workers`` processes."""
    folds = _folds(examples, k, seed)
    jobs = [
        ([pair for j, fold in enumerate(folds) if j != index for pair in fold], held_out, dict(settings or {}))
        for index, held_out in enumerate(folds)
    ]
    if workers <= 1:
        results = [_score_fold(*job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_score_fold, *zip(*jobs, strict=True)))
    return [sample for fold in results for sample in fold]


def held_out_rankings(
    examples: Mapping[str, Sequence[str]],
    questions: Sequence[tuple[str, str]],
    *,
    settings: Mapping[str, Any] | None = None,
) -> tuple[list[Scored], list[Scored]]:
    """Rankings of a calibration set by the topic classifier and the lexical fallback, both
    trained on all ``examples`` (the questions themselves are never trained on)."""
    pairs = [(intent, text) for intent, items in examples.items() for text in items]
    classifier = _fit(pairs, dict(settings or {}))
    golds = [gold for gold, _ in questions]
    texts = [text for _, text in questions]
    topic = [Scored(g, r) for g, r in zip(golds, rank_messages(texts, classifier.rank_normalized), strict=True)]
    lexical = LexicalClassifier(examples).rank_normalized([normalize(text) for text in texts])
    return topic, [Scored(g, r) for g, r in zip(golds, lexical, strict=True)]


def leave_one_out_lexical(examples: Mapping[str, Sequence[str]]) -> list[Scored]:
    classifier = LexicalClassifier(examples)
    golds = [intent for intent, texts in examples.items() for _ in texts]
    texts = [normalize(text) for texts in examples.values() for text in texts]
    views = texts + [fold_diacritics(text) for text in texts]
    rankings = classifier.rank_normalized(views, exclude_self=True)
    return [Scored(g, r) for g, r in zip(golds * 2, rankings, strict=True)]


def utility(samples: Iterable[Scored], thresholds: Thresholds) -> float:
    in_scope: list[float] = []
    out_of_scope: list[float] = []
    for sample in samples:
        verdict = decide(sample.ranking, thresholds)
        if sample.gold == OUT_OF_SCOPE:
            value = {
                Decision.UNKNOWN: 1.0,
                Decision.CLARIFY: CLARIFY_OUT_OF_SCOPE,
                Decision.ANSWER: -WRONG_ANSWER_COST,
            }[verdict.decision]
            out_of_scope.append(value)
        else:
            if verdict.decision is Decision.ANSWER:
                value = 1.0 if verdict.topic == sample.gold else -WRONG_ANSWER_COST
            elif verdict.decision is Decision.CLARIFY:
                value = CLARIFY_HIT if sample.gold in verdict.candidates else 0.0
            else:
                value = 0.0
            in_scope.append(value)
    return _mean(in_scope) + _mean(out_of_scope)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _grid(start: float, stop: float, step: float) -> list[float]:
    count = round((stop - start) / step) + 1
    return [round(start + i * step, 4) for i in range(count)]


class _Table:
    """Per-sample facts :func:`decide` depends on, as arrays, for a fast grid search."""

    def __init__(self, samples: Sequence[Scored]) -> None:
        rows = []
        for sample in samples:
            topics = [(label, score) for label, score in sample.ranking if label != OUT_OF_SCOPE]
            labels = [label for label, _ in topics]
            gold_rank = labels.index(sample.gold) if sample.gold in labels else 99
            rows.append(
                (
                    bool(sample.ranking) and sample.ranking[0][0] == OUT_OF_SCOPE,
                    topics[0][1] if topics else 0.0,
                    topics[1][1] if len(topics) > 1 else 0.0,
                    topics[2][1] if len(topics) > 2 else 0.0,
                    gold_rank,
                    sample.gold == OUT_OF_SCOPE,
                )
            )
        table = np.array(rows, dtype=float).reshape(-1, 6)
        self.oos_top = table[:, 0] > 0
        self.p1, self.p2, self.p3 = table[:, 1], table[:, 2], table[:, 3]
        self.gold_rank = table[:, 4]
        self.gold_oos = table[:, 5] > 0

    def _decisions(self, thresholds: Thresholds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        answer = ~self.oos_top & (self.p1 >= thresholds.answer) & (self.p1 - self.p2 >= thresholds.margin)
        clarify = ~self.oos_top & ~answer & (self.p1 >= thresholds.clarify)
        return answer, clarify, ~answer & ~clarify

    def out_of_scope_clarified(self, thresholds: Thresholds) -> float:
        _answer, clarify, _unknown = self._decisions(thresholds)
        return float((clarify & self.gold_oos).sum() / max(1, self.gold_oos.sum()))

    def utility(self, thresholds: Thresholds, *, pooled: bool = False) -> float:
        answer, clarify, unknown = self._decisions(thresholds)
        offered = (self.gold_rank <= 1) | ((self.gold_rank == 2) & (self.p3 >= thresholds.candidate))
        right = self.gold_rank == 0
        in_scope = np.where(answer, np.where(right, 1.0, -WRONG_ANSWER_COST), 0.0) + np.where(
            clarify & offered, CLARIFY_HIT, 0.0
        )
        out_of_scope = (
            np.where(answer, -WRONG_ANSWER_COST, 0.0)
            + np.where(clarify, CLARIFY_OUT_OF_SCOPE, 0.0)
            + np.where(unknown, 1.0, 0.0)
        )
        if pooled:
            return float(np.where(self.gold_oos, out_of_scope, in_scope).mean())
        total = 0.0
        if (~self.gold_oos).any():
            total += float(in_scope[~self.gold_oos].mean())
        if self.gold_oos.any():
            total += float(out_of_scope[self.gold_oos].mean())
        return total


def choose_thresholds(
    samples: Sequence[Scored], *, pooled: bool = False, max_out_of_scope_clarified: float = MAX_OOS_CLARIFIED
) -> tuple[Thresholds, float]:
    """Answer threshold and margin by utility; then the widest clarify band that keeps
    clarifications of out-of-scope questions under ``max_out_of_scope_clarified``.

    ``pooled``: every question counts once (a realistic calibration set); otherwise
    in-scope and out-of-scope are averaged separately (cross-validation over examples,
    whose out-of-scope share is arbitrary). Ties go to the first (lowest) setting tried.
    """
    table = _Table(samples)
    best: tuple[float, Thresholds] | None = None
    for answer in _grid(0.10, 0.90, 0.025):
        for margin in (0.0, 0.05, 0.1, 0.15, 0.2):
            thresholds = Thresholds(answer, margin, answer, answer / 2)
            score = table.utility(thresholds, pooled=pooled)
            if best is None or score > best[0] + 1e-9:
                best = (score, thresholds)
    assert best is not None
    chosen = best[1]
    for clarify in _grid(0.05, chosen.answer, 0.025):
        if table.out_of_scope_clarified(replace(chosen, clarify=clarify)) <= max_out_of_scope_clarified:
            chosen = replace(chosen, clarify=clarify, candidate=max(0.03, clarify / 2))
            break
    return chosen, table.utility(chosen, pooled=pooled)
