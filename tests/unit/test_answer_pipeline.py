"""The answer pipeline's own rules, with a fake Rasa: what reaches the classifier, which thresholds apply,
retired topics, related topics, and what the user is sent. (End to end with the real Rasa: tests/test_pipeline.py.)"""

from __future__ import annotations

from dataclasses import replace

import pytest

import texts
from answering.formatting import render_clarify, render_topic
from answering.pipeline import MAX_QUESTION_CHARS, AnswerPipeline
from knowledge.repository import KnowledgeSnapshot
from nlu.decision import OUT_OF_SCOPE, Calibration, Decision, Thresholds, decide
from nlu.lexical import LexicalClassifier
from nlu.normalize import normalize
from nlu.resilient import ResilientClassifier, Source
from tests.conftest import FakeClock
from tests.unit.conftest import FakeRasa

RASA = Thresholds(answer=0.5, margin=0.125, clarify=0.25, candidate=0.125)
NEVER_ANSWER = Thresholds(answer=1.5, margin=0.0, clarify=0.0, candidate=0.0)
CALIBRATION = Calibration(rasa=RASA, lexical=NEVER_ANSWER)
TOPIC = "attt_gia_danh_cong_an"  # related: vneid_cai_dat, attt_bi_lua, attt_bao_cao


@pytest.fixture(scope="module")
def lexical() -> LexicalClassifier:
    return LexicalClassifier(
        {
            TOPIC: ["công an gọi điện bảo cài vneid", "cuộc gọi giả danh công an"],
            "attt_bi_lua": ["bị lừa mất tiền rồi", "lỡ đọc mã otp cho người lạ"],
            OUT_OF_SCOPE: ["giá vàng hôm nay", "thời tiết ngày mai"],
        }
    )


def make(rasa: FakeRasa, lexical: LexicalClassifier, knowledge: KnowledgeSnapshot, clock: FakeClock) -> AnswerPipeline:
    classifier = ResilientClassifier(rasa, lexical, retry_seconds=30, clock=clock)  # type: ignore[arg-type]
    return AnswerPipeline(classifier, knowledge, CALIBRATION)


@pytest.fixture
def pipeline(
    fake_rasa: FakeRasa, lexical: LexicalClassifier, curated_knowledge: KnowledgeSnapshot, clock: FakeClock
) -> AnswerPipeline:
    return make(fake_rasa, lexical, curated_knowledge, clock)


async def test_an_answer_is_the_rendered_topic_with_its_related_topics(
    pipeline: AnswerPipeline, fake_rasa: FakeRasa
) -> None:
    fake_rasa.ranking = [(TOPIC, 0.875), ("attt_bi_lua", 0.0625)]
    question = "Có người XƯNG công an gọi bảo cài app VNeID qua link zalo"
    reply = await pipeline.answer(question)
    topic = pipeline.knowledge.topics[TOPIC]
    assert fake_rasa.calls == [normalize(question)] == [reply.normalized]
    assert (reply.decision, reply.topic, reply.candidates, reply.source) == (
        Decision.ANSWER,
        TOPIC,
        [TOPIC],
        Source.RASA,
    )
    assert reply.answer == render_topic(topic)
    assert reply.related == list(topic.related)[:3] and len(reply.related) == 3
    assert reply.confidence == 0.875 and not reply.truncated and reply.text == question


async def test_clarify_and_unknown_replies(pipeline: AnswerPipeline, fake_rasa: FakeRasa) -> None:
    fake_rasa.ranking = [(TOPIC, 0.375), ("attt_bi_lua", 0.3125), ("attt_bao_cao", 0.0625)]
    clarify = await pipeline.answer("công an gọi")
    assert clarify.decision is Decision.CLARIFY and clarify.topic is None and clarify.related == []
    assert clarify.answer == render_clarify([TOPIC, "attt_bi_lua"], pipeline.knowledge)

    fake_rasa.ranking = [(OUT_OF_SCOPE, 0.875), (TOPIC, 0.0625)]
    unknown = await pipeline.answer("giá vàng hôm nay")
    assert (unknown.decision, unknown.topic, unknown.candidates) == (Decision.UNKNOWN, None, [])
    assert unknown.answer == texts.UNKNOWN and unknown.related == []


async def test_topics_retired_since_training_are_ignored(
    fake_rasa: FakeRasa, lexical: LexicalClassifier, curated_knowledge: KnowledgeSnapshot, clock: FakeClock
) -> None:
    topics = {k: v for k, v in curated_knowledge.topics.items() if k != "attt_bi_lua"}
    pipeline = make(fake_rasa, lexical, replace(curated_knowledge, topics=topics), clock)
    # Rasa's model still knows the retired topic: it is dropped, the rest is decided on its own.
    fake_rasa.ranking = [("attt_bi_lua", 0.75), (TOPIC, 0.5625), (OUT_OF_SCOPE, 0.0625)]
    reply = await pipeline.answer("bị lừa qua điện thoại")
    assert reply.decision is Decision.ANSWER and reply.topic == TOPIC
    assert reply.related == ["vneid_cai_dat", "attt_bao_cao"]  # not the retired one


async def test_the_thresholds_follow_the_classifier_that_ranked(pipeline: AnswerPipeline, fake_rasa: FakeRasa) -> None:
    fake_rasa.ranking = [(TOPIC, 0.875), ("attt_bi_lua", 0.0625)]
    question = "cuộc gọi giả danh công an"
    assert (await pipeline.answer(question)).decision is Decision.ANSWER
    fake_rasa.up = False
    fallback = await pipeline.answer(question)
    assert fallback.source is Source.LEXICAL
    # The lexical ranking puts the topic first with full confidence, but the lexical thresholds never answer.
    assert fallback.decision is Decision.CLARIFY and fallback.candidates[0] == TOPIC


async def test_an_empty_question_never_reaches_the_classifier(pipeline: AnswerPipeline, fake_rasa: FakeRasa) -> None:
    reply = await pipeline.answer("🙂🙂 ...")
    assert fake_rasa.calls == []
    assert (reply.decision, reply.answer, reply.normalized) == (Decision.UNKNOWN, texts.EMPTY_QUESTION, "")


async def test_an_overlong_question_is_cut_between_words(pipeline: AnswerPipeline, fake_rasa: FakeRasa) -> None:
    fake_rasa.ranking = [(TOPIC, 0.875)]
    word = "abcdefghij"
    reply = await pipeline.answer(f"{word} " * 60)  # 660 characters; position 500 falls inside a word
    assert reply.truncated and len(reply.normalized) <= MAX_QUESTION_CHARS
    assert fake_rasa.calls == [reply.normalized]
    assert set(reply.normalized.split()) == {word} and len(reply.normalized.split()) == 45

    exactly = "a" * MAX_QUESTION_CHARS
    assert not (await pipeline.answer(exactly)).truncated
    assert (await pipeline.answer(exactly + "b")).truncated


async def test_json_contract(pipeline: AnswerPipeline, fake_rasa: FakeRasa) -> None:
    fake_rasa.ranking = [(TOPIC, 0.876543), ("attt_bi_lua", 0.0625)]
    reply = await pipeline.answer("cuộc gọi giả danh công an")
    assert reply.as_json() == {
        "text": "cuộc gọi giả danh công an",
        "decision": "answer",
        "topic": TOPIC,
        "candidates": [TOPIC],
        "confidence": 0.8765,
        "answer": reply.answer,
    }


LONG_STORY = (
    "Mẹ em năm nay 70 tuổi, ở quê một mình. Hôm qua có người gọi xưng là công an xã. "
    "Họ bảo mẹ em cài một ứng dụng qua đường link. Em phải làm sao để mẹ không bị lừa?"
)


async def test_a_long_story_is_also_read_by_its_question_sentence(
    pipeline: AnswerPipeline, fake_rasa: FakeRasa
) -> None:
    question = normalize("Em phải làm sao để mẹ không bị lừa?")
    fake_rasa.ranking = [("attt_bi_lua", 0.375), (TOPIC, 0.3125), (OUT_OF_SCOPE, 0.3125)]  # the whole: unsure
    fake_rasa.by_text[question] = [(TOPIC, 0.9375), ("attt_bi_lua", 0.0625)]
    reply = await pipeline.answer(LONG_STORY)
    assert sorted(fake_rasa.calls) == sorted([normalize(LONG_STORY), question])
    assert (reply.decision, reply.topic) == (Decision.ANSWER, TOPIC)
    assert reply.confidence == (0.3125 + 0.9375) / 2 and reply.normalized == normalize(LONG_STORY)


async def test_a_long_story_falls_back_to_the_whole_when_rasa_is_down(
    pipeline: AnswerPipeline, fake_rasa: FakeRasa, lexical: LexicalClassifier
) -> None:
    """The fallback's thresholds were calibrated on whole messages: its sentences are not mixed in."""
    fake_rasa.up = False
    reply = await pipeline.answer(LONG_STORY)
    whole = decide(lexical.rank_normalized([normalize(LONG_STORY)])[0], NEVER_ANSWER)
    sentence = decide(lexical.rank_normalized([normalize("Em phải làm sao để mẹ không bị lừa?")])[0], NEVER_ANSWER)
    assert whole.confidence != sentence.confidence  # the test can tell the two apart
    assert reply.source is Source.LEXICAL and reply.confidence == whole.confidence
