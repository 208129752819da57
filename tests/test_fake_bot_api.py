"""The fake Bot API server, exercised through the real python-telegram-bot Application."""

from __future__ import annotations

import datetime as dt
import io
import socket
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
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
