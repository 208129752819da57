"""Which support chat a ticket goes to: the asker's province when one is attached, else the default."""

from __future__ import annotations

from collections.abc import Mapping


def route(province: str | None, by_province: Mapping[str, int], default_chat: int | None) -> int | None:
    """The support chat for a question from ``province``; None when nobody could receive it."""
    if province is not None and province in by_province:
        return by_province[province]
    return default_chat


def is_support_chat(chat_id: int, by_province: Mapping[str, int], default_chat: int | None) -> bool:
    return chat_id == default_chat or chat_id in by_province.values()
