"""Anonymous member aliases: the same member always gets the same short code, nobody can reverse it."""

from __future__ import annotations

import base64
import hashlib


def member_alias(user_id: int, secret: bytes) -> str:
    """``#K3QF7A``: a keyed hash of the Telegram id, so supporters can tell members apart but not find them."""
    digest = hashlib.blake2b(str(user_id).encode(), key=secret[:64], digest_size=5).digest()
    return "#" + base64.b32encode(digest).decode().rstrip("=")[:6]
