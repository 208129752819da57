"""The blind evaluation set stays blind: training and calibration never read it, and it does not
repeat their questions. Written apart, from the topics' scope lines only (see its header)."""

from __future__ import annotations

from pathlib import Path

import yaml

from knowledge.content_files import load_content
from nlu import training
from nlu.evaluate import BLIND_QUESTIONS, load_questions
from nlu.normalize import normalize
from nlu.settings import PROJECT_ROOT
from tests.conftest import TOPICS_SPEC

MIN_PER_TOPIC = 10
MIN_OUT_OF_SCOPE = 100
KINDS = {"plain", "no_diacritics", "description", "telex", "abbreviation", "long", "near_miss"}


def test_training_and_calibration_never_read_it() -> None:
    assert BLIND_QUESTIONS not in training._FINGERPRINTED_SOURCES
    assert BLIND_QUESTIONS.resolve() not in {path.resolve() for path in training.CALIBRATION_FILES}
    readers = [
        path.relative_to(PROJECT_ROOT)
        for folder in ("nlu", "knowledge", "answering", "bot", "scripts", "learning", "curation")
        for path in (PROJECT_ROOT / folder).rglob("*.py")
        if "blind_questions" in path.read_text(encoding="utf-8")
        or "BLIND_QUESTIONS" in path.read_text(encoding="utf-8")
    ]
    # evaluate reports on it; decontaminate only removes training examples that nearly repeat it;
    # the retraining gate evaluates both models on it (never trains or calibrates on it).
    assert sorted(readers) == [
        Path("learning/gate.py"),
        Path("learning/retrain.py"),
        Path("nlu/evaluate.py"),
        Path("scripts/decontaminate.py"),
    ]


def test_every_topic_is_covered_with_every_kind() -> None:
    questions = load_questions(BLIND_QUESTIONS)
    topics = {t["id"] for t in yaml.safe_load(TOPICS_SPEC.read_text(encoding="utf-8"))["topics"]}
    per_topic = {t: sum(q.topic == t for q in questions) for t in topics}
    assert min(per_topic.values()) >= MIN_PER_TOPIC, per_topic
    assert sum(q.topic is None for q in questions) >= MIN_OUT_OF_SCOPE
    assert {q.topic for q in questions} - {None} <= topics
    assert {q.kind for q in questions} == KINDS


def test_it_repeats_no_training_or_calibration_question() -> None:
    content = load_content(PROJECT_ROOT / "knowledge" / "content")
    known = {normalize(e) for record in content.topics for e in record.entry.examples}
    known |= {normalize(q) for q in content.out_of_scope}
    known |= {normalize(q.text) for path in training.CALIBRATION_FILES for q in load_questions(path)}
    repeated = [q.text for q in load_questions(BLIND_QUESTIONS) if normalize(q.text) in known]
    assert repeated == []
