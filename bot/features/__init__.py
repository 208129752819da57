"""Telegram handlers: thin functions that translate updates into calls on ``answering.service``."""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.handlers import broadcast, callbacks, errors, groups, inline, private, registry

PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS
NEW = filters.UpdateType.MESSAGE
EDITED = filters.UpdateType.EDITED_MESSAGE
NON_TEXT = (
    filters.Sticker.ALL
    | filters.PHOTO
    | filters.VIDEO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO_NOTE
    | filters.Document.ALL
    | filters.LOCATION
    | filters.CONTACT
    | filters.ANIMATION
    | filters.POLL
    | filters.Dice.ALL
)


def register(application: Application) -> None:  # type: ignore[type-arg]
    """The one place that wires handlers; order matters within a group."""
    add = application.add_handler
    # broadcasts (private chat): the conversation goes first so its steps win over the rest
    add(broadcast.conversation())
    add(CommandHandler("baocao", broadcast.report_command, filters=PRIVATE & NEW))
    add(CommandHandler("lichhen", broadcast.scheduled_command, filters=PRIVATE & NEW))
    add(CommandHandler("nhom", registry.groups_command, filters=PRIVATE & NEW))
    add(CommandHandler("capquyen", registry.grant_command, filters=PRIVATE & NEW))
    add(CommandHandler("thuhoi", registry.revoke_command, filters=PRIVATE & NEW))
    add(CommandHandler("quyen", registry.roles_command, filters=PRIVATE & NEW))
    # group registry and tags
    add(ChatMemberHandler(registry.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    add(MessageHandler(filters.StatusUpdate.MIGRATE, registry.on_migration))
    add(CommandHandler("gan_the", registry.tag_command, filters=NEW))
    # private chat
    add(CommandHandler("start", private.start, filters=PRIVATE & NEW))
    add(CommandHandler("menu", private.menu, filters=PRIVATE & NEW))
    add(CommandHandler("help", private.help_command, filters=NEW))
    add(MessageHandler(PRIVATE & NEW & filters.TEXT & ~filters.COMMAND, private.question))
    add(MessageHandler(PRIVATE & EDITED & filters.TEXT & ~filters.COMMAND, private.edited_question))
    add(MessageHandler(PRIVATE & NEW & NON_TEXT, private.non_text))
    add(MessageHandler(PRIVATE & NEW & filters.COMMAND, private.unknown_command))
    # groups and forum threads
    add(CommandHandler("hoi", groups.hoi, filters=GROUPS & NEW))
    add(CommandHandler(["menu", "start"], groups.menu_hint, filters=GROUPS & NEW))
    add(
        MessageHandler(
            GROUPS & NEW & filters.TEXT & ~filters.COMMAND & groups.ADDRESSED_TO_BOT, groups.addressed_question
        )
    )
    add(MessageHandler(GROUPS & EDITED & filters.TEXT, groups.edited_group_question))
    # buttons and inline mode
    add(CallbackQueryHandler(callbacks.on_button))
    add(InlineQueryHandler(inline.inline_query))
    application.add_error_handler(errors.on_error)
