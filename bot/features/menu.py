"""Inline buttons: menu navigation, feedback, clarification choices, hand-off.

Callback data is never trusted: it must parse, name an existing domain or topic,
and for record actions belong to a stored record of the same user.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

import texts
from bot import keyboards
from bot.callback_data import (
    CancelScheduled,
    ClarifyChoice,
    ClearCommune,
    DomainMenu,
    Feedback,
    GroupPage,
    Handoff,
    MainMenu,
    MenuTopic,
    ProvinceMenu,
    RelatedTopic,
    RemoveLabel,
    ReportCsv,
    SetProvince,
    parse,
)
from answering.formatting import render_topic
from bot.handlers import broadcast, registry
from bot.replies import services
from answering.service import Services
from records.models import QuestionRecord
from records.repository import RecordRepository

logger = logging.getLogger(__name__)


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_text(
            text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
        )
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


async def _own_record(query: CallbackQuery, found: Services, record_id: int) -> QuestionRecord | None:
    """The stored record behind a button, if it belongs to whoever pressed it."""
    await found.records.flush()
    async with found.runtime.sessions() as session:
        record = await RecordRepository(session).get(record_id)
    if record is None:
        await query.answer(texts.MENU_EXPIRED)
        return None
    if record.user_id != query.from_user.id:
        await query.answer(texts.FEEDBACK_NOT_YOURS)
        return None
    return record


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    found = services(context)
    knowledge = found.knowledge
    action = parse(query.data)
    if query.message is None or not hasattr(query.message, "chat") or query.message.is_accessible is False:
        action = None  # the button's message is gone: nothing to edit
    match action:
        case MainMenu():
            await query.answer()
            await _edit(query, texts.MENU_TITLE, keyboards.main_menu(knowledge))
        case DomainMenu(domain) if any(d.key == domain and d.topic_ids for d in knowledge.domains):
            title = next(d.title for d in knowledge.domains if d.key == domain)
            await query.answer()
            await _edit(query, texts.DOMAIN_TITLE.format(title=title), keyboards.domain_menu(knowledge, domain))
        case MenuTopic(topic_id) if topic_id in knowledge.topics:
            topic = knowledge.topics[topic_id]
            await query.answer()
            await _edit(query, render_topic(topic), keyboards.topic_in_menu(topic.domain))
        case RelatedTopic(topic_id) if topic_id in knowledge.topics:
            await query.answer()
            await query.message.reply_html(  # type: ignore[union-attr]
                render_topic(knowledge.topics[topic_id]),
                reply_markup=keyboards.menu_only(),
                disable_web_page_preview=True,
            )
        case Feedback(record_id, helpful):
            if await _own_record(query, found, record_id) is None:
                return
            async with found.runtime.sessions() as session, session.begin():
                await RecordRepository(session).set_feedback(record_id, 1 if helpful else -1)
            await query.answer(texts.FEEDBACK_THANKS)
            markup = query.message.reply_markup  # type: ignore[union-attr]
            rows = [list(r) for r in markup.inline_keyboard[1:]] if markup else []
            await query.edit_message_reply_markup(InlineKeyboardMarkup(rows) if rows else None)
        case ClarifyChoice(record_id, topic_id) if topic_id in knowledge.topics:
            record = await _own_record(query, found, record_id)
            if record is None:
                return
            if topic_id not in (record.candidates or []):
                await query.answer(texts.MENU_EXPIRED)
                return
            async with found.runtime.sessions() as session, session.begin():
                await RecordRepository(session).set_chosen_topic(record_id, topic_id)
            topic = knowledge.topics[topic_id]
            await query.answer()
            related = [r for r in topic.related if r in knowledge.topics]
            await _edit(query, render_topic(topic), keyboards.answer(record_id, related, knowledge))
        case Handoff(record_id):
            record = await _own_record(query, found, record_id)
            if record is None:
                return
            async with found.runtime.sessions() as session, session.begin():
                _request, created = await RecordRepository(session).request_handoff(record)
            await query.answer(texts.HANDOFF_DONE if created else texts.HANDOFF_ALREADY)
            if created:
                await _edit(
                    query, f"{texts.UNKNOWN}\n\n{texts.HANDOFF_DONE}", keyboards.unknown(record_id, handoff=False)
                )
        case ProvinceMenu() | SetProvince() | RemoveLabel() | ClearCommune():
            await registry.on_tag_button(update, context, action)
        case GroupPage():
            await registry.on_group_page(update, context, action)
        case ReportCsv():
            await broadcast.on_csv(update, context, action)
        case CancelScheduled():
            await broadcast.on_cancel_scheduled(update, context, action)
        case _:
            logger.info("ignored stale or forged callback data %r", query.data)
            await query.answer(texts.MENU_EXPIRED)
