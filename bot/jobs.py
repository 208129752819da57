"""Scheduled jobs that exactly one bot process runs, however many serve the bot.

Every process schedules the same PTB jobs; each run first takes the job's database lease
(``coordination.leases``). The holder renews it on every run (the lease outlasts the interval),
so the others skip; when the holder dies, the lease runs out and another process takes over.
Jobs that must happen once per period (a daily digest, the daily retraining) also remember the
last period done in the lease row, so a restart or a second process does not repeat it.
On SQLite (one process) every lease succeeds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.context import BotContext

logger = logging.getLogger(__name__)

JobCallback = Callable[[BotContext], Coroutine[Any, Any, None]]
PeriodicCallback = Callable[[BotContext], Awaitable[bool]]


def lease_for(interval_seconds: float) -> float:
    """A lease that outlives a few missed runs of a repeating job but is taken over soon after a crash."""
    return max(3 * interval_seconds, 10.0)


def exclusive(name: str, lease_seconds: float) -> Callable[[JobCallback], JobCallback]:
    """Run the job only in the process holding lease ``name`` (taken or renewed on every run)."""

    def wrap(callback: JobCallback) -> JobCallback:
        async def run(context: BotContext) -> None:
            if context.bot_data.opened is None:  # starting or stopping
                return
            if await context.bot_data.ready.leases.acquire(name, lease_seconds) is None:
                return
            await callback(context)

        run.__name__ = getattr(callback, "__name__", name)
        return run

    return wrap


def once_per_period(
    name: str, lease_seconds: float, period_of: Callable[[BotContext], str]
) -> Callable[[PeriodicCallback], JobCallback]:
    """Like :func:`exclusive`, and at most once per period (``period_of``: an ISO day, sorts in time).

    The callback returns True when the period's work is done; only then is the period remembered
    (a digest that could not be sent may be tried again).
    """

    def wrap(callback: PeriodicCallback) -> JobCallback:
        lock = asyncio.Lock()  # two runs in one process (a late run next to the scheduled one) become one

        async def run(context: BotContext) -> None:
            if context.bot_data.opened is None:
                return
            leases = context.bot_data.ready.leases
            async with lock:
                period = period_of(context)
                held = await leases.acquire(name, lease_seconds)
                if held is None or (held.last_period is not None and held.last_period >= period):
                    return
                if await callback(context) and not await leases.mark_period(name, period):
                    logger.warning("job %s finished %s after losing its lease", name, period)

        run.__name__ = getattr(callback, "__name__", name)
        return run

    return wrap
