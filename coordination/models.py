"""Tables that let any number of processes act as one bot.

- ``conversation_states``: the step and data of a multi-step flow (``/thongbao``), so the next
  update can reach any process.
- ``leases``: a named lease held by one process until ``lease_until`` (scheduled jobs, record
  id nodes); ``last_period`` remembers the last period a periodic job finished (a day), so a
  daily job runs once however many processes start it.
- ``rate_budgets``: one shared token bucket (GCRA in the database's clock, seconds since the
  epoch as floats) per Telegram limit; ``paused_until`` is Telegram's ``retry_after`` seen by
  any sender.
- ``user_rates``: the per-user GCRA state of the answer rate limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utc_now


class ConversationState(Base):
    __tablename__ = "conversation_states"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Bumped by every write: a write that read an older version lost a race (double tap).
    version: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class Lease(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    lease_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_period: Mapped[str | None] = mapped_column(String(32), default=None)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class RateBudget(Base):
    __tablename__ = "rate_budgets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    tat: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))
    paused_until: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))


class UserRate(Base):
    __tablename__ = "user_rates"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    tat: Mapped[float] = mapped_column(Float, default=0.0)
