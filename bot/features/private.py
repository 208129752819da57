"""Private chat: /start, /help, /menu, questions, edits, non-text messages, unknown commands."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

import texts
from bot import keyboards
from bot.replies import answer_question, display_name, reply_html, services
from nlu.normalize import normalize


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message:
        greeting = texts.GREETING.format(name=display_name(update))
        await reply_html(
            update.effective_message, greeting, reply_markup=keyboards.main_menu(services(context).knowledge)
        )


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message:
        await reply_html(
            update.effective_message, texts.MENU_TITLE, reply_markup=keyboards.main_menu(services(context).knowledge)
        )


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message:
        await reply_html(update.effective_message, texts.HELP.format(username=context.bot.username))


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message and message.text:
        await answer_question(update, context, message.text)


async def edited_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer an edited message again only when the question itself changed."""
    message, chat = update.edited_message, update.effective_chat
    if message is None or chat is None or not message.text:
        return
    if services(context).answered.get(chat.id, message.message_id) == normalize(message.text):
        return
    await answer_question(update, context, message.text)


async def non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message:
        await reply_html(update.effective_message, texts.NON_TEXT_HINT)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message:
        await reply_html(update.effective_message, texts.UNKNOWN_COMMAND)
