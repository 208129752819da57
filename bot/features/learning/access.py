"""Who may curate: super-admins and users granted the curator role; only in private chat."""

from __future__ import annotations

from telegram import Message, Update, User
from telegram.constants import ChatType

import texts.learning as say
from bot.context import BotContext
from bot.replies import reply_html
from curation.roles import CuratorRepository


async def is_curator(context: BotContext, user_id: int) -> bool:
    async with context.bot_data.sessions() as session:
        return await CuratorRepository(session).is_curator(user_id, context.bot_data.admin_ids)


async def curator_message(update: Update, context: BotContext) -> tuple[Message, User] | None:
    """The message and user of a curator command in private chat; everyone else gets a polite no."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return None
    if chat.type != ChatType.PRIVATE:
        await reply_html(message, say.PRIVATE_ONLY)
        return None
    if not await is_curator(context, user.id):
        await reply_html(message, say.NOT_CURATOR)
        return None
    return message, user
