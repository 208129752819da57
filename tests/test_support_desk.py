"""The support desk through the real Application, the real Rasa model and the fake Bot API server.

Covers: the anonymous ticket, relay both ways (text and photo), follow-ups, answering with a
topic, close and rating, the sweep's reminders and give-up with a fake clock, forged callbacks
and outsiders, routing by province (group tag and the member's own choice), a forum support
chat whose topic is deleted, a failed delivery, and ``/hotro``.

Longer than 400 lines because every scenario shares one running bot, support chats and
helpers; splitting them would start the bot and Rasa once per file.

The app runs with ``concurrent_updates=1``: updates are handled in order, so "this update
changed nothing" is proven by a later probe update's answer (a barrier), never by a sleep.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

import texts
import texts.support as say
from bot.app import build_application, running
from bot.features.support.sweep import sweep
from bot.settings import BotSettings
from broadcasts.registry import GroupRepository
from knowledge.content_files import Content
from nlu.server import LocalRasaServer
from nlu.settings import NluSettings
from storage.engine import session_factory
from storage.settings import StorageSettings
from support.models import EventKind, Ticket, TicketEvent
from support.settings import SupportSettings
from tests.conftest import knowledge_engine
from tests.fake_bot_api import Call, FakeBotAPI

SUPPORT = -1_009_000_000_001
PROVINCE_CHAT = -1_009_000_000_002  # attached to Nghệ An
FORUM_CHAT = -1_009_000_000_003  # a forum supergroup attached to Huế
TEAM_GROUP = -1_009_000_000_010  # a team group tagged Nghệ An
ADMIN = 4_000_001
SUPPORTER = 4_000_002
OUTSIDER = 4_000_003
UNKNOWN_QUESTION = "giá vàng hôm nay bao nhiêu một chỉ, số em 0912 345 678"


class Clock:
    """The desk's clock: real time until a test moves it."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        for chat in (SUPPORT, PROVINCE_CHAT, FORUM_CHAT):
            fake.add_chat(chat, "supergroup", f"Hỗ trợ {chat}", is_forum=chat == FORUM_CHAT)
            fake.set_chat_admins(chat, [ADMIN, fake.bot_id])
            fake.set_chat_member_status(chat, SUPPORTER, "member")
            fake.set_chat_member_status(chat, OUTSIDER, "left")
        fake.set_admin_rights(FORUM_CHAT, fake.bot_id, can_manage_topics=True)
        yield fake


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database of its own: support chats attached here must not reach other modules' bots."""
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('desk-db') / 'assistant.db'}"


@pytest.fixture(scope="module")
async def engine(database_url: str, content: Content) -> AsyncIterator[AsyncEngine]:
    engine = await knowledge_engine(database_url, content)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def app(server: FakeBotAPI, rasa_server: LocalRasaServer, database_url: str, engine: AsyncEngine) -> Any:
    settings = BotSettings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=server.token,
        telegram_api_base_url=server.base_url,
        telegram_api_file_url=server.base_file_url,
        admin_user_ids=str(ADMIN),
        concurrent_updates=1,
        rate_limit_burst=50,
        rate_limit_per_second=50,
        broadcast_sender_in_bot=False,
    )
    support = SupportSettings(  # type: ignore[call-arg]
        _env_file=None,
        support_chat_id=SUPPORT,
        support_remind_after_minutes=30,
        support_give_up_after_minutes=240,
        support_sweep_seconds=3600,  # the tests run the sweep themselves
        support_digest_hour=-1,
    )
    nlu = NluSettings(_env_file=None, rasa_url=rasa_server.url, rasa_token=rasa_server.token)  # type: ignore[call-arg]
    storage = StorageSettings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    application = build_application(settings, nlu, storage, support)
    application.bot_data.clock = Clock()
    async with running(application, poll_timeout=1) as started:
        yield started


@pytest.fixture
def fake(server: FakeBotAPI, app: Any) -> FakeBotAPI:
    server.reset_faults()
    server.clear()
    return server


_users = iter(range(4_100_000, 4_200_000))


def buttons(call: Call) -> list[tuple[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


async def push_and_wait(fake: FakeBotAPI, update: dict[str, Any], method: str, chat: int | None = None) -> Call:
    since = time.monotonic()
    fake.push_update(update)
    [call] = await fake.wait_for(method, lambda c: chat is None or c.chat_id == chat, since=since, timeout=15)
    return call


async def ask(fake: FakeBotAPI, chat: int, text: str, user: int, **kwargs: Any) -> Call:
    return await push_and_wait(fake, fake.make_text_message(chat, user, text, **kwargs), "sendMessage", chat)


async def press(fake: FakeBotAPI, chat: int, message_id: int, user: int, data: str, method: str) -> Call:
    return await push_and_wait(fake, fake.make_callback_query(chat, user, message_id, data), method)


async def barrier(fake: FakeBotAPI) -> None:
    """Every update pushed before has been handled (updates are handled one at a time, in order)."""
    await ask(fake, 4_099_999, "/help", 4_099_999)


async def ticket_of(engine: AsyncEngine, number: int) -> Ticket:
    async with session_factory(engine)() as session:
        ticket = await session.get(Ticket, number)
    assert ticket is not None
    return ticket


async def events(engine: AsyncEngine, number: int) -> list[str]:
    async with session_factory(engine)() as session:
        rows = await session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == number))
    return list(rows)


async def open_ticket(fake: FakeBotAPI, user: int, chat: int | None = None, question: str = UNKNOWN_QUESTION) -> Call:
    """Ask something unknown, tap the hand-off button; returns the ticket posted in the support chat."""
    where = chat if chat is not None else user
    text = f"@{fake.username} {question}" if where < 0 else question
    unknown = await ask(fake, where, text, user)
    assert unknown.params["text"].endswith(say.UNKNOWN_OFFER_HUMAN)
    handoff = next(d for label, d in buttons(unknown) if label == texts.BUTTON_HANDOFF)
    since = time.monotonic()
    fake.push_update(fake.make_callback_query(where, user, unknown.result["message_id"], handoff))
    [posted] = await fake.wait_for("sendMessage", lambda c: "Phiếu #" in (c.text or ""), since=since, timeout=15)
    [edit] = await fake.wait_for("editMessageText", since=since, timeout=10)
    assert "✅ Đã chuyển câu hỏi" in edit.params["text"]
    return posted


def number_of(posted: Call) -> int:
    return int(posted.params["text"].split("Phiếu #", 1)[1].split("<", 1)[0])


async def test_anonymous_ticket_and_relay_both_ways_with_a_photo(fake: FakeBotAPI, engine: AsyncEngine) -> None:
    user = next(_users)
    fake.add_user(user, first_name="Bà Tư", username="batu_nghean")
    posted = await open_ticket(fake, user)
    number = number_of(posted)
    header = posted.params["text"]
    assert posted.chat_id == SUPPORT
    assert "Bà Tư" not in header and "batu" not in header and str(user) not in header  # anonymous
    assert "0912" not in header and "[số điện thoại]" in header  # no phone numbers
    assert "tin nhắn riêng" in header and say.TICKET_HOW_REPLY in header
    assert [d for _, d in buttons(posted)] == [f"sg:{number}", f"so:{number}", f"sc:{number}"]

    # A supporter replies to the ticket with text: heading + copy to the member, confirmation in the chat.
    since = time.monotonic()
    fake.push_update(
        fake.make_text_message(
            SUPPORT, SUPPORTER, "Bác xem giá vàng ở tiệm nhé", reply_to_message=posted.result["message_id"]
        )
    )
    [copied] = await fake.wait_for("copyMessage", lambda c: c.chat_id == user, since=since, timeout=15)
    [confirmed] = await fake.wait_for("sendMessage", lambda c: c.chat_id == SUPPORT, since=since)
    assert confirmed.params["text"] == say.DELIVERED.format(number=number)
    heading = next(c for c in fake.sent_messages(user) if f"câu hỏi #{number}" in (c.text or ""))
    assert fake.messages[(user, copied.result["message_id"])]["text"] == "Bác xem giá vàng ở tiệm nhé"
    stored = await ticket_of(engine, number)
    assert stored.first_response_at is not None and stored.status == "open"

    # A photo reply is copied as a photo.
    since = time.monotonic()
    fake.push_update(
        fake.make_photo_message(
            SUPPORT, SUPPORTER, caption="Ảnh hướng dẫn", reply_to_message=posted.result["message_id"]
        )
    )
    [photo] = await fake.wait_for("copyMessage", lambda c: c.chat_id == user, since=since, timeout=15)
    assert "photo" in fake.messages[(user, photo.result["message_id"])]

    # The member replies to the relayed answer: it joins the ticket in the support chat.
    since = time.monotonic()
    fake.push_update(
        fake.make_text_message(
            user, user, "cảm ơn, nhưng ở xã không có tiệm", reply_to_message=heading.result["message_id"]
        )
    )
    [forwarded] = await fake.wait_for("copyMessage", lambda c: c.chat_id == SUPPORT, since=since, timeout=15)
    [thanks] = await fake.wait_for("sendMessage", lambda c: c.chat_id == user, since=since)
    assert thanks.params["text"] == say.FOLLOW_UP_SENT.format(number=number)
    assert fake.messages[(SUPPORT, forwarded.result["message_id"])]["text"] == "cảm ơn, nhưng ở xã không có tiệm"

    # The supporter answers the follow-up by replying to the forwarded copy: same ticket.
    since = time.monotonic()
    fake.push_update(
        fake.make_text_message(
            SUPPORT, SUPPORTER, "Vậy bác hỏi bưu điện xã", reply_to_message=forwarded.result["message_id"]
        )
    )
    await fake.wait_for("copyMessage", lambda c: c.chat_id == user, since=since, timeout=15)
    # The confirmation comes after the event is stored: a barrier for the count below.
    await fake.wait_for("sendMessage", lambda c: c.chat_id == SUPPORT and "Đã chuyển" in (c.text or ""), since=since)
    assert (await events(engine, number)).count(EventKind.REPLY) == 3
    assert EventKind.MEMBER_REPLY in await events(engine, number)
    again = await press(fake, user, heading.result["message_id"], user, "h:1", "answerCallbackQuery")
    assert again.params.get("text") in (texts.MENU_EXPIRED, texts.FEEDBACK_NOT_YOURS)


async def test_close_and_rating_only_by_the_member(fake: FakeBotAPI, engine: AsyncEngine) -> None:
    user = next(_users)
    posted = await open_ticket(fake, user)
    number = number_of(posted)
    closed = await press(fake, SUPPORT, posted.result["message_id"], SUPPORTER, f"sc:{number}", "sendMessage")
    assert closed.chat_id == user and closed.params["text"] == say.CLOSED_MEMBER.format(number=number)
    stored = await ticket_of(engine, number)
    assert (stored.status, stored.close_reason) == ("closed", "resolved") and stored.closed_at is not None
    [notice] = await fake.wait_for("sendMessage", lambda c: c.chat_id == SUPPORT and "đã đóng" in (c.text or ""))
    rate_up = buttons(closed)[0][1]
    stranger = next(_users)
    refused = await press(fake, user, closed.result["message_id"], stranger, rate_up, "answerCallbackQuery")
    assert refused.params["text"] == say.NOT_YOUR_TICKET
    rated = await press(fake, user, closed.result["message_id"], user, rate_up, "answerCallbackQuery")
    assert rated.params["text"] == say.RATED
    once = await press(fake, user, closed.result["message_id"], user, buttons(closed)[1][1], "answerCallbackQuery")
    assert once.params["text"] == say.RATE_ONCE
    assert (await ticket_of(engine, number)).rating == 1
    twice = await press(fake, SUPPORT, posted.result["message_id"], SUPPORTER, f"sc:{number}", "answerCallbackQuery")
    assert twice.params["text"] == say.ALREADY_CLOSED
    assert notice.params["text"].startswith("🔒")


async def test_answer_with_a_topic_and_out_of_scope(fake: FakeBotAPI, engine: AsyncEngine) -> None:
    user = next(_users)
    posted = await open_ticket(fake, user)
    number, header_id = number_of(posted), posted.result["message_id"]
    picker = await press(fake, SUPPORT, header_id, SUPPORTER, f"sg:{number}", "editMessageReplyMarkup")
    domains = [d for _, d in buttons(picker) if d.startswith("sd:")]
    assert domains and buttons(picker)[-1][1] == f"sm:{number}"
    topics = await press(fake, SUPPORT, header_id, SUPPORTER, domains[0], "editMessageReplyMarkup")
    choice = next(d for _, d in buttons(topics) if d.startswith("sa:"))
    topic_id = choice.split(":")[2]
    since = time.monotonic()
    fake.push_update(fake.make_callback_query(SUPPORT, SUPPORTER, header_id, choice))
    await fake.wait_for(
        "sendMessage", lambda c: c.chat_id == SUPPORT and "Đã gửi thành viên" in (c.text or ""), since=since, timeout=15
    )
    member_side = [c.text or "" for c in fake.sent_messages(user)]
    assert any(say.TOPIC_HEADING.format(number=number) == t for t in member_side)
    assert (await ticket_of(engine, number)).first_response_at is not None
    async with session_factory(engine)() as session:
        detail = await session.scalar(
            select(TicketEvent.detail).where(
                TicketEvent.ticket_id == number, TicketEvent.kind == EventKind.TOPIC_ANSWER
            )
        )
    assert detail == topic_id

    other = next(_users)
    posted = await open_ticket(fake, other)
    number = number_of(posted)
    told = await press(fake, SUPPORT, posted.result["message_id"], SUPPORTER, f"so:{number}", "sendMessage")
    assert told.chat_id == other and "ngoài phạm vi" in told.params["text"] and "113" in told.params["text"]
    assert (await ticket_of(engine, number)).close_reason == "out_of_scope"


async def test_forged_callbacks_and_outsiders_change_nothing(fake: FakeBotAPI, engine: AsyncEngine) -> None:
    user = next(_users)
    posted = await open_ticket(fake, user)
    number, header_id = number_of(posted), posted.result["message_id"]
    # Someone who left the support chat presses "Đóng".
    refused = await press(fake, SUPPORT, header_id, OUTSIDER, f"sc:{number}", "answerCallbackQuery")
    assert refused.params["text"] == say.ONLY_SUPPORT_CHAT
    # The member forges a close button on a message in their own chat.
    mine = fake.sent_messages(user)[-1]
    forged = await press(fake, user, mine.result["message_id"], user, f"sc:{number}", "answerCallbackQuery")
    assert forged.params["text"] == say.ONLY_SUPPORT_CHAT
    for data in ("sc:0", "sc:99999999999", "sa:1:../../etc", "sr:1:2"):
        await press(fake, SUPPORT, header_id, SUPPORTER, data, "answerCallbackQuery")
    # A reply to the ticket's header id from another group, and from a member in private, relay nothing.
    since = time.monotonic()
    fake.push_update(
        fake.make_text_message(TEAM_GROUP, OUTSIDER, "trả lời giả", reply_to_message=header_id, chat_type="supergroup")
    )
    fake.push_update(fake.make_text_message(user, user, "hello", reply_to_message=header_id))
    await barrier(fake)
    assert not [c for c in fake.calls_of("copyMessage") if c.time >= since]
    stored = await ticket_of(engine, number)
    assert stored.status == "open" and stored.first_response_at is None


async def test_timeouts_raise_the_ticket_and_then_give_the_hotlines(
    fake: FakeBotAPI, app: Any, engine: AsyncEngine
) -> None:
    user = next(_users)
    posted = await open_ticket(fake, user)
    number = number_of(posted)
    clock: Clock = app.bot_data.clock
    context = _job_context(app)
    try:
        clock.offset = timedelta(minutes=29)
        await sweep(context)
        assert not [c for c in fake.sent_messages(user) if f"#{number}" in (c.text or "") and "chờ" in (c.text or "")]
        clock.offset = timedelta(minutes=31)
        await sweep(context)
        await sweep(context)  # once only
        reminders = [
            c
            for c in fake.sent_messages(SUPPORT)
            if c.params.get("text") == say.REMINDER.format(number=number, minutes=30)
        ]
        waiting = [
            c for c in fake.sent_messages(user) if c.params.get("text") == say.WAITING_MEMBER.format(number=number)
        ]
        assert len(reminders) == 1 and len(waiting) == 1
        assert reminders[0].params["reply_parameters"]["message_id"] == posted.result["message_id"]
        clock.offset = timedelta(minutes=241)
        await sweep(context)
        await sweep(context)
        gave_up = [
            c for c in fake.sent_messages(user) if (c.text or "").startswith("😔") and f"#{number}" in (c.text or "")
        ]
        assert len(gave_up) == 1 and "113" in (gave_up[0].text or "")
        kinds = await events(engine, number)
        assert kinds.count(EventKind.REMINDED) == 1 and kinds.count(EventKind.MEMBER_TOLD_HOTLINES) == 1
    finally:
        clock.offset = timedelta(0)


def _job_context(app: Any) -> Any:
    from telegram.ext import CallbackContext

    return CallbackContext(app)


async def test_routing_by_group_province_and_members_choice(fake: FakeBotAPI, engine: AsyncEngine) -> None:
    attached = await ask(fake, PROVINCE_CHAT, "/hotro_tinh Nghệ An", ADMIN, chat_type="supergroup")
    assert attached.params["text"] == say.ATTACH_DONE.format(province="Nghệ An")
    denied = await ask(fake, PROVINCE_CHAT, "/hotro_tinh Huế", SUPPORTER, chat_type="supergroup")
    assert denied.params["text"] == texts.NOT_ALLOWED
    async with session_factory(engine)() as session, session.begin():
        groups = GroupRepository(session)
        await groups.register(TEAM_GROUP, "Tổ CNSCĐ xóm 3", "supergroup", False)
        await groups.set_province(TEAM_GROUP, "nghe_an")
    user = next(_users)
    posted = await open_ticket(fake, user, chat=TEAM_GROUP)
    assert (
        posted.chat_id == PROVINCE_CHAT
        and "Nghệ An" in posted.params["text"]
        and say.ORIGIN_GROUP in posted.params["text"]
    )

    member = next(_users)
    chooser = await ask(fake, member, "/tinh", member)
    pick = next(d for label, d in buttons(chooser) if label == "Nghệ An")
    await press(fake, member, chooser.result["message_id"], member, pick, "editMessageText")
    posted = await open_ticket(fake, member)
    assert posted.chat_id == PROVINCE_CHAT

    elsewhere = next(_users)
    posted = await open_ticket(fake, elsewhere)
    assert posted.chat_id == SUPPORT  # no province known: the default chat
    hotro = await ask(fake, elsewhere, "/hotro bà tôi muốn đổi tên trên giấy tờ đất", elsewhere)
    assert hotro.params["text"].startswith("✅ Đã chuyển câu hỏi")
    usage = await ask(fake, elsewhere, "/hotro", elsewhere)
    assert usage.params["text"] == say.HOTRO_USAGE


async def test_forum_support_chat_gets_a_topic_per_ticket_and_recreates_a_deleted_one(
    fake: FakeBotAPI, engine: AsyncEngine
) -> None:
    await ask(fake, FORUM_CHAT, "/hotro_tinh Huế", ADMIN, chat_type="supergroup", is_forum=True)
    member = next(_users)
    chooser = await ask(fake, member, "/tinh", member)
    pick = next(d for label, d in buttons(chooser) if label == "Huế")
    await press(fake, member, chooser.result["message_id"], member, pick, "editMessageText")
    posted = await open_ticket(fake, member)
    number = number_of(posted)
    thread = posted.params["message_thread_id"]
    assert posted.chat_id == FORUM_CHAT and say.TICKET_HOW_TOPIC in posted.params["text"]
    # A supporter simply writes in the topic (no reply gesture).
    since = time.monotonic()
    fake.push_update(fake.make_text_message(FORUM_CHAT, SUPPORTER, "Chào bác", message_thread_id=thread, is_forum=True))
    await fake.wait_for("copyMessage", lambda c: c.chat_id == member, since=since, timeout=15)
    heading = next(c for c in fake.sent_messages(member) if f"câu hỏi #{number}" in (c.text or ""))
    # Someone deletes the topic; the member's follow-up recreates it and lands there.
    fake.delete_forum_topic(FORUM_CHAT, thread)
    since = time.monotonic()
    fake.push_update(
        fake.make_text_message(member, member, "bác cảm ơn", reply_to_message=heading.result["message_id"])
    )
    [forwarded] = await fake.wait_for(
        "copyMessage", lambda c: c.chat_id == FORUM_CHAT and c.ok, since=since, timeout=15
    )
    new_thread = (await ticket_of(engine, number)).thread_id
    assert new_thread is not None and new_thread != thread
    assert forwarded.params["message_thread_id"] == new_thread
    assert (await events(engine, number)).count(EventKind.TOPIC_CREATED) == 2


async def test_failed_delivery_is_reported_in_the_support_chat(fake: FakeBotAPI, engine: AsyncEngine) -> None:
    user = next(_users)
    posted = await open_ticket(fake, user)
    number = number_of(posted)
    fake.set_chat_error(user, 403, "Forbidden: bot was blocked by the user")
    try:
        reply = fake.make_text_message(
            SUPPORT, SUPPORTER, "Bác thử lại nhé", reply_to_message=posted.result["message_id"]
        )
        told = await push_and_wait(fake, reply, "sendMessage", SUPPORT)
    finally:
        fake.clear_chat_error(user)
    assert told.params["text"] == say.DELIVERY_FAILED.format(number=number, reason=say.REASON_BLOCKED)
    stored = await ticket_of(engine, number)
    assert stored.first_response_at is None
    assert EventKind.REPLY_FAILED in await events(engine, number)
