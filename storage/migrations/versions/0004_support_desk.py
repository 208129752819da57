"""The support desk: support chats by province, members' provinces, tickets, their messages and events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

``handoff_requests`` (questions a member asked to pass on, which nothing ever read) become open
tickets that have not been posted yet; the desk's sweep posts them into the support chat, so
those members are not forgotten either. The table is then dropped. Downgrade recreates it
from the tickets that came from a question record and are still open.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "support_chats",
        sa.Column("province", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("added_by", sa.BigInteger(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("province"),
    )
    op.create_index("ix_support_chats_chat_id", "support_chats", ["chat_id"], unique=False)
    op.create_table(
        "member_provinces",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("province", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("origin_chat_type", sa.String(length=16), nullable=False),
        sa.Column("origin_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("province", sa.String(length=32), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("guesses", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.Column("support_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("header_message_id", sa.Integer(), nullable=True),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hotlines_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id"),
    )
    op.create_index("ix_tickets_user_id", "tickets", ["user_id"], unique=False)
    op.create_index("ix_tickets_province", "tickets", ["province"], unique=False)
    op.create_index("ix_tickets_status_created", "tickets", ["status", "created_at"], unique=False)
    op.create_index("ix_tickets_support_thread", "tickets", ["support_chat_id", "thread_id"], unique=False)
    op.create_table(
        "ticket_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_messages_ticket_id", "ticket_messages", ["ticket_id"], unique=False)
    op.create_index("ix_ticket_messages_chat_message", "ticket_messages", ["chat_id", "message_id"], unique=True)
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_events_ticket_id", "ticket_events", ["ticket_id"], unique=False)
    op.create_index("ix_ticket_events_kind", "ticket_events", ["kind"], unique=False)
    op.create_index("ix_ticket_events_at", "ticket_events", ["at"], unique=False)

    # Waiting hand-off requests become open, not yet posted tickets (records give the chat type).
    op.execute(
        """
        INSERT INTO tickets (record_id, user_id, origin_chat_type, origin_chat_id, question, guesses,
                             status, created_at)
        SELECT h.record_id, h.user_id, COALESCE(q.chat_type, 'private'), h.chat_id, h.question,
               COALESCE(q.candidates, '[]'), 'open', h.created_at
        FROM handoff_requests h LEFT JOIN question_records q ON q.id = h.record_id
        ORDER BY h.id
        """
    )
    op.execute(
        """
        INSERT INTO ticket_events (ticket_id, kind, at)
        SELECT id, 'opened', created_at FROM tickets
        """
    )
    op.drop_table("handoff_requests")


def downgrade() -> None:
    op.create_table(
        "handoff_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["question_records.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id"),
    )
    op.create_index("ix_handoff_requests_status", "handoff_requests", ["status"], unique=False)
    op.create_index("ix_handoff_requests_user_id", "handoff_requests", ["user_id"], unique=False)
    op.execute(
        """
        INSERT INTO handoff_requests (record_id, user_id, chat_id, question, status, created_at)
        SELECT t.record_id, t.user_id, t.origin_chat_id, t.question, 'waiting', t.created_at
        FROM tickets t JOIN question_records q ON q.id = t.record_id
        WHERE t.status = 'open'
        ORDER BY t.id
        """
    )
    op.drop_table("ticket_events")
    op.drop_table("ticket_messages")
    op.drop_table("tickets")
    op.drop_table("member_provinces")
    op.drop_table("support_chats")
