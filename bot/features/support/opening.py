"""Opening tickets: the hand-off button under "I don't know", ``/hotro`` in private chat, and ``/tinh``.

A member is only ever offered a human when some support chat would receive the question
(``availability.human_for``); the promise made after the tap is kept by code: the ticket is posted at
once, or by the sweep when Telegram refused (the member is told so honestly).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

import texts
import texts.support as say
from bot.callback_data import Handoff, MemberProvince, encode, matching, parse
from bot.context import BotApplication, BotContext
from bot.features.answers import own_record
from bot.features.support.availability import human_for
from bot.features.support.posting import post_ticket
from bot.replies import edit_text, reply_html
from broadcasts.tags import PROVINCES
from support.models import Ticket
from support.repository import MemberProvinceRepository, TicketRepository, asker_province

_GUESSES = 3


async def _open_and_post(
    context: BotContext,
    *,
    user_id: int,
    chat_id: int,
    chat_type: str,
    question: str,
    guesses: list[str],
    record_id: int | None,
    first_name: str | None,
) -> tuple[Ticket | None, bool, bool]:
    """(ticket, created?, posted?); no ticket when no support chat would receive it."""
    data = context.bot_data
    # Read, route, then write: the directory may open its own session, which must not wait on
    # this one's write lock (SQLite has one writer).
    async with data.sessions() as session:
        province = await asker_province(session, user_id, chat_id, chat_type)
    target = await data.directory.route(province)
    if target is None:
        return None, False, False
    async with data.sessions() as session, session.begin():
        ticket, created = await TicketRepository(session).open(
            user_id=user_id,
            origin_chat_type=chat_type,
            origin_chat_id=chat_id,
            question=question,
            guesses=guesses,
            province=province,
            now=data.clock(),
            record_id=record_id,
        )
    if not created:
        return ticket, False, ticket.header_message_id is not None
    name = first_name if data.support.support_show_first_name else None
    return ticket, True, await post_ticket(context, ticket, target, name)


def _sent_text(context: BotContext, ticket: Ticket, posted: bool, chat_type: str) -> str:
    if not posted:
        return say.HANDOFF_QUEUED.format(number=ticket.id)
    if chat_type != ChatType.PRIVATE:
        return say.HANDOFF_SENT_FROM_GROUP.format(number=ticket.id, username=context.bot.username)
    return say.HANDOFF_SENT.format(number=ticket.id)


async def on_handoff(update: Update, context: BotContext) -> None:
    query = update.callback_query
    action = parse(query.data) if query else None
    if query is None or not isinstance(action, Handoff):
        return
    record = await own_record(query, context, action.record_id)
    if record is None:
        return
    ticket, created, posted = await _open_and_post(
        context,
        user_id=record.user_id,
        chat_id=record.chat_id,
        chat_type=record.chat_type,
        question=record.normalized_text,
        guesses=[str(g) for g in record.candidates or []][:_GUESSES],
        record_id=record.id,
        first_name=query.from_user.first_name,
    )
    if ticket is None:
        await query.answer()
        await edit_text(query, f"{texts.UNKNOWN}\n\n{say.HANDOFF_UNAVAILABLE}")
        return
    if not created:
        await query.answer(say.HANDOFF_ALREADY.format(number=ticket.id))
        return
    await query.answer()
    await edit_text(query, f"{texts.UNKNOWN}\n\n{_sent_text(context, ticket, posted, record.chat_type)}")


async def hotro_command(update: Update, context: BotContext) -> None:
    """``/hotro câu hỏi``: straight to people, with the assistant's guesses attached."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    if chat.type != ChatType.PRIVATE:
        await reply_html(message, say.HOTRO_PRIVATE_ONLY)
        return
    question = " ".join(context.args or []).strip()
    if not question:
        await reply_html(message, say.HOTRO_USAGE)
        return
    if not await human_for(context, user.id, chat.id, chat.type):
        await reply_html(message, say.HANDOFF_UNAVAILABLE)
        return
    guesses = [topic.id for topic in await context.bot_data.answers.matching_topics(question)][:_GUESSES]
    ticket, _created, posted = await _open_and_post(
        context,
        user_id=user.id,
        chat_id=chat.id,
        chat_type=chat.type,
        question=question[:4000],
        guesses=guesses,
        record_id=None,
        first_name=user.first_name,
    )
    if ticket is None:
        await reply_html(message, say.HANDOFF_UNAVAILABLE)
        return
    await reply_html(message, _sent_text(context, ticket, posted, chat.type))


def _province_keyboard() -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(name, callback_data=encode(MemberProvince(key))) for key, name in PROVINCES.items()]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


async def province_command(update: Update, context: BotContext) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    if chat.type != ChatType.PRIVATE:
        await reply_html(message, say.PROVINCE_PRIVATE_ONLY)
        return
    async with context.bot_data.sessions() as session:
        current = await MemberProvinceRepository(session).get(user.id)
    shown = say.PROVINCE_CURRENT.format(name=PROVINCES[current]) if current in PROVINCES else ""
    await reply_html(message, say.PROVINCE_CHOOSE.format(current=shown), reply_markup=_province_keyboard())


async def on_province(update: Update, context: BotContext) -> None:
    query = update.callback_query
    action = parse(query.data) if query else None
    if query is None or not isinstance(action, MemberProvince):
        return
    if action.province not in PROVINCES or query.message is None or query.message.chat.type != ChatType.PRIVATE:
        await query.answer(texts.MENU_EXPIRED)
        return
    async with context.bot_data.sessions() as session, session.begin():
        await MemberProvinceRepository(session).set(query.from_user.id, action.province, context.bot_data.clock())
    await query.answer()
    await edit_text(query, say.PROVINCE_SAVED.format(name=PROVINCES[action.province]))


def register(application: BotApplication) -> None:
    application.add_handler(CallbackQueryHandler(on_handoff, pattern=matching(Handoff)))
    application.add_handler(CallbackQueryHandler(on_province, pattern=matching(MemberProvince)))
    application.add_handler(CommandHandler("hotro", hotro_command, filters=filters.UpdateType.MESSAGE))
    application.add_handler(CommandHandler("tinh", province_command, filters=filters.UpdateType.MESSAGE))
