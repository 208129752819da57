"""A group became a supergroup: the registry row and the outbox rows follow, in one transaction.

The two halves live with their tables (``GroupRepository.migrate`` for the group and its tags,
``BroadcastRepository.follow_group_migration`` for deliveries); this is the one call the bot and
the sender make.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from broadcasts.models import Group
from broadcasts.outbox import BroadcastRepository
from broadcasts.registry import GroupRepository


async def migrate_group(session: AsyncSession, old_chat_id: int, new_chat_id: int) -> Group | None:
    """Follow Telegram's group → supergroup migration; the group now at ``new_chat_id`` (None: unknown).

    Takes the caller's session and never commits.
    """
    moved = await GroupRepository(session).migrate(old_chat_id, new_chat_id)
    await BroadcastRepository(session).follow_group_migration(
        moved.old_group_id, moved.group.id if moved.group is not None else None, old_chat_id, new_chat_id
    )
    return moved.group
