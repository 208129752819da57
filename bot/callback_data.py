"""Compact, validated callback data (Telegram allows 64 bytes).

Every button's data is built here and parsed here; anything that does not parse
is treated as forged or stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64


@dataclass(frozen=True)
class MainMenu:
    pass


@dataclass(frozen=True)
class DomainMenu:
    domain: str


@dataclass(frozen=True)
class MenuTopic:
    """A topic opened from the menu: the message is edited in place."""

    topic: str


@dataclass(frozen=True)
class RelatedTopic:
    """A related topic under an answer: sent as a new message, the answer stays."""

    topic: str


@dataclass(frozen=True)
class Feedback:
    record_id: int
    helpful: bool


@dataclass(frozen=True)
class ClarifyChoice:
    record_id: int
    topic: str


@dataclass(frozen=True)
class Handoff:
    record_id: int


@dataclass(frozen=True)
class ProvinceMenu:
    """Group tagging: show the 34 provinces."""


@dataclass(frozen=True)
class SetProvince:
    province: str


@dataclass(frozen=True)
class RemoveLabel:
    index: int


@dataclass(frozen=True)
class ClearCommune:
    pass


@dataclass(frozen=True)
class GroupPage:
    page: int


@dataclass(frozen=True)
class ReportCsv:
    announcement_id: int


@dataclass(frozen=True)
class CancelScheduled:
    announcement_id: int


Action = (
    MainMenu
    | DomainMenu
    | MenuTopic
    | RelatedTopic
    | Feedback
    | ClarifyChoice
    | Handoff
    | ProvinceMenu
    | SetProvince
    | RemoveLabel
    | ClearCommune
    | GroupPage
    | ReportCsv
    | CancelScheduled
)

_ID = r"[a-z0-9_]{1,40}"
_PATTERNS: list[tuple[re.Pattern[str], type]] = [
    (re.compile(r"m"), MainMenu),
    (re.compile(rf"d:({_ID})"), DomainMenu),
    (re.compile(rf"t:({_ID})"), MenuTopic),
    (re.compile(rf"r:({_ID})"), RelatedTopic),
    (re.compile(r"f:(\d{1,19}):([01])"), Feedback),
    (re.compile(rf"c:(\d{{1,19}}):({_ID})"), ClarifyChoice),
    (re.compile(r"h:(\d{1,19})"), Handoff),
    (re.compile(r"g:pm"), ProvinceMenu),
    (re.compile(rf"g:p:({_ID})"), SetProvince),
    (re.compile(r"g:rl:(\d{1,2})"), RemoveLabel),
    (re.compile(r"g:rx"), ClearCommune),
    (re.compile(r"gl:(\d{1,5})"), GroupPage),
    (re.compile(r"rc:(\d{1,12})"), ReportCsv),
    (re.compile(r"x:(\d{1,12})"), CancelScheduled),
]


def encode(action: Action) -> str:
    match action:
        case MainMenu():
            data = "m"
        case DomainMenu(domain):
            data = f"d:{domain}"
        case MenuTopic(topic):
            data = f"t:{topic}"
        case RelatedTopic(topic):
            data = f"r:{topic}"
        case Feedback(record_id, helpful):
            data = f"f:{record_id}:{int(helpful)}"
        case ClarifyChoice(record_id, topic):
            data = f"c:{record_id}:{topic}"
        case Handoff(record_id):
            data = f"h:{record_id}"
        case ProvinceMenu():
            data = "g:pm"
        case SetProvince(province):
            data = f"g:p:{province}"
        case RemoveLabel(index):
            data = f"g:rl:{index}"
        case ClearCommune():
            data = "g:rx"
        case GroupPage(page):
            data = f"gl:{page}"
        case ReportCsv(announcement_id):
            data = f"rc:{announcement_id}"
        case CancelScheduled(announcement_id):
            data = f"x:{announcement_id}"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def parse(data: object) -> Action | None:
    """The action, or None for anything malformed (forged, truncated, from an old version)."""
    if not isinstance(data, str) or len(data.encode()) > MAX_BYTES:
        return None
    for pattern, kind in _PATTERNS:
        match = pattern.fullmatch(data)
        if not match:
            continue
        groups = match.groups()
        if not groups:
            return kind()  # type: ignore[no-any-return]
        if kind in (DomainMenu, MenuTopic, RelatedTopic, SetProvince):
            return kind(groups[0])  # type: ignore[no-any-return]
        if kind is Feedback:
            return Feedback(int(groups[0]), groups[1] == "1")
        if kind is ClarifyChoice:
            return ClarifyChoice(int(groups[0]), groups[1])
        return kind(int(groups[0]))  # type: ignore[no-any-return]
    return None
