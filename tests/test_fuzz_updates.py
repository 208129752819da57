"""Property-based fuzzing of the real bot: odd updates never reach the error handler.

Hypothesis generates batches of odd updates — huge, empty or control-character text, every
non-text message kind, forged and overlong button data, unknown commands and admin commands
with odd arguments, edits, inline queries, membership changes — in every chat type. They go
through the real ``Application`` (HTTP to the fake Bot API, real Rasa, real SQLite). After each
batch a normal question from a new user must be answered (the barrier: the bot is up and has
taken the batch off the queue), and no handler may have raised.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_application, running
from bot.context import BotContext
from nlu.settings import NluSettings
from storage.settings import StorageSettings
from tests.fake_bot_api import FakeBotAPI
from tests.test_telegram_bot import nlu_for_bot, settings_for, storage_for_bot  # noqa: F401  (fixtures)

ADMIN = 700_001
CHATS = {"private": ADMIN, "group": -4_000_001, "supergroup": -1_004_000_000_001, "channel": -1_004_000_000_002}
ERRORS: list[BaseException | None] = []
_barrier_users = iter(range(710_000, 790_000))

COMMANDS = [
    "start", "help", "menu", "hoi", "thongbao", "huy", "baocao", "lichhen", "nhom", "capquyen", "thuhoi",
    "quyen", "gan_the", "xoso", "start@tocnscd_test_bot", "hoi@other_bot",
]  # fmt: skip
ODD_ARGS = [
    "", "99999999999999999999999", "²", "١٢٣", "-1", "0", "2147483648", "9223372036854775808", "1e5",
    "tinh:khong_co", "xa:", "nhan:" + "x" * 300, "<b>", "&amp;", "\u202e\u200b", "xa Phường Ba Đình", "nhan vùng cao",
]  # fmt: skip
CALLBACK_PREFIXES = ["m", "d", "t", "r", "f", "c", "h", "gp", "gs", "gr", "gx", "gl", "ba", "bt", "bn", "bp", "bo", "rc", "x"]

text_strategy = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Mn"]), max_size=40),
    st.sampled_from(["", " ", "\n\n", "\x00", "@tocnscd_test_bot", "a" * 5000, "đ" * 4097, "😀" * 300]),
    st.builds(lambda c, a: f"/{c} {a}".strip(), st.sampled_from(COMMANDS), st.sampled_from(ODD_ARGS)),
)
callback_strategy = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda p, a: f"{p}:{a}",
        st.sampled_from(CALLBACK_PREFIXES),
        st.sampled_from([*ODD_ARGS, "1", "1:1", "vneid_muc_2", "ha_noi", "1:dvc_cu_tru"]),
    ),
    st.sampled_from(["m", "gp", "ba", "bn", "bw", "bo", "bc", "x" * 64, "é" * 40]),
)
chat_strategy = st.sampled_from(sorted(CHATS))

MEDIA: dict[str, dict[str, Any]] = {
    "location": {"location": {"latitude": 21.03, "longitude": 105.85}},
    "contact": {"contact": {"phone_number": "0912345678", "first_name": "Bác"}},
    "dice": {"dice": {"emoji": "🎲", "value": 3}},
    "video": {"video": {"file_id": "v", "file_unique_id": "vu", "width": 1, "height": 1, "duration": 1}},
    "video_note": {"video_note": {"file_id": "n", "file_unique_id": "nu", "length": 1, "duration": 1}},
    "animation": {"animation": {"file_id": "a", "file_unique_id": "au", "width": 1, "height": 1, "duration": 1}},
    "audio": {"audio": {"file_id": "au", "file_unique_id": "auu", "duration": 1}},
    "venue": {
        "venue": {"location": {"latitude": 1.0, "longitude": 2.0}, "title": "UBND xã", "address": "thôn 1"},
        "location": {"latitude": 1.0, "longitude": 2.0},
    },
    "new_members": {"new_chat_members": [{"id": 5, "is_bot": False, "first_name": "A"}]},
    "left_member": {"left_chat_member": {"id": 5, "is_bot": False, "first_name": "A"}},
    "pinned": {"pinned_message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}},
    "empty": {},
}
Build = Callable[[FakeBotAPI], dict[str, Any]]


def _text(chat: str, text: str) -> Build:
    return lambda fake: fake.make_text_message(CHATS[chat], ADMIN, text, chat_type=chat)


def _media(chat: str, kind: str, caption: str) -> Build:
    def build(fake: FakeBotAPI) -> dict[str, Any]:
        if kind == "sticker":
            return fake.make_sticker_message(CHATS[chat], ADMIN, chat_type=chat)
        if kind == "photo":
            return fake.make_photo_message(CHATS[chat], ADMIN, caption=caption or None, chat_type=chat)
        if kind == "document":
            return fake.make_document_message(CHATS[chat], ADMIN, caption=caption or None, chat_type=chat)
        if kind == "voice":
            return fake.make_voice_message(CHATS[chat], ADMIN, chat_type=chat)
        return fake.make_message(CHATS[chat], ADMIN, chat_type=chat, **MEDIA[kind])

    return build


def _callback(chat: str, data: str, message_id: int) -> Build:
    return lambda fake: fake.make_callback_query(CHATS[chat], ADMIN, message_id, data, chat_type=chat)


def _edit(chat: str, text: str, message_id: int) -> Build:
    return lambda fake: fake.make_edited_message(CHATS[chat], ADMIN, message_id, text, chat_type=chat)


def _inline(text: str) -> Build:
    return lambda fake: fake.make_inline_query(ADMIN, text[:300])


def _membership(chat: str, old: str, new: str) -> Build:
    return lambda fake: fake.make_my_chat_member(CHATS[chat], "Nhóm thử", chat, old, new, ADMIN)


statuses = st.sampled_from(["member", "administrator", "left", "kicked", "restricted"])
update_strategy = st.one_of(
    st.builds(_text, chat_strategy, text_strategy),
    st.builds(_media, chat_strategy, st.sampled_from(["sticker", "photo", "document", "voice", *MEDIA]), text_strategy),
    st.builds(_callback, chat_strategy, callback_strategy, st.integers(1, 2**31 - 1)),
    st.builds(_edit, chat_strategy, text_strategy, st.integers(1, 50)),
    st.builds(_inline, text_strategy),
    st.builds(_membership, st.sampled_from(["group", "supergroup", "channel", "private"]), statuses, statuses),
)


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        for chat_id in (CHATS["group"], CHATS["supergroup"]):
            fake.set_chat_member_status(chat_id, ADMIN, "administrator")
        yield fake


async def _record_error(update: object, context: BotContext) -> None:
    ERRORS.append(context.error)


@pytest.fixture(scope="module")
async def app(server: FakeBotAPI, nlu_for_bot: NluSettings, storage_for_bot: StorageSettings) -> AsyncIterator[Any]:  # noqa: F811
    settings = settings_for(server, admin_user_ids=str(ADMIN), rate_limit_burst=1000, rate_limit_per_second=100.0)
    application = build_application(settings, nlu_for_bot, storage_for_bot)
    application.add_error_handler(_record_error)
    async with running(application, poll_timeout=1) as started:
        yield started


async def _barrier(fake: FakeBotAPI) -> None:
    """A normal question from a new user must still be answered after the batch."""
    user = next(_barrier_users)
    since = time.monotonic()
    fake.push_update(fake.make_text_message(user, user, "quen mat khau vneid thi lam sao"))
    [answer] = await fake.wait_for("sendMessage", lambda c: c.chat_id == user and c.ok, since=since, timeout=20)
    assert answer.params["text"].startswith("<b>Quên mật khẩu")


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(update_strategy, min_size=1, max_size=6))
async def test_odd_updates_never_reach_the_error_handler(server: FakeBotAPI, app: Any, batch: list[Build]) -> None:
    server.reset_faults()
    for build in batch:
        server.push_update(build(server))
    await _barrier(server)
    await server.wait_updates_consumed()
    assert ERRORS == [], [repr(e) for e in ERRORS]
