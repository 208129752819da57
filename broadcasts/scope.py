"""Which groups a user may broadcast to: nobody's, everyone's, or the groups carrying some tags.

Replaces the old ``None`` (no right) / ``[]`` (every group) convention with one type whose
meaning is in its name. Tags are canonical strings (``tinh:ha_noi``, ``xa:phuong ba dinh``,
``nhan:vung cao``; see ``broadcasts.tags``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class ScopeKind(StrEnum):
    NOTHING = "nothing"
    EVERYTHING = "everything"
    TAGGED = "tagged"  # groups carrying at least one of the scope's tags


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    tags: frozenset[str] = frozenset()

    @classmethod
    def nothing(cls) -> Scope:
        return cls(ScopeKind.NOTHING)

    @classmethod
    def everything(cls) -> Scope:
        return cls(ScopeKind.EVERYTHING)

    @classmethod
    def tagged(cls, tags: Iterable[str]) -> Scope:
        """Groups with any of ``tags``; no tags at all means nothing (never "everything" by accident)."""
        wanted = frozenset(tags)
        return cls(ScopeKind.TAGGED, wanted) if wanted else cls.nothing()

    @property
    def may_broadcast(self) -> bool:
        return self.kind is not ScopeKind.NOTHING
