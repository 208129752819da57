"""Rendering answers as Telegram HTML within Telegram's limits."""

from __future__ import annotations

import html
import re

import texts
from knowledge.repository import KnowledgeSnapshot, TopicView

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024


def render_topic(topic: TopicView, *, limit: int = MESSAGE_LIMIT) -> str:
    """Title, answer and links; links are dropped before the answer is ever cut."""
    head = f"<b>{html.escape(topic.title)}</b>\n\n{topic.answer.strip()}"
    if topic.links:
        links = "\n".join(
            f'• <a href="{html.escape(link.url, quote=True)}">{html.escape(link.label)}</a>' for link in topic.links
        )
        with_links = f"{head}\n\n{texts.LINKS_HEADER}\n{links}"
        if len(with_links) <= limit:
            return with_links
    return head if len(head) <= limit else split_html(head, limit)[0]


def render_clarify(candidates: list[str], knowledge: KnowledgeSnapshot) -> str:
    lines = [texts.CLARIFY_HEADER]
    for number, topic_id in enumerate(candidates, start=1):
        topic = knowledge.topic(topic_id)
        if topic is not None:
            lines.append(f"{number}. {html.escape(topic.title)}")
    lines.append("")
    lines.append(texts.CLARIFY_FOOTER)
    return "\n".join(lines)


_TAG_RE = re.compile(r"<(/?)([a-z-]+)[^>]*>")


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split at paragraph or line breaks so that every part is valid HTML of ≤ ``limit`` chars.

    Tags open at a cut are closed at the end of one part and reopened at the start
    of the next.
    """
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    remaining = text
    reopen = ""
    while remaining:
        budget = limit - len(reopen) - 64  # room for closing tags
        chunk = remaining if len(remaining) <= budget else remaining[:budget]
        if len(remaining) > budget:
            cut = max(chunk.rfind("\n\n"), chunk.rfind("\n"))
            if cut < budget // 2:
                cut = chunk.rfind(" ")
            if cut <= 0:
                cut = budget
            # never cut inside a tag or an entity
            last_lt, last_gt = chunk.rfind("<", 0, cut), chunk.rfind(">", 0, cut)
            if last_lt > last_gt:
                cut = last_lt
            last_amp = chunk.rfind("&", 0, cut)
            if last_amp != -1 and ";" not in chunk[last_amp:cut]:
                cut = last_amp
            chunk = remaining[:cut]
        remaining = remaining[len(chunk) :].lstrip("\n ")
        open_tags: list[str] = []
        for match in _TAG_RE.finditer(reopen + chunk):
            if match.group(1):
                if open_tags and open_tags[-1].startswith(f"<{match.group(2)}"):
                    open_tags.pop()
            else:
                open_tags.append(match.group(0))
        closing = "".join(f"</{_TAG_RE.match(tag).group(2)}>" for tag in reversed(open_tags))  # type: ignore[union-attr]
        parts.append((reopen + chunk).rstrip() + closing)
        reopen = "".join(open_tags)
    return parts


def html_to_console(text: str) -> str:
    """Plain text for the console chat."""
    text = re.sub(r'<a href="([^"]*)">([^<]*)</a>', r"\2 (\1)", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text))
