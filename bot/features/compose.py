"""``/thongbao``: compose an announcement for many groups (private chat), then reports.

content → audience (with group counts) → options (pin, silent, now or later) →
preview exactly as groups will see it → confirm or cancel. Rights are checked on
every step on the server side; confirming writes the announcement and one
delivery per group in one transaction, and the sender works from those rows.
"""

from __future__ import annotations

import html
import io
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

import texts
from bot.callback_data import CancelScheduled, ReportCsv, encode
from answering.formatting import CAPTION_LIMIT, MESSAGE_LIMIT
from bot.replies import reply_html, services
from broadcasts.roles import broadcaster_scope, is_super_admin
from broadcasts.outbox import BroadcastRepository
from broadcasts.registry import GroupRepository, describe_tag
from broadcasts.models import Announcement
from broadcasts.html import visible_length

CONTENT, AUDIENCE, OPTIONS, WHEN, CONFIRM = range(5)
VIETNAM = timezone(timedelta(hours=7))
MAX_TAG_BUTTONS = 40
DRAFT = "broadcast_draft"


@dataclass
class Draft:
    scope: list[str]
    kind: str = "text"
    text: str = ""
    file_id: str | None = None
    tags: list[str] = field(default_factory=list)  # tags offered as buttons
    chosen: set[int] = field(default_factory=set)  # indices into tags
    count: int = 0
    pin: bool = False
    silent: bool = False
    scheduled_at: datetime | None = None

    def chosen_tags(self) -> list[str]:
        return [self.tags[i] for i in sorted(self.chosen) if i < len(self.tags)]

    def chosen_text(self) -> str:
        return ", ".join(describe_tag(t) for t in self.chosen_tags()) or texts.SCOPE_ALL


def _on_off(flag: bool) -> str:
    return texts.ON if flag else texts.OFF


def _draft(context: ContextTypes.DEFAULT_TYPE) -> Draft | None:
    found = (context.user_data or {}).get(DRAFT)
    return found if isinstance(found, Draft) else None


async def _scope(update: Update, context: ContextTypes.DEFAULT_TYPE) -> list[str] | None:
    user = update.effective_user
    if user is None:
        return None
    found = services(context)
    async with found.runtime.sessions() as session:
        return await broadcaster_scope(session, user.id, found.admin_ids)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    message = update.effective_message
    scope = await _scope(update, context)
    if message is None:
        return ConversationHandler.END
    if scope is None:
        await reply_html(message, texts.NOT_ALLOWED)
        return ConversationHandler.END
    assert context.user_data is not None
    context.user_data[DRAFT] = Draft(scope=scope)
    await reply_html(message, texts.COMPOSE_START)
    return CONTENT


async def content(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    message, draft = update.effective_message, _draft(context)
    if message is None or draft is None:
        return ConversationHandler.END
    if message.text:
        text, limit, kind, file_id = message.text_html, MESSAGE_LIMIT, "text", None
    elif message.photo:
        text, limit, kind, file_id = message.caption_html or "", CAPTION_LIMIT, "photo", message.photo[-1].file_id
    elif message.document:
        text, limit, kind, file_id = message.caption_html or "", CAPTION_LIMIT, "document", message.document.file_id
    else:
        await reply_html(message, texts.COMPOSE_WRONG_CONTENT)
        return CONTENT
    length = visible_length(text)
    if length > limit:
        await reply_html(message, texts.COMPOSE_TOO_LONG.format(length=length, limit=limit))
        return CONTENT
    draft.kind, draft.text, draft.file_id = kind, text, file_id
    return await _show_audience(message, context, draft, new=True)


async def _show_audience(message: Message, context: ContextTypes.DEFAULT_TYPE, draft: Draft, *, new: bool) -> int:
    async with services(context).runtime.sessions() as session:
        reach = await GroupRepository(session).reach(draft.scope, draft.chosen_tags())
        everything = await GroupRepository(session).reach(draft.scope)
    if not everything.group_ids:
        await reply_html(message, texts.COMPOSE_NO_GROUPS)
        return ConversationHandler.END
    if not draft.tags:
        ordered = sorted(everything.tag_counts.items(), key=lambda item: (not item[0].startswith("tinh:"), -item[1]))
        draft.tags = [tag for tag, _ in ordered[:MAX_TAG_BUTTONS]]
    draft.count = len(reach.group_ids)
    rows = [
        [InlineKeyboardButton(texts.BUTTON_ALL_GROUPS.format(count=len(everything.group_ids)), callback_data="b:all")]
    ]
    buttons = [
        InlineKeyboardButton(
            f"{'✅ ' if i in draft.chosen else ''}{describe_tag(tag)} ({everything.tag_counts.get(tag, 0)})",
            callback_data=f"b:t:{i}",
        )
        for i, tag in enumerate(draft.tags)
    ]
    rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([InlineKeyboardButton(texts.BUTTON_CONTINUE.format(count=draft.count), callback_data="b:next")])
    text = texts.COMPOSE_AUDIENCE.format(chosen=html.escape(draft.chosen_text()), count=draft.count)
    if new:
        await reply_html(message, text, reply_markup=InlineKeyboardMarkup(rows))
    else:
        await message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=InlineKeyboardMarkup(rows))
    return AUDIENCE


async def audience(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query, draft = update.callback_query, _draft(context)
    if query is None or draft is None or not isinstance(query.message, Message):
        return ConversationHandler.END
    await query.answer()
    data = query.data or ""
    if data == "b:all":
        draft.chosen.clear()
    elif match := re.fullmatch(r"b:t:(\d{1,3})", data):
        index = int(match.group(1))
        if index < len(draft.tags):
            draft.chosen.symmetric_difference_update({index})
    elif data == "b:next":
        if draft.count == 0:
            return AUDIENCE
        return await _show_options(query.message, draft)
    return await _show_audience(query.message, context, draft, new=False)


async def _show_options(message: Message, draft: Draft) -> int:
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(texts.BUTTON_PIN.format(state=_on_off(draft.pin)), callback_data="b:pin"),
                InlineKeyboardButton(texts.BUTTON_SILENT.format(state=_on_off(draft.silent)), callback_data="b:silent"),
            ],
            [
                InlineKeyboardButton(texts.BUTTON_SEND_NOW, callback_data="b:now"),
                InlineKeyboardButton(texts.BUTTON_SCHEDULE, callback_data="b:later"),
            ],
        ]
    )
    text = texts.COMPOSE_OPTIONS.format(pin=_on_off(draft.pin), silent=_on_off(draft.silent))
    await message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    return OPTIONS


async def options(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query, draft = update.callback_query, _draft(context)
    if query is None or draft is None or not isinstance(query.message, Message):
        return ConversationHandler.END
    await query.answer()
    if query.data == "b:pin":
        draft.pin = not draft.pin
    elif query.data == "b:silent":
        draft.silent = not draft.silent
    elif query.data == "b:now":
        draft.scheduled_at = None
        return await _preview(query.message, context, draft)
    elif query.data == "b:later":
        await query.message.edit_text(texts.COMPOSE_ASK_TIME, parse_mode=ParseMode.HTML)
        return WHEN
    return await _show_options(query.message, draft)


def parse_when(text: str, now: datetime) -> datetime | None:
    """``25/12/2026 08:00`` or ``08:00`` (today, Vietnam time) → an aware UTC datetime in the future."""
    text = text.strip()
    local_now = now.astimezone(VIETNAM)
    try:
        if re.fullmatch(r"\d{1,2}:\d{2}", text):
            clock = datetime.strptime(text, "%H:%M")
            moment = local_now.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0)
        else:
            moment = datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=VIETNAM)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment > local_now else None


async def when(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    message, draft = update.effective_message, _draft(context)
    if message is None or draft is None:
        return ConversationHandler.END
    moment = parse_when(message.text or "", datetime.now(UTC))
    if moment is None:
        await reply_html(message, texts.COMPOSE_BAD_TIME)
        return WHEN
    draft.scheduled_at = moment
    return await _preview(message, context, draft, new=True)


async def _send_content(context: ContextTypes.DEFAULT_TYPE, chat_id: int, draft: Draft) -> None:
    """The announcement exactly as the groups will receive it."""
    if draft.kind == "photo":
        await context.bot.send_photo(chat_id, draft.file_id or "", caption=draft.text, parse_mode=ParseMode.HTML)
    elif draft.kind == "document":
        await context.bot.send_document(chat_id, draft.file_id or "", caption=draft.text, parse_mode=ParseMode.HTML)
    else:
        await context.bot.send_message(chat_id, draft.text, parse_mode=ParseMode.HTML, disable_web_page_preview=True)


def _when_text(draft: Draft) -> str:
    if draft.scheduled_at is None:
        return texts.WHEN_NOW
    return draft.scheduled_at.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")


async def _preview(message: Message, context: ContextTypes.DEFAULT_TYPE, draft: Draft, *, new: bool = False) -> int:
    await _send_content(context, message.chat_id, draft)
    summary = (
        texts.COMPOSE_PREVIEW
        + "\n\n"
        + texts.COMPOSE_SUMMARY.format(
            chosen=html.escape(draft.chosen_text()),
            count=draft.count,
            pin=_on_off(draft.pin),
            silent=_on_off(draft.silent),
            when=_when_text(draft),
        )
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(texts.BUTTON_CONFIRM, callback_data="b:ok"),
                InlineKeyboardButton(texts.BUTTON_CANCEL, callback_data="b:cancel"),
            ]
        ]
    )
    await context.bot.send_message(message.chat_id, summary, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    return CONFIRM


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query, draft, user = update.callback_query, _draft(context), update.effective_user
    if query is None or draft is None or user is None or not isinstance(query.message, Message):
        return ConversationHandler.END
    if query.data == "b:cancel":
        return await cancel(update, context)
    found = services(context)
    async with found.runtime.sessions() as session, session.begin():
        scope = await broadcaster_scope(session, user.id, found.admin_ids)  # re-checked: rights may have changed
        if scope is None:
            await query.answer(texts.NOT_ALLOWED, show_alert=True)
            return ConversationHandler.END
        reach = await GroupRepository(session).reach(scope, draft.chosen_tags())
        if not reach.group_ids:
            await query.answer(texts.COMPOSE_NO_GROUPS, show_alert=True)
            return ConversationHandler.END
        announcement = await BroadcastRepository(session).create_announcement(
            sender_user_id=user.id,
            sender_chat_id=query.message.chat_id,
            kind=draft.kind,
            text=draft.text,
            file_id=draft.file_id,
            pin=draft.pin,
            silent=draft.silent,
            audience=draft.chosen_tags(),
            scheduled_at=draft.scheduled_at,
            group_ids=reach.group_ids,
        )
        announcement.progress_message_id = query.message.message_id
        announcement_id, total = announcement.id, announcement.total
    await query.answer()
    if draft.scheduled_at is not None:
        text = texts.COMPOSE_SCHEDULED.format(id=announcement_id, count=total, when=_when_text(draft))
    else:
        text = texts.PROGRESS.format(id=announcement_id, total=total, sent=0, failed=0, pending=total, eta="")
    await query.message.edit_text(text, parse_mode=ParseMode.HTML)
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)
    return ConversationHandler.END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)
    if update.callback_query is not None:
        await update.callback_query.answer()
        if isinstance(update.callback_query.message, Message):
            await update.callback_query.message.edit_text(texts.COMPOSE_CANCELLED)
    elif update.effective_message is not None:
        await reply_html(update.effective_message, texts.COMPOSE_CANCELLED)
    return ConversationHandler.END


def conversation() -> ConversationHandler[Any]:
    private = filters.ChatType.PRIVATE
    # One conversation per user and chat, not per message: the steps edit one message anyway.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*per_message=False.*")
        return _conversation(private)


def _conversation(private: filters.BaseFilter) -> ConversationHandler[Any]:
    return ConversationHandler(
        entry_points=[CommandHandler("thongbao", start, filters=private)],
        states={
            CONTENT: [
                MessageHandler(
                    private & (filters.TEXT | filters.PHOTO | filters.Document.ALL) & ~filters.COMMAND, content
                ),
                MessageHandler(private & ~filters.COMMAND, content),
            ],
            AUDIENCE: [CallbackQueryHandler(audience, pattern=r"^b:(all|next|t:\d{1,3})$")],
            OPTIONS: [CallbackQueryHandler(options, pattern=r"^b:(pin|silent|now|later)$")],
            WHEN: [MessageHandler(private & filters.TEXT & ~filters.COMMAND, when)],
            CONFIRM: [CallbackQueryHandler(confirm, pattern=r"^b:(ok|cancel)$")],
        },
        fallbacks=[CommandHandler("huy", cancel)],
        conversation_timeout=30 * 60,
        per_user=True,
        per_chat=True,
        name="thongbao",
    )


# --- reports -------------------------------------------------------------------------------


def _format_time(moment: datetime | None) -> str:
    return moment.astimezone(VIETNAM).strftime("%H:%M %d/%m") if moment else "–"


async def _readable(update: Update, context: ContextTypes.DEFAULT_TYPE, announcement_id: int) -> Announcement | None:
    """The announcement if this user may see it: its sender or a super-admin."""
    user = update.effective_user
    if user is None:
        return None
    found = services(context)
    async with found.runtime.sessions() as session:
        announcement = await session.get(Announcement, announcement_id)
    if announcement is None:
        return None
    if announcement.sender_user_id != user.id and not is_super_admin(user.id, found.admin_ids):
        return None
    return announcement


async def report_text(context: ContextTypes.DEFAULT_TYPE, announcement: Announcement) -> str:
    async with services(context).runtime.sessions() as session:
        repository = BroadcastRepository(session)
        progress = await repository.progress(announcement.id)
        reasons = await repository.failure_counts(announcement.id)
    lines = "\n".join(f"• {html.escape(reason)}: {count}" for reason, count in sorted(reasons.items()))
    return texts.REPORT.format(
        id=announcement.id,
        status=texts.STATUS_NAMES.get(announcement.status, announcement.status),
        total=progress.total,
        sent=progress.sent,
        failed=progress.failed,
        pending=progress.pending,
        started=_format_time(progress.started_at),
        finished=_format_time(progress.finished_at),
        reasons=texts.REPORT_REASONS.format(lines=lines) if lines else "",
    )


def csv_keyboard(announcement_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(texts.BUTTON_CSV, callback_data=encode(ReportCsv(announcement_id)))]]
    )


async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/baocao ID`` — any past broadcast of the user (super-admins: any)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    args = context.args or []
    if not args or not args[0].isdigit():
        found = services(context)
        async with found.runtime.sessions() as session:
            recent = list(
                (
                    await session.scalars(
                        select(Announcement)
                        .where(Announcement.sender_user_id == user.id)
                        .order_by(Announcement.id.desc())
                        .limit(10)
                    )
                ).all()
            )
        lines = "\n".join(
            f"#{a.id} · {texts.STATUS_NAMES.get(a.status, a.status)} · {a.total} nhóm · {_format_time(a.created_at)}"
            for a in recent
        )
        await reply_html(message, texts.REPORT_USAGE.format(lines=lines) if lines else texts.REPORT_NONE)
        return
    announcement = await _readable(update, context, int(args[0]))
    if announcement is None:
        await reply_html(message, texts.REPORT_NOT_FOUND.format(id=int(args[0])))
        return
    await reply_html(message, await report_text(context, announcement), reply_markup=csv_keyboard(announcement.id))


async def on_csv(update: Update, context: ContextTypes.DEFAULT_TYPE, action: ReportCsv) -> None:
    query = update.callback_query
    if query is None:
        return
    announcement = await _readable(update, context, action.announcement_id)
    if announcement is None:
        await query.answer(texts.NOT_ALLOWED, show_alert=True)
        return
    async with services(context).runtime.sessions() as session:
        data = await BroadcastRepository(session).failures_csv(announcement.id)
    await query.answer()
    await context.bot.send_document(
        query.from_user.id,
        io.BytesIO(data),
        filename=f"thong-bao-{announcement.id}-loi.csv",
        caption=texts.CSV_CAPTION.format(id=announcement.id),
    )


async def scheduled_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/lichhen``: scheduled broadcasts (own; super-admins see all), each with a cancel button."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    found = services(context)
    async with found.runtime.sessions() as session:
        if await broadcaster_scope(session, user.id, found.admin_ids) is None:
            await reply_html(message, texts.NOT_ALLOWED)
            return
        owner = None if is_super_admin(user.id, found.admin_ids) else user.id
        items = await BroadcastRepository(session).scheduled(owner)
    if not items:
        await reply_html(message, texts.SCHEDULED_NONE)
        return
    lines = "\n".join(f"#{a.id} · {a.total} nhóm · {_format_time(a.scheduled_at)}" for a in items)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.BUTTON_CANCEL_SCHEDULED.format(id=a.id), callback_data=encode(CancelScheduled(a.id))
                )
            ]
            for a in items[:20]
        ]
    )
    await reply_html(message, texts.SCHEDULED_LIST.format(lines=lines), reply_markup=keyboard)


async def on_cancel_scheduled(update: Update, context: ContextTypes.DEFAULT_TYPE, action: CancelScheduled) -> None:
    query = update.callback_query
    if query is None:
        return
    announcement = await _readable(update, context, action.announcement_id)
    if announcement is None:
        await query.answer(texts.NOT_ALLOWED, show_alert=True)
        return
    async with services(context).runtime.sessions() as session, session.begin():
        cancelled = await BroadcastRepository(session).cancel(announcement.id)
    template = texts.SCHEDULED_CANCELLED if cancelled else texts.SCHEDULED_TOO_LATE
    await query.answer(template.format(id=announcement.id), show_alert=True)
