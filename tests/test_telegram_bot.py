"""The real PTB Application, over HTTP, against the fake Bot API server, with the real NLU and database."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

import texts
import texts.support as say
from bot.app import build_application, running
from bot.settings import BotSettings
from nlu.server import LocalRasaServer, free_port
from nlu.settings import NluSettings
from records.models import QuestionRecord
from storage.engine import session_factory
from storage.settings import StorageSettings
from support.models import Ticket
from tests.conftest import NO_SUPPORT_CHAT
from tests.fake_bot_api import Call, FakeBotAPI

RUNNING: dict[str, Any] = {}
GROUP = -1001000000001
FORUM = -1001000000002


def settings_for(server: FakeBotAPI, **overrides: Any) -> BotSettings:
    values: dict[str, Any] = {
        "telegram_bot_token": server.token,
        "telegram_api_base_url": server.base_url,
        "telegram_api_file_url": server.base_file_url,
        "rate_limit_burst": 4,
        "rate_limit_per_second": 0.2,
        **overrides,
    }
    return BotSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture(scope="module")
def nlu_for_bot(rasa_server: LocalRasaServer) -> NluSettings:
    return NluSettings(_env_file=None, rasa_url=rasa_server.url, rasa_token=rasa_server.token)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def storage_for_bot(database_url: str, engine: AsyncEngine) -> StorageSettings:
    return StorageSettings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
async def app(server: FakeBotAPI, nlu_for_bot: NluSettings, storage_for_bot: StorageSettings) -> AsyncIterator[Any]:
    application = build_application(settings_for(server), nlu_for_bot, storage_for_bot, NO_SUPPORT_CHAT)
    async with running(application, poll_timeout=1) as started:
        RUNNING["app"] = started
        yield started


@pytest.fixture
def fake(server: FakeBotAPI, app: Any) -> FakeBotAPI:
    server.reset_faults()
    server.clear()
    return server


_next_user = iter(range(50_001, 60_000))


def new_user() -> int:
    return next(_next_user)


def buttons(call: Call) -> list[tuple[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


async def ask(fake: FakeBotAPI, chat_id: int, text: str, **kwargs: Any) -> Call:
    since = time.monotonic()
    update = fake.push_update(fake.make_text_message(chat_id, kwargs.pop("user_id", chat_id), text, **kwargs))
    message_id = update["message"]["message_id"]
    [call] = await fake.wait_for("sendMessage", lambda c: c.chat_id == chat_id and c.ok, since=since, timeout=15)
    call.params["_question_message_id"] = message_id
    return call


async def press(fake: FakeBotAPI, message: Call, user_id: int, data: str, method: str) -> Call:
    since = time.monotonic()
    fake.push_update(
        fake.make_callback_query(message.chat_id, user_id, message.result["message_id"], data)  # type: ignore[arg-type]
    )
    [call] = await fake.wait_for(method, since=since, timeout=10)
    return call


async def record(engine: AsyncEngine, record_id: int) -> QuestionRecord:
    """The stored record (written in the background: wait for the writer first)."""
    await RUNNING["app"].bot_data.answers.records.flush()
    async with session_factory(engine)() as session:
        found = await session.get(QuestionRecord, record_id)
        assert found is not None
        return found


def record_id_of(call: Call) -> int:
    data = next(d for _, d in buttons(call) if d.startswith(("f:", "c:", "h:")))
    return int(data.split(":")[1])


async def test_commands_registered_in_vietnamese(server: FakeBotAPI, app: Any) -> None:
    calls = server.calls_of("setMyCommands")
    assert {c.params["scope"]["type"] for c in calls} == {"all_private_chats", "all_group_chats"}
    described = {cmd["command"]: cmd["description"] for c in calls for cmd in c.params["commands"]}
    assert described["hoi"].startswith("Hỏi trợ lý") and described["menu"] == "Xem các chủ đề"


async def test_start_menu_down_to_an_answer_and_back(fake: FakeBotAPI) -> None:
    user = new_user()
    greeting = await ask(fake, user, "/start")
    assert "Trợ lý Tổ Công nghệ số cộng đồng" in greeting.params["text"]
    assert ("Dịch vụ công, VNeID", "d:dvc") in buttons(greeting)

    domain = await press(fake, greeting, user, "d:dvc", "editMessageText")
    assert domain.params["message_id"] == greeting.result["message_id"]  # edited in place
    assert ("Đăng ký tài khoản định danh điện tử mức 2", "t:vneid_muc_2") in buttons(domain)
    assert buttons(domain)[-1] == (texts.BUTTON_BACK, "m")

    answer = await press(fake, greeting, user, "t:vneid_muc_2", "editMessageText")
    assert answer.params["parse_mode"] == "HTML" and "Công an" in answer.params["text"]
    assert buttons(answer) == [(texts.BUTTON_BACK, "d:dvc"), (texts.BUTTON_MENU, "m")]

    back = await press(fake, greeting, user, "d:dvc", "editMessageText")
    assert "t:vneid_muc_2" in [d for _, d in buttons(back)]
    home = await press(fake, greeting, user, "m", "editMessageText")
    assert home.params["text"] == texts.MENU_TITLE
    assert len(fake.sent_messages(user)) == 1  # no new messages while navigating
    assert len(fake.calls_of("answerCallbackQuery")) == 4


async def test_help_and_unknown_command(fake: FakeBotAPI) -> None:
    user = new_user()
    help_message = await ask(fake, user, "/help")
    assert "@tocnscd_test_bot" in help_message.params["text"]
    unknown = await ask(fake, user, "/xoso")
    assert unknown.params["text"] == texts.UNKNOWN_COMMAND


async def test_question_answered_with_feedback(fake: FakeBotAPI, engine: AsyncEngine) -> None:
    user = new_user()
    answer = await ask(fake, user, "kich hoat vneid muc 2 o dau")
    assert answer.params["parse_mode"] == "HTML"
    assert answer.params["text"].startswith("<b>Kích hoạt tài khoản VNeID</b>")
    labels = buttons(answer)
    assert labels[0][0] == texts.BUTTON_HELPFUL and labels[1][0] == texts.BUTTON_NOT_HELPFUL
    related = [d for _, d in labels if d.startswith("r:")]
    assert 1 <= len(related) <= 3

    record_id = record_id_of(answer)
    stored = await record(engine, record_id)
    assert (stored.user_id, stored.chat_id, stored.chat_type) == (user, user, "private")
    assert (stored.decision, stored.topic_id) == ("answer", "vneid_kich_hoat")
    assert stored.normalized_text == "kich hoat vneid muc 2 o dau" and stored.latency_ms > 0

    stranger = await press(fake, answer, new_user(), f"f:{record_id}:1", "answerCallbackQuery")
    assert stranger.params["text"] == texts.FEEDBACK_NOT_YOURS
    thanks = await press(fake, answer, user, f"f:{record_id}:1", "answerCallbackQuery")
    assert thanks.params["text"] == texts.FEEDBACK_THANKS
    [markup_edit] = await fake.wait_for("editMessageReplyMarkup")
    assert all(
        not b["callback_data"].startswith("f:")
        for row in markup_edit.params["reply_markup"]["inline_keyboard"]
        for b in row
    )
    assert (await record(engine, record_id)).feedback == 1

    related_answer = await press(fake, answer, user, related[0], "sendMessage")
    assert related_answer.params["text"].startswith("<b>")


async def test_clarify_then_choice(fake: FakeBotAPI, engine: AsyncEngine) -> None:
    user = new_user()
    clarify = await ask(fake, user, "onetouch")
    assert clarify.params["text"].startswith(texts.CLARIFY_HEADER)
    choices = [d for _, d in buttons(clarify) if d.startswith("c:")]
    assert 2 <= len(choices) <= 3
    record_id = record_id_of(clarify)
    chosen_topic = choices[1].split(":")[2]
    answer = await press(fake, clarify, user, choices[1], "editMessageText")
    assert answer.params["message_id"] == clarify.result["message_id"]
    assert "OneTouch" in answer.params["text"]
    assert buttons(answer)[0][1] == f"f:{record_id}:1"
    stored = await record(engine, record_id)
    assert (stored.decision, stored.chosen_topic_id) == ("clarify", chosen_topic)


async def test_unknown_without_a_support_chat_offers_no_human(fake: FakeBotAPI, engine: AsyncEngine) -> None:
    """No support chat configured: no hand-off button, no promise of a person, the hotlines instead."""
    user = new_user()
    unknown = await ask(fake, user, "giá vàng hôm nay bao nhiêu một chỉ, số em 0912 345 678")
    assert unknown.params["text"] == f"{texts.UNKNOWN}\n\n{say.UNKNOWN_NO_HUMAN}"
    assert "người hỗ trợ" not in unknown.params["text"] and "113" in unknown.params["text"]
    assert buttons(unknown) == [(texts.BUTTON_MENU, "m")]
    await RUNNING["app"].bot_data.answers.records.flush()
    async with session_factory(engine)() as session:
        record_id = await session.scalar(select(QuestionRecord.id).where(QuestionRecord.user_id == user))
    forged = await press(fake, unknown, user, f"h:{record_id}", "editMessageText")
    assert say.HANDOFF_UNAVAILABLE in forged.params["text"]
    async with session_factory(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket).where(Ticket.user_id == user)) == 0
    help_reply = await ask(fake, user, "/help")
    assert "/hotro" not in help_reply.params["text"]


async def test_group_mention_reply_and_hoi(fake: FakeBotAPI) -> None:
    user = new_user()
    mention = await ask(fake, GROUP, "@tocnscd_test_bot quên mật khẩu vneid thì làm sao", user_id=user)
    assert mention.params["reply_parameters"]["message_id"] == mention.params["_question_message_id"]
    assert mention.params["text"].startswith("<b>Quên mật khẩu")

    bot_message = fake.messages[(GROUP, mention.result["message_id"])]
    reply = await ask(fake, GROUP, "còn đăng ký tạm trú online thì sao", user_id=user, reply_to_message=bot_message)
    assert reply.params["text"].startswith("<b>Đăng ký thường trú, tạm trú")

    hoi = await ask(fake, GROUP, "/hoi nop phat giao thong online", user_id=user)
    assert "biên bản" in hoi.params["text"]
    usage = await ask(fake, GROUP, "/hoi@tocnscd_test_bot", user_id=user)
    assert usage.params["text"] == texts.HOI_USAGE


async def test_group_chatter_is_ignored(fake: FakeBotAPI) -> None:
    user = new_user()
    for text in [
        "tối nay họp thôn lúc 7h nhé",
        "ai có số bác trưởng thôn không",
        "kich hoat vneid o dau",
        "/hoi@other_bot vneid",
    ]:
        fake.push_update(fake.make_text_message(GROUP, user, text))
    fake.push_update(fake.make_sticker_message(GROUP, user))
    # Barrier: a question pushed after the chatter must be answered, and be the only reply.
    barrier = await ask(fake, GROUP, "/hoi quen mat khau vneid", user_id=user)
    assert [c.params["text"] for c in fake.sent_messages(GROUP)] == [barrier.params["text"]]


async def test_forum_thread_reply_stays_in_thread(fake: FakeBotAPI) -> None:
    user = new_user()
    answer = await ask(
        fake, FORUM, "@tocnscd_test_bot lam khai sinh online cho con", user_id=user, message_thread_id=77, is_forum=True
    )
    assert answer.params["message_thread_id"] == 77
    assert answer.params["reply_parameters"]["message_id"] == answer.params["_question_message_id"]
    hoi = await ask(
        fake, FORUM, "/hoi thẻ căn cước cũ còn dùng được không", user_id=user, message_thread_id=78, is_forum=True
    )
    assert hoi.params["message_thread_id"] == 78


async def test_inline_query(fake: FakeBotAPI) -> None:
    user = new_user()
    fake.push_update(fake.make_inline_query(user, "dang ky vneid muc 2"))
    [call] = await fake.wait_for("answerInlineQuery")
    results = call.params["results"]
    assert 1 <= len(results) <= 5 and results[0]["id"] == "vneid_muc_2"
    first = results[0]
    assert first["type"] == "article" and first["title"] and first["description"]
    assert first["input_message_content"]["parse_mode"] == "HTML"
    assert first["input_message_content"]["message_text"].startswith("<b>")

    fake.push_update(fake.make_inline_query(user, ""))
    [_, empty] = await fake.wait_for("answerInlineQuery", count=2)
    assert len(empty.params["results"]) == 5  # the most asked topics


async def test_forged_and_stale_callbacks(fake: FakeBotAPI) -> None:
    user = new_user()
    answer = await ask(fake, user, "cách đặt mật khẩu mạnh cho zalo")
    record_id = record_id_of(answer)
    forged = [
        "t:khong_ton_tai",
        "d:../../etc",
        "zzz",
        "f:12345:1",
        f"c:{record_id}:dvc_khai_tu",  # not one of the offered candidates
        f"h:{record_id}x",
        "x" * 64,
    ]
    for data in forged:
        call = await press(fake, answer, user, data, "answerCallbackQuery")
        assert call.params.get("text") == texts.MENU_EXPIRED, data
    assert fake.calls_of("editMessageText") == []


async def test_flood_from_one_user_does_not_delay_another(fake: FakeBotAPI) -> None:
    flooder, patient = new_user(), new_user()
    for i in range(40):
        fake.push_update(fake.make_text_message(flooder, flooder, f"dang ky vneid muc 2 o dau lan {i}"))
    started = time.monotonic()
    other = await ask(fake, patient, "quen mat khau vneid")
    assert time.monotonic() - started < 3.0
    assert other.params["text"].startswith("<b>Quên mật khẩu")
    await fake.wait_for("sendMessage", lambda c: c.chat_id == flooder, count=5, timeout=15)
    # Barrier: an answer to a later question of another user; nothing more reached the flooder.
    await ask(fake, patient, "dang ky tam tru online")
    to_flooder = [c.params["text"] for c in fake.sent_messages(flooder)]
    assert to_flooder.count(texts.RATE_LIMITED) == 1
    assert len(to_flooder) == 4 + 1  # the burst, then one polite notice, then silence


async def test_retry_after_429_is_honoured(fake: FakeBotAPI) -> None:
    user = new_user()
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=user)
    answer = await ask(fake, user, "nộp lệ phí dịch vụ công online bằng gì")
    attempts = [c for c in fake.calls_of("sendMessage") if c.chat_id == user]
    assert [c.error_code for c in attempts] == [429, None]
    assert attempts[1].time - attempts[0].time >= 1.0
    assert answer.ok


async def test_non_text_gets_a_hint(fake: FakeBotAPI) -> None:
    user = new_user()
    since = time.monotonic()
    fake.push_update(fake.make_sticker_message(user, user))
    fake.push_update(fake.make_photo_message(user, user))
    fake.push_update(fake.make_voice_message(user, user))
    calls = await fake.wait_for("sendMessage", lambda c: c.chat_id == user, count=3, since=since)
    assert {c.params["text"] for c in calls} == {texts.NON_TEXT_HINT}


async def test_over_long_message_is_cut_and_said(fake: FakeBotAPI) -> None:
    user = new_user()
    answer = await ask(fake, user, "cho em hỏi cách đăng ký tạm trú online " * 120)
    assert answer.params["text"].startswith("✂️")
    assert "Đăng ký thường trú, tạm trú" in answer.params["text"]


async def test_edited_message_answered_again_only_if_changed(fake: FakeBotAPI) -> None:
    user = new_user()
    first = await ask(fake, user, "dang ky tam tru online")
    message_id = first.params["_question_message_id"]
    fake.push_update(fake.make_edited_message(user, user, message_id, "Dang ky tam tru online"))
    barrier = await ask(fake, user, "quen mat khau vneid")  # pushed after the edit, answered after it
    assert [c.params["text"] for c in fake.sent_messages(user)] == [first.params["text"], barrier.params["text"]]
    since = time.monotonic()
    fake.push_update(fake.make_edited_message(user, user, message_id, "lam khai tu online the nao"))
    [again] = await fake.wait_for("sendMessage", lambda c: c.chat_id == user, since=since)
    assert "khai tử" in again.params["text"].lower()


async def test_error_handler_answers_politely(fake: FakeBotAPI, caplog: pytest.LogCaptureFixture) -> None:
    user = new_user()
    fake.fail_next("sendMessage", 400, "Bad Request: something unexpected", chat_id=user)
    since = time.monotonic()
    fake.push_update(fake.make_text_message(user, user, "dang ky vneid muc 1"))
    [apology] = await fake.wait_for("sendMessage", lambda c: c.chat_id == user and c.ok, since=since)
    assert apology.params["text"] == texts.ERROR
    assert "Traceback" not in apology.params["text"]


async def test_webhook_requires_the_secret_token(nlu_for_bot: NluSettings, storage_for_bot: StorageSettings) -> None:
    async with FakeBotAPI() as fake:
        port = free_port()
        secret = "s3cret-token_for-tests"
        url = f"http://127.0.0.1:{port}/telegram"
        settings = settings_for(fake, webhook_url=url, webhook_secret=secret)
        application = build_application(settings, nlu_for_bot, storage_for_bot, NO_SUPPORT_CHAT)
        webhook = {
            "listen": "127.0.0.1",
            "port": port,
            "url_path": "telegram",
            "webhook_url": url,
            "secret_token": secret,
        }
        async with running(application, webhook=webhook):
            [registered] = fake.calls_of("setWebhook")
            assert registered.params["secret_token"] == secret
            user = new_user()
            assert await fake.post_webhook(url, fake.make_text_message(user, user, "vneid muc 2")) == 403
            assert await fake.post_webhook(url, fake.make_text_message(user, user, "vneid muc 2"), "wrong") == 403
            assert await fake.deliver_webhook(fake.make_text_message(user, user, "dang ky vneid muc 2 o dau")) == 200
            [answer] = await fake.wait_for_sent(user)
            assert answer.params["text"].startswith("<b>Đăng ký tài khoản định danh điện tử mức 2")
            # The valid request is the barrier: the two refused ones were never answered.
            assert fake.sent_messages(user) == [answer]
