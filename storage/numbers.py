"""Numbers that come from outside (command arguments, button data) checked into the columns' range.

One place for it, so that ``/baocao 99999999999999999999999``, ``/baocao ²`` or a forged button
with a 19-digit id can never reach the database as an out-of-range or non-ASCII number.
"""

from __future__ import annotations

import re

INT32_MAX = 2**31 - 1  # Integer columns (announcement ids) on PostgreSQL
INT64_MAX = 2**63 - 1  # BigInteger columns (record ids, Telegram ids)

_ASCII_INTEGER = re.compile(r"-?[0-9]{1,20}")


def parse_int(text: str | None, *, low: int, high: int) -> int | None:
    """``text`` as an int within ``low..high``; None for anything else (``²``, ``١``, ``1e5``, overflow)."""
    if text is None:
        return None
    candidate = text.strip()
    if not _ASCII_INTEGER.fullmatch(candidate):
        return None
    value = int(candidate)
    return value if low <= value <= high else None


def announcement_id(text: str | None) -> int | None:
    return parse_int(text, low=1, high=INT32_MAX)


def record_id(text: str | None) -> int | None:
    return parse_int(text, low=1, high=INT64_MAX)


def telegram_user_id(text: str | None) -> int | None:
    """Telegram user ids are positive and fit 52 bits; chats may be negative, users never."""
    return parse_int(text, low=1, high=INT64_MAX)
