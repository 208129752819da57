"""Group registry, tagging, roles and the /thongbao flow, through the real Application and fake Bot API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

import texts
from bot.app import build_application, running
from broadcasts.models import Announcement, Broadcaster, Delivery, Group, GroupTag
from broadcasts.registry import GroupRepository
from broadcasts.roles import RoleRepository
from broadcasts.when import parse_when
from nlu.settings import NluSettings
from storage.engine import session_factory
from storage.settings import StorageSettings
from tests.conftest import NO_SUPPORT_CHAT
from tests.fake_bot_api import Call, FakeBotAPI
from tests.test_telegram_bot import buttons, nlu_for_bot, settings_for, storage_for_bot  # noqa: F401

ADMIN = 900_001
BROADCASTER = 900_002
STRANGER = 900_003
GROUP_ADMIN = 900_004


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture(scope="module")
async def app(server: FakeBotAPI, nlu_for_bot: NluSettings, storage_for_bot: StorageSettings) -> AsyncIterator[Any]:  # noqa: F811
    settings = settings_for(server, admin_user_ids=str(ADMIN), broadcast_progress_seconds=1.0)
    application = build_application(settings, nlu_for_bot, storage_for_bot, NO_SUPPORT_CHAT)
    async with running(application, poll_timeout=1) as started:
        yield started


@pytest.fixture
async def fake(server: FakeBotAPI, app: Any, engine: AsyncEngine) -> FakeBotAPI:
    server.reset_faults()
    server.clear()
    async with session_factory(engine)() as session, session.begin():
        for model in (Delivery, Announcement, Broadcaster, GroupTag, Group):
            await session.execute(delete(model))
    return server


async def send(fake: FakeBotAPI, update: dict[str, Any], method: str = "sendMessage", chat: int | None = None) -> Call:
    since = time.monotonic()
    fake.push_update(update)
    [call] = await fake.wait_for(method, (lambda c: chat is None or c.chat_id == chat), since=since, timeout=15)
    return call


async def add_groups(fake: FakeBotAPI, count: int, start: int = 1) -> list[int]:
    ids = []
    for i in range(start, start + count):
        chat_id = -1002000000000 - i
        fake.push_update(
            fake.make_my_chat_member(chat_id, f"Tổ CNSCĐ thôn {i}", "supergroup", "left", "member", GROUP_ADMIN)
        )
        ids.append(chat_id)
    await fake.wait_updates_consumed()
    return ids


async def wait_groups(engine: AsyncEngine, expected: int) -> None:
    for _ in range(100):
        async with session_factory(engine)() as session:
            if await session.scalar(select(func.count()).select_from(Group).where(Group.active)) == expected:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {expected} active groups")


async def test_registration_removal_and_migration(fake: FakeBotAPI, engine: AsyncEngine) -> None:
    [first, second] = await add_groups(fake, 2)
    await wait_groups(engine, 2)
    fake.push_update(fake.make_my_chat_member(second, "Tổ thôn 2", "supergroup", "member", "kicked", GROUP_ADMIN))
    fake.push_update(fake.make_my_chat_member(-555, "Nhóm thường", "group", "left", "member", GROUP_ADMIN))
    await fake.wait_updates_consumed()
    for _ in range(100):  # updates are handled concurrently: wait for both effects
        async with session_factory(engine)() as session:
            kicked = await GroupRepository(session).by_chat(second)
            plain = await GroupRepository(session).by_chat(-555)
        if kicked is not None and not kicked.active and plain is not None:
            break
        await asyncio.sleep(0.05)
    fake.push_update(fake.make_migrate_message(-555, -1009990000555, GROUP_ADMIN))
    await fake.wait_updates_consumed()
    for _ in range(100):
        async with session_factory(engine)() as session:
            groups = GroupRepository(session)
            migrated = await groups.by_chat(-1009990000555)
            if migrated is not None:
                break
        await asyncio.sleep(0.05)
    async with session_factory(engine)() as session:
        groups = GroupRepository(session)
        assert (await groups.by_chat(first)).active  # type: ignore[union-attr]
        assert not (await groups.by_chat(second)).active  # type: ignore[union-attr]
        migrated = await groups.by_chat(-1009990000555)
        assert migrated is not None and migrated.active and migrated.chat_type == "supergroup"
        assert await groups.by_chat(-555) is None


async def test_tagging_by_group_admin_and_refusal_of_others(fake: FakeBotAPI, engine: AsyncEngine) -> None:
    [chat] = await add_groups(fake, 1, start=10)
    await wait_groups(engine, 1)
    fake.set_chat_admins(chat, [GROUP_ADMIN])
    refused = await send(fake, fake.make_text_message(chat, STRANGER, "/gan_the"), chat=chat)
    assert refused.params["text"] == texts.TAG_ADMINS_ONLY

    summary = await send(fake, fake.make_text_message(chat, GROUP_ADMIN, "/gan_the"), chat=chat)
    assert ("📍 Chọn tỉnh/thành", "gp") in buttons(summary)
    menu = await send(
        fake, fake.make_callback_query(chat, GROUP_ADMIN, summary.result["message_id"], "gp"), "editMessageText"
    )
    assert ("Hà Nội", "gs:ha_noi") in buttons(menu) and len(buttons(menu)) == 34
    stranger_press = await send(
        fake,
        fake.make_callback_query(chat, STRANGER, summary.result["message_id"], "gs:ca_mau"),
        "answerCallbackQuery",
    )
    assert stranger_press.params["text"] == texts.TAG_ADMINS_ONLY
    await send(
        fake, fake.make_callback_query(chat, GROUP_ADMIN, summary.result["message_id"], "gs:ha_noi"), "editMessageText"
    )
    await send(fake, fake.make_text_message(chat, GROUP_ADMIN, "/gan_the xa Phường Ba Đình"), chat=chat)
    tagged = await send(fake, fake.make_text_message(chat, GROUP_ADMIN, "/gan_the nhan vùng cao"), chat=chat)
    assert "Hà Nội" in tagged.params["text"] and "Phường Ba Đình" in tagged.params["text"]
    assert ("❌ vùng cao", "gr:0") in buttons(tagged)
    async with session_factory(engine)() as session:
        group = await GroupRepository(session).by_chat(chat)
    assert group is not None and (group.province, group.commune, group.labels) == (
        "ha_noi",
        "Phường Ba Đình",
        ["vùng cao"],
    )


async def tag(engine: AsyncEngine, chat_id: int, province: str) -> None:
    async with session_factory(engine)() as session, session.begin():
        await GroupRepository(session).set_province(chat_id, province)


async def test_rights_and_scope(fake: FakeBotAPI, engine: AsyncEngine) -> None:
    chats = await add_groups(fake, 5, start=20)
    await wait_groups(engine, 5)
    for chat in chats[:3]:
        await tag(engine, chat, "ha_noi")
    await tag(engine, chats[3], "ca_mau")
    refused = await send(fake, fake.make_text_message(STRANGER, STRANGER, "/thongbao"), chat=STRANGER)
    assert refused.params["text"] == texts.NOT_ALLOWED
    not_admin = await send(
        fake, fake.make_text_message(BROADCASTER, BROADCASTER, f"/capquyen {STRANGER}"), chat=BROADCASTER
    )
    assert not_admin.params["text"] == texts.NOT_ALLOWED

    granted = await send(fake, fake.make_text_message(ADMIN, ADMIN, f"/capquyen {BROADCASTER} tinh:ha_noi"), chat=ADMIN)
    assert "Hà Nội" in granted.params["text"]
    await send(fake, fake.make_text_message(BROADCASTER, BROADCASTER, "/thongbao"), chat=BROADCASTER)
    audience = await send(fake, fake.make_text_message(BROADCASTER, BROADCASTER, "Họp tổ lúc 8h"), chat=BROADCASTER)
    assert "<b>3 nhóm</b>" in audience.params["text"]  # only the Hà Nội groups are in reach
    listing = await send(fake, fake.make_text_message(BROADCASTER, BROADCASTER, "/nhom"), chat=BROADCASTER)
    assert "3 nhóm" in listing.params["text"]
    await send(fake, fake.make_text_message(BROADCASTER, BROADCASTER, "/huy"), chat=BROADCASTER)

    roles = await send(fake, fake.make_text_message(ADMIN, ADMIN, "/quyen"), chat=ADMIN)
    assert f"<code>{BROADCASTER}</code>: Hà Nội" in roles.params["text"]
    await send(fake, fake.make_text_message(ADMIN, ADMIN, f"/thuhoi {BROADCASTER}"), chat=ADMIN)
    again = await send(fake, fake.make_text_message(BROADCASTER, BROADCASTER, "/thongbao"), chat=BROADCASTER)
    assert again.params["text"] == texts.NOT_ALLOWED
    async with session_factory(engine)() as session:
        assert await RoleRepository(session).get(BROADCASTER) is None


async def compose(fake: FakeBotAPI, user: int, content: dict[str, Any]) -> Call:
    await send(fake, fake.make_text_message(user, user, "/thongbao"), chat=user)
    return await send(fake, content, chat=user)


async def press(fake: FakeBotAPI, user: int, message: Call, data: str, method: str = "editMessageText") -> Call:
    return await send(fake, fake.make_callback_query(user, user, message.result["message_id"], data), method)


async def test_compose_preview_confirm_creates_the_outbox(fake: FakeBotAPI, engine: AsyncEngine) -> None:
    chats = await add_groups(fake, 4, start=40)
    await wait_groups(engine, 4)
    await tag(engine, chats[0], "nghe_an")
    await tag(engine, chats[1], "nghe_an")
    text = "<b>Khai giảng lớp OneTouch</b> tối thứ Bảy tại nhà văn hóa &amp; trực tuyến"
    audience = await compose(
        fake,
        ADMIN,
        fake.make_text_message(
            ADMIN, ADMIN, "Khai giảng lớp OneTouch tối thứ Bảy", entities=[{"type": "bold", "offset": 0, "length": 23}]
        ),
    )
    assert "<b>4 nhóm</b>" in audience.params["text"]
    chosen = await press(fake, ADMIN, audience, "bt:0")
    assert "<b>2 nhóm</b>" in chosen.params["text"] and "Nghệ An" in chosen.params["text"]
    options = await press(fake, ADMIN, audience, "bn")
    pinned = await press(fake, ADMIN, options, "bp")
    assert "Ghim tin: bật" in pinned.params["text"]
    since = time.monotonic()
    fake.push_update(fake.make_callback_query(ADMIN, ADMIN, options.result["message_id"], "bw"))
    [preview, summary] = await fake.wait_for("sendMessage", lambda c: c.chat_id == ADMIN, count=2, since=since)
    assert preview.params["text"].startswith("<b>Khai giảng lớp OneTouch</b>")
    assert "2 nhóm" in summary.params["text"] and [d for _, d in buttons(summary)] == ["bo", "bc"]
    confirmed = await press(fake, ADMIN, summary, "bo")
    assert "Thông báo #" in confirmed.params["text"]
    async with session_factory(engine)() as session:
        announcement = await session.scalar(select(Announcement).order_by(Announcement.id.desc()))
        assert announcement is not None and announcement.total == 2 and announcement.pin
        deliveries = (await session.scalars(select(Delivery).where(Delivery.announcement_id == announcement.id))).all()
    assert sorted(d.chat_id for d in deliveries) == sorted(chats[:2])
    assert text.split("</b>")[0] in announcement.text


async def test_cancel_and_limits(fake: FakeBotAPI, engine: AsyncEngine) -> None:
    await add_groups(fake, 2, start=60)
    await wait_groups(engine, 2)
    too_long = await compose(fake, ADMIN, fake.make_text_message(ADMIN, ADMIN, "a" * 4097))
    assert too_long.params["text"] == texts.COMPOSE_TOO_LONG.format(length=4097, limit=4096)
    caption = await send(fake, fake.make_photo_message(ADMIN, ADMIN, caption="c" * 1025), chat=ADMIN)
    assert caption.params["text"] == texts.COMPOSE_TOO_LONG.format(length=1025, limit=1024)
    photo = await send(fake, fake.make_photo_message(ADMIN, ADMIN, caption="Ảnh tập huấn"), chat=ADMIN)
    options = await press(fake, ADMIN, photo, "bn")
    since = time.monotonic()
    fake.push_update(fake.make_callback_query(ADMIN, ADMIN, options.result["message_id"], "bw"))
    [summary] = await fake.wait_for(
        "sendMessage", lambda c: c.chat_id == ADMIN and "Xác nhận" in (c.text or ""), since=since
    )
    assert fake.calls_of("sendPhoto")[-1].params["caption"] == "Ảnh tập huấn"  # the preview
    cancelled = await press(fake, ADMIN, summary, "bc")
    assert cancelled.params["text"] == texts.COMPOSE_CANCELLED
    async with session_factory(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(Announcement)) == 0


async def test_schedule_list_and_cancel(fake: FakeBotAPI, engine: AsyncEngine) -> None:
    await add_groups(fake, 3, start=80)
    await wait_groups(engine, 3)
    audience = await compose(fake, ADMIN, fake.make_text_message(ADMIN, ADMIN, "Hạn nộp báo cáo 30/12"))
    options = await press(fake, ADMIN, audience, "bn")
    asked = await press(fake, ADMIN, options, "bl")
    assert asked.params["text"] == texts.COMPOSE_ASK_TIME
    bad = await send(fake, fake.make_text_message(ADMIN, ADMIN, "hôm qua"), chat=ADMIN)
    assert bad.params["text"] == texts.COMPOSE_BAD_TIME
    since = time.monotonic()
    fake.push_update(fake.make_text_message(ADMIN, ADMIN, "25/12/2099 08:00"))
    [_, summary] = await fake.wait_for("sendMessage", lambda c: c.chat_id == ADMIN, count=2, since=since)
    assert "08:00 25/12/2099" in summary.params["text"]
    scheduled = await press(fake, ADMIN, summary, "bo")
    assert "Đã hẹn gửi" in scheduled.params["text"]
    listing = await send(fake, fake.make_text_message(ADMIN, ADMIN, "/lichhen"), chat=ADMIN)
    [cancel_button] = [d for _, d in buttons(listing) if d.startswith("x:")]
    answer = await press(fake, ADMIN, listing, cancel_button, "answerCallbackQuery")
    assert "Đã hủy" in answer.params["text"]
    async with session_factory(engine)() as session:
        announcement = await session.scalar(select(Announcement))
        assert announcement is not None and announcement.status == "cancelled"
        statuses = set((await session.scalars(select(Delivery.status))).all())
    assert statuses == {"cancelled"}
    stranger = await press(fake, STRANGER, listing, cancel_button, "answerCallbackQuery")
    assert stranger.params["text"] == texts.NOT_ALLOWED


def test_parse_when_is_vietnam_time() -> None:
    from datetime import datetime

    now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam
    assert parse_when("25/12/2026 08:00", now) == datetime(2026, 12, 25, 1, 0, tzinfo=UTC)
    assert parse_when("09:30", now) == datetime(2026, 11, 25, 2, 30, tzinfo=UTC)
    assert parse_when("07:00", now) is None  # already past today
    assert parse_when("31/02/2026 08:00", now) is None


async def test_confirmed_broadcast_is_delivered_with_live_progress_and_report(
    fake: FakeBotAPI, engine: AsyncEngine
) -> None:
    chats = await add_groups(fake, 6, start=100)
    await wait_groups(engine, 6)
    fake.set_chat_error(chats[5], 403, "Forbidden: bot was kicked from the supergroup chat")
    audience = await compose(fake, ADMIN, fake.make_text_message(ADMIN, ADMIN, "Cảnh báo lừa đảo giả danh công an"))
    options = await press(fake, ADMIN, audience, "bn")
    since = time.monotonic()
    fake.push_update(fake.make_callback_query(ADMIN, ADMIN, options.result["message_id"], "bw"))
    [_, summary] = await fake.wait_for("sendMessage", lambda c: c.chat_id == ADMIN, count=2, since=since)
    await press(fake, ADMIN, summary, "bo")
    sent = await fake.wait_for_sent(predicate=lambda c: c.chat_id in chats, count=5, timeout=20)
    assert sorted(c.chat_id for c in sent) == sorted(chats[:5])  # one copy each, not to the kicked group
    [report] = await fake.wait_for(
        "sendMessage", lambda c: c.chat_id == ADMIN and "Báo cáo thông báo" in (c.text or ""), timeout=20
    )
    assert "Đã gửi: 5" in report.text and "Lỗi: 1" in report.text and "forbidden" in report.text  # type: ignore[operator]
    edits = [c for c in fake.calls_of("editMessageText") if c.params.get("message_id") == summary.result["message_id"]]
    assert any("Đã gửi: 5" in c.params["text"] for c in edits)  # the confirmation message was edited live
    csv_button = next(d for _, d in buttons(report) if d.startswith("rc:"))
    document = await press(fake, ADMIN, report, csv_button, "sendDocument")
    assert document.files and document.files[0].filename.endswith(".csv")
    reported = await send(fake, fake.make_text_message(ADMIN, ADMIN, f"/baocao {csv_button.split(':')[1]}"), chat=ADMIN)
    assert "Đã gửi: 5" in reported.params["text"]
    async with session_factory(engine)() as session:
        kicked = await GroupRepository(session).by_chat(chats[5])
    assert kicked is not None and not kicked.active
