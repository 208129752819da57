"""Is there a human for this member? Asked before any reply offers or promises one."""

from __future__ import annotations

from bot.context import BotContext
from support.repository import asker_province


async def human_for(context: BotContext, user_id: int, chat_id: int, chat_type: str) -> bool:
    """Would a hand-off of this member's question reach a support chat?"""
    directory = context.bot_data.directory
    if directory.default_chat is not None:
        return True
    if not await directory.exists():
        return False
    async with context.bot_data.sessions() as session:
        province = await asker_province(session, user_id, chat_id, chat_type)
    return await directory.route(province) is not None
