"""The buttons of a ticket (answer with a topic, out of scope, close) and the member's 👍/👎 after it.

Ticket buttons act only when pressed in the ticket's own support chat by someone Telegram says
is in that chat; a forged or stale callback changes nothing. The rating acts only for the member
who asked, once.
"""

from __future__ import annotations

import html
import logging

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler

import texts
import texts.support as say
from answering.formatting import render_topic, split_html
from bot.callback_data import (
    TicketAnswer,
    TicketClose,
    TicketDomain,
    TicketMain,
    TicketOutOfScope,
    TicketRate,
    TicketTopics,
    encode,
    matching,
    parse,
)
from bot.context import BotApplication, BotContext
from bot.features.support.posting import (
    delivery_failure,
    is_supporter,
    notify_ticket_chat,
    remember,
    ticket_keyboard,
)
from bot.replies import edit_markup, edit_text, editable_message
from support.models import CloseReason, EventKind, MessageRole, Ticket, TicketStatus
from support.repository import TicketRepository

logger = logging.getLogger(__name__)


def _button(text: str, action: TicketMain | TicketTopics | TicketDomain | TicketAnswer) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=encode(action))


def _rating_keyboard(ticket_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(say.BUTTON_HELPFUL, callback_data=encode(TicketRate(ticket_id, True))),
                InlineKeyboardButton(say.BUTTON_NOT_HELPFUL, callback_data=encode(TicketRate(ticket_id, False))),
            ]
        ]
    )


async def _supporters_ticket(query: CallbackQuery, context: BotContext, ticket_id: int) -> Ticket | None:
    """The ticket, when the button was pressed in its support chat by someone in that chat."""
    message = editable_message(query)
    if message is None:
        await query.answer(texts.MENU_EXPIRED)
        return None
    async with context.bot_data.sessions() as session:
        ticket = await TicketRepository(session).get(ticket_id)
    if ticket is None:
        await query.answer(say.TICKET_NOT_FOUND)
        return None
    if ticket.support_chat_id != message.chat.id or not await is_supporter(
        context, message.chat.id, query.from_user.id
    ):
        await query.answer(say.ONLY_SUPPORT_CHAT, show_alert=True)
        return None
    return ticket


async def on_topics(update: Update, context: BotContext) -> None:
    """Show the assistant's guesses and the domains; a domain shows its topics."""
    query = update.callback_query
    action = parse(query.data) if query else None
    if query is None or not isinstance(action, TicketTopics | TicketDomain | TicketMain):
        return
    ticket = await _supporters_ticket(query, context, action.ticket_id)
    if ticket is None:
        return
    await query.answer()
    if ticket.status == TicketStatus.CLOSED:
        await edit_markup(query, None)
        return
    knowledge = context.bot_data.knowledge
    if isinstance(action, TicketMain):
        await edit_markup(query, ticket_keyboard(ticket.id))
        return
    rows: list[list[InlineKeyboardButton]] = []
    if isinstance(action, TicketTopics):
        for topic_id in ticket.guesses:
            if topic_id in knowledge.topics:
                rows.append([_button(f"⭐ {knowledge.topics[topic_id].title}", TicketAnswer(ticket.id, topic_id))])
        rows += [
            [_button(f"📂 {domain.short_title}", TicketDomain(ticket.id, domain.key))]
            for domain in knowledge.domains
            if domain.topic_ids
        ]
        rows.append([_button(say.BUTTON_BACK, TicketMain(ticket.id))])
    else:
        domain = next((d for d in knowledge.domains if d.key == action.domain), None)
        if domain is None:
            await edit_markup(query, ticket_keyboard(ticket.id))
            return
        rows = [[_button(knowledge.topics[t].title, TicketAnswer(ticket.id, t))] for t in domain.topic_ids]
        rows.append([_button(say.BUTTON_BACK, TicketTopics(ticket.id))])
    await edit_markup(query, InlineKeyboardMarkup(rows))


async def on_answer_with_topic(update: Update, context: BotContext) -> None:
    query = update.callback_query
    action = parse(query.data) if query else None
    if query is None or not isinstance(action, TicketAnswer):
        return
    knowledge = context.bot_data.knowledge
    topic = knowledge.topics.get(action.topic)
    if topic is None:
        await query.answer(texts.MENU_EXPIRED)
        return
    ticket = await _supporters_ticket(query, context, action.ticket_id)
    if ticket is None:
        return
    await query.answer()
    await edit_markup(query, ticket_keyboard(ticket.id))
    reason = None
    try:
        heading = await context.bot.send_message(
            ticket.user_id, say.TOPIC_HEADING.format(number=ticket.id), parse_mode=ParseMode.HTML
        )
        await remember(context, ticket, MessageRole.RELAYED, ticket.user_id, heading.message_id)
        for part in split_html(render_topic(topic)):
            sent = await context.bot.send_message(
                ticket.user_id, part, parse_mode=ParseMode.HTML, disable_web_page_preview=True
            )
            await remember(context, ticket, MessageRole.RELAYED, ticket.user_id, sent.message_id)
    except TelegramError as error:
        reason = delivery_failure(error)
    now = context.bot_data.clock()
    async with context.bot_data.sessions() as session, session.begin():
        repo = TicketRepository(session)
        stored = await repo.get(ticket.id)
        if stored is not None:
            if reason is None:
                await repo.responded(stored, EventKind.TOPIC_ANSWER, query.from_user.id, now, detail=topic.id)
            else:
                await repo.event(stored, EventKind.REPLY_FAILED, now, actor_id=query.from_user.id, detail=reason)
    notice = (
        say.TOPIC_DELIVERED.format(title=html.escape(topic.title), number=ticket.id)
        if reason is None
        else say.DELIVERY_FAILED.format(number=ticket.id, reason=reason)
    )
    await notify_ticket_chat(context, ticket, notice)


async def on_close(update: Update, context: BotContext) -> None:
    """ "Đóng" or "Ngoài phạm vi": close the ticket, tell the member, ask them to rate the help."""
    query = update.callback_query
    action = parse(query.data) if query else None
    if query is None or not isinstance(action, TicketClose | TicketOutOfScope):
        return
    ticket = await _supporters_ticket(query, context, action.ticket_id)
    if ticket is None:
        return
    reason = CloseReason.OUT_OF_SCOPE if isinstance(action, TicketOutOfScope) else CloseReason.RESOLVED
    async with context.bot_data.sessions() as session, session.begin():
        repo = TicketRepository(session)
        stored = await repo.get(ticket.id)
        closed = stored is not None and await repo.close(stored, reason, query.from_user.id, context.bot_data.clock())
    if not closed:
        await query.answer(say.ALREADY_CLOSED)
        await edit_markup(query, None)
        return
    await query.answer()
    await edit_markup(query, None)
    text = (say.OUT_OF_SCOPE_MEMBER if reason is CloseReason.OUT_OF_SCOPE else say.CLOSED_MEMBER).format(
        number=ticket.id
    )
    failure = None
    try:
        await context.bot.send_message(
            ticket.user_id, text, parse_mode=ParseMode.HTML, reply_markup=_rating_keyboard(ticket.id)
        )
    except TelegramError as error:
        failure = delivery_failure(error)
    who = html.escape(query.from_user.first_name or str(query.from_user.id))
    notice = say.CLOSED_BY.format(number=ticket.id, reason=say.CLOSE_REASONS[reason], who=who)
    if failure is not None:
        notice += "\n" + say.DELIVERY_FAILED.format(number=ticket.id, reason=failure)
    await notify_ticket_chat(context, ticket, notice)


async def on_rate(update: Update, context: BotContext) -> None:
    query = update.callback_query
    action = parse(query.data) if query else None
    if query is None or not isinstance(action, TicketRate):
        return
    message = editable_message(query)
    async with context.bot_data.sessions() as session, session.begin():
        repo = TicketRepository(session)
        ticket = await repo.get(action.ticket_id)
        if (
            ticket is None
            or message is None
            or message.chat.type != ChatType.PRIVATE
            or ticket.user_id != query.from_user.id
        ):
            await query.answer(say.NOT_YOUR_TICKET)
            return
        rated = await repo.rate(ticket, action.helpful, context.bot_data.clock())
    await query.answer(say.RATED if rated else say.RATE_ONCE)
    if rated and message is not None and message.text_html is not None:
        await edit_text(query, f"{message.text_html}\n\n{'👍' if action.helpful else '👎'} {say.RATED}")


def register(application: BotApplication) -> None:
    application.add_handler(CallbackQueryHandler(on_topics, pattern=matching(TicketTopics, TicketDomain, TicketMain)))
    application.add_handler(CallbackQueryHandler(on_answer_with_topic, pattern=matching(TicketAnswer)))
    application.add_handler(CallbackQueryHandler(on_close, pattern=matching(TicketClose, TicketOutOfScope)))
    application.add_handler(CallbackQueryHandler(on_rate, pattern=matching(TicketRate)))
