"""Question records: Telegram ids only, never names or phone numbers (hand-offs are ``support`` tickets)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


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
