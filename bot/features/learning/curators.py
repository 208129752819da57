"""Granting and revoking the curator role, like the broadcaster role: ``/capbientap ID``,
``/thuhoibientap ID``, ``/bientap`` (the list). Super-admins only."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

import texts.learning as say
from bot.context import BotApplication, BotContext
from bot.features.roles import super_admin_message
from bot.replies import reply_html
from curation.roles import CuratorRepository
from storage.numbers import telegram_user_id

PRIVATE_NEW = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


async def _admin_target(update: Update, context: BotContext, usage: str) -> tuple[int, int] | None:
    allowed = await super_admin_message(update, context)
    if allowed is None:
        return None
    message, user = allowed
    args = context.args or []
    target = telegram_user_id(args[0]) if len(args) == 1 else None
    if target is None:
        await reply_html(message, usage)
        return None
    return user.id, target


async def grant_command(update: Update, context: BotContext) -> None:
    found = await _admin_target(update, context, say.CURATOR_GRANT_USAGE)
    if found is None or update.effective_message is None:
        return
    admin_id, target = found
    async with context.bot_data.sessions() as session, session.begin():
        await CuratorRepository(session).grant(target, admin_id, context.bot_data.clock())
    await reply_html(update.effective_message, say.CURATOR_GRANTED.format(user_id=target))


async def revoke_command(update: Update, context: BotContext) -> None:
    found = await _admin_target(update, context, say.CURATOR_REVOKE_USAGE)
    if found is None or update.effective_message is None:
        return
    _admin_id, target = found
    async with context.bot_data.sessions() as session, session.begin():
        removed = await CuratorRepository(session).revoke(target)
    text = say.CURATOR_REVOKED if removed else say.CURATOR_NONE
    await reply_html(update.effective_message, text.format(user_id=target))


async def list_command(update: Update, context: BotContext) -> None:
    allowed = await super_admin_message(update, context)
    if allowed is None:
        return
    message, _user = allowed
    async with context.bot_data.sessions() as session:
        rows = await CuratorRepository(session).all()
    if not rows:
        await reply_html(message, say.CURATORS_EMPTY)
        return
    lines = "\n".join(f"• <code>{row.user_id}</code>" for row in rows)
    await reply_html(message, say.CURATORS_LIST.format(lines=lines))


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("capbientap", grant_command, filters=PRIVATE_NEW))
    application.add_handler(CommandHandler("thuhoibientap", revoke_command, filters=PRIVATE_NEW))
    application.add_handler(CommandHandler("bientap", list_command, filters=PRIVATE_NEW))
