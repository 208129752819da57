"""SQLAlchemy 2 models of the knowledge base: domains, topics, imported and curated training examples."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utc_now


class Domain(Base):
    __tablename__ = "domains"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    short_title: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Topic(Base):
    __tablename__ = "topics"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    domain_key: Mapped[str] = mapped_column(ForeignKey("domains.key"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str] = mapped_column(Text)
    links: Mapped[list[Any]] = mapped_column(default=list)
    sources: Mapped[list[Any]] = mapped_column(default=list)
    related: Mapped[list[Any]] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Topics dropped from the content stay (records may point at them) but are hidden.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class TrainingExample(Base):
    """Example questions per intent (a topic id or ``out_of_scope``)."""

    __tablename__ = "training_examples"
    __table_args__ = (UniqueConstraint("intent", "text", name="uq_training_example"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    intent: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CuratedExample(Base):
    """An example a curator resolved from the inbox (or loaded from ``curated.yaml``).

    Its own table so that ``python -m knowledge import`` (which replaces ``training_examples``)
    never loses it. ``key`` is ``curation.grouping.grouping_key(text)``: one row per label and
    key, and when training examples are built the newest curated label of a key wins over every
    other example with that key. ``sources`` says where it came from:
    ``{"records": [ids], "tickets": [ids], "group": id}``.
    """

    __tablename__ = "curated_examples"
    __table_args__ = (UniqueConstraint("label", "key", name="uq_curated_example"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    label: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(String(500), index=True)
    curator_id: Mapped[int | None] = mapped_column(BigInteger, default=None)  # None: from a file without one
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    sources: Mapped[dict[str, Any]] = mapped_column(default=dict)
