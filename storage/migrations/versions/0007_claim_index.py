"""The claim's index: open deliveries in claim order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

``ix_deliveries_open`` on ``deliveries (next_attempt_at, id)``, partial: only rows that are
``pending`` or ``sending``. The sender's claim (``BroadcastRepository.claim``) reads it in
order and stops at its batch, so claiming stays cheap however many sent rows the table holds
(``tests/test_claim_index.py`` checks the plan). Downgrade drops it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    open_rows = sa.text("status IN ('pending', 'sending')")
    op.create_index(
        "ix_deliveries_open",
        "deliveries",
        ["next_attempt_at", "id"],
        unique=False,
        sqlite_where=open_rows,
        postgresql_where=open_rows,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_open", table_name="deliveries")
