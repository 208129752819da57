"""Who may broadcast where: super-admins (from configuration) and broadcasters with a tag scope.

Checked on the server side for every broadcast action. Stored as one ``broadcasters`` row per
user whose ``scope`` lists canonical tags; an empty list there means every group.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcasts.models import Broadcaster
from broadcasts.scope import Scope
from broadcasts.tags import canonical_tag
from storage.base import utc_now


def is_super_admin(user_id: int, admin_ids: frozenset[int]) -> bool:
    return user_id in admin_ids


def stored_scope(row: Broadcaster) -> Scope:
    """The scope of a broadcaster row: no tags stored means every group."""
    tags = {canonical_tag(str(tag)) for tag in row.scope or []} - {None}
    return Scope.tagged(tags) if row.scope else Scope.everything()  # type: ignore[arg-type]


async def broadcaster_scope(session: AsyncSession, user_id: int, admin_ids: frozenset[int]) -> Scope:
    """The groups ``user_id`` may broadcast to (``Scope.nothing()`` for everyone else)."""
    if is_super_admin(user_id, admin_ids):
        return Scope.everything()
    row = await RoleRepository(session).get(user_id)
    return Scope.nothing() if row is None else stored_scope(row)


class RoleRepository:
    """Broadcaster rights; super-admins come from configuration, not from here."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> Broadcaster | None:
        return await self.session.get(Broadcaster, user_id)

    async def grant(self, user_id: int, scope: Sequence[str], granted_by: int) -> Broadcaster:
        row = await self.get(user_id)
        if row is None:
            row = Broadcaster(user_id=user_id, scope=list(scope), granted_by=granted_by, granted_at=utc_now())
            self.session.add(row)
        else:
            row.scope, row.granted_by, row.granted_at = list(scope), granted_by, utc_now()
        await self.session.flush()
        return row

    async def revoke(self, user_id: int) -> bool:
        row = await self.get(user_id)
        if row is None:
            return False
        await self.session.delete(row)
        return True

    async def all(self) -> list[Broadcaster]:
        return list((await self.session.scalars(select(Broadcaster).order_by(Broadcaster.user_id))).all())
