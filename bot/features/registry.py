"""The group registry: the bot added to or removed from a group, and group → supergroup migrations."""

from __future__ import annotations

from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ChatMemberHandler, MessageHandler, filters

from bot.context import BotApplication, BotContext
from broadcasts.migration import migrate_group
from broadcasts.registry import GroupRepository
from support.repository import SupportChatRepository

_PRESENT = {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}


def _is_present(member: ChatMember) -> bool:
    return member.status in _PRESENT or (
        member.status == ChatMemberStatus.RESTRICTED and bool(getattr(member, "is_member", False))
    )


async def on_my_chat_member(update: Update, context: BotContext) -> None:
    """The bot was added to or removed from a group."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return
    async with context.bot_data.sessions() as session, session.begin():
        groups = GroupRepository(session)
        if _is_present(change.new_chat_member):
            await groups.register(
                change.chat.id, change.chat.title or str(change.chat.id), change.chat.type, bool(change.chat.is_forum)
            )
        else:
            await groups.deactivate(change.chat.id)


async def on_migration(update: Update, context: BotContext) -> None:
    """A group became a supergroup: its chat id changes; tags and pending deliveries follow."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    async with context.bot_data.sessions() as session, session.begin():
        await migrate_group(session, old, new)
        await SupportChatRepository(session).move_chat(old, new)
    context.bot_data.directory.invalidate()


def register(application: BotApplication) -> None:
    application.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migration))
