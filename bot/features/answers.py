"""Answering a question in any chat, and the buttons under an answer: 👍/👎, "Ý bạn là…".

The hand-off button is offered only when a support chat would receive the question; pressing it
is handled by ``bot.features.support``.

Record buttons are never trusted: the record must exist and belong to whoever pressed.
"""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

import texts
import texts.support as say
from answering.formatting import render_topic, split_html
from answering.ratelimit import Verdict
from bot import keyboards
from bot.callback_data import ClarifyChoice, Feedback, matching, parse
from bot.context import BotApplication, BotContext
from bot.features.support.availability import human_for
from bot.replies import edit_markup, edit_text, editable_message, reply_html
from nlu.decision import Decision
from records.models import QuestionRecord
from records.repository import RecordRepository


async def answer_question(update: Update, context: BotContext, question: str) -> None:
    """Rate-limit, run the pipeline, reply with the right keyboard, remember the message."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    data = context.bot_data
    verdict = await data.limiter.verdict(user.id)
    if verdict is Verdict.REFUSE_AND_TELL:
        await reply_html(message, texts.RATE_LIMITED)
        return
    if verdict is Verdict.REFUSE_SILENTLY:
        return
    asked = await data.answers.ask(question, user_id=user.id, chat_id=chat.id, chat_type=chat.type)
    reply = asked.reply
    human = False
    data.answers.answered.remember(chat.id, message.message_id, reply.normalized)
    if reply.decision is Decision.ANSWER:
        markup = keyboards.answer(asked.record_id, reply.related, data.knowledge)
    elif reply.decision is Decision.CLARIFY:
        markup = keyboards.clarify(asked.record_id, reply.candidates, data.knowledge)
    elif reply.normalized:
        human = await human_for(context, user.id, chat.id, chat.type)
        markup = keyboards.unknown(asked.record_id, handoff=human)
    else:
        markup = None
    body = reply.answer
    if reply.decision is Decision.UNKNOWN and reply.normalized:
        body = f"{body}\n\n{say.UNKNOWN_OFFER_HUMAN if human else say.UNKNOWN_NO_HUMAN}"
    if reply.truncated:
        notice = texts.TRUNCATED_NOTICE.format(limit=len(reply.normalized))
        body = f"{notice}\n\n{body}"
    parts = split_html(body)
    for part in parts[:-1]:
        await reply_html(message, part)
    await reply_html(message, parts[-1], reply_markup=markup)


async def own_record(query: CallbackQuery, context: BotContext, record_id: int) -> QuestionRecord | None:
    """The stored record behind a button, if it belongs to whoever pressed it (else the query is answered)."""
    data = context.bot_data
    await data.answers.records.flush()
    async with data.sessions() as session:
        record = await RecordRepository(session).get(record_id)
    if record is None:
        await query.answer(texts.MENU_EXPIRED)
        return None
    if record.user_id != query.from_user.id:
        await query.answer(texts.FEEDBACK_NOT_YOURS)
        return None
    return record


async def on_feedback(update: Update, context: BotContext) -> None:
    query = update.callback_query
    action = parse(query.data) if query else None
    if query is None or not isinstance(action, Feedback):
        return
    if await own_record(query, context, action.record_id) is None:
        return
    async with context.bot_data.sessions() as session, session.begin():
        await RecordRepository(session).set_feedback(action.record_id, 1 if action.helpful else -1)
    await query.answer(texts.FEEDBACK_THANKS)
    message = editable_message(query)
    markup = message.reply_markup if message is not None else None
    rows = [list(row) for row in markup.inline_keyboard[1:]] if markup else []
    await edit_markup(query, InlineKeyboardMarkup(rows) if rows else None)


async def on_clarify_choice(update: Update, context: BotContext) -> None:
    query = update.callback_query
    action = parse(query.data) if query else None
    if query is None or not isinstance(action, ClarifyChoice):
        return
    knowledge = context.bot_data.knowledge
    if action.topic not in knowledge.topics:
        await query.answer(texts.MENU_EXPIRED)
        return
    record = await own_record(query, context, action.record_id)
    if record is None:
        return
    if action.topic not in (record.candidates or []):
        await query.answer(texts.MENU_EXPIRED)
        return
    async with context.bot_data.sessions() as session, session.begin():
        await RecordRepository(session).set_chosen_topic(action.record_id, action.topic)
    topic = knowledge.topics[action.topic]
    await query.answer()
    related = [r for r in topic.related if r in knowledge.topics]
    await edit_text(query, render_topic(topic), keyboards.answer(action.record_id, related, knowledge))


def register(application: BotApplication) -> None:
    application.add_handler(CallbackQueryHandler(on_feedback, pattern=matching(Feedback)))
    application.add_handler(CallbackQueryHandler(on_clarify_choice, pattern=matching(ClarifyChoice)))
