"""``/thongbao``: compose an announcement for many groups (private chat).

content → audience (with group counts) → options (pin, silent, the "✅ Đã nhận" button, now or
later) → preview exactly as groups will see it → confirm or cancel. Rights are checked on the
server side at the start and again at confirmation; confirming writes the announcement and one
delivery per group in one transaction (``broadcasts.outbox``), and the sender (``bot.sender``)
works from those rows.

The step and the draft live in the database (``coordination.conversations``), not in a PTB
ConversationHandler, so any bot process can take the next step. One handler group (``GROUP``,
before every other) looks the state up (one primary-key SELECT per private message or compose
button) and stops the update (``ApplicationHandlerStop``) when the flow consumed it; anything
the current step does not wait for passes on, as it did with the ConversationHandler (a
question is answered, an out-of-step button gets the stale-button reply). Every write names the
version it read: of two taps on two processes, one wins and the other changes nothing.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, MessageHandler, filters

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
    ToggleAck,
    TogglePin,
    ToggleSilent,
    encode,
    matching,
    parse,
)
from bot.context import BotApplication, BotContext
from bot.jobs import exclusive, lease_for
from bot.replies import edit_text, editable_message, reply_html
from broadcasts.draft import Draft
from broadcasts.models import ContentKind
from broadcasts.outbox import BroadcastRepository
from broadcasts.registry import GroupRepository
from broadcasts.roles import broadcaster_scope
from broadcasts.tags import PROVINCE_TAG, describe_tag
from broadcasts.when import parse_when
from coordination.conversations import Conversation, ConversationRepository
from markup.telegram_html import visible_length
from storage.base import utc_now

FLOW = "thongbao"
CONTENT, AUDIENCE, OPTIONS, WHEN, CONFIRM = "content", "audience", "options", "when", "confirm"
MAX_TAG_BUTTONS = 40
CONVERSATION_TIMEOUT_SECONDS = 30 * 60
TTL = timedelta(seconds=CONVERSATION_TIMEOUT_SECONDS)
GROUP = -2  # before the support relay (-1) and every feature (0)
EXPIRY_JOB = "conversation-expiry"
EXPIRY_SECONDS = 600.0
AUDIENCE_BUTTONS = (AudienceAll, AudienceTag, AudienceDone)
OPTION_BUTTONS = (TogglePin, ToggleSilent, ToggleAck, SendNow, SendLater)
CONFIRM_BUTTONS = (ConfirmSend, CancelCompose, ToggleAck)  # ToggleAck: the preview's "✅ Đã nhận"


def _on_off(flag: bool) -> str:
    return texts.ON if flag else texts.OFF


def _button(text: str, action: Action) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=encode(action))


async def _current(context: BotContext, user_id: int, chat_id: int) -> tuple[Conversation, Draft] | None:
    """The live ``/thongbao`` state of this user and chat (one primary-key SELECT)."""
    found = await context.bot_data.ready.conversations.lookup(user_id, chat_id, utc_now())
    if found is None or found.flow != FLOW:
        return None
    draft = Draft.from_data(found.data)
    return None if draft is None else (found, draft)


async def _save(context: BotContext, current: Conversation, step: str, draft: Draft) -> Conversation | None:
    """Write the next step; None when another update wrote first (this one then does nothing)."""
    async with context.bot_data.sessions() as session, session.begin():
        return await ConversationRepository(session).advance(current, step, draft.to_data(), now=utc_now(), ttl=TTL)


async def _forget(context: BotContext, current: Conversation) -> bool:
    async with context.bot_data.sessions() as session, session.begin():
        done = await ConversationRepository(session).finish(current)
    context.bot_data.ready.conversations.ended(current.user_id, current.chat_id)
    return done


async def start(update: Update, context: BotContext) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    async with context.bot_data.sessions() as session:
        scope = await broadcaster_scope(session, user.id, context.bot_data.admin_ids)
    if not scope.may_broadcast:
        await reply_html(message, texts.NOT_ALLOWED)
        raise ApplicationHandlerStop
    context.bot_data.ready.conversations.started(user.id, message.chat_id)
    async with context.bot_data.sessions() as session, session.begin():
        await ConversationRepository(session).start(
            user.id, message.chat_id, FLOW, CONTENT, Draft(scope=scope).to_data(), now=utc_now(), ttl=TTL
        )
    await reply_html(message, texts.COMPOSE_START)
    raise ApplicationHandlerStop


async def on_message(update: Update, context: BotContext) -> None:
    """A private message: the content or the time, when the flow waits for one; else not ours."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    found = await _current(context, user.id, message.chat_id)
    if found is None:
        return
    current, draft = found
    if current.step == CONTENT:
        await _content(message, context, current, draft)
    elif current.step == WHEN and message.text:
        await _when(message, context, current, draft)
    else:
        return
    raise ApplicationHandlerStop


async def _content(message: Message, context: BotContext, current: Conversation, draft: Draft) -> None:
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
        return
    length = visible_length(text)
    if length > limit:
        await reply_html(message, texts.COMPOSE_TOO_LONG.format(length=length, limit=limit))
        return
    draft.kind, draft.text, draft.file_id = kind, text, file_id
    await _show_audience(message, context, current, draft, new=True)


async def _show_audience(
    message: Message, context: BotContext, current: Conversation, draft: Draft, *, new: bool
) -> None:
    async with context.bot_data.sessions() as session:
        groups = GroupRepository(session)
        everything = await groups.count(draft.scope)
        tag_counts = await groups.tag_counts(draft.scope)
        chosen = draft.chosen_tags()
        count = await groups.count(draft.scope, chosen) if chosen else everything
    if not everything:
        await _forget(context, current)
        await reply_html(message, texts.COMPOSE_NO_GROUPS)
        return
    if not draft.tags:
        ordered = sorted(tag_counts.items(), key=lambda item: (not item[0].startswith(f"{PROVINCE_TAG}:"), -item[1]))
        draft.tags = [tag for tag, _ in ordered[:MAX_TAG_BUTTONS]]
    draft.count = count
    if await _save(context, current, AUDIENCE, draft) is None:
        return
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


async def on_button(update: Update, context: BotContext) -> None:
    """A compose button; only the current step's own buttons are consumed (others are stale)."""
    query = update.callback_query
    message = editable_message(query) if query else None
    if query is None or message is None:
        return
    found = await _current(context, query.from_user.id, message.chat_id)
    if found is None:
        return
    current, draft = found
    action = parse(query.data)
    wanted = {AUDIENCE: AUDIENCE_BUTTONS, OPTIONS: OPTION_BUTTONS, CONFIRM: CONFIRM_BUTTONS}.get(current.step, ())
    if not isinstance(action, wanted):
        return
    if isinstance(action, ConfirmSend):
        await _confirm(update, context, current, draft)
    elif isinstance(action, ToggleAck) and current.step == CONFIRM:  # under the preview: only a sample
        await query.answer(texts.COMPOSE_ACK_PREVIEW)
    elif isinstance(action, CancelCompose):
        await query.answer()
        if await _forget(context, current):
            await edit_text(message, texts.COMPOSE_CANCELLED)
    else:
        await query.answer()
        await _step_button(action, message, context, current, draft)
    raise ApplicationHandlerStop


async def _step_button(
    action: Action, message: Message, context: BotContext, current: Conversation, draft: Draft
) -> None:
    match action:
        case AudienceAll():
            draft.chosen.clear()
        case AudienceTag(index) if index < len(draft.tags):
            draft.chosen.symmetric_difference_update({index})
        case AudienceDone():
            if draft.count:
                await _show_options(message, context, current, draft)
            return
        case TogglePin():
            draft.pin = not draft.pin
            await _show_options(message, context, current, draft)
            return
        case ToggleSilent():
            draft.silent = not draft.silent
            await _show_options(message, context, current, draft)
            return
        case ToggleAck():
            draft.ack = not draft.ack
            await _show_options(message, context, current, draft)
            return
        case SendNow():
            draft.scheduled_at = None
            await _preview(message, context, current, draft)
            return
        case SendLater():
            if await _save(context, current, WHEN, draft) is not None:
                await edit_text(message, texts.COMPOSE_ASK_TIME)
            return
    await _show_audience(message, context, current, draft, new=False)


async def _show_options(message: Message, context: BotContext, current: Conversation, draft: Draft) -> None:
    if await _save(context, current, OPTIONS, draft) is None:
        return
    keyboard = InlineKeyboardMarkup(
        [
            [
                _button(texts.BUTTON_PIN.format(state=_on_off(draft.pin)), TogglePin()),
                _button(texts.BUTTON_SILENT.format(state=_on_off(draft.silent)), ToggleSilent()),
            ],
            [_button(texts.BUTTON_ACK_TOGGLE.format(state=_on_off(draft.ack)), ToggleAck())],
            [_button(texts.BUTTON_SEND_NOW, SendNow()), _button(texts.BUTTON_SCHEDULE, SendLater())],
        ]
    )
    text = texts.COMPOSE_OPTIONS.format(pin=_on_off(draft.pin), silent=_on_off(draft.silent), ack=_on_off(draft.ack))
    await edit_text(message, text, keyboard)


async def _when(message: Message, context: BotContext, current: Conversation, draft: Draft) -> None:
    moment = parse_when(message.text or "", datetime.now(UTC))
    if moment is None:
        await reply_html(message, texts.COMPOSE_BAD_TIME)
        return
    draft.scheduled_at = moment
    await _preview(message, context, current, draft)


async def _send_content(context: BotContext, chat_id: int, draft: Draft) -> None:
    """The announcement exactly as the groups will receive it, with the "✅ Đã nhận" button when chosen
    (here it only explains itself: the groups' button counts, ``bot.features.acknowledgements``)."""
    markup = InlineKeyboardMarkup([[_button(texts.BUTTON_ACK, ToggleAck())]]) if draft.ack else None
    if draft.kind is ContentKind.PHOTO:
        await context.bot.send_photo(
            chat_id, draft.file_id or "", caption=draft.text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
    elif draft.kind is ContentKind.DOCUMENT:
        await context.bot.send_document(
            chat_id, draft.file_id or "", caption=draft.text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
    else:
        await context.bot.send_message(
            chat_id, draft.text, parse_mode=ParseMode.HTML, disable_web_page_preview=True, reply_markup=markup
        )


async def _preview(message: Message, context: BotContext, current: Conversation, draft: Draft) -> None:
    if await _save(context, current, CONFIRM, draft) is None:
        return
    await _send_content(context, message.chat_id, draft)
    summary = texts.COMPOSE_SUMMARY.format(
        chosen=html.escape(draft.chosen_text()),
        count=draft.count,
        pin=_on_off(draft.pin),
        silent=_on_off(draft.silent),
        ack=_on_off(draft.ack),
        when=draft.when_text(),
    )
    keyboard = InlineKeyboardMarkup(
        [[_button(texts.BUTTON_CONFIRM, ConfirmSend()), _button(texts.BUTTON_CANCEL, CancelCompose())]]
    )
    await context.bot.send_message(
        message.chat_id, f"{texts.COMPOSE_PREVIEW}\n\n{summary}", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )


async def _confirm(update: Update, context: BotContext, current: Conversation, draft: Draft) -> None:
    """One announcement however many taps: the state row is deleted in the same transaction."""
    query, user = update.callback_query, update.effective_user
    message = editable_message(query) if query else None
    if query is None or user is None or message is None:
        return
    data = context.bot_data
    async with data.sessions() as session, session.begin():
        if not await ConversationRepository(session).finish(current):
            refusal: str | None = texts.MENU_EXPIRED  # another tap (maybe on another process) got here first
        else:
            scope = await broadcaster_scope(session, user.id, data.admin_ids)  # re-checked: rights may have changed
            reach = await GroupRepository(session).reach(scope, draft.chosen_tags()) if scope.may_broadcast else None
            refusal = None
            if reach is None or not reach.group_ids:
                refusal = texts.NOT_ALLOWED if reach is None else texts.COMPOSE_NO_GROUPS
            else:
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
                announcement.ack_button = draft.ack
                announcement_id, total = announcement.id, announcement.total
    data.ready.conversations.ended(current.user_id, current.chat_id)
    if refusal is not None:
        await query.answer(refusal, show_alert=refusal is not texts.MENU_EXPIRED)
        return
    await query.answer()
    if draft.scheduled_at is not None:
        text = texts.COMPOSE_SCHEDULED.format(id=announcement_id, count=total, when=draft.when_text())
    else:
        text = texts.PROGRESS.format(id=announcement_id, total=total, sent=0, failed=0, pending=total, eta="")
    await edit_text(message, text)


async def cancel_command(update: Update, context: BotContext) -> None:
    """``/huy`` while composing; without a draft the command passes on to the other features."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or await _current(context, user.id, message.chat_id) is None:
        return
    async with context.bot_data.sessions() as session, session.begin():
        await ConversationRepository(session).drop(user.id, message.chat_id)
    context.bot_data.ready.conversations.ended(user.id, message.chat_id)
    await reply_html(message, texts.COMPOSE_CANCELLED)
    raise ApplicationHandlerStop


async def expire_drafts(context: BotContext) -> None:
    """Housekeeping: delete expired drafts (reads already treat them as absent)."""
    async with context.bot_data.sessions() as session, session.begin():
        await ConversationRepository(session).expire(utc_now())


def register(application: BotApplication) -> None:
    """In a group of its own before every other: while composing, the flow's steps win over questions."""
    private = filters.ChatType.PRIVATE
    add = application.add_handler
    add(CommandHandler("thongbao", start, filters=private), group=GROUP)
    add(CommandHandler("huy", cancel_command, filters=private), group=GROUP)
    add(MessageHandler(private & ~filters.COMMAND, on_message), group=GROUP)
    add(
        CallbackQueryHandler(on_button, pattern=matching(*AUDIENCE_BUTTONS, *OPTION_BUTTONS, *CONFIRM_BUTTONS)),
        group=GROUP,
    )
    if application.job_queue is None:
        raise RuntimeError("the job queue is missing: install python-telegram-bot[job-queue]")
    job = exclusive(EXPIRY_JOB, lease_for(EXPIRY_SECONDS))(expire_drafts)
    application.job_queue.run_repeating(job, interval=EXPIRY_SECONDS, first=EXPIRY_SECONDS, name=EXPIRY_JOB)
