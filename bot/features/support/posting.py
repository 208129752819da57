"""Putting tickets and messages where they belong: the support chat (its forum topic) and the member.

Shared by the support features. In a forum supergroup each ticket gets its own topic; when a
topic was deleted by hand ("message thread not found"), it is created again and the ticket
re-posted there, so nothing lands nowhere. Elsewhere a ticket is one message with buttons, and
everything about it is a reply to that message.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

import texts.support as say
from bot.callback_data import TicketClose, TicketOutOfScope, TicketTopics, encode
from bot.context import BotContext
from broadcasts.tags import PROVINCES
from broadcasts.when import format_moment
from knowledge.repository import KnowledgeSnapshot
from support.alias import member_alias
from support.models import EventKind, MessageRole, Ticket
from support.repository import TicketRepository

logger = logging.getLogger(__name__)
T = TypeVar("T")
_QUESTION_IN_HEADER = 1500
_TOPIC_NAME = 120
_ACTIVE = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}


def alias(context: BotContext, user_id: int) -> str:
    return member_alias(user_id, context.bot.token.encode())


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def ticket_keyboard(ticket_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(say.BUTTON_ANSWER_BY_TOPIC, callback_data=encode(TicketTopics(ticket_id)))],
            [
                InlineKeyboardButton(say.BUTTON_OUT_OF_SCOPE, callback_data=encode(TicketOutOfScope(ticket_id))),
                InlineKeyboardButton(say.BUTTON_CLOSE, callback_data=encode(TicketClose(ticket_id))),
            ],
        ]
    )


def ticket_text(
    ticket: Ticket, knowledge: KnowledgeSnapshot, member_alias_text: str, first_name: str | None, *, forum: bool
) -> str:
    guesses = [knowledge.topics[t].title for t in ticket.guesses if t in knowledge.topics][:3]
    member = say.MEMBER_ANONYMOUS.format(alias=member_alias_text)
    if first_name:
        member = say.MEMBER_NAMED.format(name=html.escape(first_name), alias=member_alias_text)
    return say.TICKET.format(
        number=ticket.id,
        question=html.escape(shorten(ticket.question, _QUESTION_IN_HEADER)),
        guesses=html.escape("; ".join(guesses)) if guesses else say.TICKET_NO_GUESS,
        origin=say.ORIGIN_PRIVATE if ticket.origin_chat_type == "private" else say.ORIGIN_GROUP,
        province=PROVINCES.get(ticket.province or "", say.PROVINCE_UNKNOWN),
        member=member,
        when=format_moment(ticket.created_at, "%H:%M %d/%m/%Y"),
        how=say.TICKET_HOW_TOPIC if forum else say.TICKET_HOW_REPLY,
    )


async def is_forum(context: BotContext, chat_id: int) -> bool:
    known = context.bot_data.forum_chats.get(chat_id)
    if known is None:
        chat = await context.bot.get_chat(chat_id)
        known = context.bot_data.forum_chats[chat_id] = bool(chat.is_forum)
    return known


async def is_supporter(context: BotContext, chat_id: int, user_id: int) -> bool:
    """Only people in the support chat act on its tickets (asked of Telegram, not trusted from the update)."""
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError:
        return False
    return member.status in _ACTIVE or (
        member.status == ChatMemberStatus.RESTRICTED and bool(getattr(member, "is_member", False))
    )


async def post_ticket(context: BotContext, ticket: Ticket, chat_id: int, first_name: str | None = None) -> bool:
    """Post the ticket (in its own forum topic when the chat is a forum); False if Telegram refused.

    The caller's session is used for the bookkeeping and committed by the caller.
    """
    data = context.bot_data
    try:
        forum = await is_forum(context, chat_id)
        thread_id = None
        if forum:
            name = shorten(say.FORUM_TOPIC_NAME.format(number=ticket.id, question=ticket.question), _TOPIC_NAME)
            topic = await context.bot.create_forum_topic(chat_id, name)
            thread_id = topic.message_thread_id
        header = await context.bot.send_message(
            chat_id,
            ticket_text(ticket, data.knowledge, alias(context, ticket.user_id), first_name, forum=forum),
            parse_mode=ParseMode.HTML,
            reply_markup=ticket_keyboard(ticket.id),
            message_thread_id=thread_id,
        )
    except TelegramError as error:
        logger.warning("ticket #%s not posted in %s (the sweep tries again): %s", ticket.id, chat_id, error)
        return False
    return await _record_posting(context, ticket, chat_id, header.message_id, thread_id)


async def _record_posting(
    context: BotContext, ticket: Ticket, chat_id: int, header_id: int, thread_id: int | None
) -> bool:
    now = context.bot_data.clock()
    async with context.bot_data.sessions() as session, session.begin():
        repo = TicketRepository(session)
        stored = await repo.get(ticket.id)
        if stored is None:
            return False
        await repo.posted(stored, chat_id, header_id, thread_id, now)
        if thread_id is not None:
            await repo.event(stored, EventKind.TOPIC_CREATED, now, detail=str(thread_id))
    ticket.support_chat_id, ticket.header_message_id, ticket.thread_id = chat_id, header_id, thread_id
    return True


def _thread_gone(error: BadRequest) -> bool:
    text = str(error).lower()
    return "thread not found" in text or "topic_deleted" in text or "topic was deleted" in text


async def in_ticket_place(
    context: BotContext, ticket: Ticket, send: Callable[[int | None, ReplyParameters | None], Awaitable[T]]
) -> T:
    """Send into the ticket's topic, or as a reply to its header; a deleted topic is created again once."""
    assert ticket.support_chat_id is not None
    for attempt in (1, 2):
        reply = (
            ReplyParameters(ticket.header_message_id, allow_sending_without_reply=True)
            if ticket.thread_id is None and ticket.header_message_id
            else None
        )
        try:
            return await send(ticket.thread_id, reply)
        except BadRequest as error:
            if attempt == 2 or ticket.thread_id is None or not _thread_gone(error):
                raise
            logger.warning("the topic of ticket #%s is gone; creating it again", ticket.id)
            if not await post_ticket(context, ticket, ticket.support_chat_id):
                raise
    raise AssertionError("unreachable")


async def notify_ticket_chat(context: BotContext, ticket: Ticket, text: str) -> Message | None:
    """A notice about the ticket in the support chat (remembered, so replies to it find the ticket)."""
    if ticket.support_chat_id is None:
        return None
    chat_id = ticket.support_chat_id
    try:
        message: Message = await in_ticket_place(
            context,
            ticket,
            lambda thread, reply: context.bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, message_thread_id=thread, reply_parameters=reply
            ),
        )
    except TelegramError as error:
        logger.warning("notice for ticket #%s not posted: %s", ticket.id, error)
        return None
    await remember(context, ticket, MessageRole.NOTICE, chat_id, message.message_id)
    return message


async def remember(context: BotContext, ticket: Ticket, role: MessageRole, chat_id: int, message_id: int) -> None:
    async with context.bot_data.sessions() as session, session.begin():
        await TicketRepository(session).remember(ticket, role, chat_id, message_id, context.bot_data.clock())


def delivery_failure(error: TelegramError) -> str:
    """Why a message did not reach the member, in words a supporter can act on."""
    text = str(error).lower()
    if isinstance(error, Forbidden) and "blocked" in text:
        return say.REASON_BLOCKED
    if "deactivated" in text:
        return say.REASON_DEACTIVATED
    if "can't initiate" in text or "chat not found" in text or "bot can't send messages to bots" in text:
        return say.REASON_NOT_STARTED
    return say.REASON_OTHER.format(error=html.escape(str(error)))


async def send_to_member(
    context: BotContext, ticket: Ticket, heading: str, *, copy_from: tuple[int, int] | None = None
) -> str | None:
    """The heading, then a copy of the supporter's message; None when delivered, else the reason."""
    bot = context.bot
    try:
        first = await bot.send_message(
            ticket.user_id, heading, parse_mode=ParseMode.HTML, disable_web_page_preview=True
        )
        await remember(context, ticket, MessageRole.RELAYED, ticket.user_id, first.message_id)
        if copy_from is not None:
            copied = await bot.copy_message(ticket.user_id, from_chat_id=copy_from[0], message_id=copy_from[1])
            await remember(context, ticket, MessageRole.RELAYED, ticket.user_id, copied.message_id)
    except TelegramError as error:
        logger.info("ticket #%s: delivery to the member failed: %s", ticket.id, error)
        return delivery_failure(error)
    return None
