"""Group broadcasts: the sender that works the delivery outbox (``knowledge.broadcasts``) down.

Run it as its own process (``python -m bot sender``) or inside the bot application
(:func:`start_sender_task` / :func:`stop_sender_task`).
"""

from bot.broadcast.sender import (
    BroadcastSender,
    GroupSpacing,
    SenderStats,
    SenderTask,
    TokenBucket,
    build_sender_bot,
    start_sender_task,
    stop_sender_task,
)
from bot.broadcast.settings import BroadcastSettings

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
