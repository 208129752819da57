"""Team group registry, tags and broadcaster rights.

Tags are strings: ``tinh:<province key>``, ``xa:<commune>``, ``nhan:<label>``. A
broadcaster's scope is a list of tags (empty: every group); a group is in reach
when it matches any tag of the scope.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from broadcasts.models import Broadcaster, Delivery, Group
from storage.base import utc_now

@dataclass(frozen=True)
class Reach:
    group_ids: list[int]
    tag_counts: dict[str, int]


class GroupRepository:
    """Takes a session; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_chat(self, chat_id: int) -> Group | None:
        found: Group | None = await self.session.scalar(select(Group).where(Group.chat_id == chat_id))
        return found

    async def get(self, group_id: int) -> Group | None:
        return await self.session.get(Group, group_id)

    async def register(self, chat_id: int, title: str, chat_type: str, is_forum: bool) -> Group:
        """Insert or refresh (one statement, safe when two updates about one group race)."""
        now = utc_now()
        values = {"title": title[:255], "chat_type": str(chat_type), "is_forum": is_forum, "active": True}
        insert = pg_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(Group)
            .values(chat_id=chat_id, labels=[], registered_at=now, updated_at=now, **values)
            .on_conflict_do_update(index_elements=["chat_id"], set_={**values, "updated_at": now})
        )
        await self.session.execute(statement)
        group = await self.session.scalar(
            select(Group).where(Group.chat_id == chat_id).execution_options(populate_existing=True)
        )
        assert group is not None
        return group

    async def deactivate(self, chat_id: int) -> Group | None:
        group = await self.by_chat(chat_id)
        if group is not None and group.active:
            group.active = False
            group.updated_at = utc_now()
        return group

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> Group | None:
        """Follow a group → supergroup upgrade; tags and pending deliveries move along."""
        old = await self.by_chat(old_chat_id)
        new = await self.by_chat(new_chat_id)
        if old is None:
            return new
        if new is None:
            old.chat_id = new_chat_id
            old.chat_type = "supergroup"
            old.updated_at = utc_now()
            target = old
        else:
            # The supergroup registered itself first: keep its row, carry the tags over.
            new.province = new.province or old.province
            new.commune = new.commune or old.commune
            new.labels = sorted(set(new.labels or []) | set(old.labels or []))
            new.active = True
            old.active = False  # the old row keeps the old chat id, for history
            target = new
            # Pending deliveries move to the kept row, unless that row already has one for the
            # same announcement: then the old one is cancelled (one copy per group, never two).
            already = select(Delivery.announcement_id).where(Delivery.group_id == new.id).scalar_subquery()
            await self.session.execute(
                update(Delivery)
                .where(Delivery.group_id == old.id, Delivery.status == "pending", Delivery.announcement_id.in_(already))
                .values(status="cancelled", error="merged: the supergroup already has this announcement")
            )
            await self.session.execute(
                update(Delivery)
                .where(Delivery.group_id == old.id, Delivery.status == "pending")
                .values(group_id=new.id)
            )
        await self.session.execute(
            update(Delivery)
            .where(Delivery.chat_id == old_chat_id, Delivery.status.in_(("pending", "sending")))
            .values(chat_id=new_chat_id)
        )
        await self.session.flush()
        return target

    async def set_province(self, chat_id: int, province: str | None) -> Group | None:
        group = await self.by_chat(chat_id)
        if group is not None and (province is None or province in PROVINCES):
            group.province = province
            group.updated_at = utc_now()
        return group

    async def set_commune(self, chat_id: int, commune: str | None) -> Group | None:
        group = await self.by_chat(chat_id)
        if group is not None:
            group.commune = clean_tag_text(commune) if commune else None
            group.updated_at = utc_now()
        return group

    async def add_label(self, chat_id: int, label: str) -> Group | None:
        group = await self.by_chat(chat_id)
        if group is not None and clean_tag_text(label):
            labels = list(group.labels or [])
            if fold(label) not in {fold(str(existing)) for existing in labels}:
                labels.append(clean_tag_text(label))
            group.labels = labels
            group.updated_at = utc_now()
        return group

    async def remove_label(self, chat_id: int, label: str) -> Group | None:
        group = await self.by_chat(chat_id)
        if group is not None:
            group.labels = [existing for existing in group.labels or [] if fold(str(existing)) != fold(label)]
            group.updated_at = utc_now()
        return group

    async def all_groups(self, *, active_only: bool = True) -> list[Group]:
        query = select(Group).order_by(Group.id)
        if active_only:
            query = query.where(Group.active)
        return list((await self.session.scalars(query)).all())

    async def search(self, text: str, *, limit: int = 20, offset: int = 0) -> tuple[list[Group], int]:
        """Groups whose title, commune, province or labels contain ``text`` (accent-insensitive)."""
        needle = fold(text)
        matches = []
        for group in await self.all_groups(active_only=False):
            haystack = " ".join(
                [
                    group.title,
                    group.commune or "",
                    PROVINCES.get(group.province or "", ""),
                    *map(str, group.labels or []),
                ]
            )
            if not needle or needle in fold(haystack) or needle == str(group.chat_id):
                matches.append(group)
        matches.sort(key=lambda g: (not g.active, fold(g.title)))
        return matches[offset : offset + limit], len(matches)

    async def reach(self, scope: Sequence[str], chosen: Sequence[str] = ()) -> Reach:
        """Active groups within ``scope`` (and matching any ``chosen`` tag, if given), with tag counts."""
        reachable = [g for g in await self.all_groups() if in_scope(g, scope)]
        counts: Counter[str] = Counter(tag for g in reachable for tag in group_tags(g))
        selected = [g for g in reachable if in_scope(g, chosen)] if chosen else reachable
        return Reach([g.id for g in selected], dict(counts))
