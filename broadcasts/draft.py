"""The ``/thongbao`` draft: what the sender chose so far, as JSON for ``conversation_states``.

Stored in the database (``coordination.conversations``) instead of one process's memory, so the
next step can reach any bot process. Data that does not read back (an older layout, a hand-made
row) gives None, and the flow treats the draft as absent.
Plain code: no Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import texts
from broadcasts.models import ContentKind
from broadcasts.scope import Scope, ScopeKind
from broadcasts.tags import describe_tag
from broadcasts.when import format_moment


@dataclass
class Draft:
    scope: Scope
    kind: ContentKind = ContentKind.TEXT
    text: str = ""
    file_id: str | None = None
    tags: list[str] = field(default_factory=list)  # tags offered as buttons
    chosen: set[int] = field(default_factory=set)  # indices into tags
    count: int = 0
    pin: bool = False
    silent: bool = False
    ack: bool = False  # the "✅ Đã nhận" button under each copy
    scheduled_at: datetime | None = None

    def chosen_tags(self) -> list[str]:
        return [self.tags[i] for i in sorted(self.chosen) if i < len(self.tags)]

    def chosen_text(self) -> str:
        return ", ".join(describe_tag(t) for t in self.chosen_tags()) or texts.SCOPE_ALL

    def when_text(self) -> str:
        return texts.WHEN_NOW if self.scheduled_at is None else format_moment(self.scheduled_at, "%H:%M %d/%m/%Y")

    def to_data(self) -> dict[str, Any]:
        return {
            "scope": {"kind": self.scope.kind.value, "tags": sorted(self.scope.tags)},
            "kind": self.kind.value,
            "text": self.text,
            "file_id": self.file_id,
            "tags": list(self.tags),
            "chosen": sorted(self.chosen),
            "count": self.count,
            "pin": self.pin,
            "silent": self.silent,
            "ack": self.ack,
            "scheduled_at": self.scheduled_at.isoformat() if self.scheduled_at else None,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Draft | None:
        try:
            scope = Scope(ScopeKind(data["scope"]["kind"]), frozenset(str(t) for t in data["scope"]["tags"]))
            scheduled = data.get("scheduled_at")
            file_id = data.get("file_id")
            return cls(
                scope=scope,
                kind=ContentKind(data["kind"]),
                text=str(data["text"]),
                file_id=None if file_id is None else str(file_id),
                tags=[str(t) for t in data["tags"]],
                chosen={int(i) for i in data["chosen"]},
                count=int(data["count"]),
                pin=bool(data["pin"]),
                silent=bool(data["silent"]),
                ack=bool(data.get("ack", False)),
                scheduled_at=datetime.fromisoformat(scheduled) if scheduled else None,
            )
        except (KeyError, TypeError, ValueError):
            return None
