"""Scale-out: conversation state, leases, the shared rate budget, per-user rates, acknowledgements.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

New tables (``coordination.models``): ``conversation_states``, ``leases``, ``rate_budgets``,
``user_rates``; and ``acknowledgements`` (``broadcasts.models``). Two new columns of
``announcements``: ``ack_button`` (false for existing rows) and ``reminder_of`` (a unique index, null
for existing rows). Downgrade drops them; acknowledgements and conversation state go with them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_states",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "chat_id"),
    )
    op.create_index("ix_conversation_states_expires_at", "conversation_states", ["expires_at"], unique=False)
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_period", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "rate_budgets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("tat", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("paused_until", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "user_rates",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    # Plain columns and an index: SQLite adds (and drops) them in place, without rebuilding a table
    # that every delivery references.
    op.add_column("announcements", sa.Column("ack_button", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("announcements", sa.Column("reminder_of", sa.Integer(), nullable=True))
    op.create_index("uq_announcements_reminder_of", "announcements", ["reminder_of"], unique=True)
    op.create_table(
        "acknowledgements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["announcement_id"], ["announcements.id"]),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("announcement_id", "group_id", name="uq_acknowledgement_group"),
    )
    op.create_index("ix_acknowledgements_announcement_id", "acknowledgements", ["announcement_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_acknowledgements_announcement_id", table_name="acknowledgements")
    op.drop_table("acknowledgements")
    op.drop_index("uq_announcements_reminder_of", table_name="announcements")
    op.drop_column("announcements", "reminder_of")
    op.drop_column("announcements", "ack_button")
    op.drop_table("user_rates")
    op.drop_table("rate_budgets")
    op.drop_table("leases")
    op.drop_index("ix_conversation_states_expires_at", table_name="conversation_states")
    op.drop_table("conversation_states")
