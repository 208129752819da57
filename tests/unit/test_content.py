"""The curated content files cover the shared topic spec (read from the files; no database)."""

from __future__ import annotations

from knowledge.content_files import Content
from knowledge.validation import load_spec
from tests.conftest import TOPICS_SPEC


def test_every_topic_of_the_spec_has_an_entry(content: Content) -> None:
    spec = load_spec(TOPICS_SPEC)
    assert {r.entry.id for r in content.topics} == set(spec.topics)
    assert all(len(r.entry.examples) >= 15 for r in content.topics)
    assert len(content.out_of_scope) >= 150
