"""Live progress of broadcasts: a repeating job edits each sender's confirmation message.

At most one edit per announcement every ``broadcast_progress_seconds``, only when the figures
changed; when the sender has closed a broadcast (``done``), the final report follows once, with a
button for the failures as CSV. Starting and closing announcements is the sender's job alone.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

from telegram.constants import ParseMode
from telegram.error import TelegramError

import texts
from bot.context import BotApplication, BotContext
from bot.features.reports import csv_keyboard, report_text
from bot.jobs import exclusive, lease_for
from broadcasts.announcements import AnnouncementRepository
from broadcasts.models import Announcement
from broadcasts.reports import Progress, ReportRepository

logger = logging.getLogger(__name__)
JOB_NAME = "broadcast-progress"


def eta_text(progress: Progress, now: datetime) -> str:
    if progress.pending == 0:
        return ""
    done = progress.sent + progress.failed
    if not progress.started_at or done == 0:
        return ""
    elapsed = (now - progress.started_at).total_seconds()
    rate = done / elapsed if elapsed > 0 else 0
    if rate <= 0:
        return ""
    minutes = progress.pending / rate / 60
    return texts.PROGRESS_ETA_SOON if minutes < 1 else texts.PROGRESS_ETA.format(minutes=math.ceil(minutes))


async def _show_progress(context: BotContext, announcement: Announcement, progress: Progress, now: datetime) -> None:
    shown = context.bot_data.progress_shown
    figures = (progress.sent, progress.failed, progress.pending)
    if not announcement.progress_message_id or shown.get(announcement.id) == figures:
        return
    text = texts.PROGRESS.format(
        id=announcement.id,
        total=progress.total,
        sent=progress.sent,
        failed=progress.failed,
        pending=progress.pending,
        eta=eta_text(progress, now),
    )
    try:
        await context.bot.edit_message_text(
            text,
            chat_id=announcement.sender_chat_id,
            message_id=announcement.progress_message_id,
            parse_mode=ParseMode.HTML,
        )
    except TelegramError as error:
        if "not modified" not in str(error).lower():
            logger.warning("progress of broadcast %s not shown: %s", announcement.id, error)
            return
    shown[announcement.id] = figures


async def _send_report(context: BotContext, announcement: Announcement, progress: Progress) -> None:
    try:
        await context.bot.send_message(
            announcement.sender_chat_id,
            await report_text(context, announcement),
            parse_mode=ParseMode.HTML,
            reply_markup=csv_keyboard(announcement.id) if progress.failed else None,
        )
    except TelegramError as error:
        logger.warning("report of broadcast %s not sent (tried again next time): %s", announcement.id, error)
        return
    async with context.bot_data.sessions() as session, session.begin():
        await AnnouncementRepository(session).mark_reported(announcement.id)
    context.bot_data.progress_shown.pop(announcement.id, None)


async def report_progress(context: BotContext) -> None:
    """The job: edit progress messages of running broadcasts; report the finished ones once."""
    now = datetime.now(UTC)
    async with context.bot_data.sessions() as session:
        announcements, reports = AnnouncementRepository(session), ReportRepository(session)
        running = await announcements.in_progress()
        finished = await announcements.announcements_needing_report()
        figures = {a.id: await reports.progress(a.id) for a in [*running, *finished]}
    for announcement in running:
        await _show_progress(context, announcement, figures[announcement.id], now)
    for announcement in finished:
        await _show_progress(context, announcement, figures[announcement.id], now)
        await _send_report(context, announcement, figures[announcement.id])


def register(application: BotApplication) -> None:
    if application.job_queue is None:
        raise RuntimeError("the job queue is missing: install python-telegram-bot[job-queue]")
    seconds = application.bot_data.config.broadcast_progress_seconds
    # One process edits at a time: two would edit every message twice and could send a report twice.
    job = exclusive(JOB_NAME, lease_for(seconds))(report_progress)
    application.job_queue.run_repeating(job, interval=seconds, first=1.0, name=JOB_NAME)
