"""Private chat: /start, /help, /menu, questions, edits, non-text messages, unknown commands."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

import texts
from bot import keyboards
from bot.context import BotApplication, BotContext
from bot.features.answers import answer_question
from bot.replies import display_name, fixed_reply, reply_html
from nlu.normalize import normalize

PRIVATE = filters.ChatType.PRIVATE
NEW = filters.UpdateType.MESSAGE
EDITED = filters.UpdateType.EDITED_MESSAGE
NON_TEXT = (
    filters.Sticker.ALL
    | filters.PHOTO
    | filters.VIDEO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO_NOTE
    | filters.Document.ALL
    | filters.LOCATION
    | filters.CONTACT
    | filters.ANIMATION
    | filters.POLL
    | filters.Dice.ALL
    | filters.VENUE
    | filters.STORY
    | filters.INVOICE
    | filters.PASSPORT_DATA
    | filters.GAME
)


async def start(update: Update, context: BotContext) -> None:
    if update.effective_message:
        greeting = texts.GREETING.format(name=display_name(update))
        await reply_html(
            update.effective_message, greeting, reply_markup=keyboards.main_menu(context.bot_data.knowledge)
        )


async def menu(update: Update, context: BotContext) -> None:
    if update.effective_message:
        await reply_html(
            update.effective_message, texts.MENU_TITLE, reply_markup=keyboards.main_menu(context.bot_data.knowledge)
        )


async def help_command(update: Update, context: BotContext) -> None:
    if update.effective_message:
        human = texts.HELP_HUMAN if await context.bot_data.directory.exists() else ""
        await reply_html(update.effective_message, texts.HELP.format(username=context.bot.username, human=human))


async def question(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message and message.text:
        await answer_question(update, context, message.text)


async def edited_question(update: Update, context: BotContext) -> None:
    """Answer an edited message again only when the question itself changed."""
    message, chat = update.edited_message, update.effective_chat
    if message is None or chat is None or not message.text:
        return
    if context.bot_data.answers.answered.get(chat.id, message.message_id) == normalize(message.text):
        return
    await answer_question(update, context, message.text)


non_text = fixed_reply(texts.NON_TEXT_HINT)
unknown_command = fixed_reply(texts.UNKNOWN_COMMAND)


def register(application: BotApplication) -> None:
    add = application.add_handler
    add(CommandHandler("start", start, filters=PRIVATE & NEW))
    add(CommandHandler("menu", menu, filters=PRIVATE & NEW))
    add(CommandHandler("help", help_command, filters=NEW))
    add(MessageHandler(PRIVATE & NEW & filters.TEXT & ~filters.COMMAND, question))
    add(MessageHandler(PRIVATE & EDITED & filters.TEXT & ~filters.COMMAND, edited_question))
    add(MessageHandler(PRIVATE & NEW & NON_TEXT, non_text))


def register_last(application: BotApplication) -> None:
    """After every feature's commands: whatever command is left is unknown."""
    application.add_handler(MessageHandler(PRIVATE & NEW & filters.COMMAND, unknown_command))
