"""One error handler: log everything, tell the user something short, never a stack trace."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

import texts
from bot.context import BotContext

logger = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    logger.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(texts.ERROR)
        elif update.effective_message is not None and update.effective_chat is not None:
            await update.effective_message.reply_text(texts.ERROR, do_quote=True)
    except TelegramError:
        logger.warning("could not tell the user about the error", exc_info=True)
