"""Reports of announcements: ``/baocao [ID]`` with a CSV of failures, ``/lichhen`` with cancel buttons.

With the "✅ Đã nhận" button the report also shows the acknowledgements (by province and commune),
``/baocao`` sends every group's acknowledgement as a CSV, and offers the one reminder when allowed
(``bot.features.acknowledgements`` handles that button).
"""

from __future__ import annotations

import html
import io

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

import texts
from answering.formatting import MESSAGE_LIMIT
from bot.callback_data import AckRemind, CancelScheduled, ReportCsv, encode, matching, parse
from bot.context import BotApplication, BotContext
from bot.replies import reply_html
from broadcasts.announcements import AnnouncementRepository
from broadcasts.models import Announcement
from broadcasts.reports import AckReport, ReportRepository, acknowledgement_text
from broadcasts.roles import broadcaster_scope, is_super_admin
from broadcasts.settings import acknowledgement_settings
from broadcasts.when import format_moment
from markup.telegram_html import visible_length
from storage.numbers import announcement_id as parse_announcement_id
from texts import acknowledgements as say

RECENT_IN_USAGE = 10
MAX_CANCEL_BUTTONS = 20


def status_name(status: str) -> str:
    return texts.STATUS_NAMES.get(status, status)


async def _readable(context: BotContext, user_id: int, announcement_id: int) -> Announcement | None:
    """The announcement if this user may see it: its sender or a super-admin."""
    async with context.bot_data.sessions() as session:
        announcement = await AnnouncementRepository(session).get(announcement_id)
    if announcement is None:
        return None
    if announcement.sender_user_id != user_id and not is_super_admin(user_id, context.bot_data.admin_ids):
        return None
    return announcement


async def report_text(context: BotContext, announcement: Announcement) -> str:
    """The report (with the acknowledgements, if any); it names /baocao for the reminder, not a button."""
    text, _ = await report_and_acknowledgements(context, announcement)
    return text


async def report_and_acknowledgements(
    context: BotContext, announcement: Announcement, *, remind_button: bool = False
) -> tuple[str, AckReport | None]:
    """The report text within Telegram's limit, and the acknowledgement figures it shows (None: no button)."""
    async with context.bot_data.sessions() as session:
        repository = ReportRepository(session)
        progress = await repository.progress(announcement.id)
        reasons = await repository.failure_counts(announcement.id)
        acks = await repository.acknowledgements(
            announcement.id, context.bot_data.clock(), acknowledgement_settings().reminder_after
        )
    lines = "\n".join(f"• {html.escape(reason)}: {count}" for reason, count in sorted(reasons.items()))
    text = texts.REPORT.format(
        id=announcement.id,
        status=status_name(progress.status),
        total=progress.total,
        sent=progress.sent,
        failed=progress.failed,
        pending=progress.pending,
        started=format_moment(progress.started_at),
        finished=format_moment(progress.finished_at),
        reasons=texts.REPORT_REASONS.format(lines=lines) if lines else "",
    )
    if acks is not None:
        room = MESSAGE_LIMIT - visible_length(text)
        text += acknowledgement_text(acks, room=room, button=remind_button)
    return text, acks


def csv_keyboard(announcement_id: int, acks: AckReport | None = None) -> InlineKeyboardMarkup:
    """The failures' CSV; the reminder button too when the figures say it is allowed now."""
    rows = [[InlineKeyboardButton(texts.BUTTON_CSV, callback_data=encode(ReportCsv(announcement_id)))]]
    if acks is not None and acks.reminder.allowed:
        remind = say.BUTTON_REMIND.format(count=acks.reminder.waiting)
        rows.append([InlineKeyboardButton(remind, callback_data=encode(AckRemind(announcement_id)))])
    return InlineKeyboardMarkup(rows)


async def send_acknowledgements_csv(context: BotContext, chat_id: int, announcement_id: int) -> None:
    """Every group of the audience, acknowledged or not, as a CSV document."""
    async with context.bot_data.sessions() as session:
        data = await ReportRepository(session).acknowledgements_csv(announcement_id)
    await context.bot.send_document(
        chat_id,
        io.BytesIO(data),
        filename=say.CSV_FILENAME.format(id=announcement_id),
        caption=say.CSV_CAPTION.format(id=announcement_id),
    )


async def report_command(update: Update, context: BotContext) -> None:
    """``/baocao ID`` — any past broadcast of the user (super-admins: any); without an id, the recent ones."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    args = context.args or []
    if not args:
        async with context.bot_data.sessions() as session:
            recent = await AnnouncementRepository(session).recent_of(user.id, RECENT_IN_USAGE)
        lines = "\n".join(
            f"#{a.id} · {status_name(a.status)} · {a.total} nhóm · {format_moment(a.created_at)}" for a in recent
        )
        await reply_html(message, texts.REPORT_USAGE.format(lines=lines) if lines else texts.REPORT_NONE)
        return
    wanted = parse_announcement_id(args[0]) if len(args) == 1 else None
    announcement = await _readable(context, user.id, wanted) if wanted is not None else None
    if announcement is None:
        await reply_html(message, texts.REPORT_NOT_FOUND.format(id=html.escape(" ".join(args)[:32])))
        return
    text, acks = await report_and_acknowledgements(context, announcement, remind_button=True)
    await reply_html(message, text, reply_markup=csv_keyboard(announcement.id, acks))
    if acks is not None and acks.reminder_of is None:
        await send_acknowledgements_csv(context, message.chat_id, announcement.id)


async def _announcement_of_button(update: Update, context: BotContext) -> Announcement | None:
    """The announcement a report button names, if the presser may see it (else the query is answered)."""
    query = update.callback_query
    action = parse(query.data) if query else None
    if query is None or not isinstance(action, ReportCsv | CancelScheduled):
        return None
    announcement = await _readable(context, query.from_user.id, action.announcement_id)
    if announcement is None:
        await query.answer(texts.NOT_ALLOWED, show_alert=True)
    return announcement


async def on_csv(update: Update, context: BotContext) -> None:
    query, announcement = update.callback_query, await _announcement_of_button(update, context)
    if query is None or announcement is None:
        return
    async with context.bot_data.sessions() as session:
        data = await ReportRepository(session).failures_csv(announcement.id)
    await query.answer()
    await context.bot.send_document(
        query.from_user.id,
        io.BytesIO(data),
        filename=f"thong-bao-{announcement.id}-loi.csv",
        caption=texts.CSV_CAPTION.format(id=announcement.id),
    )


async def scheduled_command(update: Update, context: BotContext) -> None:
    """``/lichhen``: scheduled broadcasts (own; super-admins see all), each with a cancel button."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    data = context.bot_data
    async with data.sessions() as session:
        if not (await broadcaster_scope(session, user.id, data.admin_ids)).may_broadcast:
            await reply_html(message, texts.NOT_ALLOWED)
            return
        owner = None if is_super_admin(user.id, data.admin_ids) else user.id
        items = await AnnouncementRepository(session).scheduled(owner)
    if not items:
        await reply_html(message, texts.SCHEDULED_NONE)
        return
    lines = "\n".join(f"#{a.id} · {a.total} nhóm · {format_moment(a.scheduled_at)}" for a in items)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.BUTTON_CANCEL_SCHEDULED.format(id=a.id), callback_data=encode(CancelScheduled(a.id))
                )
            ]
            for a in items[:MAX_CANCEL_BUTTONS]
        ]
    )
    await reply_html(message, texts.SCHEDULED_LIST.format(lines=lines), reply_markup=keyboard)


async def on_cancel_scheduled(update: Update, context: BotContext) -> None:
    query, announcement = update.callback_query, await _announcement_of_button(update, context)
    if query is None or announcement is None:
        return
    async with context.bot_data.sessions() as session, session.begin():
        cancelled = await AnnouncementRepository(session).cancel(announcement.id)
    template = texts.SCHEDULED_CANCELLED if cancelled else texts.SCHEDULED_TOO_LATE
    await query.answer(template.format(id=announcement.id), show_alert=True)


def register(application: BotApplication) -> None:
    private_new = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("baocao", report_command, filters=private_new))
    application.add_handler(CommandHandler("lichhen", scheduled_command, filters=private_new))
    application.add_handler(CallbackQueryHandler(on_csv, pattern=matching(ReportCsv)))
    application.add_handler(CallbackQueryHandler(on_cancel_scheduled, pattern=matching(CancelScheduled)))
