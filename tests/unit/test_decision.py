"""The decision rule of ``nlu.decision``: answer / clarify / unknown at and around every threshold.

Scores and thresholds are binary fractions (0.5, 0.375, 0.125, …) so that "exactly at the
threshold" is exact in floating point and the boundary cases test the rule, not rounding.
"""

from __future__ import annotations

import pytest

from nlu.decision import MAX_CANDIDATES, OUT_OF_SCOPE, Calibration, Decision, Thresholds, decide

T = Thresholds(answer=0.5, margin=0.125, clarify=0.25, candidate=0.125)
OOS = OUT_OF_SCOPE
ANSWER, CLARIFY, UNKNOWN = Decision.ANSWER, Decision.CLARIFY, Decision.UNKNOWN

Row = tuple[list[tuple[str, float]], Decision, list[str], float]

CASES: dict[str, Row] = {
    # --- answer: best ≥ answer and best − second ≥ margin --------------------------------------
    "clear winner": ([("vneid_muc_2", 0.875), ("vneid_muc_1", 0.0625)], ANSWER, ["vneid_muc_2"], 0.875),
    "at the answer threshold and at the margin": ([("a", 0.5), ("b", 0.375)], ANSWER, ["a"], 0.5),
    "alone at the answer threshold (second counts as 0)": ([("a", 0.5)], ANSWER, ["a"], 0.5),
    "out_of_scope below the top is not the runner-up": ([("a", 0.5), (OOS, 0.4375), ("b", 0.375)], ANSWER, ["a"], 0.5),
    # --- clarify: not answerable, best ≥ clarify ------------------------------------------------
    "just under the answer threshold": ([("a", 0.4921875), ("b", 0.0)], CLARIFY, ["a", "b"], 0.4921875),
    "margin just short": ([("a", 0.5), ("b", 0.3828125)], CLARIFY, ["a", "b"], 0.5),
    "narrow lead well above the answer threshold": ([("a", 0.75), ("b", 0.6875)], CLARIFY, ["a", "b"], 0.75),
    "at the clarify threshold": ([("a", 0.25), ("b", 0.1875)], CLARIFY, ["a", "b"], 0.25),
    "close topics: at most three candidates, best first": (
        [("vneid_muc_2", 0.4375), ("vneid_muc_1", 0.375), ("vneid_kich_hoat", 0.125), ("dvc_cu_tru", 0.125)],
        CLARIFY,
        ["vneid_muc_2", "vneid_muc_1", "vneid_kich_hoat"],
        0.4375,
    ),
    "third below the candidate threshold is left out": (
        [("a", 0.375), ("b", 0.25), ("c", 0.1171875)],
        CLARIFY,
        ["a", "b"],
        0.375,
    ),
    "second is offered even below the candidate threshold": (
        [("a", 0.375), ("b", 0.0625), ("c", 0.0625)],
        CLARIFY,
        ["a", "b"],
        0.375,
    ),
    "a lone topic is the only candidate": ([("a", 0.375)], CLARIFY, ["a"], 0.375),
    "a lone topic beside out_of_scope is the only candidate": ([("a", 0.375), (OOS, 0.3125)], CLARIFY, ["a"], 0.375),
    "out_of_scope is never a candidate": (
        [("a", 0.375), (OOS, 0.3125), ("b", 0.25), ("c", 0.125), ("d", 0.125)],
        CLARIFY,
        ["a", "b", "c"],
        0.375,
    ),
    # --- unknown ----------------------------------------------------------------------------------
    "just under the clarify threshold": ([("a", 0.2421875), ("b", 0.125)], UNKNOWN, [], 0.2421875),
    "out_of_scope on top": ([(OOS, 0.5), ("a", 0.4375)], UNKNOWN, [], 0.5),
    "out_of_scope on top, even when a topic would be answered": ([(OOS, 0.5), ("a", 0.5)], UNKNOWN, [], 0.5),
    "only out_of_scope": ([(OOS, 1.0)], UNKNOWN, [], 1.0),
    "empty ranking": ([], UNKNOWN, [], 0.0),
    # --- ties: the ranking's order decides ------------------------------------------------------
    "tie at the top needs a margin: clarify, in ranking order": ([("b", 0.5), ("a", 0.5)], CLARIFY, ["b", "a"], 0.5),
    "tie among candidates keeps ranking order": (
        [("a", 0.375), ("c", 0.25), ("b", 0.25), ("d", 0.25)],
        CLARIFY,
        ["a", "c", "b"],
        0.375,
    ),
}


@pytest.mark.parametrize(("ranking", "decision", "candidates", "confidence"), CASES.values(), ids=CASES.keys())
def test_decide(ranking: list[tuple[str, float]], decision: Decision, candidates: list[str], confidence: float) -> None:
    verdict = decide(ranking, T)
    assert verdict.decision is decision
    assert verdict.candidates == candidates
    assert verdict.topic == (candidates[0] if decision is ANSWER else None)
    assert verdict.confidence == confidence


def test_without_a_margin_a_tie_answers_the_first() -> None:
    no_margin = Thresholds(answer=0.5, margin=0.0, clarify=0.25, candidate=0.125)
    assert decide([("b", 0.5), ("a", 0.5)], no_margin).topic == "b"
    assert decide([("a", 0.5), ("b", 0.5)], no_margin).topic == "a"


def test_a_lone_topic_leads_by_its_whole_score() -> None:
    wide_margin = Thresholds(answer=0.5, margin=0.5, clarify=0.25, candidate=0.125)
    assert decide([("a", 0.5)], wide_margin).decision is ANSWER
    assert decide([("a", 0.5), (OOS, 0.25)], wide_margin).decision is ANSWER
    assert decide([("a", 0.5), ("b", 0.0078125)], wide_margin).decision is CLARIFY


def test_never_more_than_max_candidates() -> None:
    ranking = [(f"t{i}", 0.25) for i in range(10)]
    assert decide(ranking, Thresholds(answer=0.5, margin=0.0, clarify=0.25, candidate=0.0)).candidates == [
        f"t{i}" for i in range(MAX_CANDIDATES)
    ]
    assert MAX_CANDIDATES == 3


@pytest.mark.parametrize(
    ("thresholds", "decision"),
    [
        (Thresholds(answer=0.5, margin=0.125, clarify=0.25, candidate=0.125), ANSWER),
        (Thresholds(answer=0.5625, margin=0.125, clarify=0.25, candidate=0.125), CLARIFY),  # answer raised past it
        (Thresholds(answer=0.5, margin=0.25, clarify=0.25, candidate=0.125), CLARIFY),  # margin raised past it
        (Thresholds(answer=0.5625, margin=0.125, clarify=0.5625, candidate=0.125), UNKNOWN),  # clarify raised past it
    ],
)
def test_each_threshold_moves_the_same_ranking(thresholds: Thresholds, decision: Decision) -> None:
    assert decide([("a", 0.5), ("b", 0.375)], thresholds).decision is decision


def test_thresholds_and_calibration_round_trip() -> None:
    calibration = Calibration(rasa=T, lexical=Thresholds(0.75, 0.0, 0.375, 0.25))
    assert Calibration.from_dict(calibration.to_dict()) == calibration
    # from_dict reads what a manifest holds: numbers possibly as text, unknown keys ignored.
    assert Thresholds.from_dict({"answer": "0.5", "margin": 0.125, "clarify": 0.25, "candidate": 0.125, "x": 9}) == T
    assert Thresholds.from_dict({"answer": 0.75}) == Thresholds(answer=0.75)
