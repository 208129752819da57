"""The "✅ Đã nhận" button in team groups, and the sender's one reminder to groups that have not tapped it.

A tap is counted once per group (``broadcasts.acknowledgements``) and always answered with a
toast. The reminder button (on ``/baocao``, see ``bot.features.reports``) is checked again on
the server at the tap: the announcement's sender (still allowed to broadcast) or a super-admin,
and the rules of :meth:`AcknowledgementRepository.reminder_state`. The reminder is an ordinary
announcement in the outbox, so the sender's delivery loop sends it and the progress job reports it.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler

import texts
from bot.callback_data import Acknowledge, AckRemind, matching, parse
from bot.context import BotApplication, BotContext
from bot.replies import edit_markup, editable_message
from broadcasts.acknowledgements import AcknowledgementRepository, Reminder, ReminderRefused, ReminderState, Tap
from broadcasts.models import Announcement
from broadcasts.roles import broadcaster_scope, is_super_admin
from broadcasts.settings import acknowledgement_settings
from broadcasts.when import format_moment
from texts import acknowledgements as say

logger = logging.getLogger(__name__)
GROUP_CHATS = (ChatType.GROUP, ChatType.SUPERGROUP)
TOASTS = {
    Tap.COUNTED: say.TOAST_COUNTED,
    Tap.ALREADY: say.TOAST_ALREADY,
    Tap.NOT_IN_AUDIENCE: say.TOAST_NOT_IN_AUDIENCE,
    Tap.UNKNOWN: say.TOAST_UNKNOWN,
}


async def answer(query: CallbackQuery, text: str, *, alert: bool = False) -> None:
    """Answer the tap; a query Telegram no longer accepts (too old, answered) is only logged."""
    try:
        await query.answer(text, show_alert=alert)
    except TelegramError as error:
        logger.info("tap not answered: %s", error)


async def on_acknowledge(update: Update, context: BotContext) -> None:
    """A team member tapped "✅ Đã nhận": the group's first tap counts, later ones are thanked."""
    query = update.callback_query
    action = parse(query.data) if query else None
    if query is None or not isinstance(action, Acknowledge):
        return
    chat = query.message.chat if query.message is not None else None  # None: an inline message
    if chat is None or chat.type not in GROUP_CHATS:
        await answer(query, say.TOAST_NOT_HERE)
        return
    async with context.bot_data.sessions() as session, session.begin():
        tap = await AcknowledgementRepository(session).record_tap(
            action.announcement_id, chat.id, query.from_user.id, now=context.bot_data.clock()
        )
    await answer(query, TOASTS[tap])


def refusal(state: ReminderState, announcement_id: int) -> str:
    """Why no reminder is sent now, for the presser."""
    if state.status is Reminder.ALREADY:
        return say.REMINDER_ALREADY.format(id=announcement_id)
    if state.status is Reminder.TOO_EARLY:
        return say.REMINDER_TOO_EARLY.format(when=format_moment(state.due_at))
    if state.status is Reminder.NOT_DONE:
        return say.REMINDER_NOT_DONE.format(id=announcement_id)
    if state.status is Reminder.NOBODY:
        return say.REMINDER_NOBODY
    return say.REMINDER_NO_BUTTON.format(id=announcement_id)


async def _may_remind(context: BotContext, user_id: int, announcement: Announcement | None) -> bool:
    """The announcement's sender, while still allowed to broadcast, or a super-admin."""
    data = context.bot_data
    if announcement is None:
        return False
    if is_super_admin(user_id, data.admin_ids):
        return True
    if announcement.sender_user_id != user_id:
        return False
    async with data.sessions() as session:
        return (await broadcaster_scope(session, user_id, data.admin_ids)).may_broadcast


async def on_remind(update: Update, context: BotContext) -> None:
    """The sender's reminder button: one new announcement to the sent groups that have not acknowledged."""
    query = update.callback_query
    action = parse(query.data) if query else None
    if query is None or not isinstance(action, AckRemind):
        return
    data, user = context.bot_data, query.from_user
    async with data.sessions() as session:
        original = await session.get(Announcement, action.announcement_id)
    if not await _may_remind(context, user.id, original):
        await answer(query, texts.NOT_ALLOWED, alert=True)
        return
    assert original is not None
    chat_id = user.id  # progress and the final report go to the presser's private chat, as /baocao's do
    try:
        async with data.sessions() as session, session.begin():
            reminder = await AcknowledgementRepository(session).create_reminder(
                original.id,
                sender_user_id=user.id,
                sender_chat_id=chat_id,
                now=data.clock(),
                after=acknowledgement_settings().reminder_after,
                header=say.REMINDER_HEADER,
                too_long=say.REMINDER_TOO_LONG.format(when=format_moment(original.started_at)),
            )
            reminder_id, total = reminder.id, reminder.total
    except ReminderRefused as refused:
        await answer(query, refusal(refused.state, original.id), alert=True)
        return
    await answer(query, say.REMINDER_CREATED.format(id=reminder_id, count=total))
    report = editable_message(query)
    if report is not None and report.reply_markup is not None:  # the button is spent; the others stay
        kept = [
            [button for button in row if not isinstance(parse(button.callback_data), AckRemind)]
            for row in report.reply_markup.inline_keyboard
        ]
        kept = [row for row in kept if row]
        await edit_markup(query, InlineKeyboardMarkup(kept) if kept else None)
    await _show_progress_message(context, reminder_id, chat_id, total)


async def _show_progress_message(context: BotContext, reminder_id: int, chat_id: int, total: int) -> None:
    """The reminder's live progress message, like a confirmed /thongbao (edited by the progress job)."""
    text = texts.PROGRESS.format(id=reminder_id, total=total, sent=0, failed=0, pending=total, eta="")
    try:
        message = await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
    except TelegramError as error:
        logger.warning("progress message of reminder %s not sent: %s", reminder_id, error)
        return
    async with context.bot_data.sessions() as session, session.begin():
        reminder = await session.get(Announcement, reminder_id)
        if reminder is not None:
            reminder.progress_message_id = message.message_id


def register(application: BotApplication) -> None:
    acknowledgement_settings()  # read and validated at start-up, not at the first tap
    application.add_handler(CallbackQueryHandler(on_acknowledge, pattern=matching(Acknowledge)))
    application.add_handler(CallbackQueryHandler(on_remind, pattern=matching(AckRemind)))
