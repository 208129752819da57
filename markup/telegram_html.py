"""Checks for the HTML subset that Telegram's ``parse_mode=HTML`` accepts.

Telegram rejects a whole message ("can't parse entities") for one stray ``<`` or
``&`` or an unknown tag, so answers are checked before they reach users.
"""

from __future__ import annotations

import html
import re

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href"},
    "span": {"class"},
    "tg-emoji": {"emoji-id"},
    "code": {"class"},
    "blockquote": {"expandable"},
}
_ENTITIES = {"lt", "gt", "amp", "quot"}
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:=\"[^\"<>]*\"|='[^'<>]*')?)*)\s*>")
_ATTR_RE = re.compile(r"([a-zA-Z-]+)(?:=(\"[^\"]*\"|'[^']*'))?")
_ENTITY_RE = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


def html_problems(text: str) -> list[str]:
    """Everything in ``text`` that Telegram's HTML parser would reject."""
    problems: list[str] = []
    stack: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "<":
            match = _TAG_RE.match(text, position)
            if not match:
                problems.append(f"unescaped '<' at character {position} (write &lt;)")
                position += 1
                continue
            closing, tag, attributes = match.group(1), match.group(2).lower(), match.group(3)
            if tag not in ALLOWED_TAGS:
                problems.append(f"tag <{tag}> is not supported by Telegram")
            elif closing:
                if not stack or stack[-1] != tag:
                    problems.append(f"</{tag}> at character {position} closes nothing open")
                else:
                    stack.pop()
            else:
                for name, _value in _ATTR_RE.findall(attributes):
                    if name.lower() not in _ALLOWED_ATTRIBUTES.get(tag, set()):
                        problems.append(f"attribute '{name}' is not allowed on <{tag}>")
                if tag == "a" and "href" not in attributes:
                    problems.append("<a> without href")
                stack.append(tag)
            position = match.end()
        elif char == "&":
            match = _ENTITY_RE.match(text, position)
            if not match or (not match.group(1).startswith("#") and match.group(1) not in _ENTITIES):
                problems.append(f"unescaped '&' at character {position} (write &amp;)")
                position += 1
                continue
            position = match.end()
        elif char == ">":
            problems.append(f"unescaped '>' at character {position} (write &gt;)")
            position += 1
        else:
            position += 1
    if stack:
        problems.append("unclosed tag(s): " + ", ".join(f"<{tag}>" for tag in stack))
    return problems


def plain_text(text: str) -> str:
    """What the reader sees: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", text))


def visible_length(text: str) -> int:
    """Length as Telegram counts it for the 4096 limit (UTF-16 code units of the text)."""
    return len(plain_text(text).encode("utf-16-le")) // 2
