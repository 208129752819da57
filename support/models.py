"""Support-desk tables: support chats, members' provinces, tickets, their messages and events.

Privacy: members are Telegram ids only (never names, usernames or phones); the question text
is stored with phone numbers masked, as question records are. Supporters' ids are kept on
events so that first-response times can be counted; they are staff, not members.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utc_now


class TicketStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CloseReason(StrEnum):
    RESOLVED = "resolved"  # "Đóng"
    OUT_OF_SCOPE = "out_of_scope"  # "Ngoài phạm vi"
    EXPIRED = "expired"  # nobody answered; the member was given the hotlines


class MessageRole(StrEnum):
    """What a stored message of a ticket is; replies to any of them map back to the ticket."""

    HEADER = "header"  # the ticket as posted in the support chat
    SUPPORTER = "supporter"  # a supporter's answer, in the support chat
    RELAYED = "relayed"  # that answer as copied to the member (and its heading)
    MEMBER = "member"  # a member's follow-up, in the private chat
    FORWARDED = "forwarded"  # that follow-up as copied into the support chat
    NOTICE = "notice"  # reminders and notices the bot posted in the support chat


class EventKind(StrEnum):
    OPENED = "opened"
    POSTED = "posted"
    TOPIC_CREATED = "topic_created"
    REPLY = "reply"
    REPLY_FAILED = "reply_failed"
    TOPIC_ANSWER = "topic_answer"
    MEMBER_REPLY = "member_reply"
    REMINDED = "reminded"
    MEMBER_TOLD_WAITING = "member_told_waiting"
    MEMBER_TOLD_HOTLINES = "member_told_hotlines"
    CLOSED = "closed"
    RATED = "rated"


class SupportChat(Base):
    """A support chat attached to a province; the default chat is ``SUPPORT_CHAT_ID``, not a row."""

    __tablename__ = "support_chats"

    province: Mapped[str] = mapped_column(String(32), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    added_by: Mapped[int] = mapped_column(BigInteger)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class MemberProvince(Base):
    """The province a member chose once (``/tinh``), for routing their tickets."""

    __tablename__ = "member_provinces"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    province: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class Ticket(Base):
    """One member question handed to people; its number is the id."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_created", "status", "created_at"),
        Index("ix_tickets_support_thread", "support_chat_id", "thread_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[int | None] = mapped_column(BigInteger, unique=True, default=None)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    origin_chat_type: Mapped[str] = mapped_column(String(16))
    origin_chat_id: Mapped[int] = mapped_column(BigInteger)
    province: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    question: Mapped[str] = mapped_column(Text)
    guesses: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.OPEN)
    close_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    # Where the ticket lives; NULL until it has been posted (posting is retried by the sweep).
    support_chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    header_message_id: Mapped[int | None] = mapped_column(Integer, default=None)
    thread_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    hotlines_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    rating: Mapped[int | None] = mapped_column(SmallInteger, default=None)


class TicketMessage(Base):
    """A message that belongs to a ticket, by chat and message id: how replies find their ticket."""

    __tablename__ = "ticket_messages"
    __table_args__ = (Index("ix_ticket_messages_chat_message", "chat_id", "message_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class TicketEvent(Base):
    """Everything that happened to a ticket, for the statistics and the digest."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    detail: Mapped[str | None] = mapped_column(Text, default=None)
