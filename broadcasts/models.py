"""Team groups, broadcaster rights, announcements and their deliveries (the outbox rows)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

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


class TagKind(StrEnum):
    """The part before the colon of a canonical tag (``tinh:ha_noi``); see ``broadcasts.tags``."""

    TINH = "tinh"  # province: key is a PROVINCES key; at most one per group
    XA = "xa"  # commune: key is the folded text; at most one per group
    NHAN = "nhan"  # free label: key is the folded text; any number


class GroupTag(Base):
    """One tag of one group. ``key`` is what matching uses, ``display`` what people typed.

    The surrogate ``id`` keeps insertion order (labels are shown in the order they were added).
    """

    __tablename__ = "group_tags"
    __table_args__ = (
        UniqueConstraint("group_id", "kind", "key", name="uq_group_tags_group_kind_key"),
        # Audience queries go from a tag to its groups; group_id makes the index covering.
        Index("ix_group_tags_kind_key", "kind", "key", "group_id"),
        # At most one province and one commune per group, enforced by the database.
        Index(
            "uq_group_tags_one_place",
            "group_id",
            "kind",
            unique=True,
            sqlite_where=text("kind IN ('tinh', 'xa')"),
            postgresql_where=text("kind IN ('tinh', 'xa')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    kind: Mapped[str] = mapped_column(String(8))  # a TagKind value
    key: Mapped[str] = mapped_column(String(128))
    display: Mapped[str] = mapped_column(String(128))

    @property
    def canonical(self) -> str:
        return f"{self.kind}:{self.key}"


class Group(Base):
    """A team group the bot is in; ``chat_id`` follows Telegram's group → supergroup migration."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True, index=True)
    title: Mapped[str] = mapped_column(String(255))
    chat_type: Mapped[str] = mapped_column(String(16))
    is_forum: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    # Folded title, commune, province name and labels, one per line: search is a LIKE on this.
    # Kept up to date by GroupRepository whenever the title or a tag changes.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    # Loaded with the group in one extra SELECT … IN (async code cannot lazy-load).
    tags: Mapped[list[GroupTag]] = relationship(lazy="selectin", order_by=GroupTag.id, cascade="all, delete-orphan")

    def _tags(self, kind: TagKind) -> list[GroupTag]:
        return [tag for tag in self.tags if tag.kind == kind]

    @property
    def province(self) -> str | None:
        """The PROVINCES key of the group's province, if set."""
        found = self._tags(TagKind.TINH)
        return found[0].key if found else None

    @property
    def commune(self) -> str | None:
        """The commune as typed, if set."""
        found = self._tags(TagKind.XA)
        return found[0].display if found else None

    @property
    def labels(self) -> list[str]:
        """Label texts as typed, in the order they were added."""
        return [tag.display for tag in self._tags(TagKind.NHAN)]

    @property
    def tag_set(self) -> frozenset[str]:
        """Canonical tags (``tinh:ha_noi``, ``xa:phuong ba dinh``, ``nhan:vung cao``)."""
        return frozenset(tag.canonical for tag in self.tags)


class Broadcaster(Base):
    """A user allowed to send announcements; ``scope`` lists tags ("tinh:…", "xa:…", "nhan:…"), empty = all."""

    __tablename__ = "broadcasters"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    scope: Mapped[list[Any]] = mapped_column(default=list)
    granted_by: Mapped[int] = mapped_column(BigInteger)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class Announcement(Base):
    __tablename__ = "announcements"
    # One reminder per announcement. A unique index, and no foreign key on ``reminder_of``: SQLite
    # can add and drop a plain column in place, but a foreign key would mean rebuilding this table,
    # which every delivery references. The id is only ever set from an announcement just read.
    __table_args__ = (Index("uq_announcements_reminder_of", "reminder_of", unique=True),)

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
    # A "✅ Đã nhận" button under the message; taps are counted in ``acknowledgements``.
    ack_button: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The announcement this one reminds of (sent to its groups that have not acknowledged);
    # unique: one reminder per announcement. Its button acknowledges the original.
    reminder_of: Mapped[int | None] = mapped_column(Integer, default=None)


class Delivery(Base):
    """One announcement to one group: the durable outbox row the sender works from."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("announcement_id", "group_id", name="uq_delivery_group"),
        # The claim reads open rows in its order and stops at its batch (migration 0007).
        Index(
            "ix_deliveries_open",
            "next_attempt_at",
            "id",
            sqlite_where=text("status IN ('pending', 'sending')"),
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
    )

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


class Acknowledgement(Base):
    """A group's first "✅ Đã nhận" tap on an announcement: who (a Telegram id) and when."""

    __tablename__ = "acknowledgements"
    __table_args__ = (UniqueConstraint("announcement_id", "group_id", name="uq_acknowledgement_group"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    acked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
