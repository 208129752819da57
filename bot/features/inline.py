"""Inline mode: ``@bot câu hỏi`` in any chat offers ready answers to paste."""

from __future__ import annotations

from telegram import InlineQueryResultArticle, InlineQueryResultsButton, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

import texts
from answering.formatting import render_topic
from bot.replies import services

MAX_QUERY_CHARS = 256


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    if query is None:
        return
    text = query.query[:MAX_QUERY_CHARS]
    topics = await services(context).matching_topics(text)
    results = [
        InlineQueryResultArticle(
            id=topic.id,
            title=topic.title,
            description=topic.summary,
            input_message_content=InputTextMessageContent(
                render_topic(topic), parse_mode=ParseMode.HTML, link_preview_options=None
            ),
        )
        for topic in topics
    ]
    button = InlineQueryResultsButton(text=texts.INLINE_ASK_PRIVATELY, start_parameter="inline")
    await query.answer(results, cache_time=30 if text.strip() else 300, is_personal=False, button=button)
