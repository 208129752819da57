"""Live progress of broadcasts: a repeating job edits each sender's confirmation message.

At most one edit per announcement every ``broadcast_progress_seconds``, only when
the figures changed; when a broadcast finishes, a report with totals and failures
by reason follows (once), with a button for the failures as CSV.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

import texts
from bot.features.compose import csv_keyboard, report_text
from bot.replies import services
from broadcasts.outbox import BroadcastRepository, Progress
from broadcasts.models import Announcement

logger = logging.getLogger(__name__)
LAST_SHOWN = "broadcast_progress_shown"


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


async def report_progress(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The job: start due scheduled broadcasts, edit progress, send final reports."""
    found = services(context)
    shown: dict[int, tuple[int, int, int]] = context.bot_data.setdefault(LAST_SHOWN, {})
    now = datetime.now(UTC)
    async with found.runtime.sessions() as session, session.begin():
        repository = BroadcastRepository(session)
        await repository.start_due(now)
        watched = {a.id: a for a in [*await repository.in_progress(), *await repository.announcements_needing_report()]}
        watched_list = list(watched.values())
        finished_now = [a.id for a in watched_list if a.status == "sending" and await repository.finish_if_done(a.id)]
    for announcement in watched_list:
        async with found.runtime.sessions() as session:
            progress = await BroadcastRepository(session).progress(announcement.id)
            fresh = await session.get(Announcement, announcement.id)
        if fresh is None:
            continue
        figures = (progress.sent, progress.failed, progress.pending)
        if announcement.progress_message_id and shown.get(announcement.id) != figures:
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
                shown[announcement.id] = figures
            except BadRequest as error:
                if "not modified" not in str(error).lower():
                    logger.warning("progress of broadcast %s not shown: %s", announcement.id, error)
            except TelegramError as error:
                logger.warning("progress of broadcast %s not shown: %s", announcement.id, error)
        if (fresh.status == "done" or announcement.id in finished_now) and not fresh.report_sent:
            try:
                await context.bot.send_message(
                    announcement.sender_chat_id,
                    await report_text(context, fresh),
                    parse_mode=ParseMode.HTML,
                    reply_markup=csv_keyboard(announcement.id) if progress.failed else None,
                )
            except TelegramError as error:
                logger.warning("report of broadcast %s not sent: %s", announcement.id, error)
                continue
            async with found.runtime.sessions() as session, session.begin():
                await BroadcastRepository(session).mark_reported(announcement.id)
            shown.pop(announcement.id, None)
