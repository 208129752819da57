"""Answers fit Telegram: valid HTML, within 4096 characters, split cleanly when longer."""

from __future__ import annotations

import random

from answering.formatting import MESSAGE_LIMIT, render_topic, split_html
from knowledge.repository import KnowledgeSnapshot, LinkView, TopicView
from broadcasts.html import html_problems


def test_every_topic_renders_as_valid_telegram_html(knowledge: KnowledgeSnapshot) -> None:
    for topic in knowledge.topics.values():
        text = render_topic(topic)
        assert html_problems(text) == [], topic.id
        assert len(text) <= MESSAGE_LIMIT


def test_links_are_dropped_before_the_answer_is_cut() -> None:
    topic = TopicView("t", "d", "Tiêu đề", "s", "a" * 4050, (LinkView("Trang", "https://dichvucong.gov.vn"),), ())
    text = render_topic(topic)
    assert "dichvucong" not in text and text.endswith("a") and len(text) <= MESSAGE_LIMIT


def test_split_keeps_every_part_valid_and_loses_nothing() -> None:
    rng = random.Random(7)
    paragraphs = []
    for i in range(60):
        words = " ".join(rng.choice(["đăng", "ký", "VNeID", "&amp;", "mức", "2"]) for _ in range(rng.randint(5, 40)))
        paragraphs.append(f"<b>Mục {i}</b> {words} <i>{words}</i>")
    text = "\n\n".join(paragraphs)
    parts = split_html(text, 1000)
    assert len(parts) > 3
    for part in parts:
        assert len(part) <= 1000 and html_problems(part) == []
    assert "".join(parts).count("Mục ") == 60


def test_split_reopens_a_tag_cut_in_the_middle() -> None:
    text = "<b>" + "chữ đậm " * 300 + "</b>"
    parts = split_html(text, 1000)
    assert all(p.startswith("<b>") and p.endswith("</b>") for p in parts)
    assert all(html_problems(p) == [] for p in parts)
