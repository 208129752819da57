"""Nothing forgotten: a repeating job posts tickets that could not be posted, raises unanswered
tickets again in the support chat (telling the member they wait), and after the longer wait
gives the member an honest message with the official hotlines.

Times come from ``SupportSettings``; "now" from ``bot_data.clock``, so tests move a fake clock
and run :func:`sweep` directly instead of waiting.
"""

from __future__ import annotations

import logging
import math

from telegram.constants import ParseMode
from telegram.error import TelegramError

import texts.support as say
from bot.context import BotApplication, BotContext
from bot.features.support.posting import notify_ticket_chat, post_ticket
from bot.jobs import exclusive, lease_for
from support.models import EventKind
from support.repository import TicketRepository

logger = logging.getLogger(__name__)
JOB_NAME = "support-sweep"


async def _post_waiting(context: BotContext) -> None:
    async with context.bot_data.sessions() as session:
        waiting = await TicketRepository(session).unposted()
    for ticket in waiting:
        target = await context.bot_data.directory.route(ticket.province)
        if target is not None:
            await post_ticket(context, ticket, target)


async def _tell_member(context: BotContext, user_id: int, text: str) -> bool:
    try:
        await context.bot.send_message(user_id, text, parse_mode=ParseMode.HTML, disable_web_page_preview=True)
    except TelegramError as error:
        logger.info("member %s not told about their ticket: %s", user_id, error)
        return False
    return True


async def sweep(context: BotContext) -> None:
    """One pass; each ticket is reminded and given up on at most once (stored times say so)."""
    data = context.bot_data
    settings = data.support
    await _post_waiting(context)
    now = data.clock()
    async with data.sessions() as session:
        repo = TicketRepository(session)
        to_remind = await repo.due_reminder(now, settings.remind_after)
        to_give_up = await repo.due_hotlines(now, settings.give_up_after)
    for ticket in to_remind:
        await notify_ticket_chat(
            context,
            ticket,
            say.REMINDER.format(number=ticket.id, minutes=math.floor(settings.support_remind_after_minutes)),
        )
        told = await _tell_member(context, ticket.user_id, say.WAITING_MEMBER.format(number=ticket.id))
        async with data.sessions() as session, session.begin():
            repo = TicketRepository(session)
            stored = await repo.get(ticket.id)
            if stored is not None:
                stored.reminded_at = now
                await repo.event(stored, EventKind.REMINDED, now)
                if told:
                    await repo.event(stored, EventKind.MEMBER_TOLD_WAITING, now)
    for ticket in to_give_up:
        await _tell_member(context, ticket.user_id, say.GIVE_UP_MEMBER.format(number=ticket.id))
        await notify_ticket_chat(
            context,
            ticket,
            say.GAVE_UP_NOTICE.format(number=ticket.id, minutes=math.floor(settings.support_give_up_after_minutes)),
        )
        async with data.sessions() as session, session.begin():
            repo = TicketRepository(session)
            stored = await repo.get(ticket.id)
            if stored is not None:
                stored.hotlines_sent_at = now
                await repo.event(stored, EventKind.MEMBER_TOLD_HOTLINES, now)


def register(application: BotApplication) -> None:
    if application.job_queue is None:
        raise RuntimeError("the job queue is missing: install python-telegram-bot[job-queue]")
    seconds = application.bot_data.support.support_sweep_seconds
    # One process sweeps at a time (a reminder sent twice would be a second message to the member).
    job = exclusive(JOB_NAME, lease_for(seconds))(sweep)
    application.job_queue.run_repeating(job, interval=seconds, first=seconds, name=JOB_NAME)
