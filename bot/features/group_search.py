"""``/nhom [từ khóa]``: list and search the groups within one's broadcast reach, page by page."""

from __future__ import annotations

import html
import math

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
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
QUERY_KEY = "group_query"  # the last /nhom search of the user, for the page buttons
MAX_QUERY_CHARS = 64


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
        count=total, query=f" khớp «{html.escape(query_text)}»" if query_text else "", page=page, pages=pages
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
    if context.user_data is not None:
        context.user_data[QUERY_KEY] = query_text
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
    query_text = str((context.user_data or {}).get(QUERY_KEY, ""))
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
