"""Buttons no feature claims: forged, truncated or from an older version of the bot."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler

import texts
from bot.context import BotApplication, BotContext

logger = logging.getLogger(__name__)


async def on_stale_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    logger.info("ignored stale or forged callback data %r", (query.data or "")[:80])
    await query.answer(texts.MENU_EXPIRED)


def register(application: BotApplication) -> None:
    """Registered after every feature: it takes any callback query no one else matched."""
    application.add_handler(CallbackQueryHandler(on_stale_button))
