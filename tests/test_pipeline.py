"""The three decisions, end to end through the real Rasa server (the decision rule itself: tests/unit)."""

from __future__ import annotations

from dataclasses import replace

import pytest

import texts
from answering.formatting import MESSAGE_LIMIT
from answering.pipeline import MAX_QUESTION_CHARS, AnswerPipeline
from markup.telegram_html import html_problems
from nlu.decision import Decision, Thresholds
from nlu.resilient import Source


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("kich hoat vneid muc 2 o dau", "vneid_kich_hoat"),
        ("bác em muốn mở gian hàng bán chè trên postmart thì làm sao", "tmdt_mo_gian_hang"),
        ("co nguoi xung cong an goi bao cai app vneid qua link zalo", "attt_gia_danh_cong_an"),
        ("Tổ CNSCĐ thành lập theo văn bản nào", "to_cnscd_gioi_thieu"),
    ],
)
async def test_answer_through_real_rasa(pipeline: AnswerPipeline, question: str, topic: str) -> None:
    reply = await pipeline.answer(question)
    assert reply.source is Source.RASA
    assert reply.decision is Decision.ANSWER and reply.topic == topic, reply
    assert reply.answer.startswith(f"<b>{pipeline.knowledge.topics[topic].title}</b>")
    assert html_problems(reply.answer) == [] and len(reply.answer) <= MESSAGE_LIMIT
    assert reply.related and all(r in pipeline.knowledge.topics for r in reply.related)


@pytest.mark.parametrize(
    "question", ["mai trời có mưa to không", "gia ca phe hom nay bao nhieu", "lãi suất gửi tiết kiệm 6 tháng"]
)
async def test_out_of_scope_is_unknown(pipeline: AnswerPipeline, question: str) -> None:
    reply = await pipeline.answer(question)
    assert reply.decision is Decision.UNKNOWN and reply.topic is None
    assert reply.answer == texts.UNKNOWN


async def test_vague_question_is_clarified(pipeline: AnswerPipeline) -> None:
    reply = await pipeline.answer("onetouch")
    assert reply.decision is Decision.CLARIFY, reply
    assert 2 <= len(reply.candidates) <= 3 and all(c.startswith("onetouch_") for c in reply.candidates)
    assert reply.answer.startswith(texts.CLARIFY_HEADER)
    for candidate in reply.candidates:
        assert pipeline.knowledge.topics[candidate].title in reply.answer


async def test_product_brief_example_leads_to_opening_a_shop(pipeline: AnswerPipeline) -> None:
    """Postmart's own answer or the shop-opening one; "open a shop" is at most one tap away."""
    reply = await pipeline.answer("bác em muốn bán chè lên postmart thì làm sao")
    assert reply.decision in (Decision.ANSWER, Decision.CLARIFY)
    assert set(reply.candidates) <= {"tmdt_postmart", "tmdt_mo_gian_hang"}
    assert "tmdt_mo_gian_hang" in reply.candidates + reply.related
    assert "bưu điện" in reply.answer.lower() or reply.decision is Decision.CLARIFY


async def test_uncertain_answer_becomes_clarify_with_the_right_topic(pipeline: AnswerPipeline) -> None:
    """With a stricter answer threshold the same question is clarified, offering the right topic."""
    strict = AnswerPipeline(
        pipeline.classifier,
        pipeline.knowledge,
        replace(pipeline.calibration, rasa=Thresholds(answer=1.01, margin=0.0, clarify=0.0, candidate=0.0)),
    )
    reply = await strict.answer("quen mat khau vneid phai lam sao")
    assert reply.decision is Decision.CLARIFY and reply.candidates[0] == "vneid_quen_mat_khau"


async def test_overlong_question_is_cut_and_still_answered(pipeline: AnswerPipeline) -> None:
    long_question = "đăng ký vneid mức 2 ở đâu " * 100
    reply = await pipeline.answer(long_question)
    assert reply.truncated and len(reply.normalized) <= MAX_QUESTION_CHARS
    assert reply.decision is Decision.ANSWER and reply.topic == "vneid_muc_2"
