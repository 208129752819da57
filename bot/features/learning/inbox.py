"""``/hopthu``: the curation inbox, one group of same-meaning questions at a time.

The group's questions come with the model's three best guesses as buttons, "Chủ đề khác…"
(domains, then topics), "Ngoài phạm vi", "Bỏ qua" and "Xóa". One tap resolves the whole
group: its questions become curated training examples of that topic (``curation.inbox``), and
the next group is shown in the same message.
"""

from __future__ import annotations

import html

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

import texts
import texts.learning as say
from bot.callback_data import (
    Action,
    InboxBack,
    InboxDelete,
    InboxDomain,
    InboxDomains,
    InboxPick,
    InboxSkip,
    encode,
    matching,
    parse,
)
from bot.context import BotApplication, BotContext
from bot.features.learning.access import curator_message, is_curator
from bot.features.support.posting import shorten
from bot.replies import edit_markup, edit_text, reply_html
from broadcasts.when import format_moment
from curation.inbox import GroupView, InboxRepository
from nlu.decision import OUT_OF_SCOPE
from nlu.normalize import normalize

_SAMPLE = 200
_GUESSES = 3


def _button(text: str, action: Action) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=encode(action))


def _label_title(context: BotContext, label: str) -> str:
    if label == OUT_OF_SCOPE:
        return say.OUT_OF_SCOPE_LABEL
    topic = context.bot_data.knowledge.topics.get(label)
    return topic.title if topic else label


async def _guesses(context: BotContext, group: GroupView) -> list[str]:
    """The model's best topics for the group's newest question (as it would answer today)."""
    classification = await context.bot_data.answers.pipeline.classifier.classify(normalize(group.texts[0]))
    topics = context.bot_data.knowledge.topics
    return [label for label, _ in classification.ranking if label in topics][:_GUESSES]


def _main_keyboard(group_id: int, guesses: list[str], context: BotContext) -> InlineKeyboardMarkup:
    rows = [[_button(say.BUTTON_GUESS.format(title=_label_title(context, t)), InboxPick(group_id, t))] for t in guesses]
    rows.append([_button(say.BUTTON_OTHER_TOPIC, InboxDomains(group_id))])
    rows.append([_button(say.BUTTON_OUT_OF_SCOPE, InboxPick(group_id, OUT_OF_SCOPE))])
    rows.append([_button(say.BUTTON_SKIP, InboxSkip(group_id)), _button(say.BUTTON_DELETE, InboxDelete(group_id))])
    return InlineKeyboardMarkup(rows)


async def _render(context: BotContext, group: GroupView, open_count: int) -> tuple[str, InlineKeyboardMarkup]:
    samples = "\n".join(say.INBOX_SAMPLE.format(text=html.escape(shorten(t, _SAMPLE))) for t in group.texts[:3])
    hints = ""
    if group.labels:
        named = ", ".join(f"{html.escape(_label_title(context, label))} ({n})" for label, n in group.labels.items())
        hints = say.INBOX_HINTS.format(labels=named)
    text = say.INBOX_GROUP.format(
        open=open_count,
        group=group.id,
        count=group.count,
        newest=format_moment(group.newest_at),
        samples=samples,
        hints=hints,
    )
    return text, _main_keyboard(group.id, await _guesses(context, group), context)


async def _next(context: BotContext, exclude: tuple[int, ...] = ()) -> tuple[str, InlineKeyboardMarkup | None]:
    await context.bot_data.answers.records.flush()  # this process's newest questions are in the inbox too
    async with context.bot_data.sessions() as session, session.begin():
        inbox = InboxRepository(session)
        await inbox.ingest(context.bot_data.clock())
    async with context.bot_data.sessions() as session:
        inbox = InboxRepository(session)
        group = await inbox.next_group(exclude_ids=exclude)
        open_count = await inbox.open_count()
    if group is None:
        return say.INBOX_EMPTY, None
    return await _render(context, group, open_count)


async def inbox_command(update: Update, context: BotContext) -> None:
    found = await curator_message(update, context)
    if found is None:
        return
    message, _user = found
    text, markup = await _next(context)
    await reply_html(message, text, reply_markup=markup)


async def _curator_query(update: Update, context: BotContext) -> tuple[CallbackQuery, Action] | None:
    query = update.callback_query
    action = parse(query.data) if query else None
    if query is None or action is None:
        return None
    message = query.message
    if message is None or message.chat.type != ChatType.PRIVATE or not await is_curator(context, query.from_user.id):
        await query.answer(say.NOT_CURATOR, show_alert=True)
        return None
    return query, action


async def on_inbox_button(update: Update, context: BotContext) -> None:
    found = await _curator_query(update, context)
    if found is None:
        return
    query, action = found
    if isinstance(action, InboxDomains | InboxDomain | InboxBack):
        await _browse(query, context, action)
        return
    assert isinstance(action, InboxPick | InboxSkip | InboxDelete)
    now = context.bot_data.clock()
    async with context.bot_data.sessions() as session, session.begin():
        inbox = InboxRepository(session)
        group = await inbox.get(action.group_id)
        if group is None or not group.is_open:
            await query.answer(say.INBOX_GONE)
            group = None
        elif isinstance(action, InboxPick):
            if action.label != OUT_OF_SCOPE and action.label not in context.bot_data.knowledge.topics:
                await query.answer(texts.MENU_EXPIRED)
                return
            count = await inbox.resolve(action.group_id, action.label, query.from_user.id, now)
            await query.answer(say.INBOX_RESOLVED.format(count=count, label=_label_title(context, action.label))[:190])
        elif isinstance(action, InboxSkip):
            await inbox.skip(action.group_id, now)
            await query.answer(say.INBOX_SKIPPED.format(group=action.group_id))
        else:
            await inbox.delete(action.group_id, now)
            await query.answer(say.INBOX_DELETED.format(group=action.group_id))
    exclude = (action.group_id,) if isinstance(action, InboxSkip) else ()
    text, markup = await _next(context, exclude)
    await edit_text(query, text, markup)


async def _browse(query: CallbackQuery, context: BotContext, action: InboxDomains | InboxDomain | InboxBack) -> None:
    """Domains, then a domain's topics; "Quay lại" goes back to the group's main buttons."""
    knowledge = context.bot_data.knowledge
    group_id = action.group_id
    await query.answer()
    if isinstance(action, InboxBack):
        async with context.bot_data.sessions() as session:
            group = await InboxRepository(session).get(group_id)
        markup = _main_keyboard(group_id, await _guesses(context, group), context) if group is not None else None
    elif isinstance(action, InboxDomains):
        rows = [
            [_button(f"📂 {d.short_title}", InboxDomain(group_id, d.key))] for d in knowledge.domains if d.topic_ids
        ]
        rows.append([_button(say.BUTTON_BACK, InboxBack(group_id))])
        markup = InlineKeyboardMarkup(rows)
    else:
        domain = next((d for d in knowledge.domains if d.key == action.domain), None)
        topics = domain.topic_ids if domain else ()
        rows = [[_button(knowledge.topics[t].title, InboxPick(group_id, t))] for t in topics]
        rows.append([_button(say.BUTTON_BACK, InboxDomains(group_id))])
        markup = InlineKeyboardMarkup(rows)
    await edit_markup(query, markup)


def register(application: BotApplication) -> None:
    private_new = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("hopthu", inbox_command, filters=private_new))
    application.add_handler(
        CallbackQueryHandler(
            on_inbox_button, pattern=matching(InboxPick, InboxSkip, InboxDelete, InboxDomains, InboxDomain, InboxBack)
        )
    )
