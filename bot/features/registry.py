"""Group registry (my_chat_member, migrations), tagging by group admins, roles and group search."""

from __future__ import annotations

import html
import math

from telegram import ChatMember, ChatMemberUpdated, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

import texts
from bot.callback_data import ClearCommune, GroupPage, ProvinceMenu, RemoveLabel, SetProvince, encode
from bot.replies import reply_html, services
from broadcasts.roles import broadcaster_scope, is_super_admin
from answering.service import Services
from broadcasts.registry import PROVINCES, GroupRepository, RoleRepository, canonical_tag, describe_tag, in_scope
from broadcasts.models import Group

GROUPS_PER_PAGE = 15
_PRESENT = {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}


def _is_present(member: ChatMember) -> bool:
    return member.status in _PRESENT or (
        member.status == ChatMemberStatus.RESTRICTED and bool(getattr(member, "is_member", False))
    )


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was added to or removed from a group."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return
    found = services(context)
    async with found.runtime.sessions() as session, session.begin():
        groups = GroupRepository(session)
        if _is_present(change.new_chat_member):
            await groups.register(
                change.chat.id, change.chat.title or str(change.chat.id), change.chat.type, bool(change.chat.is_forum)
            )
        else:
            await groups.deactivate(change.chat.id)


async def on_migration(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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
    async with services(context).runtime.sessions() as session, session.begin():
        await GroupRepository(session).migrate(old, new)


async def _is_group_admin(context: ContextTypes.DEFAULT_TYPE, chat_id: int, user_id: int) -> bool:
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError:
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


def _tag_summary(group: Group) -> str:
    labels = ", ".join(html.escape(str(label)) for label in group.labels or []) or texts.TAG_NONE
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
    for index, label in enumerate((group.labels or [])[:20]):
        text = texts.BUTTON_REMOVE_LABEL.format(label=str(label)[:40])
        rows.append([InlineKeyboardButton(text, callback_data=encode(RemoveLabel(index)))])
    return InlineKeyboardMarkup(rows)


def _province_keyboard() -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(name, callback_data=encode(SetProvince(key))) for key, name in PROVINCES.items()]
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])


async def tag_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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
    async with services(context).runtime.sessions() as session, session.begin():
        groups = GroupRepository(session)
        group = await groups.by_chat(chat.id) or await groups.register(
            chat.id, chat.title or str(chat.id), chat.type, bool(chat.is_forum)
        )
        kind = args[0].lower() if args else ""
        value = " ".join(args[1:]).strip()
        if kind in ("xa", "xã", "phuong", "phường") and value:
            await groups.set_commune(chat.id, value)
        elif kind in ("nhan", "nhãn") and value:
            await groups.add_label(chat.id, value)
        summary, keyboard = _tag_summary(group), _tag_keyboard(group)
    await reply_html(message, summary, reply_markup=keyboard)


async def on_tag_button(update: Update, context: ContextTypes.DEFAULT_TYPE, action: object) -> None:
    """Province menu / set province / remove label / clear commune; only for the group's admins."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP) or not await _is_group_admin(
        context, chat.id, query.from_user.id
    ):
        await query.answer(texts.TAG_ADMINS_ONLY, show_alert=True)
        return
    if isinstance(action, ProvinceMenu):
        await query.answer()
        await query.edit_message_text(texts.TAG_CHOOSE_PROVINCE, reply_markup=_province_keyboard())
        return
    async with services(context).runtime.sessions() as session, session.begin():
        groups = GroupRepository(session)
        group = await groups.by_chat(chat.id)
        if group is None:
            await query.answer(texts.MENU_EXPIRED)
            return
        if isinstance(action, SetProvince) and action.province in PROVINCES:
            await groups.set_province(chat.id, action.province)
        elif isinstance(action, ClearCommune):
            await groups.set_commune(chat.id, None)
        elif isinstance(action, RemoveLabel) and action.index < len(group.labels or []):
            await groups.remove_label(chat.id, str(group.labels[action.index]))
        else:
            await query.answer(texts.MENU_EXPIRED)
            return
        summary, keyboard = _tag_summary(group), _tag_keyboard(group)
    await query.answer(texts.TAG_SAVED)
    await query.edit_message_text(summary, parse_mode=ParseMode.HTML, reply_markup=keyboard)


def _group_line(group: Group) -> str:
    tags = [PROVINCES.get(group.province or "", "")] if group.province else []
    if group.commune:
        tags.append(group.commune)
    tags += [f"#{label}" for label in group.labels or []]
    return texts.GROUP_LINE.format(
        mark="🟢" if group.active else "⚪️",
        title=html.escape(group.title),
        tags=html.escape(", ".join(tags)) or texts.TAG_NONE,
        chat_id=group.chat_id,
    )


async def _group_page(
    context: ContextTypes.DEFAULT_TYPE, user_id: int, query_text: str, page: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    found = services(context)
    async with found.runtime.sessions() as session:
        scope = await broadcaster_scope(session, user_id, found.admin_ids)
        if scope is None:
            return None
        matches, _ = await GroupRepository(session).search(query_text, limit=100_000)
    visible = [g for g in matches if in_scope(g, scope)]
    if not visible:
        return texts.GROUP_LIST_EMPTY, None
    pages = max(1, math.ceil(len(visible) / GROUPS_PER_PAGE))
    page = min(max(page, 1), pages)
    shown = visible[(page - 1) * GROUPS_PER_PAGE : page * GROUPS_PER_PAGE]
    header = texts.GROUP_LIST_HEADER.format(
        count=len(visible), query=f" khớp «{html.escape(query_text)}»" if query_text else "", page=page, pages=pages
    )
    buttons = []
    if page > 1:
        buttons.append(InlineKeyboardButton(texts.BUTTON_PREVIOUS, callback_data=encode(GroupPage(page - 1))))
    if page < pages:
        buttons.append(InlineKeyboardButton(texts.BUTTON_NEXT, callback_data=encode(GroupPage(page + 1))))
    text = header + "\n" + "\n".join(_group_line(g) for g in shown)
    return text, InlineKeyboardMarkup([buttons]) if buttons else None


async def groups_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/nhom [từ khóa]``: list and search the groups within the user's reach."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    query_text = " ".join(context.args or []).strip()
    if context.user_data is not None:
        context.user_data["group_query"] = query_text
    page = await _group_page(context, user.id, query_text, 1)
    if page is None:
        await reply_html(message, texts.NOT_ALLOWED)
        return
    await reply_html(message, page[0], reply_markup=page[1])


async def on_group_page(update: Update, context: ContextTypes.DEFAULT_TYPE, action: GroupPage) -> None:
    query = update.callback_query
    if query is None:
        return
    query_text = str((context.user_data or {}).get("group_query", ""))
    page = await _group_page(context, query.from_user.id, query_text, action.page)
    if page is None:
        await query.answer(texts.NOT_ALLOWED, show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(page[0], parse_mode=ParseMode.HTML, reply_markup=page[1])


async def _super_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Message, User, Services] | None:
    """The message, user and services for a super-admin command; refuses everyone else politely."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return None
    found = services(context)
    if not is_super_admin(user.id, found.admin_ids):
        await reply_html(message, texts.NOT_ALLOWED)
        return None
    return message, user, found


async def grant_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/capquyen USER_ID [tinh:…] [xa:…] [nhan:…]`` — super-admins only."""
    allowed = await _super_admin(update, context)
    if allowed is None:
        return
    message, user, found = allowed
    args = context.args or []
    usage = texts.GRANT_USAGE.format(provinces=", ".join(PROVINCES))
    if not args or not args[0].lstrip("-").isdigit():
        await reply_html(message, usage)
        return
    scope: list[str] = []
    for raw in _split_tags(" ".join(args[1:])):
        if canonical_tag(raw) is None:
            await reply_html(message, usage)
            return
        kind, value = raw.split(":", 1)
        scope.append(f"{kind.lower()}:{value.strip()}")
    target = int(args[0])
    async with found.runtime.sessions() as session, session.begin():
        await RoleRepository(session).grant(target, scope, user.id)
    described = ", ".join(describe_tag(tag) for tag in scope) or texts.SCOPE_ALL
    await reply_html(message, texts.GRANT_DONE.format(user_id=target, scope=html.escape(described)))


def _split_tags(text: str) -> list[str]:
    """``tinh:ha_noi xa:Phường Ba Đình nhan:vùng cao`` → three tags (values may contain spaces)."""
    parts: list[str] = []
    for token in text.split():
        if ":" in token and token.split(":", 1)[0].lower() in ("tinh", "xa", "nhan"):
            parts.append(token)
        elif parts:
            parts[-1] += " " + token
        else:
            parts.append(token)
    return parts


async def revoke_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    allowed = await _super_admin(update, context)
    if allowed is None:
        return
    message, _user, found = allowed
    args = context.args or []
    if len(args) != 1 or not args[0].lstrip("-").isdigit():
        await reply_html(message, texts.REVOKE_USAGE)
        return
    target = int(args[0])
    async with found.runtime.sessions() as session, session.begin():
        removed = await RoleRepository(session).revoke(target)
    await reply_html(message, (texts.REVOKE_DONE if removed else texts.REVOKE_NONE).format(user_id=target))


async def roles_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    allowed = await _super_admin(update, context)
    if allowed is None:
        return
    message, _user, found = allowed
    async with found.runtime.sessions() as session:
        rows = await RoleRepository(session).all()
    if not rows:
        await reply_html(message, texts.ROLES_EMPTY)
        return
    lines = "\n".join(
        f"• <code>{row.user_id}</code>: {html.escape(', '.join(describe_tag(t) for t in row.scope) or texts.SCOPE_ALL)}"
        for row in rows
    )
    await reply_html(message, texts.ROLES_LIST.format(lines=lines))
