"""Who may curate: super-admins (from configuration) and users granted the curator role.

Granted and revoked like the broadcaster role (``broadcasts.roles``); one ``curators`` row each.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from curation.models import Curator


class CuratorRepository:
    """Curator rights; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> Curator | None:
        return await self.session.get(Curator, user_id)

    async def grant(self, user_id: int, granted_by: int, now: datetime) -> Curator:
        """Grant (or grant again: who and when are updated)."""
        row = await self.get(user_id)
        if row is None:
            row = Curator(user_id=user_id, granted_by=granted_by, granted_at=now)
            self.session.add(row)
        else:
            row.granted_by, row.granted_at = granted_by, now
        await self.session.flush()
        return row

    async def revoke(self, user_id: int) -> bool:
        row = await self.get(user_id)
        if row is None:
            return False
        await self.session.delete(row)
        await self.session.flush()
        return True

    async def all(self) -> list[Curator]:
        return list((await self.session.scalars(select(Curator).order_by(Curator.user_id))).all())

    async def is_curator(self, user_id: int, admin_ids: Container[int]) -> bool:
        """Super-admins always are; anyone else needs a row."""
        return user_id in admin_ids or await self.get(user_id) is not None
