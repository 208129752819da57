"""Team groups, broadcaster rights, announcements and their deliveries (the outbox rows)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utc_now


class AnnouncementStatus(StrEnum):
    SCHEDULED = "scheduled"  # waits for scheduled_at
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender, leased until lease_until
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ContentKind(StrEnum):
    TEXT = "text"
    PHOTO = "photo"
    DOCUMENT = "document"



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
