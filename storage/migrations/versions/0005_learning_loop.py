"""The learning loop: curated examples, curators, the curation inbox and model versions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

New tables only, no data moves: ``curated_examples`` (kept apart from ``training_examples`` so
that importing the content never deletes them), ``curators``, ``inbox_groups`` (one open group
per key: a partial unique index), ``inbox_items`` (unique ``record_id`` and ``ticket_id``: ingesting
is idempotent) and ``model_versions`` (``learning.models``). Downgrade drops them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "curated_examples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("curator_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("label", "key", name="uq_curated_example"),
    )
    op.create_index("ix_curated_examples_label", "curated_examples", ["label"], unique=False)
    op.create_index("ix_curated_examples_key", "curated_examples", ["key"], unique=False)
    op.create_index("ix_curated_examples_created_at", "curated_examples", ["created_at"], unique=False)

    op.create_table(
        "curators",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("granted_by", sa.BigInteger(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )

    op.create_table(
        "inbox_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.Column("tail", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("newest_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("skipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("label", sa.String(length=64), nullable=True),
        sa.Column("closed_by", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inbox_groups_status_newest", "inbox_groups", ["status", "newest_at"], unique=False)
    op.create_index("ix_inbox_groups_status_head", "inbox_groups", ["status", "head"], unique=False)
    op.create_index("ix_inbox_groups_status_tail", "inbox_groups", ["status", "tail"], unique=False)
    open_only = sa.text("status = 'open'")
    op.create_index(
        "uq_inbox_groups_open_key",
        "inbox_groups",
        ["key"],
        unique=True,
        sqlite_where=open_only,
        postgresql_where=open_only,
    )

    op.create_table(
        "inbox_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("label_hint", sa.String(length=64), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["inbox_groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id"),
        sa.UniqueConstraint("ticket_id"),
    )
    op.create_index("ix_inbox_items_group_id", "inbox_items", ["group_id"], unique=False)
    op.create_index("ix_inbox_items_source_asked", "inbox_items", ["source", "asked_at"], unique=False)

    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_by", sa.BigInteger(), nullable=True),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("curated", sa.Integer(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_model_versions_current", "model_versions", ["current"], unique=False)


def downgrade() -> None:
    op.drop_table("model_versions")
    op.drop_table("inbox_items")
    op.drop_table("inbox_groups")
    op.drop_table("curators")
    op.drop_table("curated_examples")
