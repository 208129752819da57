"""SQLAlchemy 2 ORM models of the knowledge base (portable to SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


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


class QuestionRecord(Base):
    """One question and what the assistant did with it; Telegram ids only, never names or phones.

    The id is made by the bot before the row is written (see ``knowledge.records``), so
    the reply can carry it in its buttons while the row is still in the write buffer.
    """

    __tablename__ = "question_records"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    chat_type: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    normalized_text: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(8))
    topic_id: Mapped[str | None] = mapped_column(String(64), index=True)
    candidates: Mapped[list[Any]] = mapped_column(default=list)
    confidence: Mapped[float] = mapped_column(Float)
    latency_ms: Mapped[float] = mapped_column(Float)
    nlu_source: Mapped[str] = mapped_column(String(8))
    feedback: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    chosen_topic_id: Mapped[str | None] = mapped_column(String(64), default=None)


class HandoffRequest(Base):
    """A question a member asked to pass to a human helper; answered in a later feature."""

    __tablename__ = "handoff_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("question_records.id"), unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


# --- group broadcasts ------------------------------------------------------------------------


class Group(Base):
    """A team group the bot is in; ``chat_id`` follows Telegram's group → supergroup migration."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True, index=True)
    title: Mapped[str] = mapped_column(String(255))
    chat_type: Mapped[str] = mapped_column(String(16))
    is_forum: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    province: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    commune: Mapped[str | None] = mapped_column(String(128), default=None)
    labels: Mapped[list[Any]] = mapped_column(default=list)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class Broadcaster(Base):
    """A user allowed to send announcements; ``scope`` lists tags ("tinh:…", "xa:…", "nhan:…"), empty = all."""

    __tablename__ = "broadcasters"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    scope: Mapped[list[Any]] = mapped_column(default=list)
    granted_by: Mapped[int] = mapped_column(BigInteger)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class Announcement(Base):
    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    sender_chat_id: Mapped[int] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    kind: Mapped[str] = mapped_column(String(16))  # text | photo | document
    text: Mapped[str] = mapped_column(Text, default="")  # HTML; the caption for photo/document
    file_id: Mapped[str | None] = mapped_column(String(255), default=None)
    pin: Mapped[bool] = mapped_column(Boolean, default=False)
    silent: Mapped[bool] = mapped_column(Boolean, default=False)
    audience: Mapped[list[Any]] = mapped_column(default=list)  # chosen tags; empty = all the sender may reach
    status: Mapped[str] = mapped_column(String(16), index=True)  # scheduled | sending | done | cancelled
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    progress_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    report_sent: Mapped[bool] = mapped_column(Boolean, default=False)


class Delivery(Base):
    """One announcement to one group: the durable outbox row the sender works from."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("announcement_id", "group_id", name="uq_delivery_group"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # pending → sending (claimed, lease until lease_until) → sent | failed | cancelled
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    error: Mapped[str | None] = mapped_column(String(255), default=None)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
