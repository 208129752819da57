"""The learning loop's plain parts: the gate's figures and verdict, version folders and the rollback pin."""

from __future__ import annotations

from pathlib import Path

from learning.gate import TOLERANCE_POINTS, Figures, curated_folds, judge, score, without
from learning.versions import PINNED, VersionFiles
from nlu.decision import Calibration, Thresholds
from nlu.training import Manifest

THRESHOLDS = Thresholds(answer=0.8, margin=0.0, clarify=0.5, candidate=0.2)


def test_score_counts_right_wrong_and_refused() -> None:
    rankings = [
        [("a", 0.9), ("b", 0.1)],  # answered right
        [("b", 0.9), ("a", 0.1)],  # answered wrong
        [("a", 0.6), ("b", 0.4)],  # clarified: refused for an in-scope question
        [("out_of_scope", 0.9), ("a", 0.1)],  # refused an out-of-scope question: correct
        [("a", 0.95), ("out_of_scope", 0.05)],  # answered an out-of-scope question: wrong
    ]
    figures = score(rankings, ["a", "a", "a", "out_of_scope", "out_of_scope"], THRESHOLDS)
    assert figures == Figures(questions=5, correct=40.0, wrong=40.0, refused=20.0)


def test_judge_allows_the_tolerance_and_no_more() -> None:
    current = Figures(100, correct=90.0, wrong=2.0, refused=8.0)
    assert judge(current, Figures(100, 90.0 - TOLERANCE_POINTS, 2.0, 9.0))[0]
    assert not judge(current, Figures(100, 90.0 - TOLERANCE_POINTS - 0.1, 2.0, 9.1))[0]
    passed, reason = judge(current, Figures(100, 95.0, 2.0 + TOLERANCE_POINTS + 0.5, 2.5))
    assert not passed and "wrong answers rose" in reason


def test_curated_folds_cover_every_example_once() -> None:
    curated = [("a", f"q{i}") for i in range(7)]
    folds = curated_folds(curated)
    assert sorted(x for fold in folds for x in fold) == sorted(curated) and len(folds) == 3
    assert without({"a": ["q1", "q2", "x"]}, folds[0])["a"] == [
        t for t in ["q1", "q2", "x"] if ("a", t) not in folds[0]
    ]
    assert curated_folds([]) == []


def test_a_version_folder_round_trips_and_a_rollback_pins_it(tmp_path: Path) -> None:
    files = VersionFiles(tmp_path, "nlu-abc")
    calibration = Calibration(rasa=THRESHOLDS, lexical=THRESHOLDS)
    assert not files.exists()
    files.write(Manifest("fp", "nlu-abc.tar.gz", calibration, {"examples": 2}), {"a": ["x", "y"]})
    files.archive.write_bytes(b"model")
    assert files.exists() and files.examples() == {"a": ["x", "y"]}
    files.serve()
    top = Manifest.load(tmp_path)
    assert top is not None and top.model_path(tmp_path) == files.archive and PINNED not in top.notes
    files.serve(pinned=True)
    pinned = Manifest.load(tmp_path)
    assert pinned is not None and pinned.notes[PINNED] is True
    assert PINNED not in files.manifest().notes  # only the top-level manifest carries the pin
