"""Which support chat a ticket goes to: the asker's province when one is attached, else the default."""

from __future__ import annotations

from collections.abc import Mapping

from broadcasts.tags import PROVINCES, fold


def route(province: str | None, by_province: Mapping[str, int], default_chat: int | None) -> int | None:
    """The support chat for a question from ``province``; None when nobody could receive it."""
    if province is not None and province in by_province:
        return by_province[province]
    return default_chat


def is_support_chat(chat_id: int, by_province: Mapping[str, int], default_chat: int | None) -> bool:
    return chat_id == default_chat or chat_id in by_province.values()


def province_from_text(text: str) -> str | None:
    """The PROVINCES key a typed name means: "Nghệ An", "nghe an", "nghe_an", "TP HCM" → key, else None."""
    wanted = fold(text.replace("_", " "))
    if not wanted:
        return None
    for key, name in PROVINCES.items():
        names = {fold(name), fold(key.replace("_", " ")), fold(name).removeprefix("tp ")}
        if wanted in names or wanted.removeprefix("tinh ").removeprefix("thanh pho ") in names:
            return key
    return _SHORT_NAMES.get(wanted.replace(" ", ""))


_SHORT_NAMES = {
    "hcm": "ho_chi_minh",
    "tphcm": "ho_chi_minh",
    "hn": "ha_noi",
    "sg": "ho_chi_minh",
    "saigon": "ho_chi_minh",
}
