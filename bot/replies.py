"""Sending and editing messages the same safe way everywhere.

Edits go through :func:`edit_text` / :func:`edit_markup`, which treat Telegram's "message is
not modified" (pressing an already-selected button) as the success it is; a message that can
no longer be edited is reported as False rather than raised into the error handler.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, MaybeInaccessibleMessage, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest

logger = logging.getLogger(__name__)

_HARMLESS_EDIT_ERRORS = ("message is not modified",)
_GONE_EDIT_ERRORS = ("message to edit not found", "message can't be edited", "message_id_invalid")


async def reply_html(message: Message, text: str, **kwargs: object) -> Message:
    """Reply in the same chat and forum thread, quoting the question in groups."""
    quote = message.chat.type != ChatType.PRIVATE
    return await message.reply_html(text, do_quote=quote, disable_web_page_preview=True, **kwargs)  # type: ignore[arg-type]


def _edit_outcome(error: BadRequest) -> bool:
    """True: nothing to change (fine); False: the message is gone; re-raise anything else."""
    text = str(error).lower()
    if any(part in text for part in _HARMLESS_EDIT_ERRORS):
        return True
    if any(part in text for part in _GONE_EDIT_ERRORS):
        logger.info("message not edited: %s", error)
        return False
    raise error


async def edit_text(target: CallbackQuery | Message, text: str, markup: InlineKeyboardMarkup | None = None) -> bool:
    """Edit a message's HTML text and keyboard; True when it shows ``text`` afterwards."""
    try:
        if isinstance(target, CallbackQuery):
            await target.edit_message_text(
                text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
            )
        else:
            await target.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True)
    except BadRequest as error:
        return _edit_outcome(error)
    return True


async def edit_markup(query: CallbackQuery, markup: InlineKeyboardMarkup | None) -> bool:
    try:
        await query.edit_message_reply_markup(markup)
    except BadRequest as error:
        return _edit_outcome(error)
    return True


def editable_message(query: CallbackQuery) -> Message | None:
    """The button's message when the bot can still edit it (not deleted, not inaccessible)."""
    message: MaybeInaccessibleMessage | None = query.message
    return message if isinstance(message, Message) else None


def fixed_reply(text: str) -> Callable[[Update, object], Coroutine[Any, Any, None]]:
    """A handler that answers any message with ``text`` (hints, "unknown command", …)."""

    async def reply(update: Update, _context: object) -> None:
        if update.effective_message:
            await reply_html(update.effective_message, text)

    return reply


def display_name(update: Update) -> str:
    """The first name for the greeting only; never stored."""
    user = update.effective_user
    return html.escape(user.first_name) if user and user.first_name else "bạn"
