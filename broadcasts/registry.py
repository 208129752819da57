"""The team groups the bot is in, their tags, and who is in an audience — all in SQL.

Tags are rows of ``group_tags`` (``broadcasts.models.GroupTag``); a canonical tag is
``<kind>:<key>`` (``tinh:ha_noi``, ``xa:phuong ba dinh``, ``nhan:vung cao``, see
``broadcasts.tags``). Reach, counts and search are one or two statements each (IN-subqueries on
the ``(kind, key)`` index, GROUP BY for counts, LIKE on ``groups.search_text``), so their cost
follows the matching rows, never the whole registry loaded into Python.

Delivery rows are not touched here: ``broadcasts.migration.migrate_group`` composes a group
migration with the outbox's follow-up.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, false, func, or_, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from broadcasts.models import Group, GroupTag, TagKind
from broadcasts.scope import Scope, ScopeKind
from broadcasts.tags import PROVINCES, canonical_tag, clean_tag_text, fold
from storage.base import utc_now

KEY_LENGTH = 128  # GroupTag.key / display
_MAX_BOUND = 1_000  # longer value lists are inlined: SQLite and asyncpg cap bound parameters near 32k
_SINGLE = (TagKind.TINH, TagKind.XA)  # at most one per group
_CHAT_ID = re.compile(r"[+-]?\d{1,19}")


@dataclass(frozen=True)
class Reach:
    group_ids: list[int]
    tag_counts: dict[str, int]  # canonical tag → active groups within the scope carrying it


@dataclass(frozen=True)
class Moved:
    """After ``migrate``: the row that now stands for the new chat, and the old row's id (None: unknown)."""

    group: Group | None
    old_group_id: int | None


def search_text(title: str, province: str | None, commune: str | None, labels: Sequence[str]) -> str:
    """``groups.search_text``: the folded title, commune, province name and labels, one per line.

    One per line so a search never matches across two fields; the title first so the column
    also sorts by folded title.
    """
    parts = [title, commune or "", PROVINCES.get(province or "", ""), *labels]
    return "\n".join(folded for folded in map(fold, parts) if folded)


def _by_kind(tags: Iterable[str]) -> dict[str, list[str]]:
    """Canonical tags grouped by kind (invalid ones dropped), keys sorted for stable SQL."""
    found: dict[str, set[str]] = defaultdict(set)
    for tag in tags:
        canonical = canonical_tag(str(tag))
        if canonical is not None:
            kind, _, key = canonical.partition(":")
            found[kind].add(key)
    return {kind: sorted(keys) for kind, keys in sorted(found.items())}


def _one_of(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN (…)``; long lists are rendered as literals instead of one parameter each."""
    if len(values) <= _MAX_BOUND:
        return column.in_(values)  # type: ignore[no-any-return]
    return column.in_(bindparam(None, list(values), expanding=True, literal_execute=True, type_=column.type))  # type: ignore[no-any-return]


def carrying(tags: Iterable[str]) -> ColumnElement[bool] | None:
    """Groups with any of ``tags`` (an IN-subquery on the tag index); None when no tag is valid."""
    by_kind = _by_kind(tags)
    if not by_kind:
        return None
    tag = aliased(GroupTag)  # never correlated with a group_tags of the outer query
    match = or_(*(and_(tag.kind == kind, _one_of(tag.key, keys)) for kind, keys in by_kind.items()))
    return Group.id.in_(select(tag.group_id).where(match))


def within(scope: Scope) -> ColumnElement[bool]:
    """Groups inside ``scope`` (active or not)."""
    if scope.kind is ScopeKind.EVERYTHING:
        return true()
    condition = carrying(scope.tags) if scope.kind is ScopeKind.TAGGED else None
    return false() if condition is None else condition


def audience(scope: Scope, chosen: Sequence[str] = ()) -> list[ColumnElement[bool]] | None:
    """The WHERE of active groups within ``scope`` carrying any ``chosen`` tag; None: nobody.

    ``chosen`` empty means no further filter; chosen tags that are all invalid reach nobody
    (never everyone by accident).
    """
    if not scope.may_broadcast:
        return None
    conditions = [Group.active.is_(True), within(scope)]
    if chosen:
        picked = carrying(chosen)
        if picked is None:
            return None
        conditions.append(picked)
    return conditions


def chat_ids_in(text: str) -> list[int]:
    """A typed chat id, also with the minus Telegram puts in front of group ids."""
    typed = text.strip()
    if not _CHAT_ID.fullmatch(typed) or abs(int(typed)) >= 2**63:
        return []
    number = int(typed)
    return [number] if typed[0] in "+-" else [number, -number]


class GroupRepository:
    """Takes a session; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    # ------------------------------------------------------------------------- one group

    async def by_chat(self, chat_id: int) -> Group | None:
        found: Group | None = await self.session.scalar(select(Group).where(Group.chat_id == chat_id))
        return found

    async def get(self, group_id: int) -> Group | None:
        return await self.session.get(Group, group_id)

    async def _locked(self, chat_id: int) -> Group | None:
        """The group, fresh, its row locked until commit on PostgreSQL so edits of one group queue up.

        (SQLite needs no lock: every transaction there holds the write lock from its start.)
        """
        query = select(Group).where(Group.chat_id == chat_id).with_for_update()
        found: Group | None = await self.session.scalar(query.execution_options(populate_existing=True))
        return found

    def _changed(self, group: Group) -> None:
        """Tags or title changed: rebuild the search column."""
        text = search_text(group.title, group.province, group.commune, group.labels)
        if group.search_text != text:
            group.search_text = text
        group.updated_at = utc_now()

    async def register(self, chat_id: int, title: str, chat_type: str, is_forum: bool) -> Group:
        """Insert or refresh (one statement, safe when two updates about one group race)."""
        now = utc_now()
        values = {"title": title[:255], "chat_type": str(chat_type), "is_forum": is_forum, "active": True}
        insert = pg_insert if self._postgres else sqlite_insert
        statement = (
            insert(Group)
            .values(
                chat_id=chat_id,
                search_text=search_text(title[:255], None, None, []),
                registered_at=now,
                updated_at=now,
                **values,
            )
            .on_conflict_do_update(index_elements=["chat_id"], set_={**values, "updated_at": now})
        )
        await self.session.execute(statement)
        group = await self._locked(chat_id)
        assert group is not None
        text = search_text(group.title, group.province, group.commune, group.labels)
        if group.search_text != text:  # the title changed; the row is ours until commit
            group.search_text = text
        return group

    async def deactivate(self, chat_id: int) -> Group | None:
        group = await self.by_chat(chat_id)
        if group is not None and group.active:
            group.active = False
            group.updated_at = utc_now()
        return group

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> Moved:
        """Follow a group → supergroup upgrade in the registry (the outbox follows separately).

        When the supergroup registered itself first its row is kept and takes the old row's tags
        where it has none of its own (province, commune) or lacks them (labels); the old row is
        deactivated and keeps the old chat id, for history.
        """
        if old_chat_id == new_chat_id:  # nothing moved (and one row must not merge into itself)
            return Moved(await self.by_chat(new_chat_id), None)
        old = await self._locked(old_chat_id)
        new = await self._locked(new_chat_id)
        if old is None:
            return Moved(new, None)
        if new is None:
            old.chat_id = new_chat_id
            old.chat_type = "supergroup"
            old.updated_at = utc_now()
            await self.session.flush()
            return Moved(old, old.id)
        kinds = {tag.kind for tag in new.tags}
        keys = {(tag.kind, tag.key) for tag in new.tags}
        for tag in list(old.tags):
            if (tag.kind, tag.key) not in keys and not (tag.kind in _SINGLE and tag.kind in kinds):
                new.tags.append(GroupTag(kind=tag.kind, key=tag.key, display=tag.display))
                kinds.add(tag.kind)
        new.active = True
        old.active = False
        old.updated_at = utc_now()
        self._changed(new)
        await self.session.flush()
        return Moved(new, old.id)

    # --------------------------------------------------------------------------- tagging

    async def _set_single(self, group: Group, kind: TagKind, key: str | None, display: str) -> None:
        """Set or clear the group's one tag of ``kind``."""
        current = next((tag for tag in group.tags if tag.kind == kind), None)
        if current is not None and current.key == key:
            current.display = display
        else:
            if current is not None:
                group.tags.remove(current)
                await self.session.flush()  # the old row goes before the new one comes: one per group
            if key is not None:
                group.tags.append(GroupTag(kind=kind, key=key, display=display))
        self._changed(group)

    async def set_province(self, chat_id: int, province: str | None) -> Group | None:
        """Set (a PROVINCES key) or clear (None) the province; unknown keys change nothing."""
        group = await self._locked(chat_id)
        if group is not None and (province is None or province in PROVINCES):
            await self._set_single(group, TagKind.TINH, province, PROVINCES.get(province or "", ""))
        return group

    async def set_commune(self, chat_id: int, commune: str | None) -> Group | None:
        """Set or clear the commune; text with no letters or digits clears it (it could never match)."""
        group = await self._locked(chat_id)
        if group is not None:
            display = clean_tag_text(commune or "")[:KEY_LENGTH]
            key = fold(display)[:KEY_LENGTH]
            await self._set_single(group, TagKind.XA, key or None, display)
        return group

    async def add_label(self, chat_id: int, label: str) -> Group | None:
        """Add a label unless one that folds the same is there (the first spelling stays)."""
        group = await self._locked(chat_id)
        display = clean_tag_text(label)[:KEY_LENGTH]
        key = fold(display)[:KEY_LENGTH]
        if group is not None and key:
            if not any(tag.kind == TagKind.NHAN and tag.key == key for tag in group.tags):
                group.tags.append(GroupTag(kind=TagKind.NHAN, key=key, display=display))
            self._changed(group)
        return group

    async def remove_label(self, chat_id: int, label: str) -> Group | None:
        """Remove the label that folds like ``label`` (any spelling)."""
        group = await self._locked(chat_id)
        if group is not None:
            key = fold(clean_tag_text(label))[:KEY_LENGTH]
            for tag in [t for t in group.tags if t.kind == TagKind.NHAN and t.key == key]:
                group.tags.remove(tag)
            self._changed(group)
        return group

    # ------------------------------------------------------------------- many groups, in SQL

    async def search(self, text: str, scope: Scope, *, limit: int = 20, offset: int = 0) -> tuple[list[Group], int]:
        """Groups within ``scope`` whose title, commune, province name or labels contain ``text``
        (accent-insensitive), or whose chat id it is; active first, then by folded title.

        Returns one page and the number of all matches (``limit=0``: only the number).
        """
        if not scope.may_broadcast:
            return [], 0
        conditions = [within(scope)]
        needle, chat_ids = fold(text), chat_ids_in(text)
        if needle:
            found = Group.search_text.contains(needle, autoescape=True)
            conditions.append(or_(found, Group.chat_id.in_(chat_ids)) if chat_ids else found)
        total = int(await self.session.scalar(select(func.count()).select_from(Group).where(*conditions)) or 0)
        if limit <= 0 or offset >= total:
            return [], total
        by_title = Group.search_text.collate("C") if self._postgres else Group.search_text  # byte order, as SQLite
        query = select(Group).where(*conditions).order_by(Group.active.desc(), by_title, Group.id)
        return list((await self.session.scalars(query.limit(limit).offset(max(offset, 0)))).all()), total

    async def tag_counts(self, scope: Scope) -> dict[str, int]:
        """Per canonical tag, the number of active groups within ``scope`` carrying it."""
        if not scope.may_broadcast:
            return {}
        await self.session.flush()  # Core below: make this session's tag edits visible first
        connection = await self.session.connection()
        counted = await connection.execute(
            select(GroupTag.kind, GroupTag.key, func.count())
            .join(Group, Group.id == GroupTag.group_id)
            .where(Group.active.is_(True), within(scope))
            .group_by(GroupTag.kind, GroupTag.key)
        )
        return {f"{kind}:{key}": int(number) for kind, key, number in counted.tuples()}

    async def reach(self, scope: Scope, chosen: Sequence[str] = ()) -> Reach:
        """Active groups within ``scope`` (and carrying any ``chosen`` tag, if given), by id, and per
        canonical tag the number of active groups within ``scope`` carrying it (``chosen`` aside)."""
        counts = await self.tag_counts(scope)
        conditions = audience(scope, chosen) if scope.may_broadcast else None
        if conditions is None:
            return Reach([], counts)
        connection = await self.session.connection()  # plain rows: half the cost of ORM rows for 100k ids
        ids = await connection.execute(select(Group.id).where(*conditions).order_by(Group.id))
        return Reach(list(ids.scalars()), counts)

    async def count(self, scope: Scope, chosen: Sequence[str] = ()) -> int:
        """``len(reach(scope, chosen).group_ids)`` without fetching the ids or the counts."""
        conditions = audience(scope, chosen)
        if conditions is None:
            return 0
        return int(await self.session.scalar(select(func.count()).select_from(Group).where(*conditions)) or 0)
