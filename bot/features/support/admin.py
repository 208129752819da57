"""Attaching support chats to provinces: ``/hotro_tinh Tên tỉnh`` and ``/hotro_bo``, typed inside the chat.

Only super-admins; the chat must be a group or supergroup (the bot should be an administrator
there, so that it can open forum topics). The default chat is ``SUPPORT_CHAT_ID`` and needs no
command.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CommandHandler, filters

import texts.support as say
from bot.context import BotApplication, BotContext
from bot.features.roles import super_admin_message
from bot.replies import reply_html
from broadcasts.tags import PROVINCES
from support.repository import SupportChatRepository
from support.routing import province_from_text

_GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)


async def _mapping(context: BotContext) -> str:
    directory = context.bot_data.directory
    directory.invalidate()
    attached = await directory.by_province()
    lines = [
        say.ATTACH_DEFAULT.format(chat_id=directory.default_chat)
        if directory.default_chat is not None
        else say.ATTACH_NO_DEFAULT
    ]
    lines += [say.ATTACH_LINE.format(province=PROVINCES[p], chat_id=c) for p, c in sorted(attached.items())]
    if not attached:
        lines.append("• " + say.ATTACH_NONE)
    return "\n".join(lines)


async def attach_command(update: Update, context: BotContext) -> None:
    allowed, chat = await super_admin_message(update, context), update.effective_chat
    if allowed is None or chat is None:
        return
    message, user = allowed
    typed = " ".join(context.args or []).strip()
    if not typed:
        await reply_html(message, say.ATTACH_USAGE.format(lines=await _mapping(context)))
        return
    if chat.type not in _GROUPS:
        await reply_html(message, say.ATTACH_GROUP_ONLY)
        return
    province = province_from_text(typed)
    if province is None:
        await reply_html(message, say.ATTACH_UNKNOWN_PROVINCE.format(text=typed[:64]))
        return
    async with context.bot_data.sessions() as session, session.begin():
        await SupportChatRepository(session).attach(province, chat.id, user.id, context.bot_data.clock())
    context.bot_data.directory.invalidate()
    await reply_html(message, say.ATTACH_DONE.format(province=PROVINCES[province]))


async def detach_command(update: Update, context: BotContext) -> None:
    allowed, chat = await super_admin_message(update, context), update.effective_chat
    if allowed is None or chat is None:
        return
    message, _user = allowed
    async with context.bot_data.sessions() as session, session.begin():
        provinces = await SupportChatRepository(session).detach(chat.id)
    context.bot_data.directory.invalidate()
    if not provinces:
        await reply_html(message, say.DETACH_NONE)
        return
    await reply_html(message, say.DETACH_DONE.format(provinces=", ".join(PROVINCES[p] for p in provinces)))


def register(application: BotApplication) -> None:
    new = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("hotro_tinh", attach_command, filters=new))
    application.add_handler(CommandHandler("hotro_bo", detach_command, filters=new))
