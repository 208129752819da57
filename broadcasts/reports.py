"""Read-only views of announcements for the people who sent them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcasts.models import Announcement


async def recent_announcements(session: AsyncSession, sender_user_id: int, limit: int) -> list[Announcement]:
    """The sender's latest announcements, newest first."""
    query = (
        select(Announcement)
        .where(Announcement.sender_user_id == sender_user_id)
        .order_by(Announcement.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())
