"""``/nhom [từ khóa]``: list and search the groups within one's broadcast reach, page by page.

The page buttons carry only the page number (callback data has 64 bytes; a query may have 64
characters). The search is read back from the page message itself (its header says
``khớp «…»``), so no process has to remember it and any process can turn the page.
"""

from __future__ import annotations

import html
import math

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

import texts
from bot.callback_data import GroupPage, encode, matching, parse
from bot.context import BotApplication, BotContext
from bot.replies import edit_text, reply_html
from broadcasts.models import Group
from broadcasts.registry import GroupRepository
from broadcasts.roles import broadcaster_scope
from broadcasts.tags import PROVINCES

GROUPS_PER_PAGE = 15
MAX_QUERY_CHARS = 64
QUERY_OPEN, QUERY_CLOSE = " khớp «", "»"


def query_of_page(text: str | None) -> str:
    """The search shown in a page's first line (the header), or "" for the whole list."""
    header = (text or "").split("\n", 1)[0]
    start = header.find(QUERY_OPEN)
    end = header.rfind(QUERY_CLOSE)
    if start < 0 or end < start + len(QUERY_OPEN):
        return ""
    return header[start + len(QUERY_OPEN) : end][:MAX_QUERY_CHARS]


def _group_line(group: Group) -> str:
    tags = [PROVINCES.get(group.province or "", "")] if group.province else []
    if group.commune:
        tags.append(group.commune)
    tags += [f"#{label}" for label in group.labels]
    return texts.GROUP_LINE.format(
        mark="🟢" if group.active else "⚪️",
        title=html.escape(group.title),
        tags=html.escape(", ".join(tags)) or texts.TAG_NONE,
        chat_id=group.chat_id,
    )


async def _group_page(
    context: BotContext, user_id: int, query_text: str, page: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """The page's text and buttons; None when the user may not broadcast at all."""
    data = context.bot_data
    async with data.sessions() as session:
        scope = await broadcaster_scope(session, user_id, data.admin_ids)
        if not scope.may_broadcast:
            return None
        repository = GroupRepository(session)
        _, total = await repository.search(query_text, scope, limit=0, offset=0)
        if total == 0:
            return texts.GROUP_LIST_EMPTY, None
        pages = max(1, math.ceil(total / GROUPS_PER_PAGE))
        page = min(max(page, 1), pages)
        shown, _ = await repository.search(
            query_text, scope, limit=GROUPS_PER_PAGE, offset=(page - 1) * GROUPS_PER_PAGE
        )
        lines = [_group_line(g) for g in shown]
    header = texts.GROUP_LIST_HEADER.format(
        count=total,
        query=f"{QUERY_OPEN}{html.escape(query_text)}{QUERY_CLOSE}" if query_text else "",
        page=page,
        pages=pages,
    )
    buttons = []
    if page > 1:
        buttons.append(InlineKeyboardButton(texts.BUTTON_PREVIOUS, callback_data=encode(GroupPage(page - 1))))
    if page < pages:
        buttons.append(InlineKeyboardButton(texts.BUTTON_NEXT, callback_data=encode(GroupPage(page + 1))))
    return header + "\n" + "\n".join(lines), InlineKeyboardMarkup([buttons]) if buttons else None


async def groups_command(update: Update, context: BotContext) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    query_text = " ".join(context.args or []).strip()[:MAX_QUERY_CHARS]
    page = await _group_page(context, user.id, query_text, 1)
    if page is None:
        await reply_html(message, texts.NOT_ALLOWED)
        return
    await reply_html(message, page[0], reply_markup=page[1])


async def on_group_page(update: Update, context: BotContext) -> None:
    query = update.callback_query
    action = parse(query.data) if query else None
    if query is None or not isinstance(action, GroupPage):
        return
    message = query.message
    query_text = query_of_page(message.text if isinstance(message, Message) else None)
    page = await _group_page(context, query.from_user.id, query_text, action.page)
    if page is None:
        await query.answer(texts.NOT_ALLOWED, show_alert=True)
        return
    await query.answer()
    await edit_text(query, page[0], page[1])


def register(application: BotApplication) -> None:
    private_new = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("nhom", groups_command, filters=private_new))
    application.add_handler(CallbackQueryHandler(on_group_page, pattern=matching(GroupPage)))
