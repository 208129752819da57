"""Broadcaster rights, granted by super-admins: ``/capquyen``, ``/thuhoi``, ``/quyen``."""

from __future__ import annotations

import html

from telegram import Message, Update, User
from telegram.ext import CommandHandler, filters

import texts
from bot.context import BotApplication, BotContext
from bot.replies import reply_html
from broadcasts.roles import RoleRepository, is_super_admin
from broadcasts.tags import COMMUNE_TAG, LABEL_TAG, PROVINCE_TAG, PROVINCES, canonical_tag, describe_tag
from storage.numbers import telegram_user_id

PRIVATE_NEW = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
TAG_KINDS = (PROVINCE_TAG, COMMUNE_TAG, LABEL_TAG)


async def super_admin_message(update: Update, context: BotContext) -> tuple[Message, User] | None:
    """The message and user of a super-admin command; refuses everyone else politely."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return None
    if not is_super_admin(user.id, context.bot_data.admin_ids):
        await reply_html(message, texts.NOT_ALLOWED)
        return None
    return message, user


def describe_tags(tags: list[str]) -> str:
    """The tags as typed by the granting admin, or "every group" for none."""
    return ", ".join(describe_tag(str(tag)) for tag in tags) or texts.SCOPE_ALL


def split_tags(text: str) -> list[str]:
    """``tinh:ha_noi xa:Phường Ba Đình nhan:vùng cao`` → three tags (values may contain spaces)."""
    parts: list[str] = []
    for token in text.split():
        if ":" in token and token.split(":", 1)[0].lower() in TAG_KINDS:
            parts.append(token)
        elif parts:
            parts[-1] += " " + token
        else:
            parts.append(token)
    return parts


async def _target(update: Update, context: BotContext, usage: str, *, more: bool) -> tuple[Message, int, int] | None:
    """(message, super-admin id, target user id) of ``/cmd USER_ID …``; usage for a bad id, ``more`` args allowed."""
    allowed = await super_admin_message(update, context)
    if allowed is None:
        return None
    message, user = allowed
    args = context.args or []
    target = telegram_user_id(args[0]) if args and (more or len(args) == 1) else None
    if target is None:
        await reply_html(message, usage)
        return None
    return message, user.id, target


async def grant_command(update: Update, context: BotContext) -> None:
    """``/capquyen USER_ID [tinh:…] [xa:…] [nhan:…]`` — super-admins only."""
    usage = texts.GRANT_USAGE.format(provinces=", ".join(PROVINCES))
    found = await _target(update, context, usage, more=True)
    if found is None:
        return
    message, admin_id, target = found
    scope: list[str] = []
    for raw in split_tags(" ".join((context.args or [])[1:])):
        if canonical_tag(raw) is None:
            await reply_html(message, usage)
            return
        kind, value = raw.split(":", 1)
        scope.append(f"{kind.lower()}:{value.strip()}")
    async with context.bot_data.sessions() as session, session.begin():
        await RoleRepository(session).grant(target, scope, admin_id)
    await reply_html(message, texts.GRANT_DONE.format(user_id=target, scope=html.escape(describe_tags(scope))))


async def revoke_command(update: Update, context: BotContext) -> None:
    found = await _target(update, context, texts.REVOKE_USAGE, more=False)
    if found is None:
        return
    message, _admin_id, target = found
    async with context.bot_data.sessions() as session, session.begin():
        removed = await RoleRepository(session).revoke(target)
    await reply_html(message, (texts.REVOKE_DONE if removed else texts.REVOKE_NONE).format(user_id=target))


async def roles_command(update: Update, context: BotContext) -> None:
    allowed = await super_admin_message(update, context)
    if allowed is None:
        return
    message, _user = allowed
    async with context.bot_data.sessions() as session:
        rows = await RoleRepository(session).all()
    if not rows:
        await reply_html(message, texts.ROLES_EMPTY)
        return
    lines = "\n".join(
        f"• <code>{row.user_id}</code>: {html.escape(describe_tags(list(row.scope or [])))}" for row in rows
    )
    await reply_html(message, texts.ROLES_LIST.format(lines=lines))


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("capquyen", grant_command, filters=PRIVATE_NEW))
    application.add_handler(CommandHandler("thuhoi", revoke_command, filters=PRIVATE_NEW))
    application.add_handler(CommandHandler("quyen", roles_command, filters=PRIVATE_NEW))
