"""Shared by the handlers: reaching the services and replying to a question."""

from __future__ import annotations

import html

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

import texts
from bot import keyboards
from answering.formatting import split_html
from answering.ratelimit import Verdict as RateVerdict
from answering.service import Services
from nlu.decision import Decision


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found = context.bot_data.get("services")
    if not isinstance(found, Services):
        raise RuntimeError("services are not ready (post_init has not run)")
    return found


async def reply_html(message: Message, text: str, **kwargs: object) -> Message:
    """Reply in the same chat and forum thread, quoting the question in groups."""
    quote = message.chat.type != ChatType.PRIVATE
    return await message.reply_html(text, do_quote=quote, disable_web_page_preview=True, **kwargs)  # type: ignore[arg-type]


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Rate-limit, run the pipeline, reply with the right keyboard, remember the message."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    found = services(context)
    verdict = found.limiter.check(user.id)
    if verdict is RateVerdict.REFUSE_AND_TELL:
        await reply_html(message, texts.RATE_LIMITED)
        return
    if verdict is RateVerdict.REFUSE_SILENTLY:
        return
    asked = await found.ask(question, user_id=user.id, chat_id=chat.id, chat_type=chat.type)
    reply = asked.reply
    found.answered.remember(chat.id, message.message_id, reply.normalized)
    if reply.decision is Decision.ANSWER:
        markup = keyboards.answer(asked.record_id, reply.related, found.knowledge)
    elif reply.decision is Decision.CLARIFY:
        markup = keyboards.clarify(asked.record_id, reply.candidates, found.knowledge)
    elif reply.normalized:
        markup = keyboards.unknown(asked.record_id)
    else:
        markup = None
    body = reply.answer
    if reply.truncated:
        notice = texts.TRUNCATED_NOTICE.format(limit=len(reply.normalized))
        body = f"{notice}\n\n{body}"
    parts = split_html(body)
    for part in parts[:-1]:
        await reply_html(message, part)
    await reply_html(message, parts[-1], reply_markup=markup)


def display_name(update: Update) -> str:
    """The first name for the greeting only; never stored."""
    user = update.effective_user
    return html.escape(user.first_name) if user and user.first_name else "bạn"
