"""Odd Telegram updates for the fuzz test and the burst benchmark: one generator, two drivers.

Huge, empty or control-character text, every non-text message kind, forged and overlong button
data, unknown commands and admin commands with odd arguments, edits, inline queries and
membership changes, in every chat type. ``update_strategy`` draws them for Hypothesis;
``random_update`` draws the same kinds from a seeded ``random.Random`` for a benchmark.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from tests.fake_bot_api import FakeBotAPI

ADMIN = 700_001
CHATS = {"private": ADMIN, "group": -4_000_001, "supergroup": -1_004_000_000_001, "channel": -1_004_000_000_002}

COMMANDS = [
    "start", "help", "menu", "hoi", "thongbao", "huy", "baocao", "lichhen", "nhom", "capquyen", "thuhoi",
    "quyen", "gan_the", "xoso", "start@tocnscd_test_bot", "hoi@other_bot",
]  # fmt: skip
ODD_ARGS = [
    "", "99999999999999999999999", "²", "١٢٣", "-1", "0", "2147483648", "9223372036854775808", "1e5",
    "tinh:khong_co", "xa:", "nhan:" + "x" * 300, "<b>", "&amp;", "\u202e\u200b", "xa Phường Ba Đình", "nhan vùng cao",
]  # fmt: skip
CALLBACK_PREFIXES = [
    "m",
    "d",
    "t",
    "r",
    "f",
    "c",
    "h",
    "gp",
    "gs",
    "gr",
    "gx",
    "gl",
    "ba",
    "bt",
    "bn",
    "bp",
    "bo",
    "rc",
    "x",
]

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
command_strategy = st.builds(
    lambda c, a: f"/{c} {a}".strip(), st.sampled_from(COMMANDS), st.sampled_from(ODD_ARGS) | st.text(max_size=30)
)
update_strategy = st.one_of(
    st.builds(_text, chat_strategy, text_strategy),
    st.builds(_text, st.just("private"), command_strategy),  # the admin's commands, where most of them work
    st.builds(_text, chat_strategy, command_strategy),
    st.builds(_media, chat_strategy, st.sampled_from(["sticker", "photo", "document", "voice", *MEDIA]), text_strategy),
    st.builds(_callback, chat_strategy, callback_strategy, st.integers(1, 2**31 - 1)),
    st.builds(_edit, chat_strategy, text_strategy, st.integers(1, 50)),
    st.builds(_inline, text_strategy),
    st.builds(_membership, st.sampled_from(["group", "supergroup", "channel", "private"]), statuses, statuses),
)


def random_text(rng: random.Random) -> str:
    choice = rng.randrange(5)
    if choice == 0:
        return "".join(
            chr(rng.choice([rng.randrange(0, 32), rng.randrange(0x300, 0x370), 0x200B, 0x202E, 0xFEFF]))
            for _ in range(rng.randrange(1, 30))
        )
    if choice == 1:
        return rng.choice(["", " ", "\n\n", "\x00", "@tocnscd_test_bot", "a" * 5000, "đ" * 4097, "😀" * 300])
    if choice == 2:
        return f"/{rng.choice(COMMANDS)} {rng.choice(ODD_ARGS)}".strip()
    if choice == 3:
        return "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(0, 60)))
    return rng.choice(["kich hoat vneid o dau", "Làm sao nộp phạt nguội?", "cảm ơn bot nhé", "ok"])


def random_update(rng: random.Random) -> Build:
    """One odd update, drawn from the same kinds as ``update_strategy``."""
    chat = rng.choice(sorted(CHATS))
    kind = rng.randrange(6)
    if kind == 0:
        return _text(chat, random_text(rng))
    if kind == 1:
        return _media(chat, rng.choice(["sticker", "photo", "document", "voice", *MEDIA]), random_text(rng))
    if kind == 2:
        prefix = rng.choice(CALLBACK_PREFIXES)
        data = rng.choice([f"{prefix}:{rng.choice(ODD_ARGS)}", random_text(rng)[:80], "x" * 64])
        return _callback(chat, data, rng.randrange(1, 2**31 - 1))
    if kind == 3:
        return _edit(chat, random_text(rng), rng.randrange(1, 50))
    if kind == 4:
        return _inline(random_text(rng))
    statuses = ["member", "administrator", "left", "kicked", "restricted"]
    return _membership(
        rng.choice(["group", "supergroup", "channel", "private"]), rng.choice(statuses), rng.choice(statuses)
    )
