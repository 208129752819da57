"""Checks that curated content matches the topic spec and Telegram's limits."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.content_files import OUT_OF_SCOPE_FILE, Content, Problem, nfc
from markup.telegram_html import html_problems, plain_text

MAX_ANSWER_CHARS = 4096
MIN_EXAMPLES = 15
MIN_OUT_OF_SCOPE = 150


@dataclass(frozen=True)
class TopicSpec:
    id: str
    domain: str
    title: str
    must_mention: list[list[str]]


@dataclass(frozen=True)
class Spec:
    domains: dict[str, str]
    topics: dict[str, TopicSpec]


def load_spec(path: Path) -> Spec:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    topics = {
        item["id"]: TopicSpec(
            id=item["id"],
            domain=item["domain"],
            title=item["title"],
            must_mention=[[nfc(str(s)) for s in group] for group in item.get("must_mention", [])],
        )
        for item in raw["topics"]
    }
    return Spec(domains=dict(raw["domains"]), topics=topics)


def example_key(text: str) -> str:
    """Identity of a training example as a classifier sees it: no case, marks or punctuation."""
    decomposed = unicodedata.normalize("NFD", nfc(text).lower().replace("đ", "d"))
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(re.findall(r"\w+", stripped))


def validate(content: Content, spec: Spec) -> list[Problem]:
    """All problems in ``content``: load errors first, then spec and limit checks."""
    problems = list(content.problems)
    seen_ids: dict[str, str] = {}
    example_owner: dict[str, tuple[str, str]] = {}
    known_domains = {d.key for d in content.domains}
    for key in spec.domains:
        if key not in known_domains:
            problems.append(Problem("domains.yaml", key, "domain of topics.yaml is missing"))
    for record in content.topics:
        entry, file = record.entry, record.file
        if entry.id in seen_ids:
            problems.append(Problem(file, entry.id, f"duplicate id (also in {seen_ids[entry.id]})"))
            continue
        seen_ids[entry.id] = file
        topic_spec = spec.topics.get(entry.id)
        if topic_spec is None:
            problems.append(Problem(file, entry.id, "unknown topic id (not in topics.yaml)"))
            continue
        if record.domain != topic_spec.domain:
            problems.append(Problem(file, entry.id, f"belongs to domain {topic_spec.domain}, not {record.domain}"))
        if len(entry.answer) > MAX_ANSWER_CHARS:
            problems.append(
                Problem(file, entry.id, f"answer is {len(entry.answer)} characters; the limit is {MAX_ANSWER_CHARS}")
            )
        for message in html_problems(entry.answer):
            problems.append(Problem(file, entry.id, f"answer HTML: {message}"))
        visible = plain_text(entry.answer).lower()
        for group in topic_spec.must_mention:
            if not any(fact.lower() in visible for fact in group):
                wanted = " / ".join(f"'{fact}'" for fact in group)
                problems.append(Problem(file, entry.id, f"answer must mention {wanted}"))
        for related in entry.related:
            if related == entry.id:
                problems.append(Problem(file, entry.id, "related lists the topic itself"))
            elif related not in spec.topics:
                problems.append(Problem(file, entry.id, f"related id '{related}' does not exist"))
        if len(entry.examples) < MIN_EXAMPLES:
            problems.append(Problem(file, entry.id, f"{len(entry.examples)} examples; at least {MIN_EXAMPLES} needed"))
        for text in entry.examples:
            key = example_key(text)
            if not key:
                problems.append(Problem(file, entry.id, f"example {text!r} has no words"))
                continue
            owner = example_owner.get(key)
            if owner and owner[0] != entry.id:
                problems.append(Problem(file, entry.id, f"example {text!r} is also under {owner[0]} ({owner[1]})"))
            elif owner:
                problems.append(Problem(file, entry.id, f"example {text!r} is repeated"))
            example_owner[key] = (entry.id, file)
    for topic_id, topic_spec in spec.topics.items():
        if topic_id not in seen_ids:
            problems.append(Problem(f"{topic_spec.domain}.yaml", topic_id, "topic of topics.yaml has no entry"))
    if content.out_of_scope and len(content.out_of_scope) < MIN_OUT_OF_SCOPE:
        problems.append(
            Problem(OUT_OF_SCOPE_FILE, "", f"{len(content.out_of_scope)} questions; at least {MIN_OUT_OF_SCOPE} needed")
        )
    oos_seen: set[str] = set()
    for text in content.out_of_scope:
        key = example_key(text)
        if key in example_owner:
            owner = example_owner[key]
            problems.append(Problem(OUT_OF_SCOPE_FILE, "", f"question {text!r} is a training example of {owner[0]}"))
        elif key in oos_seen:
            problems.append(Problem(OUT_OF_SCOPE_FILE, "", f"question {text!r} is repeated"))
        oos_seen.add(key)
    return problems
