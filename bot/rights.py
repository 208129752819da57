"""Who may broadcast where; checked on the server side for every broadcast action."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.groups import RoleRepository


def is_super_admin(user_id: int, admin_ids: frozenset[int]) -> bool:
    return user_id in admin_ids


async def broadcaster_scope(session: AsyncSession, user_id: int, admin_ids: frozenset[int]) -> list[str] | None:
    """None: no right to broadcast; []: every group; otherwise the tags the user may reach."""
    if is_super_admin(user_id, admin_ids):
        return []
    row = await RoleRepository(session).get(user_id)
    return None if row is None else [str(tag) for tag in row.scope]
