"""Team groups (and forum threads): speak only when spoken to.

Works with privacy mode on: the bot only needs commands, replies to its own
messages and messages that mention it.
"""

from __future__ import annotations

import re

from telegram import Message, MessageEntity, Update
from telegram.ext import CommandHandler, MessageHandler, filters

import texts
from bot.context import BotApplication, BotContext
from bot.features.answers import answer_question
from bot.replies import fixed_reply, reply_html
from nlu.normalize import normalize

GROUPS = filters.ChatType.GROUPS
NEW = filters.UpdateType.MESSAGE
EDITED = filters.UpdateType.EDITED_MESSAGE


def _mentions_bot(message: Message) -> bool:
    bot = message.get_bot()
    username = (bot.username or "").lower()
    for entity, value in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        if entity.type == MessageEntity.MENTION and value.lower() == f"@{username}":
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id:
            return True
    return False


def _replies_to_bot(message: Message) -> bool:
    replied = message.reply_to_message
    if replied is None or replied.from_user is None:
        return False
    # In forum threads Telegram sets reply_to_message to the thread's first message.
    if message.is_topic_message and replied.message_id == message.message_thread_id:
        return False
    return replied.from_user.id == message.get_bot().id


class AddressedToBot(filters.MessageFilter):
    """A group message that mentions the bot or replies to one of its messages."""

    def filter(self, message: Message) -> bool:
        return _replies_to_bot(message) or _mentions_bot(message)


ADDRESSED_TO_BOT = AddressedToBot(name="AddressedToBot")


def question_text(message: Message) -> str:
    """The message text without the @mention of the bot."""
    username = message.get_bot().username or ""
    text = message.text or ""
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


def _hoi_text(message: Message) -> str | None:
    """The question after /hoi or /hoi@bot, or None when the message is not a /hoi command."""
    match = re.match(r"^/hoi(?:@(\w+))?(?:\s+|$)(.*)", message.text or "", flags=re.DOTALL)
    if not match:
        return None
    if match.group(1) and match.group(1).lower() != (message.get_bot().username or "").lower():
        return None
    return match.group(2).strip()


async def hoi(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    text = " ".join(context.args or []).strip()
    if not text:
        await reply_html(message, texts.HOI_USAGE)
        return
    await answer_question(update, context, text)


async def addressed_question(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    text = question_text(message)
    if not text:
        await reply_html(message, texts.HOI_USAGE)
        return
    await answer_question(update, context, text)


async def edited_group_question(update: Update, context: BotContext) -> None:
    """An edit of a message addressed to the bot is answered again if the question changed."""
    message, chat = update.edited_message, update.effective_chat
    if message is None or chat is None or not message.text:
        return
    hoi_question = _hoi_text(message)
    if hoi_question is not None:
        text = hoi_question
    elif ADDRESSED_TO_BOT.check_update(update):
        text = question_text(message)
    else:
        return
    if not text or context.bot_data.answers.answered.get(chat.id, message.message_id) == normalize(text):
        return
    await answer_question(update, context, text)


menu_hint = fixed_reply(texts.MENU_IN_PRIVATE)


def register(application: BotApplication) -> None:
    add = application.add_handler
    add(CommandHandler("hoi", hoi, filters=GROUPS & NEW))
    add(CommandHandler(["menu", "start"], menu_hint, filters=GROUPS & NEW))
    add(MessageHandler(GROUPS & NEW & filters.TEXT & ~filters.COMMAND & ADDRESSED_TO_BOT, addressed_question))
    add(MessageHandler(GROUPS & EDITED & filters.TEXT, edited_group_question))
