"""The sender's lean HTTP path (``bot.sender.http``) and the bodies it posts.

* Every Bot API error answer maps to the same ``SendError`` through ``outcomes.api_error`` as
  through PTB's own request layer and ``delivery.send_error`` (PTB is the reference).
* ``BulkApi`` against the fake Bot API: a result, an error answer, a dropped connection.
* The "✅ Đã nhận" button: in every send of an announcement with ``ack_button`` (message, photo,
  document; a reminder's button acknowledges the original), absent otherwise.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from telegram.error import TelegramError
from telegram.request import BaseRequest, RequestData

import texts
from bot.callback_data import Acknowledge, encode
from bot.sender.delivery import Content, send_error
from bot.sender.http import ApiFailure, BulkApi, sent_message_id
from bot.sender.outcomes import ErrorKind, api_error
from broadcasts.models import Announcement
from tests.fake_bot_api import FakeBotAPI
from tests.pg import backend_url, pg_url  # noqa: F401  (fixtures)
from tests.test_broadcast_sender import (  # noqa: F401  (fixtures)
    add_groups,
    announce,
    running_sender,
    sends,
    server,
    sessions,
    settings,
    supergroups,
    wait_done,
)


class CannedRequest(BaseRequest):
    """PTB's request layer with a canned HTTP answer instead of a network."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        return self.status, self.body


ANSWERS: list[tuple[int, dict[str, Any] | None]] = [
    (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
           "parameters": {"retry_after": 3}}),
    (400, {"ok": False, "error_code": 400, "description": "Bad Request: group chat was upgraded to a supergroup chat",
           "parameters": {"migrate_to_chat_id": -1001234}}),
    (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was kicked from the supergroup chat"}),
    (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot is not a member of the supergroup chat"}),
    (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}),
    (400, {"ok": False, "error_code": 400, "description": "Bad Request: message thread not found"}),
    (400, {"ok": False, "error_code": 400, "description": "Bad Request: odd", "parameters": {"other": True}}),
    (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}),
    (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}),
    (504, None),
    (429, {"ok": False, "error_code": 429, "description": "Too Many Requests"}),
    (409, {"ok": False, "error_code": 409, "description": "Conflict: terminated by other getUpdates request"}),
    (401, {"ok": False, "error_code": 401, "description": "Unauthorized"}),
    (404, {"ok": False, "error_code": 404, "description": "Not Found"}),
    (418, {"ok": False, "error_code": 418, "description": "I'm a teapot"}),
]  # fmt: skip


@pytest.mark.parametrize(("status", "answer"), ANSWERS)
async def test_api_error_agrees_with_ptb(status: int, answer: dict[str, Any] | None) -> None:
    body = json.dumps(answer).encode() if answer is not None else b"<html>gateway timeout</html>"
    with pytest.raises(TelegramError) as raised:
        await CannedRequest(status, body).post("https://api.telegram.org/botX/sendMessage")
    ours = api_error(status, answer)
    theirs = send_error(raised.value)
    assert ours.kind == theirs.kind
    assert float(ours.retry_after) == float(theirs.retry_after)  # type: ignore[arg-type]
    assert ours.new_chat_id == theirs.new_chat_id
    if answer is not None:  # PTB also quotes the unparsable body; the kind is what matters there
        assert ours.message == theirs.message


async def test_bulk_api_against_the_fake_server(server: FakeBotAPI) -> None:  # noqa: F811
    api = BulkApi(f"{server.url}/bot{server.token}/", connections=4)
    try:
        result = await api.call("sendMessage", b'{"chat_id":-1001000000001,"text":"xin ch\\u00e0o"}')
        assert sent_message_id(result) > 0
        [call] = server.calls_of("sendMessage")
        assert (call.chat_id, call.params["text"]) == (-1001000000001, "xin chào")

        server.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat")
        with pytest.raises(ApiFailure) as refused:
            await api.call("sendMessage", b'{"chat_id":-1001000000002,"text":"x"}')
        assert refused.value.error.kind == ErrorKind.FORBIDDEN

        server.network_failure("sendMessage")
        with pytest.raises(ApiFailure) as dropped:
            await api.call("sendMessage", b'{"chat_id":-1001000000003,"text":"x"}')
        assert dropped.value.error.kind == ErrorKind.NETWORK
        assert sent_message_id(await api.call("sendMessage", b'{"chat_id":-1001000000003,"text":"x"}')) > 0
        with pytest.raises(ApiFailure) as odd:
            sent_message_id(True)
        assert odd.value.error.kind == ErrorKind.OTHER
    finally:
        await api.close()


def test_content_body_is_built_once_and_takes_the_chat_id() -> None:
    announcement = Announcement(id=7, kind="text", text='<b>Họp</b> "8h"', pin=False, silent=True, ack_button=True)
    content = Content.of(announcement, paid=True)
    body = json.loads(content.body(-1002000000001))
    assert body == {
        "chat_id": -1002000000001,
        "text": '<b>Họp</b> "8h"',
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
        "disable_notification": True,
        "allow_paid_broadcast": True,
        "reply_markup": {"inline_keyboard": [[{"text": texts.BUTTON_ACK, "callback_data": "ak:7"}]]},
    }
    reminder = Announcement(id=9, kind="photo", text="", file_id="AgAC", pin=True, silent=False, ack_button=True)
    reminder.reminder_of = 7
    photo = json.loads(Content.of(reminder).body(5))
    assert photo["photo"] == "AgAC" and "caption" not in photo and "allow_paid_broadcast" not in photo
    assert photo["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == encode(Acknowledge(7))


async def test_ack_button_in_every_send_of_an_announcement_that_has_it(sessions, server: FakeBotAPI) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    chats = supergroups(9)
    group_ids = await add_groups(sessions, chats)
    with_button = await announce(sessions, group_ids[:3], ack_button=True)
    photo = await announce(sessions, group_ids[3:5], kind="photo", file_id="AgACphoto", text="Ảnh", ack_button=True)
    document = await announce(sessions, group_ids[5:7], kind="document", file_id="BQACdoc", ack_button=True)
    plain = await announce(sessions, group_ids[7:], text="Không có nút")
    async with running_sender(sessions, server, settings()):
        for announcement_id in (with_button, photo, document, plain):
            await wait_done(sessions, announcement_id)

    def button(announcement_id: int) -> dict[str, Any]:
        data = encode(Acknowledge(announcement_id))
        return {"inline_keyboard": [[{"text": texts.BUTTON_ACK, "callback_data": data}]]}

    messages = {int(c.chat_id): c for c in sends(server)}  # type: ignore[arg-type]
    assert sorted(messages) == sorted(chats[:3] + chats[7:])
    assert all(messages[chat].params["reply_markup"] == button(with_button) for chat in chats[:3])
    assert all("reply_markup" not in messages[chat].params for chat in chats[7:])
    assert [c.params["reply_markup"] for c in sends(server, "sendPhoto")] == [button(photo)] * 2
    assert [c.params["reply_markup"] for c in sends(server, "sendDocument")] == [button(document)] * 2
    # The fake server kept the button on the message it made, as Telegram would.
    first = messages[chats[0]]
    assert first.result["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"ak:{with_button}"
