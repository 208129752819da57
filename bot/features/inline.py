"""Inline mode: ``@bot câu hỏi`` in any chat offers ready answers to paste."""

from __future__ import annotations

from telegram import InlineQueryResultArticle, InlineQueryResultsButton, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.ext import InlineQueryHandler

import texts
from answering.formatting import render_topic
from bot.context import BotApplication, BotContext

MAX_QUERY_CHARS = 256


async def inline_query(update: Update, context: BotContext) -> None:
    query = update.inline_query
    if query is None:
        return
    text = query.query[:MAX_QUERY_CHARS]
    topics = await context.bot_data.answers.matching_topics(text)
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


def register(application: BotApplication) -> None:
    application.add_handler(InlineQueryHandler(inline_query))
