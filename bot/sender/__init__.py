"""Group broadcasts: the sender that works the delivery outbox (``broadcasts.outbox``) down.

Run it as its own process (``python -m bot sender``) or inside the bot application
(:func:`start_sender_task` / :func:`stop_sender_task`).
"""

from bot.sender.loop import (
    BroadcastSender,
    GroupSpacing,
    SenderStats,
    SenderTask,
    TokenBucket,
    build_sender_bot,
    start_sender_task,
    stop_sender_task,
)
from bot.sender.settings import BroadcastSettings

__all__ = [
    "BroadcastSender",
    "BroadcastSettings",
    "GroupSpacing",
    "SenderStats",
    "SenderTask",
    "TokenBucket",
    "build_sender_bot",
    "start_sender_task",
    "stop_sender_task",
]
