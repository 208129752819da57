"""``/thongbao``: compose an announcement for many groups (private chat).

content → audience (with group counts) → options (pin, silent, now or later) → preview exactly
as groups will see it → confirm or cancel. Rights are checked on the server side at the start
and again at confirmation; confirming writes the announcement and one delivery per group in one
transaction (``broadcasts.outbox``), and the sender (``bot.sender``) works from those rows.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

import texts
from answering.formatting import CAPTION_LIMIT, MESSAGE_LIMIT
from bot.callback_data import (
    Action,
    AudienceAll,
    AudienceDone,
    AudienceTag,
    CancelCompose,
    ConfirmSend,
    SendLater,
    SendNow,
    TogglePin,
    ToggleSilent,
    encode,
    matching,
    parse,
)
from bot.context import BotApplication, BotContext
from bot.replies import edit_text, editable_message, reply_html
from broadcasts.models import ContentKind
from broadcasts.outbox import BroadcastRepository
from broadcasts.registry import GroupRepository
from broadcasts.roles import broadcaster_scope
from broadcasts.scope import Scope
from broadcasts.tags import PROVINCE_TAG, describe_tag
from broadcasts.when import format_moment, parse_when
from markup.telegram_html import visible_length

CONTENT, AUDIENCE, OPTIONS, WHEN, CONFIRM = range(5)
MAX_TAG_BUTTONS = 40
DRAFT = "broadcast_draft"
CONVERSATION_TIMEOUT_SECONDS = 30 * 60


@dataclass
class Draft:
    scope: Scope
    kind: ContentKind = ContentKind.TEXT
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

    def when_text(self) -> str:
        return texts.WHEN_NOW if self.scheduled_at is None else format_moment(self.scheduled_at, "%H:%M %d/%m/%Y")


def _on_off(flag: bool) -> str:
    return texts.ON if flag else texts.OFF


def _button(text: str, action: Action) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=encode(action))


def _draft(context: BotContext) -> Draft | None:
    found = (context.user_data or {}).get(DRAFT)
    return found if isinstance(found, Draft) else None


async def start(update: Update, context: BotContext) -> int:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return ConversationHandler.END
    async with context.bot_data.sessions() as session:
        scope = await broadcaster_scope(session, user.id, context.bot_data.admin_ids)
    if not scope.may_broadcast:
        await reply_html(message, texts.NOT_ALLOWED)
        return ConversationHandler.END
    assert context.user_data is not None
    context.user_data[DRAFT] = Draft(scope=scope)
    await reply_html(message, texts.COMPOSE_START)
    return CONTENT


async def content(update: Update, context: BotContext) -> int:
    message, draft = update.effective_message, _draft(context)
    if message is None or draft is None:
        return ConversationHandler.END
    if message.text:
        text, limit, kind, file_id = message.text_html, MESSAGE_LIMIT, ContentKind.TEXT, None
    elif message.photo:
        text, limit, kind = message.caption_html or "", CAPTION_LIMIT, ContentKind.PHOTO
        file_id = message.photo[-1].file_id
    elif message.document:
        text, limit, kind = message.caption_html or "", CAPTION_LIMIT, ContentKind.DOCUMENT
        file_id = message.document.file_id
    else:
        await reply_html(message, texts.COMPOSE_WRONG_CONTENT)
        return CONTENT
    length = visible_length(text)
    if length > limit:
        await reply_html(message, texts.COMPOSE_TOO_LONG.format(length=length, limit=limit))
        return CONTENT
    draft.kind, draft.text, draft.file_id = kind, text, file_id
    return await _show_audience(message, context, draft, new=True)


async def _show_audience(message: Message, context: BotContext, draft: Draft, *, new: bool) -> int:
    async with context.bot_data.sessions() as session:
        groups = GroupRepository(session)
        everything = await groups.count(draft.scope)
        tag_counts = await groups.tag_counts(draft.scope)
        chosen = draft.chosen_tags()
        count = await groups.count(draft.scope, chosen) if chosen else everything
    if not everything:
        await reply_html(message, texts.COMPOSE_NO_GROUPS)
        return ConversationHandler.END
    if not draft.tags:
        ordered = sorted(tag_counts.items(), key=lambda item: (not item[0].startswith(f"{PROVINCE_TAG}:"), -item[1]))
        draft.tags = [tag for tag, _ in ordered[:MAX_TAG_BUTTONS]]
    draft.count = count
    rows = [[_button(texts.BUTTON_ALL_GROUPS.format(count=everything), AudienceAll())]]
    buttons = [
        _button(
            f"{'✅ ' if i in draft.chosen else ''}{describe_tag(tag)} ({tag_counts.get(tag, 0)})",
            AudienceTag(i),
        )
        for i, tag in enumerate(draft.tags)
    ]
    rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([_button(texts.BUTTON_CONTINUE.format(count=draft.count), AudienceDone())])
    text = texts.COMPOSE_AUDIENCE.format(chosen=html.escape(draft.chosen_text()), count=draft.count)
    if new:
        await reply_html(message, text, reply_markup=InlineKeyboardMarkup(rows))
    else:
        await edit_text(message, text, InlineKeyboardMarkup(rows))
    return AUDIENCE


async def on_step_button(update: Update, context: BotContext) -> int:
    """The buttons of the audience and options steps (each step's handler matches only its own)."""
    query, draft = update.callback_query, _draft(context)
    message = editable_message(query) if query else None
    if query is None or draft is None or message is None:
        return ConversationHandler.END
    await query.answer()
    match parse(query.data):
        case AudienceAll():
            draft.chosen.clear()
        case AudienceTag(index) if index < len(draft.tags):
            draft.chosen.symmetric_difference_update({index})
        case AudienceDone():
            return await _show_options(message, draft) if draft.count else AUDIENCE
        case TogglePin():
            draft.pin = not draft.pin
            return await _show_options(message, draft)
        case ToggleSilent():
            draft.silent = not draft.silent
            return await _show_options(message, draft)
        case SendNow():
            draft.scheduled_at = None
            return await _preview(message, context, draft)
        case SendLater():
            await edit_text(message, texts.COMPOSE_ASK_TIME)
            return WHEN
    return await _show_audience(message, context, draft, new=False)


async def _show_options(message: Message, draft: Draft) -> int:
    keyboard = InlineKeyboardMarkup(
        [
            [
                _button(texts.BUTTON_PIN.format(state=_on_off(draft.pin)), TogglePin()),
                _button(texts.BUTTON_SILENT.format(state=_on_off(draft.silent)), ToggleSilent()),
            ],
            [_button(texts.BUTTON_SEND_NOW, SendNow()), _button(texts.BUTTON_SCHEDULE, SendLater())],
        ]
    )
    await edit_text(
        message, texts.COMPOSE_OPTIONS.format(pin=_on_off(draft.pin), silent=_on_off(draft.silent)), keyboard
    )
    return OPTIONS


async def when(update: Update, context: BotContext) -> int:
    message, draft = update.effective_message, _draft(context)
    if message is None or draft is None:
        return ConversationHandler.END
    moment = parse_when(message.text or "", datetime.now(UTC))
    if moment is None:
        await reply_html(message, texts.COMPOSE_BAD_TIME)
        return WHEN
    draft.scheduled_at = moment
    return await _preview(message, context, draft)


async def _send_content(context: BotContext, chat_id: int, draft: Draft) -> None:
    """The announcement exactly as the groups will receive it."""
    if draft.kind is ContentKind.PHOTO:
        await context.bot.send_photo(chat_id, draft.file_id or "", caption=draft.text, parse_mode=ParseMode.HTML)
    elif draft.kind is ContentKind.DOCUMENT:
        await context.bot.send_document(chat_id, draft.file_id or "", caption=draft.text, parse_mode=ParseMode.HTML)
    else:
        await context.bot.send_message(chat_id, draft.text, parse_mode=ParseMode.HTML, disable_web_page_preview=True)


async def _preview(message: Message, context: BotContext, draft: Draft) -> int:
    await _send_content(context, message.chat_id, draft)
    summary = texts.COMPOSE_SUMMARY.format(
        chosen=html.escape(draft.chosen_text()),
        count=draft.count,
        pin=_on_off(draft.pin),
        silent=_on_off(draft.silent),
        when=draft.when_text(),
    )
    keyboard = InlineKeyboardMarkup(
        [[_button(texts.BUTTON_CONFIRM, ConfirmSend()), _button(texts.BUTTON_CANCEL, CancelCompose())]]
    )
    await context.bot.send_message(
        message.chat_id, f"{texts.COMPOSE_PREVIEW}\n\n{summary}", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )
    return CONFIRM


async def confirm(update: Update, context: BotContext) -> int:
    query, draft, user = update.callback_query, _draft(context), update.effective_user
    message = editable_message(query) if query else None
    if query is None or draft is None or user is None or message is None:
        return ConversationHandler.END
    if isinstance(parse(query.data), CancelCompose):
        return await cancel(update, context)
    data = context.bot_data
    async with data.sessions() as session, session.begin():
        scope = await broadcaster_scope(session, user.id, data.admin_ids)  # re-checked: rights may have changed
        reach = await GroupRepository(session).reach(scope, draft.chosen_tags()) if scope.may_broadcast else None
        if reach is None or not reach.group_ids:
            await query.answer(texts.NOT_ALLOWED if reach is None else texts.COMPOSE_NO_GROUPS, show_alert=True)
            _forget(context)
            return ConversationHandler.END
        announcement = await BroadcastRepository(session).create_announcement(
            sender_user_id=user.id,
            sender_chat_id=message.chat_id,
            kind=draft.kind,
            text=draft.text,
            file_id=draft.file_id,
            pin=draft.pin,
            silent=draft.silent,
            audience=draft.chosen_tags(),
            scheduled_at=draft.scheduled_at,
            group_ids=reach.group_ids,
        )
        announcement.progress_message_id = message.message_id
        announcement_id, total = announcement.id, announcement.total
    await query.answer()
    if draft.scheduled_at is not None:
        text = texts.COMPOSE_SCHEDULED.format(id=announcement_id, count=total, when=draft.when_text())
    else:
        text = texts.PROGRESS.format(id=announcement_id, total=total, sent=0, failed=0, pending=total, eta="")
    await edit_text(message, text)
    _forget(context)
    return ConversationHandler.END


def _forget(context: BotContext) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)


async def cancel(update: Update, context: BotContext) -> int:
    _forget(context)
    query = update.callback_query
    if query is not None:
        await query.answer()
        message = editable_message(query)
        if message is not None:
            await edit_text(message, texts.COMPOSE_CANCELLED)
    elif update.effective_message is not None:
        await reply_html(update.effective_message, texts.COMPOSE_CANCELLED)
    return ConversationHandler.END


def conversation() -> ConversationHandler[Any]:
    private = filters.ChatType.PRIVATE
    audience_buttons = matching(AudienceAll, AudienceTag, AudienceDone)
    option_buttons = matching(TogglePin, ToggleSilent, SendNow, SendLater)
    # One conversation per user and chat, not per message: the steps edit one message anyway.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*per_message=False.*")
        return ConversationHandler(
            entry_points=[CommandHandler("thongbao", start, filters=private)],
            states={
                CONTENT: [MessageHandler(private & ~filters.COMMAND, content)],
                AUDIENCE: [CallbackQueryHandler(on_step_button, pattern=audience_buttons)],
                OPTIONS: [CallbackQueryHandler(on_step_button, pattern=option_buttons)],
                WHEN: [MessageHandler(private & filters.TEXT & ~filters.COMMAND, when)],
                CONFIRM: [CallbackQueryHandler(confirm, pattern=matching(ConfirmSend, CancelCompose))],
            },
            fallbacks=[CommandHandler("huy", cancel)],
            conversation_timeout=CONVERSATION_TIMEOUT_SECONDS,
            per_user=True,
            per_chat=True,
            name="thongbao",
        )


def register(application: BotApplication) -> None:
    """First of all features: while composing, the conversation's steps win over questions."""
    application.add_handler(conversation())
