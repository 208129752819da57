"""A fake Telegram Bot API HTTP server for tests and benchmarks.

Longer than 400 lines because it is one self-contained stand-in for Telegram's HTTP API (the
server, the HTML entity parser, update builders and every method the bot uses), shared by the
tests and the benchmarks as a single file with no dependency on the project.

The real ``telegram.ext.Application`` talks to it over HTTP exactly as it would talk to
``api.telegram.org``::

    async with FakeBotAPI() as server:
        application = (
            ApplicationBuilder()
            .token(server.token)
            .base_url(f"{server.url}/bot{{token}}/")
            .base_file_url(f"{server.url}/file/bot{{token}}/")
            .build()
        )
        ...
        server.push_update(server.make_text_message(chat_id=42, user_id=42, text="/start"))
        [call] = await server.wait_for("sendMessage")

PTB builds request URLs as ``f"{base_url}/{method}"``; with a trailing slash in ``base_url``
that gives ``/bot<token>//sendMessage``, which the server accepts like ``/bot<token>/sendMessage``.

Everything here must be used from the event loop that runs the server (no thread safety).
The module deliberately has no pytest dependency so benchmark scripts can import it.

Known simplifications (documented so nobody relies on them by accident):

* ``parse_mode`` ``HTML`` is parsed and validated; ``MarkdownV2``/``Markdown`` text is taken
  as-is (no validation, the raw length counts).
* Message length limits count Python characters (code points) of the text after parsing.
* With ``strict_ampersand=True`` (default) a bare ``&`` that is not a supported entity
  (``&lt; &gt; &amp; &quot;`` or numeric) is rejected; the real Telegram is lenient there.
* Unknown file_ids and unknown message ids are accepted (a message is synthesised), except by
  ``copyMessage``, which needs the stored source to copy its content.
* Forum topics: a topic exists once ``createForumTopic`` (or :meth:`FakeBotAPI.make_forum_topic_created`)
  made it, or once a builder put a message into that thread (so ``make_message(...,
  message_thread_id=77, is_forum=True)`` keeps working without creating topic 77 first). The
  General topic is not modelled (send without ``message_thread_id`` to post there).
* Administrator rights are only enforced (topics: create, edit, close, delete, post in a closed
  topic) in chats where the fake knows some administrator (``set_chat_admins``,
  ``set_admin_rights``, ``set_chat_member_status``); elsewhere the bot is assumed to hold them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import itertools
import json
import math
import os
import re
import secrets
import socket
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, ClientSession, ClientTimeout, web

JSONDict = dict[str, Any]

__all__ = [
    "CHAT_ERROR_METHODS",
    "EDIT_METHODS",
    "FORUM_TOPIC_COLORS",
    "SEND_METHODS",
    "TOPIC_METHODS",
    "Call",
    "FakeBotAPI",
    "Stats",
    "TelegramHTMLError",
    "UploadedFile",
    "detect_entities",
    "parse_telegram_html",
    "utf16_len",
]

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200

SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendAudio",
        "sendVoice",
        "sendVideo",
        "sendAnimation",
        "sendVideoNote",
        "sendSticker",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }
)
EDIT_METHODS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup", "editMessageMedia"})
TOPIC_METHODS = frozenset(
    {"createForumTopic", "editForumTopic", "closeForumTopic", "reopenForumTopic", "deleteForumTopic"}
)
CHAT_ERROR_METHODS = (
    SEND_METHODS
    | EDIT_METHODS
    | TOPIC_METHODS
    | {
        "sendChatAction",
        "pinChatMessage",
        "unpinChatMessage",
        "deleteMessage",
    }
)
_SEND_LOWER = frozenset(m.lower() for m in SEND_METHODS)

# The icon colours createForumTopic accepts (the Bot API documents exactly these six).
FORUM_TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
FORUM_TOPIC_NAME_LIMIT = 128

# What copyMessage carries over from the source (forward, reply, thread and edit data are not copied).
_COPIED_FIELDS = (
    "text",
    "entities",
    "link_preview_options",
    "photo",
    "document",
    "audio",
    "voice",
    "video",
    "video_note",
    "animation",
    "sticker",
    "caption",
    "caption_entities",
    "show_caption_above_media",
    "has_media_spoiler",
    "contact",
    "location",
    "venue",
    "poll",
    "dice",
    "story",
)
# A message with none of these is a service message, which can't be copied.
_COPYABLE_CONTENT = frozenset(
    {
        "text",
        "photo",
        "document",
        "audio",
        "voice",
        "video",
        "video_note",
        "animation",
        "sticker",
        "contact",
        "location",
        "venue",
        "poll",
        "dice",
        "story",
    }
)
_UNCOPYABLE_CONTENT = frozenset({"invoice", "giveaway", "giveaway_winners", "paid_media"})
_CAPTIONED_CONTENT = ("photo", "document", "audio", "voice", "video", "animation")

# Parameters whose values are plain strings and must never be JSON-decoded
# (a message text "123" must stay "123").
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "query",
        "data",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "next_offset",
        "switch_pm_text",
        "switch_pm_parameter",
        "description",
        "short_description",
        "name",
        "title",
        "emoji",
        "question",
        "address",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "photo",
        "document",
        "audio",
        "voice",
        "video",
        "animation",
        "video_note",
        "sticker",
        "thumbnail",
        "ip_address",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "custom_emoji_id",
        "icon_custom_emoji_id",
        "file_id",
        "action",
        "explanation",
        "payload",
        "currency",
        "start_parameter",
        "file_name",
    }
)
_NUMBER_RE = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")

_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_UPDATE_KEYS_IGNORED = frozenset({"update_id"})

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")

# file_id prefixes seen on real files of each kind (the rest is random base64url).
_FILE_ID_PREFIX = {
    "photo": "AgACAgIAAxkBAAI",
    "document": "BQACAgIAAxkBAAI",
    "sticker": "CAACAgIAAxkBAAI",
    "voice": "AwACAgIAAxkBAAI",
    "video": "BAACAgIAAxkBAAI",
    "audio": "CQACAgIAAxkBAAI",
    "animation": "CgACAgIAAxkBAAI",
    "video_note": "DQACAgIAAxkBAAI",
}
_MIME_BY_KIND = {
    "photo": "image/jpeg",
    "document": "application/octet-stream",
    "voice": "audio/ogg",
    "audio": "audio/mpeg",
    "video": "video/mp4",
    "animation": "video/mp4",
    "video_note": "video/mp4",
    "sticker": "image/webp",
}


# --------------------------------------------------------------------------------------------
# Text helpers: UTF-16 lengths, Telegram HTML parsing, entity auto-detection
# --------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for entity offsets."""
    return len(text.encode("utf-16-le")) // 2


class TelegramHTMLError(ValueError):
    """Text is not valid Telegram HTML; the message mimics Telegram's wording."""


_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG_RE = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)"
    r"((?:\s+[^\s=>/\"']+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)"
    r"\s*(/?)>"
)
_ATTR_RE = re.compile(r"([^\s=>/\"']+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?")
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[A-Za-z][A-Za-z0-9]{0,31});")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPECIAL_RE = re.compile(r"[<&]")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_html_entity(token: str) -> str | None:
    if token.startswith("#"):
        try:
            code = int(token[2:], 16) if token[1:2] in ("x", "X") else int(token[1:])
        except ValueError:
            return None
        if code <= 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        return chr(code)
    return _NAMED_ENTITIES.get(token)


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output text
    language: str | None = None


def _html_unescape_attr(value: str) -> str:
    return _HTML_ENTITY_RE.sub(lambda m: _decode_html_entity(m.group(1)) or m.group(0), value)


def parse_telegram_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[JSONDict]]:
    """Parse Telegram-flavoured HTML into ``(plain_text, entities)`` (offsets in UTF-16 units).

    Raises :class:`TelegramHTMLError` for unsupported/unclosed/unmatched tags, a bare ``<``
    and (when ``strict_ampersand``) a bare ``&``.
    """
    out: list[str] = []
    pos16 = 0
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []

    def emit(chunk: str) -> None:
        nonlocal pos16
        if chunk:
            out.append(chunk)
            pos16 += utf16_len(chunk)

    i = 0
    while True:
        match = _SPECIAL_RE.search(text, i)
        if match is None:
            emit(text[i:])
            break
        j = match.start()
        emit(text[i:j])
        if text[j] == "&":
            ent = _HTML_ENTITY_RE.match(text, j)
            decoded = _decode_html_entity(ent.group(1)) if ent else None
            if decoded is None or ent is None:
                if strict_ampersand:
                    raise TelegramHTMLError(
                        f"Unsupported HTML entity or unescaped '&' at byte offset {_byte_offset(text, j)}"
                    )
                emit("&")
                i = j + 1
            else:
                emit(decoded)
                i = ent.end()
            continue
        tag = _TAG_RE.match(text, j)
        if tag is None:
            if text.startswith("</", j):
                raise TelegramHTMLError(f"Unexpected end tag at byte offset {_byte_offset(text, j)}")
            name_match = re.match(r"<([A-Za-z][A-Za-z0-9-]*)", text[j:])
            if name_match:
                raise TelegramHTMLError(f"Unclosed start tag at byte offset {_byte_offset(text, j)}")
            raise TelegramHTMLError(f'Unsupported start tag "" at byte offset {_byte_offset(text, j)}')
        closing, raw_name, raw_attrs, _self_closing = tag.groups()
        name = raw_name.lower()
        offset = _byte_offset(text, j)
        if closing:
            if not stack:
                raise TelegramHTMLError(f"Unexpected end tag at byte offset {offset}")
            top = stack[-1]
            if top.name != name:
                raise TelegramHTMLError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{top.name}>", found "</{name}>"'
                )
            stack.pop()
            entity = _entity_for_tag(top, pos16 - top.start, stack)
            if entity is not None:
                entities.append(entity)
        else:
            if name not in _HTML_TAGS:
                raise TelegramHTMLError(f'Unsupported start tag "{name}" at byte offset {offset}')
            attrs: dict[str, str] = {}
            for attr in _ATTR_RE.finditer(raw_attrs or ""):
                value = next((v for v in attr.groups()[1:] if v is not None), "")
                attrs[attr.group(1).lower()] = _html_unescape_attr(value)
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise TelegramHTMLError('Tag "span" must have class "tg-spoiler"')
            if name == "tg-emoji" and not attrs.get("emoji-id"):
                raise TelegramHTMLError('Tag "tg-emoji" must have attribute "emoji-id"')
            stack.append(_OpenTag(name, attrs, pos16))
        i = tag.end()
    if stack:
        raise TelegramHTMLError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _entity_for_tag(tag: _OpenTag, length: int, stack: list[_OpenTag]) -> JSONDict | None:
    kind = _HTML_TAGS[tag.name]
    entity: JSONDict = {"offset": tag.start, "length": length, "type": kind}
    if tag.name == "a":
        href = tag.attrs.get("href")
        if not href:
            return None
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            entity["type"] = "text_mention"
            entity["user"] = {"id": int(user.group(1)), "is_bot": False, "first_name": "User"}
        else:
            entity["url"] = href
    elif tag.name == "code":
        css = tag.attrs.get("class", "")
        if stack and stack[-1].name == "pre" and css.startswith("language-"):
            stack[-1].language = css.removeprefix("language-")
            return None
    elif tag.name == "pre":
        if tag.language:
            entity["language"] = tag.language
    elif tag.name == "blockquote":
        if "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    if length <= 0:
        return None
    return entity


_AUTO_ENTITY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bot_command", re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("url", re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]'’]")),
    ("mention", re.compile(r"(?<![\w@/.])@[A-Za-z0-9_]{4,32}(?!\w)")),
)
_NO_AUTODETECT_INSIDE = frozenset({"code", "pre", "text_link", "text_mention", "custom_emoji"})


def detect_entities(text: str, existing: Iterable[JSONDict] = ()) -> list[JSONDict]:
    """Entities Telegram detects by itself: bot commands, URLs and @mentions (UTF-16 offsets)."""
    taken = [(e["offset"], e["offset"] + e["length"]) for e in existing if e.get("type") in _NO_AUTODETECT_INSIDE]
    found: list[JSONDict] = []
    for kind, pattern in _AUTO_ENTITY_PATTERNS:
        for match in pattern.finditer(text):
            start = utf16_len(text[: match.start()])
            end = start + utf16_len(match.group(0))
            if any(start < b and a < end for a, b in taken):
                continue
            taken.append((start, end))
            found.append({"offset": start, "length": end - start, "type": kind})
    found.sort(key=lambda e: e["offset"])
    return found


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


def _norm_chat_id(value: Any) -> int | str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value)
    with contextlib.suppress(ValueError):
        return int(text)
    return text


def _chat_key(value: int | str) -> int | str:
    key = _norm_chat_id(value)
    if key is None:
        raise ValueError(f"invalid chat id: {value!r}")
    return key


@dataclass
class UploadedFile:
    """A file received in a multipart request."""

    field: str
    filename: str | None
    size: int
    content_type: str | None
    file_id: str
    file_unique_id: str


@dataclass(eq=False)
class Call:
    """One request received by the server.

    ``params`` holds the decoded parameters (nested objects JSON-decoded); multipart file
    parts are not in ``params`` but in ``files``. ``response`` stays ``None`` while the request
    is in flight and when the connection was dropped on purpose (``dropped``);
    :meth:`FakeBotAPI.wait_for` only sees finished calls.
    """

    method: str
    params: dict[str, Any]
    time: float
    files: list[UploadedFile] = field(default_factory=list)
    status: int | None = None
    response: JSONDict | None = None
    dropped: bool = False
    done: bool = False
    done_time: float | None = None

    @property
    def ok(self) -> bool:
        return self.response is not None and self.response.get("ok") is True

    @property
    def result(self) -> Any:
        return self.response.get("result") if self.response is not None and self.ok else None

    @property
    def error_code(self) -> int | None:
        return None if self.response is None or self.ok else self.response.get("error_code")

    @property
    def description(self) -> str | None:
        return None if self.response is None or self.ok else self.response.get("description")

    @property
    def chat_id(self) -> int | str | None:
        return _norm_chat_id(self.params.get("chat_id"))

    @property
    def text(self) -> str | None:
        """``text`` or ``caption`` parameter as sent (before HTML parsing)."""
        value = self.params.get("text", self.params.get("caption"))
        return None if value is None else str(value)

    def is_method(self, method: str) -> bool:
        return self.method.lower() == method.lower()


@dataclass
class Stats:
    """Counters since start (or the last :meth:`FakeBotAPI.clear`)."""

    methods: Counter[str] = field(default_factory=Counter)
    too_many_requests: int = 0  # every 429 answered (injected or rate limited)
    rate_limited: int = 0  # 429s provoked by rate_limit()
    errors: int = 0  # every answer with ok=false
    network_failures: int = 0  # connections dropped on purpose

    def __getitem__(self, method: str) -> int:
        return self.methods[method]


class _ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        data: JSONDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            data["parameters"] = self.parameters
        return data


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


@dataclass
class _FailRule:
    method: str
    code: int
    description: str
    parameters: JSONDict | None
    remaining: int
    chat_id: int | str | None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    size: int
    file_name: str | None = None
    mime_type: str | None = None
    content: bytes | None = None
    file_path: str | None = None


@dataclass
class _Topic:
    """A forum topic; ``thread_id`` is the id of its ``forum_topic_created`` service message."""

    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    is_closed: bool = False
    created_by_bot: bool = False

    def forum_topic(self) -> JSONDict:
        """The ForumTopic object."""
        topic: JSONDict = {"message_thread_id": self.thread_id, "name": self.name, "icon_color": self.icon_color}
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected error",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
_MIGRATED_DESCRIPTION = "Bad Request: group chat was upgraded to a supergroup chat"
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeBotAPI:
    """Fake Bot API server on ``127.0.0.1`` (see the module docstring)."""

    def __init__(
        self,
        token: str = "7000000001:AAFakeTokenForTestsOnly-tocnscd_0000",
        *,
        bot_id: int | None = None,
        username: str = "tocnscd_test_bot",
        first_name: str = "Trợ lý Tổ CNSCĐ (test)",
        host: str = "127.0.0.1",
        strict_ampersand: bool = True,
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = bot_id if bot_id is not None else (int(prefix) if prefix.isdigit() else 7000000001)
        self.username = username
        self.first_name = first_name
        self.host = host
        self.strict_ampersand = strict_ampersand
        self.url = ""
        self.port = 0

        self.calls: list[Call] = []
        self.stats = Stats()
        self.chat_error_methods: set[str] = set(CHAT_ERROR_METHODS)

        self.users: dict[int, JSONDict] = {}
        self.chats: dict[int | str, JSONDict] = {}
        self.messages: dict[tuple[int | str, int], JSONDict] = {}
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.webhook_url: str = ""
        self.webhook_secret: str | None = None
        self.pinned: dict[int | str, int] = {}

        self._runner: web.AppRunner | None = None
        self._closing = False
        self._calls_changed = asyncio.Event()
        self._updates_changed = asyncio.Event()

        self._updates: list[JSONDict] = []
        self._next_update_id = 100_000_001
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0

        self._message_ids: dict[int | str, int] = {}
        self._deleted: set[tuple[int | str, int]] = set()
        self._members: dict[int | str, dict[int, str]] = {}
        self._rights: dict[tuple[int | str, int], dict[str, bool]] = {}  # set_admin_rights overrides
        self._topics: dict[int | str, dict[int, _Topic]] = {}
        self._deleted_topics: set[tuple[int | str, int]] = set()
        self._files: dict[str, _StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._open_callback_queries: set[str] = set()
        self._answered_queries: set[str] = set()
        self._media_group_counter = itertools.count(13_000_000_000_000_000)

        self._fail_rules: list[_FailRule] = []
        self._chat_errors: dict[int | str, _ApiError] = {}
        self._network_failures: list[list[Any]] = []  # [method_or_None, remaining]
        self._delays: dict[str, float] = {}
        self._global_per_second: int | None = None
        self._per_chat_per_minute: int | None = None
        self._per_chat_per_second: int | None = None
        self._global_window: deque[float] = deque()
        self._chat_minute_windows: dict[int | str, deque[float]] = {}
        self._chat_second_windows: dict[int | str, deque[float]] = {}

        self._handlers: dict[str, Callable[[Call], Any]] = {
            name.lower(): getattr(self, f"_m_{name}")
            for name in (
                "getMe",
                "getUpdates",
                "deleteWebhook",
                "setWebhook",
                "getWebhookInfo",
                "setMyCommands",
                "getMyCommands",
                "deleteMyCommands",
                "sendMessage",
                "sendPhoto",
                "sendDocument",
                "sendAudio",
                "sendVoice",
                "sendVideo",
                "sendAnimation",
                "sendVideoNote",
                "sendSticker",
                "sendMediaGroup",
                "copyMessage",
                "createForumTopic",
                "editForumTopic",
                "closeForumTopic",
                "reopenForumTopic",
                "deleteForumTopic",
                "editMessageText",
                "editMessageReplyMarkup",
                "editMessageCaption",
                "answerCallbackQuery",
                "answerInlineQuery",
                "pinChatMessage",
                "getChat",
                "getChatMember",
                "getChatAdministrators",
                "getChatMemberCount",
                "sendChatAction",
                "deleteMessage",
                "getFile",
                "close",
                "logOut",
            )
        }

    # ----------------------------------------------------------------------------- lifecycle

    @property
    def bot_user(self) -> JSONDict:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder.base_url``."""
        return f"{self.url}/bot{{token}}/"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder.base_file_url``."""
        return f"{self.url}/file/bot{{token}}/"

    async def start(self) -> FakeBotAPI:
        if self._runner is not None:
            return self
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self.url = f"http://{self.host}:{self.port}"
        return self

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._closing = True
        self._notify_updates()
        self._notify_calls()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> FakeBotAPI:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------------------ records

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.is_method(method)]

    def sent_messages(self, chat_id: int | str | None = None, *, include_failed: bool = False) -> list[Call]:
        """Finished calls of send methods (sendMessage, sendPhoto, ...), successful ones by default."""
        wanted = _norm_chat_id(chat_id)
        return [
            c
            for c in self.calls
            if c.method.lower() in _SEND_LOWER
            and c.done
            and (include_failed or c.ok)
            and (wanted is None or c.chat_id == wanted)
        ]

    def message_of(self, call: Call) -> JSONDict | None:
        """The stored message a successful send call created, as it is now (later edits included).

        For ``copyMessage``, whose result is only a MessageId, this is how a test sees what was
        copied. ``None`` for failed calls, ``sendMediaGroup`` and messages deleted since.
        """
        result = call.result
        if call.chat_id is None or not isinstance(result, dict) or not isinstance(result.get("message_id"), int):
            return None
        return self.messages.get((call.chat_id, result["message_id"]))

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        count: int = 1,
        timeout: float = 10.0,
        *,
        since: float | None = None,
    ) -> list[Call]:
        """Wait until ``count`` finished calls of ``method`` (``"*"``: any) match ``predicate``.

        Returns every matching finished call recorded so far (at least ``count``); ``since``
        (a ``time.monotonic()`` value) ignores older calls. Raises ``TimeoutError``.
        """

        def matching() -> list[Call]:
            return [
                c
                for c in self.calls
                if c.done
                and (method == "*" or c.is_method(method))
                and (since is None or c.time >= since)
                and (predicate is None or predicate(c))
            ]

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._calls_changed
            found = matching()
            if len(found) >= count:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                seen = Counter(c.method for c in self.calls)
                why = "the server was stopped" if self._closing else f"not seen within {timeout}s"
                raise TimeoutError(
                    f"{count} matching {method!r} call(s): {why} (found {len(found)}; calls so far: {dict(seen)})"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def wait_for_sent(
        self,
        chat_id: int | str | None = None,
        predicate: Callable[[Call], bool] | None = None,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[Call]:
        """Wait for ``count`` successful send-method calls (optionally to ``chat_id``)."""
        wanted = _norm_chat_id(chat_id)
        return await self.wait_for(
            "*",
            lambda c: (
                c.method.lower() in _SEND_LOWER
                and c.ok
                and (wanted is None or c.chat_id == wanted)
                and (predicate is None or predicate(c))
            ),
            count=count,
            timeout=timeout,
        )

    def clear(self) -> None:
        """Forget recorded calls and counters (updates, chats and fault settings stay)."""
        self.calls.clear()
        self.stats = Stats()

    def reset_faults(self) -> None:
        """Remove every injected failure, delay, chat error and rate limit."""
        self._fail_rules.clear()
        self._chat_errors.clear()
        self._network_failures.clear()
        self._delays.clear()
        self.rate_limit()

    def _notify_calls(self) -> None:
        event, self._calls_changed = self._calls_changed, asyncio.Event()
        event.set()

    def _notify_updates(self) -> None:
        event, self._updates_changed = self._updates_changed, asyncio.Event()
        event.set()

    # ------------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        error_code: int = 400,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
        chat_id: int | str | None = None,
        *,
        migrate_to_chat_id: int | None = None,
        parameters: JSONDict | None = None,
    ) -> None:
        """The next ``count`` calls of ``method`` (``"*"``: any but getUpdates) fail with that error."""
        params = dict(parameters or {})
        if retry_after is not None:
            params["retry_after"] = int(retry_after)
        if migrate_to_chat_id is not None:
            params["migrate_to_chat_id"] = migrate_to_chat_id
        if description is None:
            if migrate_to_chat_id is not None:
                description = _MIGRATED_DESCRIPTION
            elif error_code == 429:
                description = f"Too Many Requests: retry after {params.get('retry_after', 1)}"
                params.setdefault("retry_after", 1)
            else:
                description = _DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
        self._fail_rules.append(
            _FailRule(method, error_code, description, params or None, count, _norm_chat_id(chat_id))
        )

    def set_chat_error(
        self, chat_id: int | str, error_code: int, description: str, parameters: JSONDict | None = None
    ) -> None:
        """Every chat-scoped write call (see ``chat_error_methods``) to ``chat_id`` fails until cleared."""
        self._chat_errors[_chat_key(chat_id)] = _ApiError(error_code, description, parameters)

    def clear_chat_error(self, chat_id: int | str) -> None:
        self._chat_errors.pop(_chat_key(chat_id), None)

    def rate_limit(
        self,
        global_per_second: int | None = None,
        per_chat_per_minute: int | None = None,
        per_chat_per_second: int | None = None,
    ) -> None:
        """Enforce sliding-window limits on send methods (``None`` disables a limit)."""
        self._global_per_second = global_per_second
        self._per_chat_per_minute = per_chat_per_minute
        self._per_chat_per_second = per_chat_per_second
        self._global_window.clear()
        self._chat_minute_windows.clear()
        self._chat_second_windows.clear()

    def network_failure(self, method: str | None = None, count: int = 1) -> None:
        """Drop the connection of the next ``count`` calls of ``method``.

        ``None`` matches any method except getUpdates (pass ``"getUpdates"`` explicitly to
        break polling).
        """
        self._network_failures.append([method, count])

    def delay(self, method: str, seconds: float | None) -> None:
        """Add latency to ``method`` (``"*"``: every method but getUpdates); 0/None removes it."""
        if seconds:
            self._delays[method.lower()] = seconds
        else:
            self._delays.pop(method.lower(), None)

    def set_chat_admins(self, chat_id: int | str, user_ids: Iterable[int], *, creator_id: int | None = None) -> None:
        """Administrators of a chat (for getChatMember/getChatAdministrators); others are members.

        ``creator_id`` (default: the first of ``user_ids``) gets status ``creator``. Include
        ``server.bot_id`` to make the bot an administrator; administrators have
        :meth:`member_dict`'s default rights (no ``can_manage_topics``): see :meth:`set_admin_rights`.
        """
        key = _chat_key(chat_id)
        ids = list(user_ids)
        members = {uid: st for uid, st in self._members.get(key, {}).items() if st not in ("administrator", "creator")}
        if creator_id is None and ids:
            creator_id = ids[0]
        for uid in ids:
            members[uid] = "administrator"
        if creator_id is not None:
            members[creator_id] = "creator"
        self._members[key] = members
        for chat_key, uid in list(self._rights):
            if chat_key == key and members.get(uid) != "administrator":
                del self._rights[(chat_key, uid)]

    def set_chat_member_status(self, chat_id: int | str, user_id: int, status: str) -> None:
        """Set one member status: creator, administrator, member, restricted, left or kicked."""
        key = _chat_key(chat_id)
        self._members.setdefault(key, {})[user_id] = status
        if status != "administrator":
            self._rights.pop((key, user_id), None)

    def set_admin_rights(self, chat_id: int | str, user_id: int, **rights: bool) -> None:
        """Make ``user_id`` an administrator (a creator stays creator) with ``rights`` overriding the
        defaults of :meth:`member_dict`, e.g. ``set_admin_rights(chat, server.bot_id, can_manage_topics=True)``."""
        defaults = self.member_dict({"id": user_id}, "administrator")
        unknown = sorted(name for name in rights if name not in defaults or not name.startswith(("can_", "is_")))
        if unknown:
            raise ValueError(f"unknown administrator rights: {', '.join(unknown)}")
        key = _chat_key(chat_id)
        members = self._members.setdefault(key, {})
        if members.get(user_id) != "creator":
            members[user_id] = "administrator"
        self._rights[(key, user_id)] = {**self._rights.get((key, user_id), {}), **rights}

    def _bot_has_right(self, chat_id: int | str, right: str) -> bool:
        """Whether the bot holds an administrator right; ``True`` where no administrator is known."""
        members = self._members.get(chat_id, {})
        if not any(status in ("creator", "administrator") for status in members.values()):
            return True
        status = members.get(self.bot_id, "member")
        if status != "administrator":
            return status == "creator"
        return bool(self.member_dict(self.bot_user, status, self._rights.get((chat_id, self.bot_id))).get(right))

    # ------------------------------------------------------------------------------ updates

    def push_update(self, update: JSONDict) -> JSONDict:
        """Queue an update for getUpdates (``update_id`` assigned if missing); returns it."""
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        self._updates.append(update)
        self._updates.sort(key=lambda u: u["update_id"])
        self._remember_update(update)
        self._notify_updates()
        return update

    # Settings a child process must not inherit from the developer's environment.
    CHILD_ENV_DROP = ("TELEGRAM_", "RASA_", "WEBHOOK_", "BROADCAST_", "DATABASE_URL", "GROUP_MESSAGES_PER_MINUTE")

    def child_env(self, database_url: str, **values: str) -> dict[str, str]:
        """Environment for a bot or sender process talking to this server: token and URLs set,
        the caller's own Telegram/Rasa/broadcast/database settings dropped, ``values`` added."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(self.CHILD_ENV_DROP)}
        env.update(
            TELEGRAM_BOT_TOKEN=self.token,
            TELEGRAM_API_BASE_URL=self.base_url,
            TELEGRAM_API_FILE_URL=self.base_file_url,
            DATABASE_URL=database_url,
            LOG_LEVEL="WARNING",
        )
        env.update(values)
        return env

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    async def wait_updates_consumed(self, timeout: float = 10.0) -> None:
        """Wait until every pushed update was confirmed (polled and acknowledged by offset)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._updates:
            event = self._calls_changed
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"{len(self._updates)} update(s) still pending after {timeout}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _remember_update(self, update: JSONDict) -> None:
        for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
            msg = update.get(key)
            if isinstance(msg, dict):
                self._store_message(msg)

    async def post_webhook(self, url: str, update: JSONDict, secret_token: str | None = None) -> int:
        """POST ``update`` (``update_id`` assigned if missing) to a webhook; returns the HTTP status."""
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        self._remember_update(update)
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        async with (
            ClientSession(timeout=ClientTimeout(total=30)) as session,
            session.post(url, json=update, headers=headers) as response,
        ):
            await response.read()
            return response.status

    async def deliver_webhook(self, update: JSONDict) -> int:
        """Like :meth:`post_webhook` to the URL and secret registered by setWebhook."""
        if not self.webhook_url:
            raise RuntimeError("no webhook registered (setWebhook was not called)")
        return await self.post_webhook(self.webhook_url, update, self.webhook_secret)

    # ------------------------------------------------------------------------------ builders

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "vi",
        is_bot: bool = False,
    ) -> JSONDict:
        user: JSONDict = {"id": user_id, "is_bot": is_bot, "first_name": first_name or f"User {user_id}"}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        return user

    def user(self, user_id: int) -> JSONDict:
        return dict(self.users.get(user_id) or self.add_user(user_id))

    def add_chat(
        self,
        chat_id: int | str,
        chat_type: str | None = None,
        title: str | None = None,
        *,
        is_forum: bool = False,
        username: str | None = None,
    ) -> JSONDict:
        """Register (or update) a chat; type inferred from the id when not given."""
        key = _chat_key(chat_id)
        known = self.chats.get(key)
        if chat_type is None:
            chat_type = known["type"] if known else _infer_chat_type(key)
        chat: JSONDict = {"id": key, "type": chat_type}
        if chat_type == "private":
            uid = key if isinstance(key, int) else 0
            person = self.user(uid)
            chat["first_name"] = person["first_name"]
            for extra in ("last_name", "username"):
                if extra in person:
                    chat[extra] = person[extra]
        else:
            chat["title"] = title or (known or {}).get("title") or f"{chat_type.title()} {key}"
            if username:
                chat["username"] = username
            if is_forum or (known and known.get("is_forum")):
                chat["is_forum"] = True
        self.chats[key] = chat
        return chat

    def chat(self, chat_id: int | str) -> JSONDict:
        key = _chat_key(chat_id)
        return dict(self.chats.get(key) or self.add_chat(key))

    def next_message_id(self, chat_id: int | str) -> int:
        key = _chat_key(chat_id)
        value = self._message_ids.get(key, 0) + 1
        self._message_ids[key] = value
        return value

    def _store_message(self, msg: JSONDict) -> None:
        chat_id = _norm_chat_id(msg.get("chat", {}).get("id"))
        message_id = msg.get("message_id")
        if chat_id is None or not isinstance(message_id, int):
            return
        self._message_ids[chat_id] = max(self._message_ids.get(chat_id, 0), message_id)
        self.messages[(chat_id, message_id)] = msg

    def _resolve_reply(self, chat_id: int | str, reply: JSONDict | int) -> JSONDict:
        if isinstance(reply, dict):
            found = reply
        else:
            found = self.messages.get((_chat_key(chat_id), reply)) or {
                "message_id": reply,
                "date": int(time.time()) - 60,
                "chat": self.chat(chat_id),
                "from": self.bot_user,
                "text": "…",
            }
        found = dict(found)
        found.pop("reply_to_message", None)  # Telegram never nests replies
        return found

    def make_message(
        self,
        chat_id: int | str,
        user_id: int,
        *,
        chat_type: str | None = None,
        chat_title: str | None = None,
        is_forum: bool = False,
        message_thread_id: int | None = None,
        reply_to_message: JSONDict | int | None = None,
        update_type: str = "message",
        **content: Any,
    ) -> JSONDict:
        """An update with a message of arbitrary ``content`` (the other builders use this).

        In a forum (``is_forum``) a message with ``message_thread_id`` is a topic message: the
        topic becomes known if it was not, and without ``reply_to_message`` the message replies to
        the topic's ``forum_topic_created`` message when that is stored, as Telegram does. A reply
        to a topic message without ``message_thread_id`` lands in that topic.
        """
        if is_forum and chat_type is None:
            chat_type = "supergroup"
        chat = self.add_chat(chat_id, chat_type, chat_title, is_forum=is_forum)
        msg: JSONDict = {"message_id": self.next_message_id(chat_id), "date": int(time.time())}
        if chat["type"] == "channel":
            msg["sender_chat"] = chat
            if update_type == "message":
                update_type = "channel_post"
        else:
            msg["from"] = self.user(user_id)
        msg["chat"] = chat
        replied = self._resolve_reply(chat_id, reply_to_message) if reply_to_message is not None else None
        if chat.get("is_forum") and message_thread_id is None and replied is not None:
            # A reply lands in the topic of the message it answers.
            message_thread_id = replied.get("message_thread_id") if replied.get("is_topic_message") else None
        if message_thread_id is not None:
            msg["message_thread_id"] = message_thread_id
            if chat.get("is_forum"):
                msg["is_topic_message"] = True
                self._known_topic(chat["id"], message_thread_id)
                if replied is None:
                    replied = self._topic_root(chat["id"], message_thread_id)
        if replied is not None:
            msg["reply_to_message"] = replied
        msg.update({k: v for k, v in content.items() if v is not None})
        self._store_message(msg)
        return {update_type: msg}

    def make_text_message(
        self,
        chat_id: int | str,
        user_id: int,
        text: str,
        chat_type: str | None = None,
        message_thread_id: int | None = None,
        reply_to_message: JSONDict | int | None = None,
        entities: list[JSONDict] | None = None,
        is_forum: bool = False,
        *,
        chat_title: str | None = None,
    ) -> JSONDict:
        """A text message update; bot_command/url/mention entities are detected unless given.

        ``chat_type`` is inferred when omitted: positive id → private, ``-100…`` → supergroup,
        other negative → group (or the type the chat was registered with).
        """
        if entities is None:
            entities = detect_entities(text)
        return self.make_message(
            chat_id,
            user_id,
            chat_type=chat_type,
            chat_title=chat_title,
            is_forum=is_forum,
            message_thread_id=message_thread_id,
            reply_to_message=reply_to_message,
            text=text,
            entities=entities or None,
        )

    def make_edited_message(
        self,
        chat_id: int | str,
        user_id: int,
        message_id: int | None,
        text: str,
        chat_type: str | None = None,
        entities: list[JSONDict] | None = None,
        *,
        chat_title: str | None = None,
    ) -> JSONDict:
        """``edited_message`` update for an earlier message (default: the chat's last one)."""
        key = _chat_key(chat_id)
        if message_id is None:
            message_id = self._message_ids.get(key, 1)
        original = self.messages.get((key, message_id))
        if original is None:
            chat = self.add_chat(chat_id, chat_type, chat_title)
            original = {
                "message_id": message_id,
                "date": int(time.time()) - 30,
                "chat": chat,
                "from": self.user(user_id),
            }
        msg = copy.deepcopy(original)
        msg.pop("entities", None)
        msg["text"] = text
        found = detect_entities(text) if entities is None else entities
        if found:
            msg["entities"] = found
        msg["edit_date"] = int(time.time())
        self._store_message(msg)
        return {"edited_message": msg}

    def make_sticker_message(
        self,
        chat_id: int | str,
        user_id: int,
        emoji: str = "👍",
        *,
        set_name: str = "TestStickerSet",
        is_animated: bool = False,
        is_video: bool = False,
        **common: Any,
    ) -> JSONDict:
        """Sticker message; ``common`` takes make_message's keywords (chat_type, …)."""
        stored = self._new_file("sticker", size=23_000)
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": is_animated,
            "is_video": is_video,
            "emoji": emoji,
            "set_name": set_name,
            "file_size": stored.size,
        }
        return self.make_message(chat_id, user_id, sticker=sticker, **common)

    def make_photo_message(
        self,
        chat_id: int | str,
        user_id: int,
        caption: str | None = None,
        *,
        width: int = 1280,
        height: int = 960,
        caption_entities: list[JSONDict] | None = None,
        **common: Any,
    ) -> JSONDict:
        """Photo message (three PhotoSize variants, like Telegram sends)."""
        photo = self._photo_sizes(self._new_file("photo", size=width * height // 8), width, height)
        if caption and caption_entities is None:
            caption_entities = detect_entities(caption)
        return self.make_message(
            chat_id, user_id, photo=photo, caption=caption, caption_entities=caption_entities or None, **common
        )

    def make_voice_message(
        self,
        chat_id: int | str,
        user_id: int,
        duration: int = 3,
        *,
        mime_type: str = "audio/ogg",
        file_size: int | None = None,
        **common: Any,
    ) -> JSONDict:
        stored = self._new_file("voice", size=file_size or duration * 4_000, mime_type=mime_type)
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": mime_type,
            "file_size": stored.size,
        }
        return self.make_message(chat_id, user_id, voice=voice, **common)

    def make_document_message(
        self,
        chat_id: int | str,
        user_id: int,
        file_name: str = "tai_lieu.pdf",
        *,
        mime_type: str = "application/pdf",
        file_size: int = 120_000,
        caption: str | None = None,
        **common: Any,
    ) -> JSONDict:
        stored = self._new_file("document", size=file_size, file_name=file_name, mime_type=mime_type)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": file_size,
        }
        return self.make_message(chat_id, user_id, document=document, caption=caption, **common)

    def make_callback_query(
        self,
        chat_id: int | str,
        user_id: int,
        message_id: int,
        data: str,
        message_text: str = "...",
        *,
        chat_type: str | None = None,
        reply_markup: JSONDict | None = None,
        query_id: str | None = None,
    ) -> JSONDict:
        """``callback_query`` update for a button on message ``message_id``.

        The stored message (e.g. one the bot sent through this server) is used when known,
        otherwise a bot message with ``message_text`` and a keyboard holding ``data``.
        """
        key = _chat_key(chat_id)
        msg = self.messages.get((key, message_id))
        if msg is None:
            chat = self.add_chat(chat_id, chat_type)
            msg = {
                "message_id": message_id,
                "date": int(time.time()) - 5,
                "chat": chat,
                "from": self.bot_user,
                "text": message_text,
                "reply_markup": reply_markup or {"inline_keyboard": [[{"text": "OK", "callback_data": data}]]},
            }
        else:
            msg = copy.deepcopy(msg)
            if reply_markup is not None:
                msg["reply_markup"] = reply_markup
        query_id = query_id or str(secrets.randbits(62))
        self._open_callback_queries.add(query_id)
        query = {
            "id": query_id,
            "from": self.user(user_id),
            "message": msg,
            "chat_instance": str(abs(hash(("chat_instance", key))) % 10**19),
            "data": data,
        }
        return {"callback_query": query}

    def make_inline_query(
        self, user_id: int, query: str, offset: str = "", *, chat_type: str | None = "sender"
    ) -> JSONDict:
        inline: JSONDict = {
            "id": str(secrets.randbits(62)),
            "from": self.user(user_id),
            "query": query,
            "offset": offset,
        }
        if chat_type:
            inline["chat_type"] = chat_type
        return {"inline_query": inline}

    def member_dict(self, user: JSONDict, status: str, rights: dict[str, bool] | None = None) -> JSONDict:
        """A ChatMember object of ``status`` (creator/administrator/member/restricted/left/kicked);
        ``rights`` override an administrator's default rights."""
        member: JSONDict = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                can_be_edited=False,
                is_anonymous=False,
                can_manage_chat=True,
                can_delete_messages=True,
                can_manage_video_chats=True,
                can_restrict_members=True,
                can_promote_members=False,
                can_change_info=True,
                can_invite_users=True,
                can_post_stories=False,
                can_edit_stories=False,
                can_delete_stories=False,
                can_pin_messages=True,
                can_manage_topics=False,
            )
            member.update(rights or {})
        elif status == "restricted":
            member.update(
                is_member=True,
                can_change_info=False,
                can_invite_users=False,
                can_pin_messages=False,
                can_send_messages=False,
                can_send_polls=False,
                can_send_other_messages=False,
                can_add_web_page_previews=False,
                can_manage_topics=False,
                until_date=0,
                can_send_audios=False,
                can_send_documents=False,
                can_send_photos=False,
                can_send_videos=False,
                can_send_video_notes=False,
                can_send_voice_notes=False,
                can_edit_tag=False,
                can_react_to_messages=False,
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _chat_member_update(
        self,
        key: str,
        chat_id: int | str,
        chat_title: str | None,
        chat_type: str | None,
        member: JSONDict,
        old_status: str,
        new_status: str,
        user_id: int,
        is_forum: bool,
    ) -> JSONDict:
        chat = self.add_chat(chat_id, chat_type, chat_title, is_forum=is_forum)
        self.set_chat_member_status(chat_id, member["id"], new_status)
        return {
            key: {
                "chat": chat,
                "from": self.user(user_id),
                "date": int(time.time()),
                "old_chat_member": self.member_dict(member, old_status),
                "new_chat_member": self.member_dict(member, new_status),
            }
        }

    def make_my_chat_member(
        self,
        chat_id: int | str,
        chat_title: str | None,
        chat_type: str | None,
        old_status: str,
        new_status: str,
        user_id: int,
        is_forum: bool = False,
    ) -> JSONDict:
        """The bot's own membership changed (added: left→member/administrator; removed: →left/kicked)."""
        return self._chat_member_update(
            "my_chat_member", chat_id, chat_title, chat_type, self.bot_user, old_status, new_status, user_id, is_forum
        )

    def make_chat_member(
        self,
        chat_id: int | str,
        member_user_id: int,
        old_status: str,
        new_status: str,
        user_id: int | None = None,
        *,
        chat_title: str | None = None,
        chat_type: str | None = None,
    ) -> JSONDict:
        """Another user's membership changed (only delivered if allowed_updates has chat_member)."""
        return self._chat_member_update(
            "chat_member",
            chat_id,
            chat_title,
            chat_type,
            self.user(member_user_id),
            old_status,
            new_status,
            user_id if user_id is not None else member_user_id,
            False,
        )

    def make_migrate_message(
        self, chat_id: int | str, migrate_to_chat_id: int, user_id: int, *, chat_title: str | None = None
    ) -> JSONDict:
        """Service message in the old group: it became supergroup ``migrate_to_chat_id``."""
        update = self.make_message(
            chat_id, user_id, chat_type="group", chat_title=chat_title, migrate_to_chat_id=migrate_to_chat_id
        )
        self.add_chat(migrate_to_chat_id, "supergroup", update["message"]["chat"]["title"])
        return update

    def make_migrate_from_message(
        self, chat_id: int | str, migrate_from_chat_id: int, user_id: int, *, chat_title: str | None = None
    ) -> JSONDict:
        """Service message in the new supergroup, naming the group it came from."""
        return self.make_message(
            chat_id, user_id, chat_type="supergroup", chat_title=chat_title, migrate_from_chat_id=migrate_from_chat_id
        )

    # --------------------------------------------------------------------------- forum topics

    def forum_topics(self, chat_id: int | str) -> list[JSONDict]:
        """The chat's topics (deleted ones excluded), oldest first: ForumTopic objects plus
        ``is_closed`` and ``created_by_bot``."""
        topics = self._topics.get(_chat_key(chat_id), {})
        return [
            {**topic.forum_topic(), "is_closed": topic.is_closed, "created_by_bot": topic.created_by_bot}
            for _, topic in sorted(topics.items())
        ]

    def delete_forum_topic(self, chat_id: int | str, thread_id: int) -> None:
        """A person deleted the topic: it and every message in it are gone (sends to it then fail)."""
        key = _chat_key(chat_id)
        if self._topic(key, thread_id) is None:
            raise ValueError(f"chat {chat_id} has no forum topic {thread_id}")
        self._remove_topic(key, thread_id)

    def make_forum_topic_created(
        self,
        chat_id: int | str,
        user_id: int,
        name: str,
        *,
        icon_color: int = FORUM_TOPIC_COLORS[0],
        icon_custom_emoji_id: str | None = None,
        chat_title: str | None = None,
    ) -> JSONDict:
        """A person created a topic in a forum: the ``forum_topic_created`` service message update."""
        created: JSONDict = {"name": name, "icon_color": icon_color}
        if icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = icon_custom_emoji_id
        update = self.make_message(chat_id, user_id, is_forum=True, chat_title=chat_title, forum_topic_created=created)
        msg = update["message"]
        thread_id = msg["message_id"]
        msg.update(message_thread_id=thread_id, is_topic_message=True)
        self._topics.setdefault(msg["chat"]["id"], {})[thread_id] = _Topic(
            thread_id, name, icon_color, icon_custom_emoji_id
        )
        return update

    def _topic(self, chat_id: int | str, thread_id: int) -> _Topic | None:
        return self._topics.get(chat_id, {}).get(thread_id)

    def _known_topic(self, chat_id: int | str, thread_id: int) -> None:
        """A builder put a message into this thread: the topic exists (unless it was deleted)."""
        if self._topic(chat_id, thread_id) is None and (chat_id, thread_id) not in self._deleted_topics:
            topic = _Topic(thread_id, f"Topic {thread_id}", FORUM_TOPIC_COLORS[0])
            self._topics.setdefault(chat_id, {})[thread_id] = topic

    def _topic_root(self, chat_id: int | str, thread_id: int) -> JSONDict | None:
        """The topic's ``forum_topic_created`` message (what topic messages reply to), if stored."""
        root = self.messages.get((chat_id, thread_id))
        if root is None or "forum_topic_created" not in root:
            return None
        return self._resolve_reply(chat_id, root)

    def _topic_service_message(self, chat_id: int | str, thread_id: int | None, **content: Any) -> JSONDict:
        """Store a service message the bot caused in a forum (``thread_id`` None: a new topic's own)."""
        message_id = self.next_message_id(chat_id)
        thread = message_id if thread_id is None else thread_id
        msg: JSONDict = {
            "message_id": message_id,
            "from": self.bot_user,
            "date": int(time.time()),
            "chat": self.chat(chat_id),
            "message_thread_id": thread,
            "is_topic_message": True,
            **content,
        }
        self._store_message(msg)
        return msg

    def _remove_topic(self, chat_id: int | str, thread_id: int) -> None:
        self._topics.get(chat_id, {}).pop(thread_id, None)
        self._deleted_topics.add((chat_id, thread_id))
        for key, msg in list(self.messages.items()):  # the forum_topic_created message included
            if key[0] == chat_id and msg.get("is_topic_message") and msg.get("message_thread_id") == thread_id:
                del self.messages[key]
                self._deleted.add(key)

    def _check_thread(self, chat_id: int | str, thread_id: int) -> None:
        """A send into a forum topic: it must exist, and be open unless the bot may manage topics."""
        topic = self._topic(chat_id, thread_id)
        if topic is None:
            raise _bad("message thread not found")
        if topic.is_closed and not self._bot_has_right(chat_id, "can_manage_topics"):
            raise _bad("TOPIC_CLOSED")

    # --------------------------------------------------------------------------------- files

    def _new_file(
        self,
        kind: str,
        *,
        size: int,
        file_name: str | None = None,
        mime_type: str | None = None,
        content: bytes | None = None,
    ) -> _StoredFile:
        prefix = _FILE_ID_PREFIX.get(kind, _FILE_ID_PREFIX["document"])
        file_id = prefix + base64.urlsafe_b64encode(secrets.token_bytes(48)).decode().rstrip("=")[:56]
        unique_prefix = "AQAD" if kind == "photo" else "AgAD"
        unique = unique_prefix + base64.urlsafe_b64encode(secrets.token_bytes(9)).decode().rstrip("=")
        folder = {"photo": "photos", "voice": "voice", "sticker": "stickers"}.get(kind, f"{kind}s")
        ext = (file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else None) or {
            "photo": "jpg",
            "voice": "oga",
            "sticker": "webp",
            "video": "mp4",
            "audio": "mp3",
        }.get(kind, "bin")
        stored = _StoredFile(
            file_id=file_id,
            file_unique_id=unique,
            kind=kind,
            size=size,
            file_name=file_name,
            mime_type=mime_type or _MIME_BY_KIND.get(kind),
            content=content,
            file_path=f"{folder}/file_{next(self._file_counter)}.{ext}",
        )
        self._files[file_id] = stored
        return stored

    def _photo_sizes(self, stored: _StoredFile, width: int, height: int) -> list[JSONDict]:
        sizes: list[JSONDict] = []
        for limit in (90, 320, 800, 1280):
            scale = min(1.0, limit / max(width, height, 1))
            w, h = max(1, round(width * scale)), max(1, round(height * scale))
            if sizes and (w, h) == (sizes[-1]["width"], sizes[-1]["height"]):
                continue
            last = limit == 1280 or scale == 1.0
            scaled_size = max(1, stored.size * w * h // max(1, width * height))
            variant = stored if last else self._new_file("photo", size=scaled_size)
            sizes.append(
                {
                    "file_id": variant.file_id,
                    "file_unique_id": variant.file_unique_id,
                    "file_size": variant.size,
                    "width": w,
                    "height": h,
                }
            )
            if last:
                break
        return sizes

    def _resolve_media(self, call: Call, field_name: str, kind: str) -> _StoredFile:
        value = call.params.get(field_name)
        upload_name = field_name
        if isinstance(value, str) and value.startswith("attach://"):
            upload_name = value.removeprefix("attach://")
            value = None
        for upload in call.files:
            if upload.field == upload_name:
                return self._files[upload.file_id]
        if value is None or value == "":
            raise _bad(f"there is no {field_name} in the request")
        text = str(value)
        if text in self._files:
            return self._files[text]
        if text.startswith(("http://", "https://")):
            return self._new_file(kind, size=50_000, file_name=text.rsplit("/", 1)[-1] or None)
        stored = self._new_file(kind, size=50_000)
        self._files.pop(stored.file_id)
        stored.file_id = text
        self._files[text] = stored
        return stored

    def upload(self, file_id: str) -> _StoredFile | None:
        """The stored file (uploaded content included) for a file_id the server issued."""
        return self._files.get(file_id)

    # ------------------------------------------------------------------------- HTTP plumbing

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        file_match = re.fullmatch(r"/file/bot([^/]+)/+(.+)", path)
        if file_match:
            return self._serve_file(file_match.group(1), file_match.group(2))
        match = re.fullmatch(r"/bot([^/]+)/+([A-Za-z0-9_]+)/*", path)
        if match is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        if match.group(1) != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = match.group(2)
        try:
            params, files = await self._read_params(request)
        except (ValueError, UnicodeDecodeError) as exc:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": f"Bad Request: can't parse request: {exc}"},
                status=400,
            )
        call = Call(method=method, params=params, time=time.monotonic(), files=files)
        self.calls.append(call)
        self.stats.methods[method] += 1
        lower = method.lower()

        delay = self._delays.get(lower)
        if delay is None and lower != "getupdates":
            delay = self._delays.get("*")
        if delay:
            await asyncio.sleep(delay)

        if self._take_network_failure(lower):
            call.dropped = True
            self.stats.network_failures += 1
            self._finish(call, None, None)
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)  # never reaches the client: the transport is gone

        try:
            self._check_injected(call)
            handler = self._handlers.get(lower)
            result = await handler(call) if handler is not None else True
            if lower in _SEND_LOWER:
                self._count_send(call)
            status, payload = 200, {"ok": True, "result": result}
        except _ApiError as exc:
            status, payload = exc.code, exc.payload()
        if status != 200:
            self.stats.errors += 1
            if status == 429:
                self.stats.too_many_requests += 1
        self._finish(call, status, payload)
        return web.json_response(payload, status=status)

    def _finish(self, call: Call, status: int | None, payload: JSONDict | None) -> None:
        call.status = status
        call.response = payload
        call.done = True
        call.done_time = time.monotonic()
        self._notify_calls()

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], list[UploadedFile]]:
        raw: dict[str, Any] = dict(request.query)
        files: list[UploadedFile] = []
        if request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    raw.update(body)
            elif ctype.startswith("multipart/"):
                reader = await request.multipart()
                while True:
                    part = await reader.next()
                    if part is None:
                        break
                    if not isinstance(part, BodyPartReader) or part.name is None:
                        continue
                    if part.filename is not None:
                        content = bytes(await part.read())
                        kind = part.name if part.name in _FILE_ID_PREFIX else "document"
                        stored = self._new_file(
                            kind,
                            size=len(content),
                            file_name=part.filename,
                            mime_type=part.headers.get("Content-Type"),
                            content=content,
                        )
                        files.append(
                            UploadedFile(
                                field=part.name,
                                filename=part.filename,
                                size=len(content),
                                content_type=part.headers.get("Content-Type"),
                                file_id=stored.file_id,
                                file_unique_id=stored.file_unique_id,
                            )
                        )
                    else:
                        raw[part.name] = await part.text()
            else:
                form = await request.post()
                raw.update({k: v for k, v in form.items() if isinstance(v, str)})
        return {key: _decode_value(key, value) for key, value in raw.items()}, files

    def _serve_file(self, token: str, file_path: str) -> web.Response:
        if token != self.token:
            return web.Response(status=401, text="Unauthorized")
        for stored in self._files.values():
            if stored.file_path == file_path:
                body = stored.content if stored.content is not None else b"\0" * min(stored.size, 1 << 20)
                return web.Response(body=body, content_type=stored.mime_type or "application/octet-stream")
        return web.Response(status=404, text="Not Found")

    def _take_network_failure(self, lower: str) -> bool:
        for rule in self._network_failures:
            wanted = rule[0]
            if (wanted is None and lower != "getupdates") or (wanted is not None and wanted.lower() == lower):
                rule[1] -= 1
                if rule[1] <= 0:
                    self._network_failures.remove(rule)
                return True
        return False

    def _check_injected(self, call: Call) -> None:
        lower = call.method.lower()
        for rule in self._fail_rules:
            method_ok = (rule.method == "*" and lower != "getupdates") or rule.method.lower() == lower
            if method_ok and (rule.chat_id is None or rule.chat_id == call.chat_id):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._fail_rules.remove(rule)
                raise _ApiError(rule.code, rule.description, copy.deepcopy(rule.parameters))
        error = self._chat_errors.get(call.chat_id) if call.chat_id is not None else None
        if error is not None and lower in {m.lower() for m in self.chat_error_methods}:
            raise _ApiError(error.code, error.description, copy.deepcopy(error.parameters))
        if lower in _SEND_LOWER:
            self._check_rate(call)

    def _windows(self, call: Call) -> list[tuple[deque[float], float, int]]:
        windows: list[tuple[deque[float], float, int]] = []
        if self._global_per_second:
            windows.append((self._global_window, 1.0, self._global_per_second))
        chat = call.chat_id
        if chat is not None:
            if self._per_chat_per_minute:
                windows.append((self._chat_minute_windows.setdefault(chat, deque()), 60.0, self._per_chat_per_minute))
            if self._per_chat_per_second:
                windows.append((self._chat_second_windows.setdefault(chat, deque()), 1.0, self._per_chat_per_second))
        return windows

    def _check_rate(self, call: Call) -> None:
        now = time.monotonic()
        for window, span, limit in self._windows(call):
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= limit:
                retry_after = max(1, math.ceil(window[0] + span - now))
                self.stats.rate_limited += 1
                raise _ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})

    def _count_send(self, call: Call) -> None:
        now = time.monotonic()
        for window, _span, _limit in self._windows(call):
            window.append(now)

    # ------------------------------------------------------------------------ validation

    def _format(
        self, params: dict[str, Any], key: str, entities_key: str, limit: int, *, required: bool
    ) -> tuple[str, list[JSONDict]]:
        raw = params.get(key)
        kind = "message text" if key == "text" else "message caption"
        if raw is None or raw == "":
            if required:
                raise _bad(f"{kind} is empty")
            return "", []
        text = raw if isinstance(raw, str) else json.dumps(raw)
        given = params.get(entities_key)
        parse_mode = str(params.get("parse_mode") or "").lower()
        if isinstance(given, list):
            plain, entities = text, list(given)
        elif parse_mode == "html":
            try:
                plain, entities = parse_telegram_html(text, strict_ampersand=self.strict_ampersand)
            except TelegramHTMLError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
        else:
            plain, entities = text, []
        if required and not plain.strip():
            raise _bad(f"{kind} is empty")
        if len(plain) > limit:
            raise _bad("message is too long" if key == "text" else "message caption is too long")
        entities = sorted(entities + detect_entities(plain, entities), key=lambda e: (e["offset"], -e["length"]))
        return plain, entities

    @staticmethod
    def _validate_markup(markup: Any) -> JSONDict | None:
        """Validate reply_markup; returns it if it is an inline keyboard (kept on the message)."""
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        keyboard = markup.get("inline_keyboard")
        if keyboard is None:
            return None
        if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        for row in keyboard:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad("BUTTON_TEXT_INVALID")
                actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
                if not actions:
                    raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                if "callback_data" in button:
                    data = button["callback_data"]
                    size = len(str(data).encode("utf-8"))
                    if not isinstance(data, str) or size == 0 or size > CALLBACK_DATA_LIMIT:
                        raise _bad("BUTTON_DATA_INVALID")
                if "url" in button and not re.match(r"(https?|tg)://\S+$", str(button["url"])):
                    raise _bad("BUTTON_URL_INVALID")
        return markup

    # ------------------------------------------------------------------------ messages out

    def _build_bot_message(self, call: Call, **content: Any) -> JSONDict:
        params = call.params
        chat_id = call.chat_id
        if chat_id is None:
            raise _bad("chat_id is empty")
        chat = self.chat(chat_id)
        markup = self._validate_markup(params.get("reply_markup"))
        reply = params.get("reply_parameters")
        if not isinstance(reply, dict) and isinstance(params.get("reply_to_message_id"), int):
            reply = {"message_id": params["reply_to_message_id"]}
        replied: JSONDict | None = None
        same_chat = True
        if isinstance(reply, dict) and isinstance(reply.get("message_id"), int):
            reply_chat = reply.get("chat_id", chat_id)
            same_chat = _norm_chat_id(reply_chat) == chat_id
            replied = self._resolve_reply(reply_chat, reply["message_id"])
        thread = params.get("message_thread_id")
        thread = thread if isinstance(thread, int) and not isinstance(thread, bool) else None
        if chat.get("is_forum"):
            if thread is None and replied is not None and same_chat and replied.get("is_topic_message"):
                thread = replied.get("message_thread_id")  # a reply lands in the replied message's topic
            if thread is not None:
                self._check_thread(chat_id, thread)
                if replied is None:
                    replied = self._topic_root(chat_id, thread)
        msg: JSONDict = {"message_id": self.next_message_id(chat_id)}
        if chat["type"] == "channel":
            msg["sender_chat"] = chat
        else:
            msg["from"] = self.bot_user
        msg["date"] = int(time.time())
        msg["chat"] = chat
        if thread is not None:
            msg["message_thread_id"] = thread
            if chat.get("is_forum"):
                msg["is_topic_message"] = True
        if replied is not None:
            msg["reply_to_message"] = replied
        msg.update({k: v for k, v in content.items() if v is not None and v != []})
        if markup is not None:
            msg["reply_markup"] = markup
        if params.get("protect_content") is True:
            msg["has_protected_content"] = True
        self._store_message(msg)
        return msg

    async def _m_sendMessage(self, call: Call) -> JSONDict:
        text, entities = self._format(call.params, "text", "entities", MESSAGE_LIMIT, required=True)
        self._validate_markup(call.params.get("reply_markup"))
        return self._build_bot_message(call, text=text, entities=entities)

    def _caption(self, call: Call) -> dict[str, Any]:
        caption, entities = self._format(call.params, "caption", "caption_entities", CAPTION_LIMIT, required=False)
        content: dict[str, Any] = {"caption": caption or None, "caption_entities": entities}
        if call.params.get("show_caption_above_media") is True:
            content["show_caption_above_media"] = True
        if call.params.get("has_spoiler") is True:
            content["has_media_spoiler"] = True
        return content

    async def _m_sendPhoto(self, call: Call) -> JSONDict:
        content = self._caption(call)
        self._validate_markup(call.params.get("reply_markup"))
        stored = self._resolve_media(call, "photo", "photo")
        return self._build_bot_message(call, photo=self._photo_sizes(stored, 1280, 960), **content)

    def _media_object(self, stored: _StoredFile, kind: str) -> JSONDict:
        obj: JSONDict = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": stored.size}
        if kind in ("document", "audio", "video", "animation") and stored.file_name:
            obj["file_name"] = stored.file_name
        if kind != "sticker" and stored.mime_type:
            obj["mime_type"] = stored.mime_type
        if kind in ("audio", "voice", "video", "animation", "video_note"):
            obj["duration"] = 3
        if kind in ("video", "animation"):
            obj.update(width=640, height=360)
        if kind == "video_note":
            obj["length"] = 240
        if kind == "sticker":
            obj.update(type="regular", width=512, height=512, is_animated=False, is_video=False)
        return obj

    async def _send_media(self, call: Call, kind: str) -> JSONDict:
        content = self._caption(call) if kind not in ("sticker", "video_note") else {}
        self._validate_markup(call.params.get("reply_markup"))
        stored = self._resolve_media(call, kind, kind)
        return self._build_bot_message(call, **{kind: self._media_object(stored, kind)}, **content)

    async def _m_sendDocument(self, call: Call) -> JSONDict:
        return await self._send_media(call, "document")

    async def _m_sendAudio(self, call: Call) -> JSONDict:
        return await self._send_media(call, "audio")

    async def _m_sendVoice(self, call: Call) -> JSONDict:
        return await self._send_media(call, "voice")

    async def _m_sendVideo(self, call: Call) -> JSONDict:
        return await self._send_media(call, "video")

    async def _m_sendAnimation(self, call: Call) -> JSONDict:
        return await self._send_media(call, "animation")

    async def _m_sendVideoNote(self, call: Call) -> JSONDict:
        return await self._send_media(call, "video_note")

    async def _m_sendSticker(self, call: Call) -> JSONDict:
        return await self._send_media(call, "sticker")

    async def _m_sendMediaGroup(self, call: Call) -> list[JSONDict]:
        media = call.params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _bad("wrong number of media in the group" if isinstance(media, list) else "media is empty")
        group_id = str(next(self._media_group_counter))
        messages = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in ("photo", "video", "document", "audio"):
                raise _bad("invalid media in the group")
            kind = item["type"]
            params = {**call.params, **item, kind: item.get("media")}
            sub = Call(method=call.method, params=params, time=call.time, files=call.files)
            content = self._caption(sub)
            stored = self._resolve_media(sub, kind, kind)
            body = self._photo_sizes(stored, 1280, 960) if kind == "photo" else self._media_object(stored, kind)
            messages.append(self._build_bot_message(sub, media_group_id=group_id, **{kind: body}, **content))
        return messages

    async def _m_copyMessage(self, call: Call) -> JSONDict:
        """Copy a stored message into ``chat_id``; the result is a MessageId (see :meth:`message_of`)."""
        params = call.params
        if call.chat_id is None:
            raise _bad("chat_id is empty")
        from_chat, message_id = _norm_chat_id(params.get("from_chat_id")), params.get("message_id")
        if from_chat is None:
            raise _bad("from_chat_id is empty")
        if not isinstance(message_id, int) or isinstance(message_id, bool):
            raise _bad("message identifier is not specified")
        source = self.messages.get((from_chat, message_id))
        if source is None or (from_chat, message_id) in self._deleted:
            raise _bad("message to copy not found")
        if not _COPYABLE_CONTENT.intersection(source) or _UNCOPYABLE_CONTENT.intersection(source):
            raise _bad("message can't be copied")
        content: JSONDict = {key: copy.deepcopy(source[key]) for key in _COPIED_FIELDS if key in source}
        if "poll" in content:
            content["poll"]["id"] = str(secrets.randbits(62))
        if any(kind in content for kind in _CAPTIONED_CONTENT):
            if "caption" in params:  # a new caption replaces the original ("" removes it)
                caption, entities = self._format(params, "caption", "caption_entities", CAPTION_LIMIT, required=False)
                content.update(caption=caption or None, caption_entities=entities or None)
            if isinstance(params.get("show_caption_above_media"), bool):
                content["show_caption_above_media"] = params["show_caption_above_media"] or None
        msg = self._build_bot_message(call, **content)
        return {"message_id": msg["message_id"]}

    # ------------------------------------------------------------------------ forum topics

    def _forum_chat(self, call: Call) -> int | str:
        if call.chat_id is None:
            raise _bad("chat_id is empty")
        chat = self.chat(call.chat_id)
        if chat["type"] != "supergroup" or not chat.get("is_forum"):
            raise _bad("the chat is not a forum")
        return call.chat_id

    def _topic_target(self, call: Call) -> tuple[int | str, _Topic]:
        chat_id = self._forum_chat(call)
        thread_id = call.params.get("message_thread_id")
        if not isinstance(thread_id, int) or isinstance(thread_id, bool) or thread_id <= 0:
            raise _bad("invalid message thread identifier specified")
        topic = self._topic(chat_id, thread_id)
        if topic is None:
            raise _bad("TOPIC_ID_INVALID")
        return chat_id, topic

    @staticmethod
    def _topic_name(raw: Any) -> str:
        """Telegram trims the name and cuts it to 128 characters; an empty result is refused."""
        name = str(raw if raw is not None else "").strip()[:FORUM_TOPIC_NAME_LIMIT].strip()
        if not name:
            raise _bad("title must be non-empty")
        return name

    async def _m_createForumTopic(self, call: Call) -> JSONDict:
        chat_id = self._forum_chat(call)
        if not self._bot_has_right(chat_id, "can_manage_topics"):
            raise _bad("not enough rights to create a topic")
        name = self._topic_name(call.params.get("name"))
        color = call.params.get("icon_color", FORUM_TOPIC_COLORS[0])
        if color not in FORUM_TOPIC_COLORS or isinstance(color, bool):
            raise _bad("invalid icon color specified")
        emoji = str(call.params.get("icon_custom_emoji_id") or "") or None
        created: JSONDict = {"name": name, "icon_color": color}
        if emoji:
            created["icon_custom_emoji_id"] = emoji
        service = self._topic_service_message(chat_id, None, forum_topic_created=created)
        topic = _Topic(service["message_id"], name, color, emoji, created_by_bot=True)
        self._topics.setdefault(chat_id, {})[topic.thread_id] = topic
        return topic.forum_topic()

    async def _m_editForumTopic(self, call: Call) -> bool:
        chat_id, topic = self._topic_target(call)
        if not topic.created_by_bot and not self._bot_has_right(chat_id, "can_manage_topics"):
            raise _bad("not enough rights to edit the topic")
        raw_name = call.params.get("name")
        edit_name = raw_name is not None and raw_name != ""
        edit_icon = "icon_custom_emoji_id" in call.params
        if not edit_name and not edit_icon:
            return True
        name = self._topic_name(raw_name) if edit_name else topic.name
        emoji = topic.icon_custom_emoji_id
        if edit_icon:
            emoji = str(call.params.get("icon_custom_emoji_id") or "") or None
        if name == topic.name and emoji == topic.icon_custom_emoji_id:
            raise _bad("TOPIC_NOT_MODIFIED")
        edited: JSONDict = {}
        if name != topic.name:
            edited["name"] = name
        if emoji != topic.icon_custom_emoji_id:
            edited["icon_custom_emoji_id"] = emoji or ""
        topic.name, topic.icon_custom_emoji_id = name, emoji
        self._topic_service_message(chat_id, topic.thread_id, forum_topic_edited=edited)
        return True

    async def _toggle_topic(self, call: Call, closed: bool) -> bool:
        chat_id, topic = self._topic_target(call)
        if not topic.created_by_bot and not self._bot_has_right(chat_id, "can_manage_topics"):
            raise _bad("not enough rights to close or open the topic")
        if topic.is_closed == closed:
            raise _bad("TOPIC_NOT_MODIFIED")
        topic.is_closed = closed
        event = "forum_topic_closed" if closed else "forum_topic_reopened"
        self._topic_service_message(chat_id, topic.thread_id, **{event: {}})
        return True

    async def _m_closeForumTopic(self, call: Call) -> bool:
        return await self._toggle_topic(call, True)

    async def _m_reopenForumTopic(self, call: Call) -> bool:
        return await self._toggle_topic(call, False)

    async def _m_deleteForumTopic(self, call: Call) -> bool:
        chat_id, topic = self._topic_target(call)
        if not topic.created_by_bot and not self._bot_has_right(chat_id, "can_delete_messages"):
            raise _bad("not enough rights to delete the topic")
        self._remove_topic(chat_id, topic.thread_id)
        return True

    def _edit_target(self, call: Call) -> tuple[JSONDict | None, bool]:
        """(stored message or None, is_inline)."""
        if call.params.get("inline_message_id"):
            return None, True
        chat_id, message_id = call.chat_id, call.params.get("message_id")
        if chat_id is None:
            raise _bad("chat_id is empty")
        if not isinstance(message_id, int):
            raise _bad("message identifier is not specified")
        if (chat_id, message_id) in self._deleted:
            raise _bad("message to edit not found")
        msg = self.messages.get((chat_id, message_id))
        if msg is not None and msg.get("from", {}).get("id") != self.bot_id and "sender_chat" not in msg:
            raise _bad("message can't be edited")
        if msg is None:
            msg = {
                "message_id": message_id,
                "from": self.bot_user,
                "date": int(time.time()) - 10,
                "chat": self.chat(chat_id),
            }
        return copy.deepcopy(msg), False

    def _commit_edit(self, old: JSONDict, new: JSONDict) -> JSONDict:
        comparable = ("text", "entities", "caption", "caption_entities", "reply_markup")
        if all(old.get(k) == new.get(k) for k in comparable):
            raise _bad(_NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        self._store_message(new)
        return new

    async def _m_editMessageText(self, call: Call) -> JSONDict | bool:
        text, entities = self._format(call.params, "text", "entities", MESSAGE_LIMIT, required=True)
        markup = self._validate_markup(call.params.get("reply_markup"))
        msg, inline = self._edit_target(call)
        if inline or msg is None:
            return True
        if "text" not in msg and any(k in msg for k in ("photo", "document", "voice", "sticker", "video")):
            raise _bad("there is no text in the message to edit")
        new = copy.deepcopy(msg)
        new["text"] = text
        new.pop("entities", None)
        new.pop("reply_markup", None)
        if entities:
            new["entities"] = entities
        if markup is not None:
            new["reply_markup"] = markup
        return self._commit_edit(msg, new)

    async def _m_editMessageCaption(self, call: Call) -> JSONDict | bool:
        content = self._caption(call)
        markup = self._validate_markup(call.params.get("reply_markup"))
        msg, inline = self._edit_target(call)
        if inline or msg is None:
            return True
        if "text" in msg:
            raise _bad("there is no caption in the message to edit")
        new = copy.deepcopy(msg)
        for key in ("caption", "caption_entities", "reply_markup"):
            new.pop(key, None)
        new.update({k: v for k, v in content.items() if v})
        if markup is not None:
            new["reply_markup"] = markup
        return self._commit_edit(msg, new)

    async def _m_editMessageReplyMarkup(self, call: Call) -> JSONDict | bool:
        markup = self._validate_markup(call.params.get("reply_markup"))
        msg, inline = self._edit_target(call)
        if inline or msg is None:
            return True
        new = copy.deepcopy(msg)
        new.pop("reply_markup", None)
        if markup is not None:
            new["reply_markup"] = markup
        return self._commit_edit(msg, new)

    async def _m_deleteMessage(self, call: Call) -> bool:
        chat_id, message_id = call.chat_id, call.params.get("message_id")
        if chat_id is None or not isinstance(message_id, int):
            raise _bad("message identifier is not specified")
        if (chat_id, message_id) in self._deleted:
            raise _bad("message to delete not found")
        self._deleted.add((chat_id, message_id))
        self.messages.pop((chat_id, message_id), None)
        return True

    async def _m_pinChatMessage(self, call: Call) -> bool:
        if call.chat_id is None or not isinstance(call.params.get("message_id"), int):
            raise _bad("message identifier is not specified")
        self.pinned[call.chat_id] = call.params["message_id"]
        return True

    async def _m_sendChatAction(self, call: Call) -> bool:
        if call.chat_id is None:
            raise _bad("chat_id is empty")
        if call.params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    async def _m_answerCallbackQuery(self, call: Call) -> bool:
        query_id = str(call.params.get("callback_query_id") or "")
        if not query_id:
            raise _bad("query_id is empty")  # not the exact Telegram text, which is rarely seen
        if len(str(call.params.get("text") or "")) > CALLBACK_ANSWER_LIMIT:
            raise _bad("MESSAGE_TOO_LONG")
        if query_id in self._answered_queries:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        self._answered_queries.add(query_id)
        self._open_callback_queries.discard(query_id)
        return True

    async def _m_answerInlineQuery(self, call: Call) -> bool:
        query_id = str(call.params.get("inline_query_id") or "")
        results = call.params.get("results")
        if not isinstance(results, list):
            raise _bad("can't parse inline query results JSON object")
        if len(results) > 50:
            raise _bad("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            rid = str(result.get("id", "")) if isinstance(result, dict) else ""
            if not rid or len(rid.encode()) > 64:
                raise _bad("RESULT_ID_INVALID")
            if rid in seen:
                raise _bad("RESULT_ID_DUPLICATE")
            seen.add(rid)
            self._validate_markup(result.get("reply_markup"))
            content = result.get("input_message_content")
            if isinstance(content, dict) and "message_text" in content:
                self._format(
                    {
                        "text": content["message_text"],
                        "parse_mode": content.get("parse_mode"),
                        "entities": content.get("entities"),
                    },
                    "text",
                    "entities",
                    MESSAGE_LIMIT,
                    required=True,
                )
        if query_id in self._answered_queries:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        self._answered_queries.add(query_id)
        return True

    # ------------------------------------------------------------------------ chats / bot

    async def _m_getMe(self, call: Call) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_getChat(self, call: Call) -> JSONDict:
        if call.chat_id is None:
            raise _bad("chat_id is empty")
        chat = self.chat(call.chat_id)
        full: JSONDict = {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }
        if chat["type"] in ("group", "supergroup"):
            full["permissions"] = {"can_send_messages": True, "can_send_polls": True, "can_invite_users": True}
        if call.chat_id in self.pinned:
            pinned = self.messages.get((call.chat_id, self.pinned[call.chat_id]))
            if pinned:
                full["pinned_message"] = pinned
        return full

    def _status_of(self, chat_id: int | str, user_id: int) -> str:
        return self._members.get(chat_id, {}).get(user_id, "member")

    async def _m_getChatMember(self, call: Call) -> JSONDict:
        user_id = call.params.get("user_id")
        if call.chat_id is None or not isinstance(user_id, int):
            raise _bad("user_id is empty" if call.chat_id is not None else "chat_id is empty")
        user = self.bot_user if user_id == self.bot_id else self.user(user_id)
        status = self._status_of(call.chat_id, user_id)
        return self.member_dict(user, status, self._rights.get((call.chat_id, user_id)))

    async def _m_getChatAdministrators(self, call: Call) -> list[JSONDict]:
        if call.chat_id is None:
            raise _bad("chat_id is empty")
        if self.chat(call.chat_id)["type"] == "private":
            raise _bad("there are no administrators in the private chat")
        admins = [
            self.member_dict(
                self.bot_user if uid == self.bot_id else self.user(uid), status, self._rights.get((call.chat_id, uid))
            )
            for uid, status in self._members.get(call.chat_id, {}).items()
            if status in ("creator", "administrator")
        ]
        admins.sort(key=lambda m: m["status"] != "creator")
        return admins

    async def _m_getChatMemberCount(self, call: Call) -> int:
        members = self._members.get(call.chat_id, {}) if call.chat_id is not None else {}
        return max(2, sum(1 for s in members.values() if s not in ("left", "kicked")))

    async def _m_getFile(self, call: Call) -> JSONDict:
        file_id = str(call.params.get("file_id") or "")
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _m_setMyCommands(self, call: Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("command description must be non-empty")
        self.commands[self._commands_key(call.params)] = commands
        return True

    async def _m_getMyCommands(self, call: Call) -> list[JSONDict]:
        return list(self.commands.get(self._commands_key(call.params), []))

    async def _m_deleteMyCommands(self, call: Call) -> bool:
        self.commands.pop(self._commands_key(call.params), None)
        return True

    async def _m_close(self, call: Call) -> bool:
        return True

    async def _m_logOut(self, call: Call) -> bool:
        return True

    # ------------------------------------------------------------------------ webhook / polling

    async def _m_setWebhook(self, call: Call) -> bool:
        url = str(call.params.get("url") or "")
        if url and not re.match(r"https?://", url):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        self.webhook_secret = call.params.get("secret_token") or None
        if call.params.get("drop_pending_updates") is True:
            self._updates.clear()
        if isinstance(call.params.get("allowed_updates"), list):
            self._allowed_updates = call.params["allowed_updates"] or None
        return True

    async def _m_deleteWebhook(self, call: Call) -> bool:
        self.webhook_url = ""
        self.webhook_secret = None
        if call.params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    async def _m_getWebhookInfo(self, call: Call) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_url:
            info["max_connections"] = 40
            info["ip_address"] = "127.0.0.1"
        if self._allowed_updates:
            info["allowed_updates"] = list(self._allowed_updates)
        return info

    def _confirm(self, offset: Any) -> None:
        if not isinstance(offset, int) or offset == 0:
            return
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        else:
            self._updates = self._updates[offset:]

    def _deliverable(self, limit: int) -> list[JSONDict]:
        allowed = set(self._allowed_updates) if self._allowed_updates else None
        kept: list[JSONDict] = []
        for update in self._updates:
            kind = next((k for k in update if k not in _UPDATE_KEYS_IGNORED), "")
            ok = kind in allowed if allowed is not None else kind not in _DEFAULT_EXCLUDED_UPDATES
            if ok:
                kept.append(update)
        # Telegram never stores updates the bot did not ask for.
        self._updates = kept
        return [copy.deepcopy(u) for u in kept[:limit]]

    async def _m_getUpdates(self, call: Call) -> list[JSONDict]:
        if self.webhook_url:
            raise _ApiError(409, _WEBHOOK_CONFLICT)
        params = call.params
        limit = params.get("limit", 100)
        limit = min(100, max(1, limit)) if isinstance(limit, int) else 100
        timeout = params.get("timeout", 0)
        timeout = float(timeout) if isinstance(timeout, int | float) and not isinstance(timeout, bool) else 0.0
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = allowed or None
        self._confirm(params.get("offset"))
        self._notify_calls()  # confirmation may satisfy wait_updates_consumed()
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify_updates()  # an older long poll still waiting is answered 409 (as Telegram does)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while True:
            event = self._updates_changed
            if generation != self._poll_generation:
                raise _ApiError(409, _DEFAULT_DESCRIPTIONS[409])
            found = self._deliverable(limit)
            remaining = deadline - loop.time()
            if found or self._closing or remaining <= 0:
                return found
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)


def _decode_value(key: str, value: Any) -> Any:
    """Decode a form value the way Telegram does: JSON for objects, arrays, numbers, booleans."""
    if not isinstance(value, str) or key in _STRING_PARAMS:
        return value
    text = value.strip()
    if not text:
        return value
    if text[0] in "{[" or text in ("true", "false", "null") or _NUMBER_RE.fullmatch(text):
        try:
            return json.loads(text)
        except ValueError:
            return value
    return value


def _infer_chat_type(chat_id: int | str | None) -> str:
    if isinstance(chat_id, str):
        return "channel"
    if chat_id is None or chat_id > 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"
