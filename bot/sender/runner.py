"""Wiring: the sender's own ``Bot``, and a sender running as a task with a handle to stop it.

Used by the bot application (the sender inside the bot process) and by ``python -m bot sender``
(:mod:`bot.sender.cli`). :func:`global_rate` picks the sender's global rate from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import sys
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.sender.loop import PACING, BroadcastSender, FinishedHook
from bot.sender.settings import BroadcastSettings
from bot.settings import BotSettings
from coordination.budget import SharedRateBudget, postgres_budget

logger = logging.getLogger(__name__)


def skip_missing_sniffio_lookups() -> None:
    """Make ``import sniffio`` fail at once when it is not installed.

    httpcore imports the optional ``sniffio`` anew for every lock it makes (several per
    request). When it is not installed each attempt walks sys.path (measured: a seventh of the
    sender's CPU at 500 msg/s). A None entry in ``sys.modules`` makes the import fail at once,
    which is what it would do anyway. Process-wide; call once at start-up.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def build_sender_bot(bot_settings: BotSettings, settings: BroadcastSettings) -> Bot:
    """The sender's own ``Bot``: own connection pool, no rate limiter, the configured API server."""
    if bot_settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    kwargs: dict[str, Any] = {}
    urls = bot_settings.api_urls()
    if urls is not None:
        kwargs["base_url"], kwargs["base_file_url"] = urls
    return Bot(
        bot_settings.telegram_bot_token.get_secret_value(),
        request=HTTPXRequest(connection_pool_size=settings.concurrency + 4),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        **kwargs,
    )


def global_rate(sessions: async_sessionmaker[AsyncSession], settings: BroadcastSettings) -> SharedRateBudget | None:
    """The one place that decides how senders keep the bot's rate, from the database URL.

    PostgreSQL: the budget every sender process shares (``coordination.budget``), at the whole
    bot's rate with the same pacing margin as the local bucket, less one message a second
    (:func:`shared_pace`). SQLite (one sender; the shared row needs PostgreSQL's row locks):
    None, and the sender keeps its own ``TokenBucket``.
    """
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine) or bind.url.get_backend_name() != "postgresql":
        return None
    pace = shared_pace(settings.rate_per_second)
    logger.info(
        "broadcast rate: %g msg/s for all senders together (shared budget %r, paced at %.1f/s)",
        settings.rate_per_second,
        settings.broadcast_budget_name,
        pace,
    )
    return postgres_budget(
        bind, settings.broadcast_budget_name, pace, chunk_seconds=settings.broadcast_budget_chunk_seconds
    )


def shared_pace(rate: float) -> float:
    """The shared budget's pace for the bot's ``rate``: ``(rate - 1)·PACING``.

    One process's own bucket spaces its sends (a late token moves its schedule). Shared slots
    are fixed in time: a send from one process that leaves late (a busy CPU) can land right
    next to another process's on-time send, so a sliding second may catch one slot more at
    its edge. One message a second is kept free for that (measured
    with three senders at 60/s on two CPUs: 61 in a sliding second now and then without it);
    at hundreds a second it is nothing next to the 3 % margin.
    """
    return max(rate - 1.0, rate / 2) * PACING


@dataclass
class SenderTask:
    """A sender running as a task (inside the bot application, or the sender process)."""

    sender: BroadcastSender
    task: asyncio.Task[None]
    stop_event: asyncio.Event
    bot: Bot
    budget: SharedRateBudget | None = None

    async def stop(self, timeout: float | None = 30.0) -> None:
        """Let in-flight sends finish, hand back the rest, close the sender's HTTP pool.

        After ``timeout`` seconds (None: no limit) the task is cancelled; its claimed rows
        then come back after their lease. Raises what the sender's task raised, if anything.
        """
        self.stop_event.set()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout)
        except TimeoutError:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        finally:
            try:
                if self.budget is not None:
                    await self.budget.close()  # a 429 pause still being written reaches the row
            finally:
                await self.bot.shutdown()


async def start_sender_task(
    bot_settings: BotSettings,
    sessions: async_sessionmaker[AsyncSession],
    settings: BroadcastSettings | None = None,
    *,
    on_finished: FinishedHook | None = None,
) -> SenderTask:
    """Start a sender as a task of the running event loop; stop it with :meth:`SenderTask.stop`.

    ``bot_settings`` gives the token, the Bot API server and the per-group limit;
    ``settings`` defaults to ``BroadcastSettings()`` (the environment). ``on_finished`` is
    awaited with an announcement's id when the sender closes it.
    """
    skip_missing_sniffio_lookups()
    settings = settings or BroadcastSettings()
    bot = build_sender_bot(bot_settings, settings)
    try:
        await bot.initialize()
    except BaseException:
        await bot.shutdown()
        raise
    stop = asyncio.Event()
    budget = global_rate(sessions, settings)
    sender = BroadcastSender(
        sessions,
        bot,
        settings,
        settings.sender_worker_id,
        group_messages_per_minute=bot_settings.group_messages_per_minute,
        on_finished=on_finished,
        bucket=budget,
    )
    task = asyncio.create_task(sender.run(stop), name="broadcast-sender")
    return SenderTask(sender, task, stop, bot, budget)
