"""Reading and writing the curated YAML content (``knowledge/content``).

Reading never raises on bad content: problems are collected with the file and
entry they belong to, so ``python -m knowledge validate`` can report them all.

``curated.yaml`` (optional) holds the curated examples as exported for review: a list of
``{label, text, curator, at, sources}``. It is not a domain file; ``import`` upserts it into
``curated_examples`` (see ``KnowledgeRepository.sync_content``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DOMAINS_FILE = "domains.yaml"
OUT_OF_SCOPE_FILE = "out_of_scope.yaml"
OUT_OF_SCOPE = "out_of_scope"
CURATED_FILE = "curated.yaml"


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Link(_Entry):
    label: str = Field(min_length=1, max_length=64)
    url: str

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")) or " " in value:
            raise ValueError("must be an http(s) address without spaces")
        return value


class Source(_Entry):
    fact: str = Field(min_length=1)
    source: str = Field(min_length=1)
    as_of: str = Field(min_length=4)

    @field_validator("as_of", mode="before")
    @classmethod
    def _date_as_text(cls, value: Any) -> Any:
        return str(value) if value is not None else value


class TopicEntry(_Entry):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str = Field(min_length=1, max_length=60)
    summary: str = Field(min_length=1, max_length=100)
    answer: str = Field(min_length=1)
    links: list[Link] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
    examples: list[str] = Field(min_length=1)

    @field_validator("title", "summary", "answer")
    @classmethod
    def _nfc(cls, value: str) -> str:
        return nfc(value)

    @field_validator("examples")
    @classmethod
    def _nfc_examples(cls, value: list[str]) -> list[str]:
        return [nfc(str(text)).strip() for text in value]


class CuratedEntry(_Entry):
    """One curated example as written to ``curated.yaml``; ``curator`` and ``at`` are its provenance."""

    label: str = Field(pattern=r"^[a-z0-9_]+$", max_length=64)
    text: str = Field(min_length=1)
    curator: int | None = None
    at: datetime | None = None
    sources: dict[str, Any] = Field(default_factory=dict)

    @field_validator("text")
    @classmethod
    def _nfc_text(cls, value: str) -> str:
        return nfc(value)

    @field_validator("at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class DomainEntry(_Entry):
    key: str
    title: str
    short_title: str = Field(max_length=32)


@dataclass
class Problem:
    file: str
    entry: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.entry}" if self.entry else self.file
        return f"{where}: {self.message}"


@dataclass
class TopicRecord:
    """A topic with the file and domain it came from."""

    domain: str
    file: str
    entry: TopicEntry


@dataclass
class Content:
    domains: list[DomainEntry] = field(default_factory=list)
    topics: list[TopicRecord] = field(default_factory=list)
    out_of_scope: list[str] = field(default_factory=list)
    curated: list[CuratedEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def training_examples(self) -> dict[str, list[str]]:
        """Intent name → example questions, in content order (topics, then out_of_scope)."""
        intents = {record.entry.id: list(record.entry.examples) for record in self.topics}
        intents[OUT_OF_SCOPE] = list(self.out_of_scope)
        return intents


def _read_yaml(path: Path, problems: list[Problem]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problems.append(Problem(path.name, where, f"not valid YAML: {error}"))
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(path.name, "", f"cannot read: {error}"))
    return None


def _describe(error: ValidationError) -> list[str]:
    messages = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"])
        messages.append(f"{location}: {item['msg']}")
    return messages


def load_content(directory: Path) -> Content:
    """Load every content file below ``directory``; collect problems instead of raising."""
    content = Content()
    problems = content.problems
    domains_raw = None
    if (directory / DOMAINS_FILE).exists():
        domains_raw = _read_yaml(directory / DOMAINS_FILE, problems)
    else:
        problems.append(Problem(DOMAINS_FILE, "", "file is missing"))
    if isinstance(domains_raw, dict):
        for index, raw in enumerate(domains_raw.get("domains") or []):
            try:
                content.domains.append(DomainEntry.model_validate(raw))
            except ValidationError as error:
                for message in _describe(error):
                    problems.append(Problem(DOMAINS_FILE, f"domain #{index + 1}", message))
    oos_path = directory / OUT_OF_SCOPE_FILE
    if oos_path.exists():
        raw_oos = _read_yaml(oos_path, problems)
        questions = raw_oos.get("questions") if isinstance(raw_oos, dict) else None
        if not isinstance(questions, list):
            problems.append(Problem(OUT_OF_SCOPE_FILE, "", "needs a 'questions:' list"))
        else:
            content.out_of_scope = [nfc(str(q)).strip() for q in questions if str(q).strip()]
    else:
        problems.append(Problem(OUT_OF_SCOPE_FILE, "", "file is missing"))
    if (directory / CURATED_FILE).exists():
        content.curated = _load_curated(directory / CURATED_FILE, problems)
    for path in sorted(directory.glob("*.yaml")):
        if path.name in (DOMAINS_FILE, OUT_OF_SCOPE_FILE, CURATED_FILE):
            continue
        raw = _read_yaml(path, problems)
        if raw is None:
            continue
        if not isinstance(raw, dict) or "domain" not in raw or "topics" not in raw:
            problems.append(Problem(path.name, "", "needs 'domain:' and a 'topics:' list"))
            continue
        topics = raw.get("topics") or []
        if not isinstance(topics, list):
            problems.append(Problem(path.name, "", "'topics' must be a list"))
            continue
        for index, raw_topic in enumerate(topics):
            label = (
                str(raw_topic.get("id"))
                if isinstance(raw_topic, dict) and raw_topic.get("id")
                else f"entry #{index + 1}"
            )
            try:
                entry = TopicEntry.model_validate(raw_topic)
            except ValidationError as error:
                for message in _describe(error):
                    problems.append(Problem(path.name, label, message))
                continue
            content.topics.append(TopicRecord(str(raw["domain"]), path.name, entry))
    return content


def _load_curated(path: Path, problems: list[Problem]) -> list[CuratedEntry]:
    raw = _read_yaml(path, problems)
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(Problem(CURATED_FILE, "", "needs a list of {label, text, curator, at, sources}"))
        return []
    entries = []
    for index, item in enumerate(raw):
        try:
            entries.append(CuratedEntry.model_validate(item))
        except ValidationError as error:
            for message in _describe(error):
                problems.append(Problem(CURATED_FILE, f"example #{index + 1}", message))
    return entries


class _LiteralDumper(yaml.SafeDumper):
    """Writes multi-line strings as ``|`` blocks so exported answers stay readable."""


def _string_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _string_representer)


def dump_yaml(data: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.dump(data, Dumper=_LiteralDumper, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(text, encoding="utf-8")


def write_content(content: Content, directory: Path) -> list[Path]:
    """Write ``content`` in the same layout ``load_content`` reads."""
    written = []
    domains_path = directory / DOMAINS_FILE
    dump_yaml({"domains": [d.model_dump() for d in content.domains]}, domains_path)
    written.append(domains_path)
    by_domain: dict[str, list[TopicRecord]] = {}
    for record in content.topics:
        by_domain.setdefault(record.domain, []).append(record)
    for domain, records in by_domain.items():
        path = directory / f"{domain}.yaml"
        topics = [r.entry.model_dump() for r in records]
        dump_yaml({"domain": domain, "topics": topics}, path)
        written.append(path)
    oos_path = directory / OUT_OF_SCOPE_FILE
    dump_yaml({"questions": list(content.out_of_scope)}, oos_path)
    written.append(oos_path)
    if content.curated:
        curated_path = directory / CURATED_FILE
        dump_yaml([entry.model_dump(mode="json") for entry in content.curated], curated_path)
        written.append(curated_path)
    return written
