"""Group broadcasts: the sender that works the delivery outbox (``broadcasts.outbox``) down.

Run it as its own process (``python -m bot sender``) or as a task inside the bot process
(:func:`start_sender_task`, then ``await handle.stop()``).

Modules: :mod:`~bot.sender.limits` (rate limits) and :mod:`~bot.sender.outcomes` (what an
error means for a delivery) are pure and do not import Telegram; :mod:`~bot.sender.http` (the
bulk sends' lean HTTP path), :mod:`~bot.sender.results` (the sender's transactions),
:mod:`~bot.sender.delivery` (one delivery),
:mod:`~bot.sender.loop` (the send loop), :mod:`~bot.sender.runner` (wiring) and
:mod:`~bot.sender.cli` (the process) do. The names below are imported on first use, so that
importing a pure module does not load Telegram.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.sender.delivery import SenderStats
    from bot.sender.limits import GroupSpacing, TokenBucket
    from bot.sender.loop import BroadcastSender
    from bot.sender.runner import SenderTask, build_sender_bot, skip_missing_sniffio_lookups, start_sender_task
    from bot.sender.settings import BroadcastSettings

_HOMES = {
    "BroadcastSender": "bot.sender.loop",
    "BroadcastSettings": "bot.sender.settings",
    "GroupSpacing": "bot.sender.limits",
    "SenderStats": "bot.sender.delivery",
    "SenderTask": "bot.sender.runner",
    "TokenBucket": "bot.sender.limits",
    "build_sender_bot": "bot.sender.runner",
    "skip_missing_sniffio_lookups": "bot.sender.runner",
    "start_sender_task": "bot.sender.runner",
}
__all__ = [
    "BroadcastSender",
    "BroadcastSettings",
    "GroupSpacing",
    "SenderStats",
    "SenderTask",
    "TokenBucket",
    "build_sender_bot",
    "skip_missing_sniffio_lookups",
    "start_sender_task",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'bot.sender' has no attribute {name!r}")
