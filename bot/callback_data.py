"""Every button's callback data: one typed scheme, built and parsed here (Telegram allows 64 bytes).

Each action is a frozen dataclass registered under a short prefix; its fields are encoded after
the prefix, separated by ``:``. Field types carry their own validation: ids of topics and
domains are short ``[a-z0-9_]`` strings, numbers are ASCII digits within the range of the column
they address (``storage.numbers``), flags are ``0``/``1``. Anything that does not parse is
forged or stale, and each feature's ``CallbackQueryHandler`` matches only its own action types
(:func:`matching`), so no central dispatcher is needed.

This file is longer than 400 lines because it is the one registry of every button: a few lines
per action, kept together so that prefixes cannot clash.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Annotated, Any, ClassVar, TypeVar

from storage.numbers import INT32_MAX, INT64_MAX, parse_int

MAX_BYTES = 64
_KEY = re.compile(r"[a-z0-9_]{1,40}")


@dataclass(frozen=True)
class Range:
    low: int
    high: int


RecordId = Annotated[int, Range(1, INT64_MAX)]
AnnouncementId = Annotated[int, Range(1, INT32_MAX)]
SmallIndex = Annotated[int, Range(0, 99)]
PageNumber = Annotated[int, Range(1, 99_999)]
TicketId = Annotated[int, Range(1, INT32_MAX)]
GroupId = Annotated[int, Range(1, INT32_MAX)]
VersionId = Annotated[int, Range(1, INT32_MAX)]


class Action:
    """Base of every callback action; ``PREFIX`` is set by :func:`action`."""

    PREFIX: ClassVar[str]


_BY_PREFIX: dict[str, type[Action]] = {}
_FIELD_TYPES: dict[type[Action], list[Any]] = {}
A = TypeVar("A", bound=type[Action])


def action(prefix: str) -> Callable[[A], A]:
    """Register a frozen dataclass as the action behind ``prefix``."""

    def register(cls: A) -> A:
        if prefix in _BY_PREFIX or ":" in prefix:
            raise ValueError(f"bad or duplicate callback prefix {prefix!r}")
        cls.PREFIX = prefix
        _BY_PREFIX[prefix] = cls
        hints = typing.get_type_hints(cls, include_extras=True)
        _FIELD_TYPES[cls] = [hints[f.name] for f in fields(cls)]  # type: ignore[arg-type]
        return cls

    return register


# --- the knowledge menu and answers ---------------------------------------------------------


@action("m")
@dataclass(frozen=True)
class MainMenu(Action):
    pass


@action("d")
@dataclass(frozen=True)
class DomainMenu(Action):
    domain: str


@action("t")
@dataclass(frozen=True)
class MenuTopic(Action):
    """A topic opened from the menu: the message is edited in place."""

    topic: str


@action("r")
@dataclass(frozen=True)
class RelatedTopic(Action):
    """A related topic under an answer: sent as a new message, the answer stays."""

    topic: str


@action("f")
@dataclass(frozen=True)
class Feedback(Action):
    record_id: RecordId
    helpful: bool


@action("c")
@dataclass(frozen=True)
class ClarifyChoice(Action):
    record_id: RecordId
    topic: str


@action("h")
@dataclass(frozen=True)
class Handoff(Action):
    record_id: RecordId


# --- group tags and the group list ----------------------------------------------------------


@action("gp")
@dataclass(frozen=True)
class ProvinceMenu(Action):
    """Group tagging: show the 34 provinces."""


@action("gs")
@dataclass(frozen=True)
class SetProvince(Action):
    province: str


@action("gr")
@dataclass(frozen=True)
class RemoveLabel(Action):
    index: SmallIndex


@action("gx")
@dataclass(frozen=True)
class ClearCommune(Action):
    pass


@action("gl")
@dataclass(frozen=True)
class GroupPage(Action):
    page: PageNumber


# --- composing an announcement ----------------------------------------------------------------


@action("ba")
@dataclass(frozen=True)
class AudienceAll(Action):
    pass


@action("bt")
@dataclass(frozen=True)
class AudienceTag(Action):
    index: SmallIndex


@action("bn")
@dataclass(frozen=True)
class AudienceDone(Action):
    pass


@action("bp")
@dataclass(frozen=True)
class TogglePin(Action):
    pass


@action("bs")
@dataclass(frozen=True)
class ToggleSilent(Action):
    pass


@action("bk")
@dataclass(frozen=True)
class ToggleAck(Action):
    """The "✅ Đã nhận" button under the announcement: on or off."""


@action("bw")
@dataclass(frozen=True)
class SendNow(Action):
    pass


@action("bl")
@dataclass(frozen=True)
class SendLater(Action):
    pass


@action("bo")
@dataclass(frozen=True)
class ConfirmSend(Action):
    pass


@action("bc")
@dataclass(frozen=True)
class CancelCompose(Action):
    pass


# --- reports ------------------------------------------------------------------------------------


@action("rc")
@dataclass(frozen=True)
class ReportCsv(Action):
    announcement_id: AnnouncementId


@action("x")
@dataclass(frozen=True)
class CancelScheduled(Action):
    announcement_id: AnnouncementId


# --- acknowledgements ("✅ Đã nhận" under an announcement) ------------------------------------


@action("ak")
@dataclass(frozen=True)
class Acknowledge(Action):
    """A tap in a team group; the id is the original announcement's (a reminder's button too)."""

    announcement_id: AnnouncementId


@action("ar")
@dataclass(frozen=True)
class AckRemind(Action):
    """The sender asks for the one reminder to the groups that have not acknowledged."""

    announcement_id: AnnouncementId


# --- the support desk -------------------------------------------------------------------------


@action("sm")
@dataclass(frozen=True)
class TicketMain(Action):
    """Back to a ticket's main buttons."""

    ticket_id: TicketId


@action("sg")
@dataclass(frozen=True)
class TicketTopics(Action):
    """ "Trả lời bằng chủ đề…": the assistant's guesses first, then the domains."""

    ticket_id: TicketId


@action("sd")
@dataclass(frozen=True)
class TicketDomain(Action):
    ticket_id: TicketId
    domain: str


@action("sa")
@dataclass(frozen=True)
class TicketAnswer(Action):
    """Send a knowledge-base topic's answer to the member."""

    ticket_id: TicketId
    topic: str


@action("so")
@dataclass(frozen=True)
class TicketOutOfScope(Action):
    ticket_id: TicketId


@action("sc")
@dataclass(frozen=True)
class TicketClose(Action):
    ticket_id: TicketId


@action("sr")
@dataclass(frozen=True)
class TicketRate(Action):
    """The member's 👍/👎 after a ticket was closed."""

    ticket_id: TicketId
    helpful: bool


@action("mp")
@dataclass(frozen=True)
class MemberProvince(Action):
    """A member chose their province (``/tinh``), for routing their questions to people."""

    province: str


# --- the learning loop: the curation inbox and model versions ----------------------------------


@action("ip")
@dataclass(frozen=True)
class InboxPick(Action):
    """Resolve a whole inbox group to a topic, or to ``out_of_scope``."""

    group_id: GroupId
    label: str


@action("io")
@dataclass(frozen=True)
class InboxDomains(Action):
    """ "Chủ đề khác…": the list of domains."""

    group_id: GroupId


@action("id")
@dataclass(frozen=True)
class InboxDomain(Action):
    group_id: GroupId
    domain: str


@action("is")
@dataclass(frozen=True)
class InboxSkip(Action):
    group_id: GroupId


@action("ix")
@dataclass(frozen=True)
class InboxDelete(Action):
    group_id: GroupId


@action("ib")
@dataclass(frozen=True)
class InboxBack(Action):
    group_id: GroupId


@action("vr")
@dataclass(frozen=True)
class Rollback(Action):
    version_id: VersionId


# --- encoding and parsing ----------------------------------------------------------------------


def _encode_field(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def encode(item: Action) -> str:
    parts = [item.PREFIX, *(_encode_field(getattr(item, f.name)) for f in fields(item))]  # type: ignore[arg-type]
    data = ":".join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def _decode_field(kind: Any, text: str) -> object | None:
    if kind is bool:
        return {"0": False, "1": True}.get(text)
    if kind is str:
        return text if _KEY.fullmatch(text) else None
    bounds = next((m for m in getattr(kind, "__metadata__", ()) if isinstance(m, Range)), None)
    if bounds is None:
        raise TypeError(f"unsupported callback field type {kind!r}")
    return parse_int(text, low=bounds.low, high=bounds.high)


def parse(data: object) -> Action | None:
    """The action, or None for anything malformed (forged, truncated, out of range, from an old version)."""
    if not isinstance(data, str) or not data or len(data.encode()) > MAX_BYTES:
        return None
    prefix, *texts = data.split(":")
    kind = _BY_PREFIX.get(prefix)
    if kind is None or len(texts) != len(_FIELD_TYPES[kind]):
        return None
    values = [_decode_field(field_type, text) for field_type, text in zip(_FIELD_TYPES[kind], texts, strict=True)]
    if any(value is None for value in values):
        return None
    return kind(*values)


def matching(*kinds: type[Action]) -> Callable[[object], bool]:
    """A ``CallbackQueryHandler`` pattern that accepts only these action types."""
    return lambda data: isinstance(parse(data), kinds)
