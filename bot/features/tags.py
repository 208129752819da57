"""Tagging a team group (in the group, by its admins): province, commune and labels."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

import texts
from bot.callback_data import ClearCommune, ProvinceMenu, RemoveLabel, SetProvince, encode, matching, parse
from bot.context import BotApplication, BotContext
from bot.replies import edit_text, reply_html
from broadcasts.models import Group
from broadcasts.registry import GroupRepository
from broadcasts.tags import PROVINCES

COMMUNE_WORDS = ("xa", "xã", "phuong", "phường")
LABEL_WORDS = ("nhan", "nhãn")
MAX_LABEL_BUTTONS = 20


async def _is_group_admin(context: BotContext, chat_id: int, user_id: int) -> bool:
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError:
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


def tag_summary(group: Group) -> str:
    labels = ", ".join(html.escape(str(label)) for label in group.labels) or texts.TAG_NONE
    return texts.TAG_SUMMARY.format(
        title=html.escape(group.title),
        province=PROVINCES.get(group.province or "", texts.TAG_NONE),
        commune=html.escape(group.commune) if group.commune else texts.TAG_NONE,
        labels=labels,
    )


def _tag_keyboard(group: Group) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(texts.BUTTON_CHOOSE_PROVINCE, callback_data=encode(ProvinceMenu()))]]
    if group.commune:
        rows.append([InlineKeyboardButton(texts.BUTTON_CLEAR_COMMUNE, callback_data=encode(ClearCommune()))])
    for index, label in enumerate(group.labels[:MAX_LABEL_BUTTONS]):
        text = texts.BUTTON_REMOVE_LABEL.format(label=str(label)[:40])
        rows.append([InlineKeyboardButton(text, callback_data=encode(RemoveLabel(index)))])
    return InlineKeyboardMarkup(rows)


def _province_keyboard() -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(name, callback_data=encode(SetProvince(key))) for key, name in PROVINCES.items()]
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])


async def tag_command(update: Update, context: BotContext) -> None:
    """``/gan_the`` in a group: show tags; ``/gan_the xa …`` / ``/gan_the nhan …`` set them."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:
        return
    if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        await reply_html(message, texts.TAG_GROUP_ONLY)
        return
    if not await _is_group_admin(context, chat.id, user.id):
        await reply_html(message, texts.TAG_ADMINS_ONLY)
        return
    args = context.args or []
    kind = args[0].lower() if args else ""
    value = " ".join(args[1:]).strip()
    async with context.bot_data.sessions() as session, session.begin():
        groups = GroupRepository(session)
        if await groups.by_chat(chat.id) is None:
            await groups.register(chat.id, chat.title or str(chat.id), chat.type, bool(chat.is_forum))
        if kind in COMMUNE_WORDS and value:
            await groups.set_commune(chat.id, value)
        elif kind in LABEL_WORDS and value:
            await groups.add_label(chat.id, value)
        group = await groups.by_chat(chat.id)
        assert group is not None
        summary, keyboard = tag_summary(group), _tag_keyboard(group)
    await reply_html(message, summary, reply_markup=keyboard)


async def on_tag_button(update: Update, context: BotContext) -> None:
    """Province menu / set province / remove label / clear commune; only for the group's admins."""
    query, chat = update.callback_query, update.effective_chat
    if query is None:
        return
    action = parse(query.data)
    if (
        chat is None
        or chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP)
        or not await _is_group_admin(context, chat.id, query.from_user.id)
    ):
        await query.answer(texts.TAG_ADMINS_ONLY, show_alert=True)
        return
    if isinstance(action, ProvinceMenu):
        await query.answer()
        await edit_text(query, texts.TAG_CHOOSE_PROVINCE, _province_keyboard())
        return
    async with context.bot_data.sessions() as session, session.begin():
        groups = GroupRepository(session)
        group = await groups.by_chat(chat.id)
        if group is not None and isinstance(action, SetProvince) and action.province in PROVINCES:
            group = await groups.set_province(chat.id, action.province)
        elif group is not None and isinstance(action, ClearCommune):
            group = await groups.set_commune(chat.id, None)
        elif group is not None and isinstance(action, RemoveLabel) and action.index < len(group.labels):
            group = await groups.remove_label(chat.id, str(group.labels[action.index]))
        else:
            group = None  # no such group, or a button from an older tag message
        summary, keyboard = (tag_summary(group), _tag_keyboard(group)) if group is not None else ("", None)
    if group is None:
        await query.answer(texts.MENU_EXPIRED)
        return
    await query.answer(texts.TAG_SAVED)
    await edit_text(query, summary, keyboard)


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("gan_the", tag_command, filters=filters.UpdateType.MESSAGE))
    application.add_handler(
        CallbackQueryHandler(on_tag_button, pattern=matching(ProvinceMenu, SetProvince, RemoveLabel, ClearCommune))
    )
