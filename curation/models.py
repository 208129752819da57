"""Curators, and the inbox: groups of same-meaning questions the assistant got wrong or did not know.

An item is one question (a question record, or a support ticket answered with a topic); the
unique ``record_id`` and ``ticket_id`` make ingesting idempotent, also from two processes at once.
A ticket opened from a record joins that record's item rather than counting the question twice.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utc_now


class GroupStatus(StrEnum):
    OPEN = "open"  # waiting for a curator (skipped ones too: they carry skipped_at)
    RESOLVED = "resolved"  # turned into curated examples of ``label``
    DELETED = "deleted"  # dismissed for good; a later question with the key opens a new group


class ItemSource(StrEnum):
    RECORD = "record"  # question_records
    TICKET = "ticket"  # tickets with a topic_answer event


class ItemReason(StrEnum):
    UNKNOWN = "unknown"  # the assistant said it did not know
    CLARIFIED = "clarified"  # it asked "Ý bạn là…" and the member picked a topic (the implicit label)
    DISLIKED = "disliked"  # the member pressed 👎
    TICKET_ANSWER = "ticket_answer"  # a supporter answered the ticket with a topic (the implicit label)


class Curator(Base):
    """A user granted the curator role; super-admins are curators without a row."""

    __tablename__ = "curators"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    granted_by: Mapped[int] = mapped_column(BigInteger)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class InboxGroup(Base):
    __tablename__ = "inbox_groups"
    __table_args__ = (
        Index("ix_inbox_groups_status_newest", "status", "newest_at"),
        Index("ix_inbox_groups_status_head", "status", "head"),
        Index("ix_inbox_groups_status_tail", "status", "tail"),
        # One open group per key, enforced by the database (two processes ingesting at once).
        Index(
            "uq_inbox_groups_open_key",
            "key",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(500))
    head: Mapped[str] = mapped_column(String(64))  # first and last word of the key: near-duplicate
    tail: Mapped[str] = mapped_column(String(64))  # candidates (see curation.grouping)
    status: Mapped[str] = mapped_column(String(16), default=GroupStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    newest_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # when its newest question was asked
    skipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    label: Mapped[str | None] = mapped_column(String(64), default=None)  # a topic id or out_of_scope
    closed_by: Mapped[int | None] = mapped_column(BigInteger, default=None)


class InboxItem(Base):
    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_items_source_asked", "source", "asked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # NULL for a question without words (stored so that it is not read again, shown nowhere).
    group_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_groups.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[int | None] = mapped_column(BigInteger, unique=True, default=None)
    ticket_id: Mapped[int | None] = mapped_column(Integer, unique=True, default=None)
    text: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(String(500))
    label_hint: Mapped[str | None] = mapped_column(String(64), default=None)
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
