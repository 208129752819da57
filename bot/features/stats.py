"""Statistics: ``/thongke [7|30|90]`` in private chats, and the daily digest in the default support chat.

Who sees what: super-admins everything; broadcasters the groups of their scope (and, in private,
the members who chose one of its provinces); everyone else a polite refusal. Figures come from
``stats`` in one session; the charts are drawn in a worker thread so the event loop keeps
answering questions while matplotlib works.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import time

from telegram import InputMediaPhoto, Message, Update
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import CommandHandler, filters

from bot.context import BotApplication, BotContext
from bot.jobs import once_per_period
from bot.replies import reply_html
from broadcasts.roles import broadcaster_scope
from broadcasts.scope import Scope
from stats.charts import render_charts
from stats.digest import build_digest, digest_day
from stats.export import days_csv, file_names, topics_csv
from stats.figures import VIETNAM, Period, StatsRepository
from stats.summary import summary_html
from texts import stats as texts

logger = logging.getLogger(__name__)
PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 7
DIGEST_JOB_NAME = "support-digest"
DIGEST_LEASE_SECONDS = 600.0


def period_days(args: list[str]) -> int | None:
    """7, 30 or 90 from the command's arguments (none: 7); None for anything else."""
    if not args:
        return DEFAULT_PERIOD
    if len(args) == 1 and args[0].strip().isdigit() and int(args[0]) in PERIODS:
        return int(args[0])
    return None


async def _scope_of(context: BotContext, user_id: int) -> Scope:
    async with context.bot_data.sessions() as session:
        return await broadcaster_scope(session, user_id, context.bot_data.admin_ids)


async def _send_report(context: BotContext, message: Message, scope: Scope, days: int) -> None:
    data = context.bot_data
    period = Period.last_days(data.clock(), days)
    async with data.sessions() as session:
        figures = await StatsRepository(session).figures(period, scope)
    titles = {topic_id: topic.title for topic_id, topic in data.knowledge.topics.items()}
    charts = await asyncio.to_thread(render_charts, figures, titles)
    chat_id = message.chat_id
    await context.bot.send_media_group(chat_id, [InputMediaPhoto(chart.png, filename=chart.name) for chart in charts])
    await reply_html(message, summary_html(figures, scope))
    dates = {"first": period.first_day.strftime("%d/%m/%Y"), "last": period.last_day.strftime("%d/%m/%Y")}
    days_name, topics_name = file_names(figures)
    await context.bot.send_document(
        chat_id, days_csv(figures), filename=days_name, caption=texts.STATS_CAPTION_DAYS.format(**dates)
    )
    await context.bot.send_document(
        chat_id, topics_csv(figures, titles), filename=topics_name, caption=texts.STATS_CAPTION_TOPICS.format(**dates)
    )


async def stats_command(update: Update, context: BotContext) -> None:
    """``/thongke [7|30|90]``: charts, a summary and the CSV of the last days, within the user's scope."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if message.chat.type != ChatType.PRIVATE:
        await reply_html(message, texts.STATS_PRIVATE_ONLY)
        return
    scope = await _scope_of(context, user.id)
    if not scope.may_broadcast:
        await reply_html(message, texts.STATS_NOT_ALLOWED)
        return
    days = period_days(context.args or [])
    if days is None:
        await reply_html(message, texts.STATS_USAGE)
        return
    await context.bot.send_chat_action(message.chat_id, ChatAction.UPLOAD_PHOTO)
    await _send_report(context, message, scope, days)


def _digest_period(context: BotContext) -> str:
    return digest_day(context.bot_data.clock()).isoformat()


@once_per_period(DIGEST_JOB_NAME, DIGEST_LEASE_SECONDS, _digest_period)
async def post_digest(context: BotContext) -> bool:
    """Posts yesterday's digest in the default support chat; True when the day is done.

    Once per day however many bot processes run or restart: the day posted last is remembered
    in the job's lease row (``bot.jobs.once_per_period``), and only the lease holder posts. A
    digest that could not be sent is not remembered, so a later run may try again.
    """
    data = context.bot_data
    chat_id = data.support.support_chat_id
    if chat_id is None:
        return False
    now = data.clock()
    async with data.sessions() as session:
        text = await build_digest(StatsRepository(session), now)
    try:
        await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, disable_web_page_preview=True)
    except TelegramError as error:
        logger.warning("the digest of %s was not posted: %s", digest_day(now), error)
        return False
    return True


def register(application: BotApplication) -> None:
    private_or_group = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("thongke", stats_command, filters=private_or_group))
    hour = application.bot_data.support.support_digest_hour
    if hour < 0:
        return
    if application.job_queue is None:
        raise RuntimeError("the job queue is missing: install python-telegram-bot[job-queue]")
    application.job_queue.run_daily(post_digest, time(hour, tzinfo=VIETNAM), name=DIGEST_JOB_NAME)
