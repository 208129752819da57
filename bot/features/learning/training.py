"""Retraining: ``/huanluyen``, a daily schedule, and a count of new curated examples.

Training runs in its own process (``python -m learning retrain``); this process only awaits its
exit, so answers never wait. When the candidate passes the quality gate it is published into
the running NLU server(s) by ``learning.publish`` (the fallback answers during the swap); the
curator who asked gets the figures before and after, the time of each step, or the reason a
model was held back. One retraining at a time across every bot process: the run holds the
``retraining`` lease (renewed while it runs, released at the end; a process that dies loses it
after ``RETRAIN_LEASE_SECONDS``); a second ``/huanluyen`` anywhere is told so. The scheduled
checks run in one process (``bot.jobs``), the daily one once per Vietnam day.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from datetime import UTC, datetime, time
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import CommandHandler, filters

import texts.learning as say
from bot.context import BotApplication, BotContext
from bot.features.learning.access import curator_message
from bot.jobs import exclusive, lease_for, once_per_period
from broadcasts.when import VIETNAM
from coordination.leases import keep_renewed
from curation.inbox import InboxRepository
from learning.publish import PublishError
from learning.retrain import last_json_line
from learning.versions import VersionRepository
from nlu.settings import PROJECT_ROOT
from storage.base import utc_now

logger = logging.getLogger(__name__)
COUNT_JOB = "retrain-count"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAILY_JOB = "retrain-daily"
RETRAIN_LEASE = "retraining"
RETRAIN_LEASE_SECONDS = 120.0


def _percent(value: object) -> str:
    return f"{float(value):.1f}" if isinstance(value, int | float) else "–"


def figures_text(figures: dict[str, Any]) -> str:
    """Before → after on the regression questions and on the held-out curated examples."""
    current, candidate = figures.get("current", {}), figures.get("candidate", {})
    before, after = current.get("regression") or {}, candidate.get("regression") or {}
    curated_before, curated_after = current.get("curated"), candidate.get("curated")
    curated = (
        say.FIGURES_CURATED.format(before=_percent(curated_before["correct"]), after=_percent(curated_after["correct"]))
        if curated_before and curated_after
        else say.FIGURES_NO_CURATED
    )
    return say.FIGURES.format(
        questions=after.get("questions", 0),
        before_correct=_percent(before.get("correct")),
        after_correct=_percent(after.get("correct")),
        before_wrong=_percent(before.get("wrong")),
        after_wrong=_percent(after.get("wrong")),
        curated=curated,
    )


async def _run_worker(context: BotContext, trigger: str, started_by: int | None) -> dict[str, Any]:
    """``python -m learning retrain`` in its own process, with this bot's database and model folder."""
    data = context.bot_data
    assert data.nlu_settings is not None and data.storage_settings is not None
    env = {
        **os.environ,
        "DATABASE_URL": data.storage_settings.database_url,
        "MODEL_DIR": str(data.nlu_settings.model_dir),
        "TRAINING_EXAMPLES": str(data.nlu_settings.training_examples),
        "RASA_ENV": str(data.nlu_settings.rasa_env),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    command = [sys.executable, "-m", "learning", "retrain", "--trigger", trigger]
    if started_by is not None:
        command += ["--by", str(started_by)]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=PROJECT_ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    return last_json_line(output.decode("utf-8", errors="replace"))


async def _tell(context: BotContext, chat_id: int | None, text: str) -> None:
    if chat_id is None:
        logger.warning("retraining: %s", text)
        return
    try:
        await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
    except TelegramError as error:
        logger.warning("retraining result not sent to %s: %s", chat_id, error)


async def retrain_and_publish(context: BotContext, trigger: str, chat_id: int | None, started_by: int | None) -> None:
    """The whole loop after a trigger: train and judge in another process, then publish here."""
    result = await _run_worker(context, trigger, started_by)
    status = result.get("status")
    if status == "unchanged":
        await _tell(context, chat_id, say.TRAINING_UNCHANGED)
        return
    if status == "failed":
        await _tell(context, chat_id, say.TRAINING_FAILED.format(reason=str(result.get("reason", ""))[:500]))
        return
    figures = figures_text(result.get("figures", {}))
    name = str(result["name"])
    if status == "held_back":
        await _tell(
            context, chat_id, say.TRAINING_HELD_BACK.format(name=name, reason=result.get("reason"), figures=figures)
        )
        return
    try:
        published = await context.bot_data.ready.publisher.publish(name)
    except PublishError as error:
        await _tell(context, chat_id, say.PUBLISH_FAILED.format(reason=str(error)[:300]))
        return
    async with context.bot_data.sessions() as session, session.begin():
        versions = VersionRepository(session)
        version = await versions.by_name(name)
        if version is not None:
            version.figures = {**version.figures, "swap_seconds": round(published.seconds, 1)}
            await versions.make_current(version, utc_now())
    text = say.TRAINING_PUBLISHED.format(
        name=name,
        figures=figures,
        train=result.get("train_seconds"),
        evaluate=result.get("evaluate_seconds"),
        swap=f"{published.seconds:.1f}",
    )
    await _tell(context, chat_id, text)


async def _holding_lease(context: BotContext, trigger: str, chat_id: int | None, started_by: int | None) -> None:
    """The loop, with the lease renewed in the background and released at the end."""
    leases = context.bot_data.ready.leases
    renewing = asyncio.create_task(
        keep_renewed(leases, RETRAIN_LEASE, RETRAIN_LEASE_SECONDS, RETRAIN_LEASE_SECONDS / 4)
    )
    try:
        await retrain_and_publish(context, trigger, chat_id, started_by)
    finally:
        renewing.cancel()
        await leases.release(RETRAIN_LEASE)


async def start_retraining(context: BotContext, trigger: str, chat_id: int | None, started_by: int | None) -> bool:
    """Start the loop in the background unless one is running in any process; False when one is."""
    data = context.bot_data
    if data.retraining is not None and not data.retraining.done():
        return False
    if await data.ready.leases.acquire(RETRAIN_LEASE, RETRAIN_LEASE_SECONDS) is None:
        return False
    data.retraining = asyncio.create_task(_holding_lease(context, trigger, chat_id, started_by))
    return True


async def retrain_command(update: Update, context: BotContext) -> None:
    found = await curator_message(update, context)
    if found is None:
        return
    message, user = found
    new = await _new_since_current(context)
    if not await start_retraining(context, "command", message.chat.id, user.id):
        await message.reply_html(say.TRAINING_BUSY)
        return
    await message.reply_html(say.TRAINING_STARTED.format(examples=new))


async def _new_since_current(context: BotContext) -> int:
    async with context.bot_data.sessions() as session:
        current = await VersionRepository(session).current()
        return await InboxRepository(session).curated_since(current.created_at if current else EPOCH)


async def count_job(context: BotContext) -> None:
    """Retrain as soon as enough examples were curated since the current model."""
    threshold = context.bot_data.learning.learning_retrain_after_examples
    if threshold and await _new_since_current(context) >= threshold:
        await start_retraining(context, "count", None, None)


def _vietnam_day(context: BotContext) -> str:
    return context.bot_data.clock().astimezone(VIETNAM).date().isoformat()


@once_per_period(DAILY_JOB, 600.0, _vietnam_day)
async def daily_job(context: BotContext) -> bool:
    """Once per Vietnam day: retrain when something was curated since the current model."""
    if await _new_since_current(context) > 0:
        return await start_retraining(context, "schedule", None, None)
    return True


def register(application: BotApplication) -> None:
    application.add_handler(
        CommandHandler("huanluyen", retrain_command, filters=filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE)
    )
    settings = application.bot_data.learning
    if application.job_queue is None:
        raise RuntimeError("the job queue is missing: install python-telegram-bot[job-queue]")
    if settings.learning_retrain_after_examples:
        seconds = settings.learning_check_seconds
        job = exclusive(COUNT_JOB, lease_for(seconds))(count_job)
        application.job_queue.run_repeating(job, interval=seconds, first=seconds, name=COUNT_JOB)
    if settings.learning_retrain_hour >= 0:
        at = time(hour=settings.learning_retrain_hour, tzinfo=VIETNAM)
        application.job_queue.run_daily(daily_job, time=at, name=DAILY_JOB)
