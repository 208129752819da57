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

from knowledge.models import Broadcaster, Delivery, Group, utc_now

# The 34 provinces and centrally-run cities from 1 July 2025 (two-tier local government).
PROVINCES: dict[str, str] = {
    "ha_noi": "Hà Nội",
    "ho_chi_minh": "TP. Hồ Chí Minh",
    "hai_phong": "Hải Phòng",
    "da_nang": "Đà Nẵng",
    "hue": "Huế",
    "can_tho": "Cần Thơ",
    "tuyen_quang": "Tuyên Quang",
    "cao_bang": "Cao Bằng",
    "lai_chau": "Lai Châu",
    "lao_cai": "Lào Cai",
    "thai_nguyen": "Thái Nguyên",
    "dien_bien": "Điện Biên",
    "lang_son": "Lạng Sơn",
    "son_la": "Sơn La",
    "phu_tho": "Phú Thọ",
    "bac_ninh": "Bắc Ninh",
    "quang_ninh": "Quảng Ninh",
    "hung_yen": "Hưng Yên",
    "ninh_binh": "Ninh Bình",
    "thanh_hoa": "Thanh Hóa",
    "nghe_an": "Nghệ An",
    "ha_tinh": "Hà Tĩnh",
    "quang_tri": "Quảng Trị",
    "quang_ngai": "Quảng Ngãi",
    "gia_lai": "Gia Lai",
    "khanh_hoa": "Khánh Hòa",
    "lam_dong": "Lâm Đồng",
    "dak_lak": "Đắk Lắk",
    "dong_nai": "Đồng Nai",
    "tay_ninh": "Tây Ninh",
    "vinh_long": "Vĩnh Long",
    "dong_thap": "Đồng Tháp",
    "ca_mau": "Cà Mau",
    "an_giang": "An Giang",
}
PROVINCE_TAG = "tinh"
COMMUNE_TAG = "xa"
LABEL_TAG = "nhan"
MAX_TAG_TEXT = 64


def fold(text: str) -> str:
    """Case- and accent-insensitive key for matching communes and labels."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(re.findall(r"\w+", plain))


def clean_tag_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())[:MAX_TAG_TEXT]


def group_tags(group: Group) -> set[str]:
    tags = set()
    if group.province:
        tags.add(f"{PROVINCE_TAG}:{group.province}")
    if group.commune:
        tags.add(f"{COMMUNE_TAG}:{fold(group.commune)}")
    tags.update(f"{LABEL_TAG}:{fold(str(label))}" for label in group.labels or [])
    return tags


def canonical_tag(tag: str) -> str | None:
    """``tinh:ha_noi`` / ``xa:Phường Ba Đình`` / ``nhan:…`` in matching form, or None if invalid."""
    kind, _, value = tag.partition(":")
    if kind == PROVINCE_TAG:
        return tag if value in PROVINCES else None
    if kind in (COMMUNE_TAG, LABEL_TAG) and fold(value):
        return f"{kind}:{fold(value)}"
    return None


def describe_tag(tag: str) -> str:
    kind, _, value = tag.partition(":")
    if kind == PROVINCE_TAG:
        return PROVINCES.get(value, value)
    prefix = {COMMUNE_TAG: "Xã/phường", LABEL_TAG: "Nhãn"}.get(kind, kind)
    return f"{prefix}: {value}"


def in_scope(group: Group, scope: Iterable[str]) -> bool:
    wanted = {canonical_tag(tag) for tag in scope} - {None}
    return not wanted or bool(group_tags(group) & wanted)  # type: ignore[operator]


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
