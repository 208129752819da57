"""Threshold calibration: the fast grid search agrees with the reference decision rule."""

from __future__ import annotations

import random

from knowledge.content_files import Content
from nlu.calibration import Scored, _Table, choose_thresholds, leave_one_out_lexical, utility
from nlu.decision import Decision, Thresholds, decide


def test_vectorised_utility_matches_decide(content: Content) -> None:
    examples = {k: v[:8] for k, v in content.training_examples().items()}
    samples = leave_one_out_lexical(examples)
    table = _Table(samples)
    rng = random.Random(1)
    for _ in range(25):
        answer = rng.uniform(0.1, 0.9)
        clarify = rng.uniform(0.05, answer)
        thresholds = Thresholds(answer, rng.choice([0.0, 0.1]), clarify, clarify / 2)
        assert abs(table.utility(thresholds) - utility(samples, thresholds)) < 1e-9


def test_chosen_thresholds_prefer_refusing_to_answering_wrongly() -> None:
    confident = [Scored("a", [("a", 0.9), ("b", 0.1)]) for _ in range(50)]
    shaky_wrong = [Scored("b", [("a", 0.5), ("b", 0.45)]) for _ in range(10)]
    oos = [Scored("out_of_scope", [("a", 0.4), ("out_of_scope", 0.35)]) for _ in range(20)]
    thresholds, _ = choose_thresholds(confident + shaky_wrong + oos)
    assert decide(confident[0].ranking, thresholds).decision is Decision.ANSWER
    assert decide(shaky_wrong[0].ranking, thresholds).decision is Decision.CLARIFY
    assert decide(oos[0].ranking, thresholds).decision is Decision.UNKNOWN


def test_calibration_trains_the_classifier_rasa_is_configured_with() -> None:
    from nlu.textclf import TopicClassifier
    from nlu.training import classifier_settings

    settings = classifier_settings()
    assert settings == {"model": "svm", "c": 0.5, "temperature": 8.0, "out_of_scope_weight": 10.0, "seed": 42}
    classifier = TopicClassifier(**settings)  # type: ignore[arg-type]
    assert (classifier.model, classifier.c, classifier.temperature) == ("svm", 0.5, 8.0)
