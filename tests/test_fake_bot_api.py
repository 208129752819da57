"""The fake Bot API server, exercised through the real python-telegram-bot Application.

Longer than 400 lines because it checks every Bot API behaviour the fake imitates (sends,
edits, copies, forum topics, faults, webhooks) against the documented one, in one place.
"""

from __future__ import annotations

import datetime as dt
import io
import socket
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from telegram import (
    Bot,
    ForumTopic,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageId,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fake_bot_api import FakeBotAPI, parse_telegram_html

PTBApp = Application[Any, Any, Any, Any, Any, Any]
USER = 1001
GROUP = -1001234567890
FORUM = -1001000000077
OWNER = 2001
SUPPORTER = 2002


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Có", callback_data="yes")]])
    await update.effective_message.reply_text("<b>Xin chào</b>", parse_mode=ParseMode.HTML, reply_markup=keyboard)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"Bạn chọn: {query.data}")


def build_application(server: FakeBotAPI) -> PTBApp:
    return (
        ApplicationBuilder()
        .token(server.token)
        .base_url(f"{server.url}/bot{{token}}/")
        .base_file_url(f"{server.url}/file/bot{{token}}/")
        .build()
    )


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(server.token, base_url=server.base_url, base_file_url=server.base_file_url) as fake_bot:
        yield fake_bot


@pytest.fixture
async def application(server: FakeBotAPI) -> AsyncIterator[PTBApp]:
    app = build_application(server)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(button))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_echo_round_trip(server: FakeBotAPI, application: PTBApp) -> None:
    assert application.bot.username == "tocnscd_test_bot"
    server.push_update(server.make_text_message(USER, USER, "Xin chào 123"))
    [call] = await server.wait_for("sendMessage", timeout=5)
    assert call.ok
    assert call.chat_id == USER
    assert call.params["text"] == "Xin chào 123"  # stays a string, not JSON-decoded
    assert call.result["chat"]["id"] == USER
    assert call.result["from"]["username"] == "tocnscd_test_bot"
    await server.wait_updates_consumed(timeout=5)
    assert [c.chat_id for c in server.sent_messages(USER)] == [USER]


async def test_command_keyboard_and_callback(server: FakeBotAPI, application: PTBApp) -> None:
    update = server.push_update(server.make_text_message(USER, USER, "/start"))
    assert update["message"]["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
    [sent] = await server.wait_for("sendMessage")
    assert sent.result["text"] == "Xin chào"
    assert sent.result["entities"] == [{"offset": 0, "length": 8, "type": "bold"}]
    assert sent.result["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"

    server.push_update(server.make_callback_query(USER, USER, sent.result["message_id"], "yes"))
    [edit] = await server.wait_for("editMessageText")
    assert edit.ok and edit.result["text"] == "Bạn chọn: yes"
    assert "reply_markup" not in edit.result
    assert server.calls_of("answerCallbackQuery")[0].ok


async def test_retry_after_is_surfaced(server: FakeBotAPI, application: PTBApp) -> None:
    server.fail_next("sendMessage", 429, retry_after=1)
    with pytest.raises(RetryAfter) as caught:
        await application.bot.send_message(USER, "hello")
    assert caught.value.retry_after in (1, dt.timedelta(seconds=1))
    assert server.stats.too_many_requests == 1
    message = await application.bot.send_message(USER, "hello")  # only the next call failed
    assert message.text == "hello"


async def test_rate_limit_per_chat(server: FakeBotAPI, application: PTBApp) -> None:
    server.rate_limit(per_chat_per_minute=2)
    await application.bot.send_message(GROUP, "1")
    await application.bot.send_message(GROUP, "2")
    with pytest.raises(RetryAfter):
        await application.bot.send_message(GROUP, "3")
    await application.bot.send_message(USER, "other chat is fine")
    assert server.stats.rate_limited == 1
    rejected = server.calls_of("sendMessage")[2]
    assert rejected.response is not None and rejected.response["parameters"]["retry_after"] >= 1


async def bad_request(call: Awaitable[object]) -> str:
    """The lower-cased message of the BadRequest raised by ``call`` (PTB re-capitalises it)."""
    with pytest.raises(BadRequest) as caught:
        await call
    return caught.value.message.lower()


async def test_text_limits_and_html_validation(server: FakeBotAPI, application: PTBApp) -> None:
    bot = application.bot
    assert "message is too long" in await bad_request(bot.send_message(USER, "a" * 4097))
    # The limit applies to the text after HTML parsing: tags and entities do not count.
    message = await bot.send_message(USER, f"<b>{'&lt;' * 4096}</b>", parse_mode=ParseMode.HTML)
    assert message.text == "<" * 4096
    assert message.entities[0].type == "bold"
    html = ParseMode.HTML
    assert "can't parse entities" in await bad_request(bot.send_message(USER, "a < b", parse_mode=html))
    assert "can't parse entities" in await bad_request(bot.send_message(USER, "a & b", parse_mode=html))
    assert "end tag" in await bad_request(bot.send_message(USER, "<b>unclosed", parse_mode=html))
    assert 'unsupported start tag "div"' in await bad_request(bot.send_message(USER, "<div>x</div>", parse_mode=html))
    assert "message text is empty" in await bad_request(bot.send_message(USER, "<b> </b>", parse_mode=html))
    photo = io.BytesIO(b"\xff\xd8fakejpeg")
    assert "caption is too long" in await bad_request(bot.send_photo(USER, photo, caption="c" * 1025))
    long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    assert "button_data_invalid" in await bad_request(bot.send_message(USER, "k", reply_markup=long_data))
    assert not any(c.ok for c in server.calls_of("sendMessage")[2:])


def test_html_parser_entities() -> None:
    text, entities = parse_telegram_html('<a href="https://x.vn/?a=1&amp;b=2">liên kết</a> &amp; 😀<i>ý</i>')
    assert text == "liên kết & 😀ý"
    assert entities == [
        {"offset": 0, "length": 8, "type": "text_link", "url": "https://x.vn/?a=1&b=2"},
        {"offset": 13, "length": 1, "type": "italic"},  # the emoji counts two UTF-16 units
    ]


async def test_faults_and_uploads(server: FakeBotAPI, application: PTBApp) -> None:
    bot = application.bot
    server.network_failure("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "dropped")
    assert server.stats.network_failures == 1
    assert (await bot.send_message(USER, "after the drop")).text == "after the drop"

    server.set_chat_error(GROUP, 403, "Forbidden: bot was kicked from the group chat")
    with pytest.raises(Forbidden, match="kicked"):
        await bot.send_message(GROUP, "x")
    server.clear_chat_error(GROUP)

    server.fail_next("sendMessage", migrate_to_chat_id=-1009999, chat_id=-4242)
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(-4242, "x")
    assert migrated.value.new_chat_id == -1009999

    photo = await bot.send_photo(USER, io.BytesIO(b"\xff\xd8" + b"0" * 1000), caption="<i>ảnh</i>", parse_mode="HTML")
    [upload] = server.calls_of("sendPhoto")[-1].files
    assert upload.field == "photo" and upload.size == 1002
    assert photo.photo[-1].file_id == upload.file_id
    assert photo.caption == "ảnh"
    downloaded = await (await bot.get_file(upload.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"\xff\xd8" + b"0" * 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode(server: FakeBotAPI) -> None:
    app = build_application(server)
    app.add_handler(MessageHandler(filters.TEXT, echo))
    port = _free_port()
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="hook",
        webhook_url=f"http://127.0.0.1:{port}/hook",
        secret_token="s3cret",
    )
    try:
        assert server.webhook_url.endswith("/hook") and server.webhook_secret == "s3cret"
        update = server.make_text_message(USER, USER, "qua webhook")
        assert await server.post_webhook(f"http://127.0.0.1:{port}/hook", update, "wrong") == 403
        assert await server.deliver_webhook(update) == 200
        [call] = await server.wait_for("sendMessage")
        assert call.params["text"] == "qua webhook"
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


# --------------------------------------------------------------------------- copyMessage


async def test_copy_message_copies_stored_content(server: FakeBotAPI, bot: Bot) -> None:
    text = server.make_text_message(USER, USER, "Xem https://x.vn nhé")["message"]
    copied = await bot.copy_message(GROUP, USER, text["message_id"])
    assert isinstance(copied, MessageId)
    [call] = server.calls_of("copyMessage")
    assert call.result == {"message_id": copied.message_id}  # a MessageId, not a Message
    stored = server.message_of(call)
    assert stored is server.messages[(GROUP, copied.message_id)]
    assert stored["from"]["id"] == server.bot_id and stored["chat"]["id"] == GROUP
    assert (stored["text"], stored["entities"]) == (text["text"], text["entities"])
    assert server.sent_messages(GROUP) == [call]

    photo = server.make_photo_message(USER, USER, "ảnh gốc")["message"]
    kept = await bot.copy_message(GROUP, USER, photo["message_id"])
    replaced = await bot.copy_message(GROUP, USER, photo["message_id"], caption="<b>mới</b>", parse_mode=ParseMode.HTML)
    removed = await bot.copy_message(GROUP, USER, photo["message_id"], caption="")
    assert server.messages[(GROUP, kept.message_id)]["photo"] == photo["photo"]
    assert server.messages[(GROUP, kept.message_id)]["caption"] == "ảnh gốc"
    new = server.messages[(GROUP, replaced.message_id)]
    assert new["caption"] == "mới" and new["caption_entities"] == [{"offset": 0, "length": 3, "type": "bold"}]
    assert "caption" not in server.messages[(GROUP, removed.message_id)]

    # Every kind of media keeps its file; the bot's own messages can be copied as well.
    sources: list[dict[str, Any]] = [
        server.make_voice_message(USER, USER)["message"],
        server.make_document_message(USER, USER, caption="hồ sơ")["message"],
        server.make_sticker_message(USER, USER)["message"],
    ]
    for sent in (
        await bot.send_video(USER, io.BytesIO(b"video")),
        await bot.send_audio(USER, io.BytesIO(b"audio")),
        await bot.send_animation(USER, io.BytesIO(b"gif"), caption="hoạt hình"),
    ):
        sources.append(server.messages[(USER, sent.message_id)])
    for source in sources:
        kind = next(k for k in ("voice", "document", "sticker", "video", "audio", "animation") if k in source)
        result = await bot.copy_message(GROUP, USER, source["message_id"])
        stored = server.messages[(GROUP, result.message_id)]
        assert stored[kind] == source[kind]
        assert stored.get("caption") == source.get("caption")

    header = await bot.send_message(GROUP, "Phiếu #1")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Xong", callback_data="done")]])
    result = await bot.copy_message(
        GROUP,
        USER,
        text["message_id"],
        reply_parameters=ReplyParameters(header.message_id),
        reply_markup=keyboard,
        protect_content=True,
    )
    stored = server.messages[(GROUP, result.message_id)]
    assert stored["reply_to_message"]["message_id"] == header.message_id
    assert stored["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "done"
    assert stored["has_protected_content"] is True


async def test_copy_message_refusals_chat_errors_and_limits(server: FakeBotAPI, bot: Bot) -> None:
    assert "message to copy not found" in await bad_request(bot.copy_message(GROUP, USER, 999))
    gone = server.make_text_message(USER, USER, "sẽ bị xóa")["message"]
    await bot.delete_message(USER, gone["message_id"])
    assert "message to copy not found" in await bad_request(bot.copy_message(GROUP, USER, gone["message_id"]))
    service = server.make_migrate_from_message(GROUP, -4242, USER)["message"]
    assert "message can't be copied" in await bad_request(bot.copy_message(USER, GROUP, service["message_id"]))

    source = server.make_text_message(USER, USER, "câu trả lời")["message"]
    blocked = 3003
    assert "copyMessage" in server.chat_error_methods
    server.set_chat_error(blocked, 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden, match="blocked"):
        await bot.copy_message(blocked, USER, source["message_id"])
    assert server.sent_messages() == []
    assert len(server.sent_messages(include_failed=True)) == 4

    server.rate_limit(per_chat_per_minute=1)
    await bot.copy_message(GROUP, USER, source["message_id"])
    with pytest.raises(RetryAfter):
        await bot.send_message(GROUP, "the copy used the chat's quota")
    with pytest.raises(RetryAfter):
        await bot.copy_message(GROUP, USER, source["message_id"])
    assert [c.method for c in server.sent_messages()] == ["copyMessage"]


# ---------------------------------------------------------------------------- forum topics


def topic_events(server: FakeBotAPI, chat_id: int, thread_id: int) -> list[str]:
    return [
        key
        for (chat, _), msg in sorted(server.messages.items())
        if chat == chat_id and msg.get("message_thread_id") == thread_id
        for key in msg
        if key.startswith("forum_topic_")
    ]


async def test_forum_topic_lifecycle(server: FakeBotAPI, bot: Bot) -> None:
    server.add_chat(FORUM, "supergroup", "Hỗ trợ", is_forum=True)
    topic = await bot.create_forum_topic(FORUM, "Phiếu #1", icon_color=16766590)
    assert isinstance(topic, ForumTopic)
    assert (topic.name, topic.icon_color) == ("Phiếu #1", 16766590)
    thread = topic.message_thread_id
    root = server.messages[(FORUM, thread)]  # the topic's id is its service message's id
    assert root["forum_topic_created"] == {"name": "Phiếu #1", "icon_color": 16766590}
    assert root["from"]["id"] == server.bot_id and root["message_thread_id"] == thread
    assert server.forum_topics(FORUM) == [
        {
            "message_thread_id": thread,
            "name": "Phiếu #1",
            "icon_color": 16766590,
            "is_closed": False,
            "created_by_bot": True,
        }
    ]

    sent = await bot.send_message(FORUM, "Nội dung phiếu", message_thread_id=thread)
    assert sent.message_thread_id == thread and sent.is_topic_message
    assert sent.reply_to_message is not None and sent.reply_to_message.forum_topic_created is not None
    photo = await bot.send_photo(FORUM, io.BytesIO(b"\xff\xd8jpeg"), message_thread_id=thread)
    assert photo.message_thread_id == thread and photo.is_topic_message

    assert await bot.edit_forum_topic(FORUM, thread, name="Phiếu #1 (đang xử lý)")
    assert "topic_not_modified" in await bad_request(bot.edit_forum_topic(FORUM, thread, name="Phiếu #1 (đang xử lý)"))
    assert server.forum_topics(FORUM)[0]["name"] == "Phiếu #1 (đang xử lý)"
    assert await bot.close_forum_topic(FORUM, thread)
    assert "topic_not_modified" in await bad_request(bot.close_forum_topic(FORUM, thread))
    assert server.forum_topics(FORUM)[0]["is_closed"] is True
    # No administrators known: the bot is assumed to manage topics and still posts in a closed one...
    await bot.send_message(FORUM, "vẫn gửi được", message_thread_id=thread)
    # ...an administrator without can_manage_topics may not.
    server.set_chat_admins(FORUM, [OWNER, server.bot_id])
    assert "topic_closed" in await bad_request(bot.send_message(FORUM, "x", message_thread_id=thread))
    assert await bot.reopen_forum_topic(FORUM, thread)  # its own topic needs no right
    assert "topic_not_modified" in await bad_request(bot.reopen_forum_topic(FORUM, thread))
    await bot.send_message(FORUM, "mở lại", message_thread_id=thread)
    assert topic_events(server, FORUM, thread) == [
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
    ]

    general = await bot.send_message(FORUM, "ngoài chủ đề")
    assert general.message_thread_id is None and not general.is_topic_message
    assert await bot.delete_forum_topic(FORUM, thread)
    assert server.forum_topics(FORUM) == []
    assert topic_events(server, FORUM, thread) == []  # its messages went with it
    assert (FORUM, general.message_id) in server.messages
    assert "message thread not found" in await bad_request(bot.send_message(FORUM, "x", message_thread_id=thread))
    assert "message to copy not found" in await bad_request(bot.copy_message(USER, FORUM, sent.message_id))
    assert "message to edit not found" in await bad_request(bot.edit_message_text("x", FORUM, sent.message_id))
    assert "topic_id_invalid" in await bad_request(bot.delete_forum_topic(FORUM, thread))
    assert "topic_id_invalid" in await bad_request(bot.edit_forum_topic(FORUM, thread, name="x"))


async def test_create_forum_topic_refusals_and_rights(server: FakeBotAPI, bot: Bot) -> None:
    server.add_chat(GROUP, "supergroup", "Không phải diễn đàn")
    for chat in (GROUP, -4242, USER):
        assert "the chat is not a forum" in await bad_request(bot.create_forum_topic(chat, "x"))
    server.add_chat(FORUM, "supergroup", is_forum=True)
    assert "title must be non-empty" in await bad_request(bot.create_forum_topic(FORUM, "   "))
    assert "invalid icon color" in await bad_request(bot.create_forum_topic(FORUM, "x", icon_color=123))
    assert (await bot.create_forum_topic(FORUM, "Đ" * 130)).name == "Đ" * 128  # Telegram cuts, not refuses
    emoji = await bot.create_forum_topic(FORUM, "biểu tượng", icon_custom_emoji_id="5310045076531978942")
    assert emoji.icon_custom_emoji_id == "5310045076531978942" and emoji.icon_color == 7322096

    # Rights are checked once the fake knows the chat's administrators.
    server.set_chat_admins(FORUM, [OWNER])  # the bot is a plain member
    assert "not enough rights to create a topic" in await bad_request(bot.create_forum_topic(FORUM, "x"))
    server.set_chat_admins(FORUM, [OWNER, server.bot_id])  # an administrator without can_manage_topics
    assert "not enough rights to create a topic" in await bad_request(bot.create_forum_topic(FORUM, "x"))
    server.set_admin_rights(FORUM, server.bot_id, can_manage_topics=True)
    member = await bot.get_chat_member(FORUM, server.bot_id)
    assert member.status == "administrator" and getattr(member, "can_manage_topics", None) is True
    own = await bot.create_forum_topic(FORUM, "được rồi")
    with pytest.raises(ValueError, match="can_manage_topic"):
        server.set_admin_rights(FORUM, server.bot_id, can_manage_topic=True)

    # A topic a person created: without the rights the bot may not touch it (its own it may).
    human = server.make_forum_topic_created(FORUM, OWNER, "Của người")["message"]
    assert human["forum_topic_created"]["name"] == "Của người" and human["is_topic_message"] is True
    people = human["message_thread_id"]
    server.set_admin_rights(FORUM, server.bot_id, can_manage_topics=False, can_delete_messages=False)
    assert "not enough rights to edit the topic" in await bad_request(bot.edit_forum_topic(FORUM, people, name="y"))
    assert "not enough rights to close or open" in await bad_request(bot.close_forum_topic(FORUM, people))
    assert "not enough rights to delete the topic" in await bad_request(bot.delete_forum_topic(FORUM, people))
    assert await bot.edit_forum_topic(FORUM, own.message_thread_id, name="đổi tên")
    server.set_admin_rights(FORUM, server.bot_id, can_manage_topics=True, can_delete_messages=True)
    assert await bot.close_forum_topic(FORUM, people) and await bot.delete_forum_topic(FORUM, people)
    assert [t["name"] for t in server.forum_topics(FORUM)] == ["Đ" * 128, "biểu tượng", "đổi tên"]

    server.set_chat_error(FORUM, 403, "Forbidden: bot was kicked from the supergroup chat")
    with pytest.raises(Forbidden, match="kicked"):
        await bot.create_forum_topic(FORUM, "x")


async def test_thread_must_exist_in_forums_only(server: FakeBotAPI, bot: Bot) -> None:
    server.add_chat(FORUM, "supergroup", is_forum=True)
    source = server.make_text_message(USER, USER, "hỏi")["message"]
    missing = 4242
    assert "message thread not found" in await bad_request(bot.send_message(FORUM, "x", message_thread_id=missing))
    document = bot.send_document(FORUM, io.BytesIO(b"pdf"), message_thread_id=missing)
    assert "message thread not found" in await bad_request(document)
    copy = bot.copy_message(FORUM, USER, source["message_id"], message_thread_id=missing)
    assert "message thread not found" in await bad_request(copy)
    assert server.sent_messages(FORUM) == []
    # Elsewhere any message_thread_id is taken as given, as before.
    sent = await bot.send_message(GROUP, "x", message_thread_id=missing)
    assert sent.message_thread_id == missing and not sent.is_topic_message


async def test_support_desk_helpers(server: FakeBotAPI, bot: Bot) -> None:
    server.add_chat(FORUM, "supergroup", "Hỗ trợ", is_forum=True)
    thread = (await bot.create_forum_topic(FORUM, "Phiếu #7")).message_thread_id
    header = await bot.send_message(FORUM, "Phiếu #7: câu hỏi", message_thread_id=thread)

    # Writing in the topic without replying: Telegram makes it a reply to the topic's first message.
    plain = server.make_text_message(FORUM, SUPPORTER, "Chào bạn", message_thread_id=thread)["message"]
    assert plain["is_topic_message"] is True and plain["message_thread_id"] == thread
    assert plain["reply_to_message"]["message_id"] == thread
    assert "forum_topic_created" in plain["reply_to_message"]
    # Replying to the bot's header: the message lands in the header's topic.
    reply = server.make_text_message(FORUM, SUPPORTER, "Đã nhận", reply_to_message=header.message_id)["message"]
    assert reply["reply_to_message"]["message_id"] == header.message_id
    assert reply["message_thread_id"] == thread and reply["is_topic_message"] is True

    # A supporter's photo, copied to the member: content kept, topic and reply left behind.
    photo = server.make_photo_message(
        FORUM, SUPPORTER, caption="Hướng dẫn", reply_to_message=header.message_id, message_thread_id=thread
    )["message"]
    copied = await bot.copy_message(USER, FORUM, photo["message_id"])
    stored = server.messages[(USER, copied.message_id)]
    assert stored["photo"] == photo["photo"] and stored["caption"] == "Hướng dẫn"
    assert "message_thread_id" not in stored and "reply_to_message" not in stored
    # The member's follow-up, copied into the topic.
    follow = server.make_text_message(USER, USER, "Cảm ơn", reply_to_message=copied.message_id)["message"]
    assert follow["reply_to_message"]["message_id"] == copied.message_id
    into = await bot.copy_message(FORUM, USER, follow["message_id"], message_thread_id=thread)
    stored = server.messages[(FORUM, into.message_id)]
    assert (stored["text"], stored["message_thread_id"], stored["is_topic_message"]) == ("Cảm ơn", thread, True)
    # The bot answering a topic message without message_thread_id also lands in the topic.
    answer = await bot.send_message(FORUM, "Đã chuyển", reply_parameters=ReplyParameters(photo["message_id"]))
    assert answer.message_thread_id == thread and answer.reply_to_message is not None
    assert answer.reply_to_message.message_id == photo["message_id"]

    # A person deletes the topic.
    server.delete_forum_topic(FORUM, thread)
    assert server.forum_topics(FORUM) == []
    with pytest.raises(ValueError, match="no forum topic"):
        server.delete_forum_topic(FORUM, thread)
    assert "message thread not found" in await bad_request(bot.send_message(FORUM, "x", message_thread_id=thread))
    assert "message to copy not found" in await bad_request(bot.copy_message(USER, FORUM, photo["message_id"]))

    # A thread the test never created exists once a builder put a message there.
    server.make_text_message(FORUM, SUPPORTER, "ở chủ đề 77", message_thread_id=77)
    in_77 = await bot.send_message(FORUM, "ok", message_thread_id=77)
    assert in_77.message_thread_id == 77 and in_77.reply_to_message is None  # no creation message stored


async def test_topic_messages_through_the_application(server: FakeBotAPI) -> None:
    seen: list[Message] = []

    async def relay(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        seen.append(message)
        await message.copy(USER)
        await message.reply_text("Đã chuyển")

    app = build_application(server)
    app.add_handler(MessageHandler(filters.IS_TOPIC_MESSAGE & filters.PHOTO, relay))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        server.add_chat(FORUM, "supergroup", is_forum=True)
        thread = (await app.bot.create_forum_topic(FORUM, "Phiếu #9")).message_thread_id
        update = server.make_photo_message(FORUM, SUPPORTER, "ảnh", message_thread_id=thread)
        server.push_update(update)
        [copy] = await server.wait_for("copyMessage")
        [reply] = await server.wait_for("sendMessage")
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    [message] = seen
    assert message.is_topic_message and message.message_thread_id == thread
    assert message.reply_to_message is not None and message.reply_to_message.forum_topic_created is not None
    copied = server.message_of(copy)
    assert copied is not None and copied["photo"] == update["message"]["photo"] and copied["caption"] == "ảnh"
    assert reply.params["message_thread_id"] == thread and reply.result["is_topic_message"] is True
