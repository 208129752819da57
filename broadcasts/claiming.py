"""The sender's claim as one statement: due deliveries → ``sending`` for one worker, returned as plain tuples.

Split from ``broadcasts.outbox`` (``BroadcastRepository.claim`` runs it) because the statement
differs by back end and is what keeps claiming cheap as the outbox grows: both read the partial
index ``ix_deliveries_open`` (open rows in claim order, migration 0007) and stop at the batch.
``tests/test_claim_index.py`` checks the plans.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, any_, func, or_, select, text, update

from broadcasts.models import Announcement, AnnouncementStatus, Delivery, DeliveryStatus

PENDING, SENDING = DeliveryStatus.PENDING, DeliveryStatus.SENDING
# The partial index's condition (``broadcasts.models``), literal so both planners can match it.
OPEN_ROW = text("deliveries.status IN ('pending', 'sending')")


class Claimed(NamedTuple):
    """A claimed delivery as plain values (the sender's hot path makes no ORM objects)."""

    id: int
    announcement_id: int
    group_id: int
    chat_id: int
    attempts: int
    next_attempt_at: datetime


def claim_statement(worker_id: str, limit: int, lease_seconds: float, now: datetime, *, postgres: bool) -> Any:
    """The claim's ``UPDATE … RETURNING`` (see ``BroadcastRepository.claim``).

    ``deliveries.status IN ('pending', 'sending')`` repeats what the due condition implies, as
    literal SQL, so that both planners match the partial index ``ix_deliveries_open`` (only
    open rows, in claim order): claiming stays cheap however many sent rows pile up.
    """

    due_row = or_(
        and_(Delivery.status == PENDING, Delivery.next_attempt_at <= now),
        and_(Delivery.status == SENDING, Delivery.lease_until < now),
    )
    if postgres:
        # Read as two plans that cannot go wrong with many rows: the sending announcements' ids
        # first (an InitPlan), then the open-rows index in claim order, stopping at ``limit``
        # (a join with ``announcements`` made the planner fetch and sort every open row of
        # the announcement); the update finds the picked rows by primary key.
        # A materialised CTE runs once. ``id IN (SELECT … LIMIT n)`` may be rescanned inside
        # the UPDATE's join, and each rescan no longer sees the rows this statement already
        # changed, so it claimed more than ``n`` rows (seen with asyncpg's generic plans).
        sending = select(Announcement.id).where(Announcement.status == AnnouncementStatus.SENDING)
        picked = (
            select(Delivery.id)
            .where(Delivery.announcement_id == any_(func.array(sending.scalar_subquery())), OPEN_ROW, due_row)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Delivery)
            .cte("picked")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        chosen = Delivery.id == any_(func.array(select(picked.c.id).scalar_subquery()))
    else:
        candidates = (
            select(Delivery.id)
            .join(Announcement, Announcement.id == Delivery.announcement_id)
            .where(Announcement.status == AnnouncementStatus.SENDING, OPEN_ROW, due_row)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
        )
        chosen = Delivery.id.in_(candidates.scalar_subquery())
    statement = (
        update(Delivery)
        .where(chosen, due_row)
        .values(
            status=SENDING,
            claimed_by=worker_id[:64],
            lease_until=now + timedelta(seconds=lease_seconds),
            attempts=Delivery.attempts + 1,
            updated_at=now,
        )
        .returning(
            Delivery.id,
            Delivery.announcement_id,
            Delivery.group_id,
            Delivery.chat_id,
            Delivery.attempts,
            Delivery.next_attempt_at,
        )
        .execution_options(synchronize_session=False)
    )
    return statement
