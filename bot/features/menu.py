"""The knowledge menu: domains → topics → answer, edited in place, and related topics under answers."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

import texts
from answering.formatting import render_topic
from bot import keyboards
from bot.callback_data import DomainMenu, MainMenu, MenuTopic, RelatedTopic, matching, parse
from bot.context import BotApplication, BotContext
from bot.replies import edit_text, editable_message


async def on_menu_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    knowledge = context.bot_data.knowledge
    action = parse(query.data)
    message = editable_message(query)
    if message is None:  # the button's message is gone: nothing to edit or reply to
        await query.answer(texts.MENU_EXPIRED)
        return
    match action:
        case MainMenu():
            await query.answer()
            await edit_text(query, texts.MENU_TITLE, keyboards.main_menu(knowledge))
        case DomainMenu(domain) if any(d.key == domain and d.topic_ids for d in knowledge.domains):
            title = next(d.title for d in knowledge.domains if d.key == domain)
            await query.answer()
            await edit_text(query, texts.DOMAIN_TITLE.format(title=title), keyboards.domain_menu(knowledge, domain))
        case MenuTopic(topic_id) if topic_id in knowledge.topics:
            topic = knowledge.topics[topic_id]
            await query.answer()
            await edit_text(query, render_topic(topic), keyboards.topic_in_menu(topic.domain))
        case RelatedTopic(topic_id) if topic_id in knowledge.topics:
            await query.answer()
            await message.reply_html(
                render_topic(knowledge.topics[topic_id]),
                reply_markup=keyboards.menu_only(),
                disable_web_page_preview=True,
            )
        case _:  # a domain or topic retired since the menu was sent
            await query.answer(texts.MENU_EXPIRED)


def register(application: BotApplication) -> None:
    application.add_handler(
        CallbackQueryHandler(on_menu_button, pattern=matching(MainMenu, DomainMenu, MenuTopic, RelatedTopic))
    )
