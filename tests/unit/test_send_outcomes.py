"""What each Telegram error means for a delivery: the pure error → outcome table, and the backoff.

The errors are given as PTB reports them (``bot.sender.delivery.send_error`` turns a PTB
exception into a ``SendError``; that adapter is tested against PTB's own classes in
``tests/test_broadcast_sender.py``, as this tier does not import Telegram). The bulk sends read
Bot API answers themselves: :func:`api_error` is the one mapping from an HTTP status and JSON
body to a ``SendError`` (checked against PTB's own request layer in ``tests/test_sender_http.py``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.sender.outcomes import (
    MAX_MIGRATIONS,
    Blocked,
    ErrorKind,
    Failed,
    Migrated,
    Outcome,
    PauseAll,
    RetryLater,
    RetryPolicy,
    SendError,
    api_error,
    api_message,
    classify,
    failure_kind,
    pin_note,
    transport_error,
)
from bot.sender.settings import BroadcastSettings

POLICY = RetryPolicy(max_attempts=3, base_seconds=1.0, max_seconds=60.0)
KICKED = SendError(ErrorKind.FORBIDDEN, "Forbidden: bot was kicked from the supergroup chat")
BLOCKED = SendError(ErrorKind.FORBIDDEN, "Forbidden: bot was blocked by the user")
CHAT_NOT_FOUND = SendError(ErrorKind.BAD_REQUEST, "Chat not found")  # PTB strips "Bad Request: " and capitalises
NO_THREAD = SendError(ErrorKind.BAD_REQUEST, "Message thread not found")
UPGRADED = SendError(ErrorKind.MIGRATED, "Group migrated to supergroup. New chat id: -1001", new_chat_id=-1001)
FLOOD_INT = SendError(ErrorKind.RETRY_AFTER, "Flood control exceeded. Retry in 5 seconds", retry_after=5)
FLOOD_TIMEDELTA = SendError(
    ErrorKind.RETRY_AFTER, "Flood control exceeded. Retry in 0:00:01.500000", retry_after=timedelta(seconds=1.5)
)
TIMED_OUT = SendError(ErrorKind.NETWORK, "Timed out")
BAD_GATEWAY = SendError(ErrorKind.NETWORK, "Bad Gateway")
CONFLICT = SendError(ErrorKind.OTHER, "Conflict: terminated by other getUpdates request")


def outcome(error: SendError, attempts: int = 1, migrations: int = 0) -> Outcome:
    return classify(error, attempts=attempts, policy=POLICY, migrations=migrations)


@pytest.mark.parametrize(
    ("error", "attempts", "expected"),
    [
        # 403: the group goes inactive and the delivery fails, on any attempt.
        (KICKED, 1, Blocked("forbidden: bot was kicked from the supergroup chat")),
        (BLOCKED, 3, Blocked("forbidden: bot was blocked by the user")),
        # 400: failed at once; "chat not found" has its own kind.
        (CHAT_NOT_FOUND, 1, Failed("chat_not_found: Chat not found")),
        (SendError(ErrorKind.BAD_REQUEST, "Bad Request: chat not found"), 1, Failed("chat_not_found: chat not found")),
        (NO_THREAD, 1, Failed("bad_request: Message thread not found")),
        (NO_THREAD, 99, Failed("bad_request: Message thread not found")),  # never "network", whatever the attempt
        # 429: everything pauses; the delivery waits as long, and the try does not count.
        (FLOOD_INT, 1, PauseAll(5.0)),
        (FLOOD_INT, 3, PauseAll(5.0)),  # not failed at max attempts: a 429 is not the delivery's fault
        (FLOOD_TIMEDELTA, 1, PauseAll(1.5)),
        # The group became a supergroup: follow it.
        (UPGRADED, 1, Migrated(-1001)),
        (UPGRADED, 3, Migrated(-1001)),
        # Network errors and time-outs: retried with backoff until max attempts, then failed.
        (TIMED_OUT, 1, RetryLater("network: Timed out", 1.0)),
        (TIMED_OUT, 2, RetryLater("network: Timed out", 2.0)),
        (TIMED_OUT, 3, Failed("network: Timed out")),
        (BAD_GATEWAY, 1, RetryLater("network: Bad Gateway", 1.0)),
        (BAD_GATEWAY, 3, Failed("network: Bad Gateway")),
        (BAD_GATEWAY, 4, Failed("network: Bad Gateway")),  # a row taken over after a crash may be past the max
        # Any other Telegram error: like a network error, with "error: …".
        (CONFLICT, 2, RetryLater("error: Conflict: terminated by other getUpdates request", 2.0)),
        (CONFLICT, 3, Failed("error: Conflict: terminated by other getUpdates request")),
    ],
)
def test_error_to_outcome(error: SendError, attempts: int, expected: Outcome) -> None:
    assert outcome(error, attempts) == expected


def test_every_error_kind_has_an_outcome() -> None:
    for kind in ErrorKind:
        result = outcome(SendError(kind, "x", retry_after=1, new_chat_id=-1001))
        assert isinstance(result, Blocked | Failed | RetryLater | PauseAll | Migrated), kind


def test_a_429_is_retried_after_its_pause_without_counting_the_try() -> None:
    pause = outcome(FLOOD_TIMEDELTA)
    assert isinstance(pause, PauseAll)
    assert pause.reason == "retry_after: 1.5s"
    assert pause.retry() == RetryLater("retry_after: 1.5s", 1.5, counts_attempt=False)
    assert PauseAll(5.0).reason == "retry_after: 5s"


def test_a_chat_that_keeps_moving_is_followed_at_most_max_migrations_times() -> None:
    assert [outcome(UPGRADED, migrations=hop) for hop in range(MAX_MIGRATIONS)] == [Migrated(-1001)] * MAX_MIGRATIONS
    assert outcome(UPGRADED, migrations=MAX_MIGRATIONS) == Failed("migrated: chat moved again to -1001")


def test_network_retries_count_the_try() -> None:
    retry = outcome(BAD_GATEWAY)
    assert isinstance(retry, RetryLater) and retry.counts_attempt


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=10, base_seconds=0.5, max_seconds=5.0)
    assert [policy.backoff(attempts) for attempts in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert RetryPolicy(max_attempts=10, base_seconds=0.0, max_seconds=5.0).backoff(9) == 0.0
    capped = classify(BAD_GATEWAY, attempts=9, policy=policy)
    assert capped == RetryLater("network: Bad Gateway", 5.0)


def test_retry_policy_comes_from_the_settings() -> None:
    settings = BroadcastSettings(  # type: ignore[call-arg]
        _env_file=None, broadcast_max_attempts=4, broadcast_retry_base_seconds=0.25, broadcast_retry_max_seconds=3
    )
    assert RetryPolicy.of(settings) == RetryPolicy(max_attempts=4, base_seconds=0.25, max_seconds=3.0)


def test_reason_kinds_and_pin_notes() -> None:
    assert failure_kind("forbidden: bot was kicked from the supergroup chat") == "forbidden"
    assert failure_kind("chat_not_found: Chat not found") == "chat_not_found"
    rights = SendError(ErrorKind.BAD_REQUEST, "Not enough rights to manage pinned messages in the chat")
    assert pin_note(rights) == "pin: Not enough rights to manage pinned messages in the chat"
    assert pin_note(SendError(ErrorKind.BAD_REQUEST, "Bad Request: message to pin not found")) == (
        "pin: message to pin not found"
    )
    assert pin_note(FLOOD_INT) == "pin: Flood control exceeded. Retry in 5 seconds"


@pytest.mark.parametrize(
    ("status", "answer", "expected"),
    [
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 5",
                "parameters": {"retry_after": 5},
            },
            FLOOD_INT,
        ),
        (
            400,
            {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "parameters": {"migrate_to_chat_id": -1001},
            },
            UPGRADED,
        ),
        (
            403,
            {"ok": False, "error_code": 403, "description": "Forbidden: bot was kicked from the supergroup chat"},
            KICKED,
        ),
        (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, CHAT_NOT_FOUND),
        (400, {"ok": False, "error_code": 400, "description": "Bad Request: message thread not found"}, NO_THREAD),
        (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}, BAD_GATEWAY),
        (
            500,
            {"ok": False, "error_code": 500, "description": "Internal Server Error"},
            SendError(ErrorKind.NETWORK, "Internal Server Error"),
        ),
        (503, None, SendError(ErrorKind.NETWORK, "Service Unavailable (503). Parsing the server response failed")),
        (599, {}, SendError(ErrorKind.NETWORK, "Unknown HTTPError (599)")),
        (429, {"ok": False, "description": "Too Many Requests"}, SendError(ErrorKind.NETWORK, "Too Many Requests")),
        (409, {"ok": False, "description": "Conflict: terminated by other getUpdates request"}, CONFLICT),
        (401, {"ok": False, "description": "Unauthorized"}, SendError(ErrorKind.OTHER, "Unauthorized")),
        (404, {"ok": False, "description": "Not Found"}, SendError(ErrorKind.OTHER, "Not Found")),
        (
            400,
            {"ok": False, "description": "Bad Request: x", "parameters": {"foo": 1}},
            SendError(ErrorKind.BAD_REQUEST, "X. the server response contained unknown parameters: {'foo': 1}"),
        ),
    ],
)
def test_api_answer_to_send_error(status: int, answer: dict[str, object] | None, expected: SendError) -> None:
    assert api_error(status, answer) == expected


def test_api_answers_reach_the_same_outcomes_as_ptb_errors() -> None:
    forbidden = {"description": "Forbidden: bot was kicked from the supergroup chat"}
    assert outcome(api_error(403, forbidden)) == Blocked("forbidden: bot was kicked from the supergroup chat")
    assert outcome(api_error(400, {"description": "Bad Request: chat not found"})) == Failed(
        "chat_not_found: Chat not found"
    )
    flood = {"description": "Too Many Requests: retry after 2", "parameters": {"retry_after": 2}}
    assert outcome(api_error(429, flood), attempts=3) == PauseAll(2.0)
    assert outcome(api_error(502, {"description": "Bad Gateway"}), attempts=3) == Failed("network: Bad Gateway")
    moved = {"description": "Bad Request: upgraded", "parameters": {"migrate_to_chat_id": -1009}}
    assert outcome(api_error(400, moved)) == Migrated(-1009)


def test_api_messages_read_like_ptb_and_transport_errors_are_network() -> None:
    assert api_message("Bad Request: chat not found") == "Chat not found"
    assert api_message("Forbidden: bot was blocked by the user") == "Forbidden: bot was blocked by the user"
    assert api_message("Error: something") == "Something"
    assert transport_error(TimeoutError()) == TIMED_OUT
    dropped = transport_error(ConnectionResetError("reset by peer"))
    assert dropped.kind == ErrorKind.NETWORK and "ConnectionResetError" in dropped.message
    assert outcome(dropped, attempts=1) == RetryLater(f"network: {dropped.message}", 1.0)
