"""Answers fit Telegram: valid HTML, within 4096 characters, split cleanly when longer; the HTML checker itself."""

from __future__ import annotations

import random

import texts
from answering.formatting import MESSAGE_LIMIT, html_to_console, render_clarify, render_topic, split_html
from knowledge.repository import KnowledgeSnapshot, LinkView, TopicView
from markup.telegram_html import html_problems


def test_every_topic_renders_as_valid_telegram_html(curated_knowledge: KnowledgeSnapshot) -> None:
    assert len(curated_knowledge.topics) == 49
    for topic in curated_knowledge.topics.values():
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


def test_clarify_numbers_candidates_by_position_and_skips_unknown_ids() -> None:
    knowledge = KnowledgeSnapshot(
        (),
        {
            "a": TopicView("a", "d", "VNeID <mức 2> & 3", "s", "x", (), ()),
            "b": TopicView("b", "d", "Cư trú", "s", "x", (), ()),
        },
        {},
    )
    text = render_clarify(["b", "gone", "a"], knowledge)
    # The numbers are the candidates' positions, the ones the user answers with.
    lines = [texts.CLARIFY_HEADER, "1. Cư trú", "3. VNeID &lt;mức 2&gt; &amp; 3", "", texts.CLARIFY_FOOTER]
    assert text.splitlines() == lines
    assert html_problems(text) == []


def test_console_text_has_no_tags_and_keeps_link_addresses() -> None:
    html = '<b>Tiêu đề</b> &amp; <a href="https://dichvucong.gov.vn">Cổng DVC</a>'
    assert html_to_console(html) == "Tiêu đề & Cổng DVC (https://dichvucong.gov.vn)"


def test_telegram_html_checker() -> None:
    assert html_problems('<b>ok</b> <a href="https://x.vn">x</a> &amp; &lt;3') == []
    assert html_problems("<b>open") == ["unclosed tag(s): <b>"]
    assert "closes nothing open" in html_problems("</i>")[0]
    assert html_problems("<p>x</p>")[0] == "tag <p> is not supported by Telegram"
    assert html_problems("a < b")[0].startswith("unescaped '<'")
