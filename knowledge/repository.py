"""Async repository over the knowledge tables. Takes a session; never commits.

Training examples are the imported ones (``training_examples``, replaced by every import)
merged with the curated ones (``curated_examples``, which import only adds to): a curated
example's grouping key wins over every imported or older curated example with that key, under
any label, so a curator's decision removes the same text from every other intent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from curation.grouping import grouping_key
from knowledge.content_files import (
    OUT_OF_SCOPE,
    Content,
    CuratedEntry,
    DomainEntry,
    Link,
    Source,
    TopicEntry,
    TopicRecord,
)
from knowledge.models import CuratedExample, Domain, Topic, TrainingExample
from storage.base import as_utc, utc_now


@dataclass(frozen=True)
class LinkView:
    label: str
    url: str


@dataclass(frozen=True)
class TopicView:
    """Read-only copy of a topic, safe to keep in memory between sessions."""

    id: str
    domain: str
    title: str
    summary: str
    answer: str
    links: tuple[LinkView, ...]
    related: tuple[str, ...]


@dataclass(frozen=True)
class DomainView:
    key: str
    title: str
    short_title: str
    topic_ids: tuple[str, ...]


@dataclass(frozen=True)
class KnowledgeSnapshot:
    """Everything the answer pipeline reads, loaded once: the curated KB is small."""

    domains: tuple[DomainView, ...]
    topics: dict[str, TopicView]
    examples: dict[str, list[str]]

    def topic(self, topic_id: str) -> TopicView | None:
        return self.topics.get(topic_id)


@dataclass
class ImportReport:
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    examples_added: int = 0
    examples_removed: int = 0
    curated_added: int = 0
    curated_updated: int = 0
    # Curated examples of curated.yaml not loaded, with why (a label that is no active topic, no words).
    curated_skipped: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.inserted,
                self.updated,
                self.retired,
                self.examples_added,
                self.examples_removed,
                self.curated_added,
                self.curated_updated,
            )
        )


def _entry_hash(domain: str, position: int, entry: TopicEntry) -> str:
    payload = {"domain": domain, "position": position, **entry.model_dump(exclude={"examples"})}
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


class KnowledgeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sync_content(self, content: Content) -> ImportReport:
        """Upsert ``content``: same content twice changes nothing the second time."""
        report = ImportReport()
        existing_domains = {d.key: d for d in (await self.session.scalars(select(Domain))).all()}
        for position, domain in enumerate(content.domains):
            domain_row = existing_domains.get(domain.key)
            if domain_row is None:
                self.session.add(
                    Domain(key=domain.key, title=domain.title, short_title=domain.short_title, position=position)
                )
            else:
                domain_row.title, domain_row.short_title = domain.title, domain.short_title
                domain_row.position = position
        await self.session.flush()

        existing = {t.id: t for t in (await self.session.scalars(select(Topic))).all()}
        seen: set[str] = set()
        for position, record in enumerate(content.topics):
            entry = record.entry
            seen.add(entry.id)
            digest = _entry_hash(record.domain, position, entry)
            values: dict[str, Any] = {
                "domain_key": record.domain,
                "title": entry.title,
                "summary": entry.summary,
                "answer": entry.answer,
                "links": [link.model_dump() for link in entry.links],
                "sources": [source.model_dump() for source in entry.sources],
                "related": list(entry.related),
                "position": position,
                "active": True,
                "content_hash": digest,
            }
            row = existing.get(entry.id)
            if row is None:
                self.session.add(Topic(id=entry.id, updated_at=utc_now(), **values))
                report.inserted.append(entry.id)
            elif row.content_hash != digest or not row.active:
                for key, value in values.items():
                    setattr(row, key, value)
                row.updated_at = utc_now()
                report.updated.append(entry.id)
            else:
                report.unchanged.append(entry.id)
        for topic_id, retired_row in existing.items():
            if topic_id not in seen and retired_row.active:
                retired_row.active = False
                retired_row.updated_at = utc_now()
                report.retired.append(topic_id)

        wanted = {
            (intent, text): position
            for intent, texts in content.training_examples().items()
            for position, text in enumerate(texts)
        }
        stored = {(row.intent, row.text): row for row in (await self.session.scalars(select(TrainingExample))).all()}
        stale_ids = [row.id for key, row in stored.items() if key not in wanted]
        if stale_ids:
            await self.session.execute(delete(TrainingExample).where(TrainingExample.id.in_(stale_ids)))
            report.examples_removed = len(stale_ids)
        for (intent, text), position in wanted.items():
            example_row = stored.get((intent, text))
            if example_row is None:
                self.session.add(TrainingExample(intent=intent, text=text, position=position))
                report.examples_added += 1
            elif example_row.position != position:
                example_row.position = position
        await self.session.flush()
        await self._sync_curated(content.curated, seen | {OUT_OF_SCOPE}, report)
        return report

    async def _sync_curated(self, entries: Sequence[CuratedEntry], labels: set[str], report: ImportReport) -> None:
        """Upsert curated.yaml by label and key; never deletes (the database may know newer ones)."""
        if not entries:
            return
        stored = {(row.label, row.key): row for row in (await self.session.scalars(select(CuratedExample))).all()}
        for entry in entries:
            key = grouping_key(entry.text)
            if entry.label not in labels or not key:
                why = "no words" if key == "" else "label is no active topic"
                report.curated_skipped.append(f"{entry.label}: {entry.text!r} ({why})")
                continue
            row = stored.get((entry.label, key))
            if row is None:
                row = CuratedExample(
                    label=entry.label,
                    key=key,
                    text=entry.text,
                    curator_id=entry.curator,
                    created_at=entry.at or utc_now(),
                    sources=dict(entry.sources),
                )
                self.session.add(row)
                stored[(entry.label, key)] = row
                report.curated_added += 1
                continue
            # What the file leaves out keeps its stored value.
            wanted = {
                "text": entry.text,
                "curator_id": entry.curator if entry.curator is not None else row.curator_id,
                "sources": dict(entry.sources) or row.sources,
            }
            moved = entry.at is not None and as_utc(entry.at) != as_utc(row.created_at)
            if moved or any(getattr(row, name) != value for name, value in wanted.items()):
                for name, value in wanted.items():
                    setattr(row, name, value)
                if entry.at is not None:
                    row.created_at = entry.at
                report.curated_updated += 1
        await self.session.flush()

    async def _labels(self) -> set[str]:
        """Labels examples may have: the active topics and out_of_scope."""
        return set((await self.session.scalars(select(Topic.id).where(Topic.active))).all()) | {OUT_OF_SCOPE}

    async def _imported_examples(self, labels: set[str]) -> dict[str, list[str]]:
        rows = await self.session.execute(
            select(TrainingExample.intent, TrainingExample.text).order_by(
                TrainingExample.intent, TrainingExample.position
            )
        )
        examples: dict[str, list[str]] = {}
        for intent, text in rows:
            if intent in labels:
                examples.setdefault(intent, []).append(text)
        return examples

    async def _curated_winners(self, labels: set[str]) -> list[tuple[str, str, str]]:
        """(label, text, key) of the curated examples that count: per key the newest, oldest first."""
        rows = await self.session.execute(
            select(CuratedExample.label, CuratedExample.text, CuratedExample.key).order_by(
                CuratedExample.created_at, CuratedExample.id
            )
        )
        winners: dict[str, tuple[str, str, str]] = {}
        for label, text, key in rows:
            if label in labels:
                winners.pop(key, None)  # re-inserted: the order follows the newest decision
                winners[key] = (label, text, key)
        return list(winners.values())

    async def training_examples(self) -> dict[str, list[str]]:
        """Intent → examples (imported, then curated), only for active topics and out_of_scope.

        An imported example whose grouping key a curated example has is left out, whatever its label.
        """
        labels = await self._labels()
        imported = await self._imported_examples(labels)
        curated = await self._curated_winners(labels)
        if not curated:
            return imported
        taken = {key for _, _, key in curated}
        examples = {intent: [t for t in texts if grouping_key(t) not in taken] for intent, texts in imported.items()}
        for label, text, _key in curated:
            examples.setdefault(label, []).append(text)
        return {intent: texts for intent, texts in examples.items() if texts}

    async def curated_examples(self) -> list[tuple[str, str]]:
        """(label, text) of the curated examples training uses, oldest first (for held-out folds)."""
        return [(label, text) for label, text, _key in await self._curated_winners(await self._labels())]

    async def curated_count(self) -> int:
        return len(await self.curated_examples())

    async def curated_since(self, moment: datetime) -> int:
        """Curated examples made after ``moment`` (the "retrain after N new examples" trigger)."""
        count = await self.session.scalar(
            select(func.count()).select_from(CuratedExample).where(CuratedExample.created_at > moment)
        )
        return int(count or 0)

    async def active_topics(self) -> list[Topic]:
        result = await self.session.scalars(select(Topic).where(Topic.active).order_by(Topic.position))
        return list(result.all())

    async def domains(self) -> list[Domain]:
        return list((await self.session.scalars(select(Domain).order_by(Domain.position))).all())

    async def snapshot(self) -> KnowledgeSnapshot:
        topics = await self.active_topics()
        views = {
            t.id: TopicView(
                id=t.id,
                domain=t.domain_key,
                title=t.title,
                summary=t.summary,
                answer=t.answer,
                links=tuple(LinkView(str(link["label"]), str(link["url"])) for link in t.links),
                related=tuple(str(r) for r in t.related),
            )
            for t in topics
        }
        domain_views = tuple(
            DomainView(
                key=d.key,
                title=d.title,
                short_title=d.short_title,
                topic_ids=tuple(t.id for t in topics if t.domain_key == d.key),
            )
            for d in await self.domains()
        )
        return KnowledgeSnapshot(domain_views, views, await self.training_examples())

    async def export_content(self) -> Content:
        """The stored knowledge base in the content-file model (for ``export``).

        Topics carry their imported examples only; every curated example goes to ``curated``
        (``curated.yaml``), so the topic files round-trip and curated ones stay reviewable.
        """
        content = Content()
        content.domains = [
            DomainEntry(key=d.key, title=d.title, short_title=d.short_title) for d in await self.domains()
        ]
        examples = await self._imported_examples(await self._labels())
        for topic in await self.active_topics():
            entry = TopicEntry(
                id=topic.id,
                title=topic.title,
                summary=topic.summary,
                answer=topic.answer,
                links=[Link.model_validate(link) for link in topic.links],
                sources=[Source.model_validate(source) for source in topic.sources],
                related=list(topic.related),
                examples=examples.get(topic.id, []),
            )
            content.topics.append(TopicRecord(topic.domain_key, f"{topic.domain_key}.yaml", entry))
        content.out_of_scope = examples.get(OUT_OF_SCOPE, [])
        rows = await self.session.scalars(select(CuratedExample).order_by(CuratedExample.created_at, CuratedExample.id))
        content.curated = [
            CuratedEntry(
                label=row.label, text=row.text, curator=row.curator_id, at=as_utc(row.created_at), sources=row.sources
            )
            for row in rows
        ]
        return content
