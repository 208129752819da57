"""What a send's answer means for its delivery: a pure mapping from a send error to an outcome.

No I/O and no Telegram library here: :func:`classify` takes a :class:`SendError` (what a
Telegram error says) and returns one outcome value; the send loop carries it out (database
writes, the global pause, following a migration). A :class:`SendError` comes from Bot API
answers read directly (:func:`api_error`, the bulk sends of ``bot.sender.http``) or from
PTB's exceptions (``bot.sender.delivery.send_error``); both give the same kinds and messages.

==========================  =====================================================================
Telegram's answer           outcome
==========================  =====================================================================
message accepted            :class:`Sent` (built by the loop)
``RetryAfter`` (429)        :class:`PauseAll`: every send pauses; the delivery waits too and the
                            try does not count
``Forbidden`` (403)         :class:`Blocked`: the group goes inactive; failed ``"forbidden: …"``
``ChatMigrated``            :class:`Migrated`: follow to the supergroup (after
                            ``MAX_MIGRATIONS`` hops: failed ``"migrated: …"``)
``BadRequest`` (400)        :class:`Failed` ``"chat_not_found: …"`` or ``"bad_request: …"``
``NetworkError``/TimedOut   :class:`RetryLater` with backoff, ``"network: …"``; failed at
                            ``broadcast_max_attempts``
other ``TelegramError``     as a network error, with ``"error: …"``
==========================  =====================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from bot.sender.settings import BroadcastSettings

MAX_MIGRATIONS = 2  # group → supergroup happens once; allow one more hop, then give up


class ErrorKind(StrEnum):
    """The kinds of Telegram error the sender tells apart (by PTB exception class)."""

    RETRY_AFTER = "retry_after"  # RetryAfter (429)
    FORBIDDEN = "forbidden"  # Forbidden (403): kicked, blocked
    MIGRATED = "migrated"  # ChatMigrated: the group became a supergroup
    BAD_REQUEST = "bad_request"  # BadRequest (400); PTB makes it a NetworkError subclass
    NETWORK = "network"  # NetworkError, TimedOut
    OTHER = "error"  # any other TelegramError


@dataclass(frozen=True, slots=True)
class SendError:
    """What a Telegram error says, as PTB gives it: its kind, message and parameters.

    ``message`` is PTB's (``"Chat not found"``: PTB strips ``"Bad Request: "`` and capitalises);
    ``retry_after`` is PTB's ``RetryAfter.retry_after`` (seconds, or a timedelta).
    """

    kind: ErrorKind
    message: str
    retry_after: float | timedelta = 0.0
    new_chat_id: int | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: int


@dataclass(frozen=True, slots=True)
class Failed:
    """Final: the delivery failed with ``reason`` ("kind: detail")."""

    reason: str


@dataclass(frozen=True, slots=True)
class Blocked:
    """The bot was kicked or blocked (403): the group is inactive from now on; the delivery failed."""

    reason: str


@dataclass(frozen=True, slots=True)
class RetryLater:
    """Back to pending for another try in ``delay`` seconds."""

    reason: str
    delay: float
    counts_attempt: bool = True


@dataclass(frozen=True, slots=True)
class PauseAll:
    """429: no send for ``seconds``; this delivery is tried again then, without counting the try."""

    seconds: float

    @property
    def reason(self) -> str:
        return f"retry_after: {self.seconds:g}s"

    def retry(self) -> RetryLater:
        return RetryLater(self.reason, self.seconds, counts_attempt=False)


@dataclass(frozen=True, slots=True)
class Migrated:
    """The group became a supergroup: send again to ``new_chat_id`` and follow it in the registry."""

    new_chat_id: int


Outcome = Sent | Failed | Blocked | RetryLater | PauseAll | Migrated


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts and backoff for network errors and other transient Telegram errors."""

    max_attempts: int
    base_seconds: float
    max_seconds: float

    @classmethod
    def of(cls, settings: BroadcastSettings) -> RetryPolicy:
        return cls(
            settings.broadcast_max_attempts, settings.broadcast_retry_base_seconds, settings.broadcast_retry_max_seconds
        )

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after ``attempts`` tries: base·2^(attempts-1), capped."""
        return float(min(self.base_seconds * 2 ** (attempts - 1), self.max_seconds))


def seconds(value: float | timedelta) -> float:
    """Seconds from PTB's ``retry_after`` (an int, a float or a timedelta, by PTB version and setting)."""
    return float(value.total_seconds()) if isinstance(value, timedelta) else float(value)


def api_message(text: str) -> str:
    """A Bot API description as PTB's ``TelegramError.message`` gives it.

    ``"Bad Request: chat not found"`` → ``"Chat not found"`` (the prefix goes, then it is
    capitalised); ``"Forbidden: …"`` stays as it is.
    """
    message = text.removeprefix("Error: ").removeprefix("[Error]: ").removeprefix("Bad Request: ")
    return message.capitalize() if message != text else message


def api_error(status: int, answer: Mapping[str, Any] | None) -> SendError:
    """What a Bot API error answer says: the HTTP status and the parsed JSON body (None: unreadable).

    The same kinds and messages PTB's request layer makes of it: ``migrate_to_chat_id`` →
    migrated and ``retry_after`` → retry after (whatever the status, as Telegram sends them
    with 400 and 429); 403 → forbidden; 400 → bad request; 401, 404 (a bad token) and 409 →
    other; any other status (5xx, a 429 without ``retry_after``) → network.
    """
    try:
        message = f"{HTTPStatus(status).phrase} ({status})"
    except ValueError:
        message = f"Unknown HTTPError ({status})"
    if answer is None:
        message += ". Parsing the server response failed"
    else:
        message = str(answer.get("description") or message)
        parameters = answer.get("parameters")
        if isinstance(parameters, Mapping) and parameters:
            new_chat_id = parameters.get("migrate_to_chat_id")
            if new_chat_id:
                text = f"Group migrated to supergroup. New chat id: {new_chat_id}"
                return SendError(ErrorKind.MIGRATED, text, new_chat_id=int(new_chat_id))
            retry_after = parameters.get("retry_after")
            if retry_after:
                text = f"Flood control exceeded. Retry in {retry_after} seconds"
                return SendError(ErrorKind.RETRY_AFTER, text, retry_after=float(retry_after))
            message += f". The server response contained unknown parameters: {dict(parameters)}"
    if status == HTTPStatus.FORBIDDEN:
        kind = ErrorKind.FORBIDDEN
    elif status == HTTPStatus.BAD_REQUEST:
        kind = ErrorKind.BAD_REQUEST
    elif status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT):
        kind = ErrorKind.OTHER
    else:
        kind = ErrorKind.NETWORK
    return SendError(kind, api_message(message))


def transport_error(error: BaseException) -> SendError:
    """No answer at all (timeout, refused or dropped connection): a network error, retried."""
    if isinstance(error, TimeoutError):
        return SendError(ErrorKind.NETWORK, "Timed out")
    return SendError(ErrorKind.NETWORK, f"{type(error).__module__.split('.')[0]}.{type(error).__name__}: {error}")


def failure_reason(error: SendError) -> str:
    """``"forbidden: …"``, ``"chat_not_found: …"``, ``"bad_request: …"`` from a 403 or 400."""
    message = error.message
    if error.kind == ErrorKind.FORBIDDEN:
        return f"forbidden: {message.removeprefix('Forbidden: ')}"
    lower = message.lower()
    text = message.removeprefix("Bad Request: ")
    if "chat not found" in lower:
        return f"chat_not_found: {text}"
    return f"bad_request: {text}"


def classify(error: SendError, *, attempts: int, policy: RetryPolicy, migrations: int = 0) -> Outcome:
    """The outcome of a send that failed with ``error``.

    ``attempts``: tries of this delivery so far, this one included (the claim counts them);
    ``migrations``: chat migrations already followed during this send.
    """
    match error.kind:
        case ErrorKind.MIGRATED if error.new_chat_id is not None:
            if migrations >= MAX_MIGRATIONS:
                return Failed(f"migrated: chat moved again to {error.new_chat_id}")
            return Migrated(error.new_chat_id)
        case ErrorKind.RETRY_AFTER:
            return PauseAll(seconds(error.retry_after))
        case ErrorKind.FORBIDDEN:
            return Blocked(failure_reason(error))
        case ErrorKind.BAD_REQUEST:
            return Failed(failure_reason(error))
    # NETWORK, OTHER (and a migration without its new chat id): retried with backoff, then failed.
    kind = ErrorKind.NETWORK if error.kind == ErrorKind.NETWORK else ErrorKind.OTHER
    reason = f"{kind}: {error.message}"
    if attempts >= policy.max_attempts:
        return Failed(reason)
    return RetryLater(reason, policy.backoff(attempts))


def pin_note(error: SendError) -> str:
    """The note a failed pin leaves on its (sent) delivery."""
    return f"pin: {error.message.removeprefix('Bad Request: ')}"


def failure_kind(reason: str) -> str:
    """``"forbidden"`` from ``"forbidden: bot was kicked …"``."""
    return reason.split(":", 1)[0]
