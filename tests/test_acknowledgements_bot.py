"""The "✅ Đã nhận" button through the real Application, its sender and the fake Bot API: taps, /baocao, reminder."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

import texts
from bot.app import build_application, running
from broadcasts.models import Acknowledgement, Announcement, AnnouncementStatus, Broadcaster, Delivery, Group, GroupTag
from broadcasts.outbox import BroadcastRepository
from broadcasts.registry import GroupRepository
from broadcasts.roles import RoleRepository
from broadcasts.settings import acknowledgement_settings
from nlu.settings import NluSettings
from storage.base import utc_now
from storage.engine import session_factory
from storage.settings import StorageSettings
from tests.conftest import NO_SUPPORT_CHAT
from tests.fake_bot_api import Call, FakeBotAPI
from tests.test_broadcast_flow import ADMIN, BROADCASTER, STRANGER, add_groups, send, tag, wait_groups
from tests.test_telegram_bot import buttons, nlu_for_bot, settings_for, storage_for_bot  # noqa: F401
from texts import acknowledgements as say

MEMBER, OTHER_MEMBER = 910_001, 910_002


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


async def forget_broadcasts(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session, session.begin():
        await session.execute(delete(Acknowledgement))
        await session.execute(delete(Delivery))
        await session.execute(delete(Announcement).where(Announcement.reminder_of.is_not(None)))
        for model in (Announcement, Broadcaster, GroupTag, Group):
            await session.execute(delete(model))


@pytest.fixture
async def fake(server: FakeBotAPI, app: Any, engine: AsyncEngine) -> AsyncIterator[FakeBotAPI]:
    server.reset_faults()
    server.clear()
    await forget_broadcasts(engine)
    yield server
    app.bot_data.clock = utc_now
    await forget_broadcasts(engine)  # other modules share the database


async def wait_status(engine: AsyncEngine, announcement_id: int, status: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        async with session_factory(engine)() as session:
            announcement = await session.get(Announcement, announcement_id)
        if announcement is not None and announcement.status == status:
            return
        assert time.monotonic() < deadline, f"announcement {announcement_id} not {status}"
        await asyncio.sleep(0.1)


async def tap(fake: FakeBotAPI, chat: int, user: int, message_id: int, data: str) -> str:
    answer = await send(fake, fake.make_callback_query(chat, user, message_id, data), "answerCallbackQuery")
    return str(answer.params.get("text"))


async def report(fake: FakeBotAPI, announcement_id: int, *, with_csv: bool = True) -> tuple[Call, Call | None]:
    since = time.monotonic()
    fake.push_update(fake.make_text_message(ADMIN, ADMIN, f"/baocao {announcement_id}"))
    [text] = await fake.wait_for("sendMessage", lambda c: c.chat_id == ADMIN, since=since, timeout=15)
    if not with_csv:
        return text, None
    [document] = await fake.wait_for("sendDocument", lambda c: c.chat_id == ADMIN, since=since, timeout=15)
    return text, document


async def test_taps_report_csv_and_the_reminder(fake: FakeBotAPI, engine: AsyncEngine, app: Any) -> None:
    chats = await add_groups(fake, 4, start=300)
    await wait_groups(engine, 4)
    for chat, province in zip(chats, ("ha_noi", "ha_noi", "ca_mau"), strict=False):
        await tag(engine, chat, province)
    async with session_factory(engine)() as session, session.begin():
        groups = GroupRepository(session)
        await groups.set_commune(chats[0], "Phường Ba Đình")
        group_ids = [(await groups.by_chat(chat)).id for chat in chats]  # type: ignore[union-attr]
        announcement = await BroadcastRepository(session).create_announcement(
            sender_user_id=ADMIN, sender_chat_id=ADMIN, kind="text", text="Họp tổ lúc 8h", group_ids=group_ids
        )
        announcement.ack_button = True  # what the /thongbao option sets
        original = announcement.id
    sent = await fake.wait_for_sent(predicate=lambda c: c.chat_id in chats, count=4, timeout=20)
    copies = {c.chat_id: c.result["message_id"] for c in sent}
    await wait_status(engine, original, AnnouncementStatus.DONE)

    # Taps in the groups: the first counts, the rest are thanked; forged ones are answered too.
    ack = f"ak:{original}"
    assert await tap(fake, chats[0], MEMBER, copies[chats[0]], ack) == say.TOAST_COUNTED
    assert await tap(fake, chats[0], OTHER_MEMBER, copies[chats[0]], ack) == say.TOAST_ALREADY
    assert await tap(fake, MEMBER, MEMBER, 1, ack) == say.TOAST_NOT_HERE  # a private chat
    channel = fake.make_callback_query(-1003000000001, MEMBER, 7, ack, chat_type="channel")
    assert (await send(fake, channel, "answerCallbackQuery")).params["text"] == say.TOAST_NOT_HERE
    assert await tap(fake, chats[1], MEMBER, copies[chats[1]], "ak:999999") == say.TOAST_UNKNOWN
    assert await tap(fake, -1002999999999, MEMBER, 5, ack) == say.TOAST_NOT_IN_AUDIENCE
    async with session_factory(engine)() as session:
        rows = (await session.scalars(select(Acknowledgement))).all()
    assert [(r.announcement_id, r.group_id, r.user_id) for r in rows] == [(original, group_ids[0], MEMBER)]

    # /baocao: the figures by place and every group in the CSV.
    text, document = await report(fake, original)
    body = str(text.params["text"])
    assert "Đã xác nhận: 1 nhóm · ⏳ Chưa xác nhận: 3 nhóm (trong 4 nhóm đã nhận tin)" in body
    assert "• Hà Nội: ✅ 1 · ⏳ 1" in body and "• Cà Mau: ✅ 0 · ⏳ 1" in body and "Chưa gắn tỉnh" in body
    assert "• Phường Ba Đình (Hà Nội): ✅ 1 · ⏳ 0" in body
    assert f"gõ lại /baocao {original}" in body  # the reminder is not due yet …
    assert not [d for _, d in buttons(text) if d.startswith("ar:")]  # … so no button
    assert document is not None and document.files[0].filename == say.CSV_FILENAME.format(id=original)
    stored = fake.upload(document.files[0].file_id)
    assert stored is not None and stored.content is not None
    table = list(csv.reader(io.StringIO(stored.content.decode("utf-8-sig"))))
    assert tuple(table[0]) == say.CSV_HEADER and len(table) == 5
    assert {row[0]: row[5] for row in table[1:]} == {
        "Tổ CNSCĐ thôn 300": "có",
        "Tổ CNSCĐ thôn 301": "không",
        "Tổ CNSCĐ thôn 302": "không",
        "Tổ CNSCĐ thôn 303": "không",
    }

    # After ACK_REMINDER_AFTER_HOURS: the sender may remind the three groups once; the reminder is really sent.
    app.bot_data.clock = lambda: utc_now() + acknowledgement_settings().reminder_after + timedelta(hours=1)
    text, _ = await report(fake, original)
    [remind] = [d for _, d in buttons(text) if d.startswith("ar:")]
    refused = await send(fake, fake.make_callback_query(STRANGER, STRANGER, 1, remind), "answerCallbackQuery")
    assert refused.params["text"] == texts.NOT_ALLOWED
    since = time.monotonic()
    made = await send(
        fake, fake.make_callback_query(ADMIN, ADMIN, text.result["message_id"], remind), "answerCallbackQuery"
    )
    assert "Đã tạo lời nhắc" in str(made.params["text"])
    reminded = await fake.wait_for(
        "sendMessage", lambda c: c.ok and c.chat_id in chats, count=3, since=since, timeout=20
    )
    assert sorted(int(c.chat_id or 0) for c in reminded) == sorted(chats[1:])
    assert all(str(c.params["text"]).startswith(say.REMINDER_HEADER) for c in reminded)
    async with session_factory(engine)() as session:
        reminder = await session.scalar(select(Announcement).where(Announcement.reminder_of == original))
    assert reminder is not None and reminder.ack_button and reminder.sender_user_id == ADMIN
    await wait_status(engine, reminder.id, AnnouncementStatus.DONE)
    [final] = await fake.wait_for(
        "sendMessage",
        lambda c: c.chat_id == ADMIN and f"Báo cáo thông báo #{reminder.id}" in (c.text or ""),
        timeout=20,
    )
    assert say.OF_REMINDER.format(original=original) in str(final.text)
    assert not [c for c in fake.calls_of("sendMessage") if c.chat_id == chats[0] and c.time >= since]
    again = await send(
        fake, fake.make_callback_query(ADMIN, ADMIN, text.result["message_id"], remind), "answerCallbackQuery"
    )
    assert again.params["text"] == say.REMINDER_ALREADY.format(id=original)

    # A tap under the reminder's copy counts for the original announcement.
    copy = next(c for c in reminded if c.chat_id == chats[1]).result["message_id"]
    assert await tap(fake, chats[1], MEMBER, copy, ack) == say.TOAST_COUNTED
    text, _ = await report(fake, original)
    assert "Đã xác nhận: 2 nhóm" in str(text.params["text"]) and f"Đã gửi lời nhắc: thông báo #{reminder.id}" in str(
        text.params["text"]
    )


async def test_only_a_sender_with_rights_left_may_remind_and_only_once(
    fake: FakeBotAPI, engine: AsyncEngine, app: Any
) -> None:
    chats = await add_groups(fake, 2, start=400)
    await wait_groups(engine, 2)
    async with session_factory(engine)() as session, session.begin():
        await RoleRepository(session).grant(BROADCASTER, [], ADMIN)
        group_ids = [(await GroupRepository(session).by_chat(chat)).id for chat in chats]  # type: ignore[union-attr]
        announcement = await BroadcastRepository(session).create_announcement(
            sender_user_id=BROADCASTER, sender_chat_id=BROADCASTER, kind="text", text="Nộp báo cáo", group_ids=group_ids
        )
        announcement.ack_button = True
        original = announcement.id
    await fake.wait_for_sent(predicate=lambda c: c.chat_id in chats, count=2, timeout=20)
    await wait_status(engine, original, AnnouncementStatus.DONE)
    app.bot_data.clock = lambda: utc_now() + acknowledgement_settings().reminder_after + timedelta(hours=1)
    since = time.monotonic()
    fake.push_update(fake.make_text_message(BROADCASTER, BROADCASTER, f"/baocao {original}"))
    [shown] = await fake.wait_for("sendMessage", lambda c: c.chat_id == BROADCASTER, since=since, timeout=15)
    [remind] = [d for _, d in buttons(shown) if d.startswith("ar:")]

    async with session_factory(engine)() as session, session.begin():
        await RoleRepository(session).revoke(BROADCASTER)  # rights are checked at the tap, not when shown
    press = fake.make_callback_query(BROADCASTER, BROADCASTER, shown.result["message_id"], remind)
    assert (await send(fake, press, "answerCallbackQuery")).params["text"] == texts.NOT_ALLOWED
    async with session_factory(engine)() as session:
        assert await session.scalar(select(Announcement).where(Announcement.reminder_of == original)) is None

    async with session_factory(engine)() as session, session.begin():
        await RoleRepository(session).grant(BROADCASTER, ["tinh:ha_noi"], ADMIN)  # rights again (any scope)
    since = time.monotonic()
    assert "Đã tạo lời nhắc" in str((await send(fake, press, "answerCallbackQuery")).params["text"])
    await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id in chats, count=2, since=since, timeout=20)
    async with session_factory(engine)() as session:
        reminder = await session.scalar(select(Announcement).where(Announcement.reminder_of == original))
    assert reminder is not None and reminder.sender_user_id == BROADCASTER
    # The progress message of the reminder goes to the presser's chat and is remembered for the live edits.
    [progress] = await fake.wait_for(
        "sendMessage", lambda c: c.chat_id == BROADCASTER and f"Thông báo #{reminder.id}" in (c.text or ""), since=since
    )
    admin_press = fake.make_callback_query(ADMIN, ADMIN, 1, remind)  # a super-admin may press it, but it is spent
    answer = await send(fake, admin_press, "answerCallbackQuery")
    assert answer.params["text"] == say.REMINDER_ALREADY.format(id=original)
    await wait_status(engine, reminder.id, AnnouncementStatus.DONE)
    deadline = time.monotonic() + 10  # stored right after the message was sent: wait for that write
    while True:
        async with session_factory(engine)() as session:
            done = await session.get(Announcement, reminder.id)
        if done is not None and done.progress_message_id == progress.result["message_id"]:
            break
        assert time.monotonic() < deadline, "the reminder's progress message id was not stored"
        await asyncio.sleep(0.05)
