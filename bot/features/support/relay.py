"""Relay both ways: a supporter's answer to the member, and the member's follow-up to the ticket.

Both handlers run in handler group -1, before the assistant's own handlers. They find the
ticket through stored message ids (or the forum topic id); when a message belongs to no ticket
they do nothing and the update goes on to the other features; when it does, the update stops
here (``ApplicationHandlerStop``), so the assistant does not also answer it. Edited messages
are not relayed again.
"""

from __future__ import annotations

import html
import logging

from telegram import Message, MessageId, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, MessageHandler, filters

import texts.support as say
from bot.context import BotApplication, BotContext
from bot.features.support.posting import alias, in_ticket_place, remember, send_to_member, shorten
from bot.replies import reply_html
from support.models import EventKind, MessageRole, Ticket
from support.repository import TicketRepository

logger = logging.getLogger(__name__)
RELAY_GROUP = -1
_SUPPORT_SIDE = (MessageRole.HEADER, MessageRole.FORWARDED, MessageRole.NOTICE, MessageRole.SUPPORTER)
_QUESTION_IN_HEADING = 300


def _copyable(message: Message) -> bool:
    """Content a person wrote (text, media, voice…), not a service message such as "topic created"."""
    return bool(message.text or message.effective_attachment) and not message.forum_topic_created


async def _ticket_in_support_chat(context: BotContext, message: Message) -> Ticket | None:
    chat_id = message.chat.id
    async with context.bot_data.sessions() as session:
        repo = TicketRepository(session)
        if message.is_topic_message and message.message_thread_id:
            ticket = await repo.by_thread(chat_id, message.message_thread_id)
            if ticket is not None:
                return ticket
        replied = message.reply_to_message
        if replied is not None:
            return await repo.by_message(chat_id, replied.message_id, _SUPPORT_SIDE)
    return None


async def on_support_chat_message(update: Update, context: BotContext) -> None:
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return
    if message.text and message.text.startswith("/"):
        return  # commands in the support chat go to their own handlers
    if not _copyable(message) or not await context.bot_data.directory.is_support_chat(message.chat.id):
        return
    ticket = await _ticket_in_support_chat(context, message)
    if ticket is None or ticket.support_chat_id != message.chat.id:
        return
    supporter = message.from_user.id
    await remember(context, ticket, MessageRole.SUPPORTER, message.chat.id, message.message_id)
    heading = say.RELAY_HEADING.format(number=ticket.id, question=_question(ticket))
    reason = await send_to_member(context, ticket, heading, copy_from=(message.chat.id, message.message_id))
    now = context.bot_data.clock()
    async with context.bot_data.sessions() as session, session.begin():
        repo = TicketRepository(session)
        stored = await repo.get(ticket.id)
        if stored is not None:
            if reason is None:
                await repo.responded(stored, EventKind.REPLY, supporter, now)
            else:
                await repo.event(stored, EventKind.REPLY_FAILED, now, actor_id=supporter, detail=reason)
    confirmation = (
        say.DELIVERED.format(number=ticket.id)
        if reason is None
        else say.DELIVERY_FAILED.format(number=ticket.id, reason=reason)
    )
    try:
        await message.reply_html(confirmation, do_quote=True)
    except TelegramError as error:
        logger.warning("delivery confirmation for ticket #%s not shown: %s", ticket.id, error)
    raise ApplicationHandlerStop


def _question(ticket: Ticket) -> str:
    return html.escape(shorten(ticket.question, _QUESTION_IN_HEADING))


async def on_member_reply(update: Update, context: BotContext) -> None:
    """A member replied to a relayed answer: the reply joins the ticket in the support chat."""
    message, user = update.message, update.effective_user
    if message is None or user is None or message.reply_to_message is None:
        return
    async with context.bot_data.sessions() as session:
        ticket = await TicketRepository(session).by_message(
            message.chat.id, message.reply_to_message.message_id, (MessageRole.RELAYED,)
        )
    if ticket is None or ticket.user_id != user.id:
        return
    if ticket.support_chat_id is None or not _copyable(message):
        await reply_html(message, say.FOLLOW_UP_FAILED)
        raise ApplicationHandlerStop
    chat_id = ticket.support_chat_id
    heading = say.FOLLOW_UP.format(alias=alias(context, user.id), number=ticket.id)
    try:
        first: Message = await in_ticket_place(
            context,
            ticket,
            lambda thread, reply: context.bot.send_message(
                chat_id, heading, parse_mode=ParseMode.HTML, message_thread_id=thread, reply_parameters=reply
            ),
        )
        copied: MessageId = await in_ticket_place(
            context,
            ticket,
            lambda thread, _reply: context.bot.copy_message(
                chat_id, message.chat.id, message.message_id, message_thread_id=thread
            ),
        )
    except TelegramError as error:
        logger.warning("follow-up to ticket #%s not forwarded: %s", ticket.id, error)
        await reply_html(message, say.FOLLOW_UP_FAILED)
        raise ApplicationHandlerStop from error
    now = context.bot_data.clock()
    async with context.bot_data.sessions() as session, session.begin():
        repo = TicketRepository(session)
        stored = await repo.get(ticket.id)
        if stored is not None:
            await repo.remember(stored, MessageRole.MEMBER, message.chat.id, message.message_id, now)
            await repo.remember(stored, MessageRole.FORWARDED, chat_id, first.message_id, now)
            await repo.remember(stored, MessageRole.FORWARDED, chat_id, copied.message_id, now)
            await repo.event(stored, EventKind.MEMBER_REPLY, now, actor_id=user.id)
    await reply_html(message, say.FOLLOW_UP_SENT.format(number=ticket.id))
    raise ApplicationHandlerStop


def register(application: BotApplication) -> None:
    new = filters.UpdateType.MESSAGE
    application.add_handler(
        MessageHandler(
            new & filters.ChatType.GROUPS & (filters.REPLY | filters.IS_TOPIC_MESSAGE), on_support_chat_message
        ),
        group=RELAY_GROUP,
    )
    application.add_handler(
        MessageHandler(new & filters.ChatType.PRIVATE & filters.REPLY, on_member_reply), group=RELAY_GROUP
    )
