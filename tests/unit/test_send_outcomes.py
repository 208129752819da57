"""What each Telegram error means for a delivery: the pure error → outcome table, and the backoff.

The errors are given as PTB reports them (``bot.sender.delivery.send_error`` turns a PTB
exception into a ``SendError``; that adapter is tested against PTB's own classes in
``tests/test_broadcast_sender.py``, as this tier does not import Telegram).
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
    classify,
    failure_kind,
    pin_note,
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
