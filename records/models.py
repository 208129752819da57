"""Question records and hand-off requests: Telegram ids only, never names or phone numbers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utc_now


class HandoffStatus(StrEnum):
    WAITING = "waiting"


class QuestionRecord(Base):
    """One question and what the assistant did with it; Telegram ids only, never names or phones.

    The id is made by the bot before the row is written (see ``records.repository``), so
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
    status: Mapped[str] = mapped_column(String(16), default=HandoffStatus.WAITING, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
