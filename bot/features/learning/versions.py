"""``/phienban``: model versions with their figures and time; one tap rolls back to an earlier one.

A rollback is published exactly like a new model (``learning.publish``): every NLU server loads
it while the fallback answers, and its own fallback examples and thresholds come back with it.
Every bot process also follows the current version row (a repeating job, no lease: each process
keeps its own fallback and thresholds), so a version published or rolled back to by another
process is served here within ``learning_follow_seconds``.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

import texts.learning as say
from bot.callback_data import Rollback, encode, matching, parse
from bot.context import BotApplication, BotContext
from bot.features.learning.access import curator_message, is_curator
from bot.replies import reply_html
from broadcasts.when import format_moment
from learning.models import ModelVersion, VersionStatus
from learning.publish import PublishError
from learning.versions import VersionFiles, VersionRepository


def _line(version: ModelVersion) -> str:
    regression = (version.figures.get("candidate") or {}).get("regression") or {}
    figures = (
        say.VERSION_FIGURES.format(correct=f"{regression['correct']:.1f}", wrong=f"{regression['wrong']:.1f}")
        if regression
        else ""
    )
    return say.VERSION_LINE.format(
        mark=say.VERSION_CURRENT if version.current else say.VERSION_OTHER,
        id=version.id,
        name=version.name,
        when=format_moment(version.published_at or version.created_at, "%H:%M %d/%m/%Y"),
        status=say.VERSION_STATUS.get(version.status, version.status),
        figures=figures,
    )


def _can_roll_back_to(version: ModelVersion) -> bool:
    return not version.current and version.status in (VersionStatus.PUBLISHED, VersionStatus.CANDIDATE)


async def versions_command(update: Update, context: BotContext) -> None:
    found = await curator_message(update, context)
    if found is None:
        return
    message, _user = found
    async with context.bot_data.sessions() as session:
        versions = await VersionRepository(session).newest()
    if not versions:
        await reply_html(message, say.VERSIONS_EMPTY)
        return
    settings = context.bot_data.nlu_settings
    assert settings is not None
    rows = [
        [InlineKeyboardButton(say.BUTTON_ROLLBACK.format(id=v.id), callback_data=encode(Rollback(v.id)))]
        for v in versions
        if _can_roll_back_to(v) and VersionFiles(settings.model_dir, v.name).exists()
    ]
    text = say.VERSIONS.format(lines="\n".join(_line(v) for v in versions))
    await reply_html(message, text, reply_markup=InlineKeyboardMarkup(rows) if rows else None)


async def on_rollback(update: Update, context: BotContext) -> None:
    query = update.callback_query
    action = parse(query.data) if query else None
    if query is None or not isinstance(action, Rollback):
        return
    message = query.message
    if message is None or message.chat.type != ChatType.PRIVATE or not await is_curator(context, query.from_user.id):
        await query.answer(say.NOT_CURATOR, show_alert=True)
        return
    async with context.bot_data.sessions() as session:
        version = await VersionRepository(session).get(action.version_id)
    settings = context.bot_data.nlu_settings
    assert settings is not None
    if version is None or not _can_roll_back_to(version) or not VersionFiles(settings.model_dir, version.name).exists():
        await query.answer(say.ROLLBACK_NOT_POSSIBLE, show_alert=True)
        return
    await query.answer(say.ROLLBACK_STARTED.format(id=version.id))
    try:
        published = await context.bot_data.ready.publisher.publish(version.name, rollback=True)
    except PublishError as error:
        await context.bot.send_message(message.chat.id, say.PUBLISH_FAILED.format(reason=str(error)[:300]))
        return
    async with context.bot_data.sessions() as session, session.begin():
        versions = VersionRepository(session)
        stored = await versions.get(version.id)
        if stored is not None:
            await versions.make_current(stored, context.bot_data.clock())
    await context.bot.send_message(
        message.chat.id,
        say.ROLLBACK_DONE.format(id=version.id, name=version.name, swap=f"{published.seconds:.1f}"),
        parse_mode="HTML",
    )


FOLLOW_JOB = "model-follow"


async def follow_current_version(context: BotContext) -> None:
    """One cheap look at the current version row; swap this process's fallback and thresholds if it moved."""
    if context.bot_data.opened is None:
        return
    async with context.bot_data.sessions() as session:
        current = await VersionRepository(session).current()
    await context.bot_data.ready.publisher.follow(current.name if current else None)


def register(application: BotApplication) -> None:
    if application.job_queue is None:
        raise RuntimeError("the job queue is missing: install python-telegram-bot[job-queue]")
    seconds = application.bot_data.learning.learning_follow_seconds
    application.job_queue.run_repeating(follow_current_version, interval=seconds, first=1.0, name=FOLLOW_JOB)
    application.add_handler(
        CommandHandler("phienban", versions_command, filters=filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE)
    )
    application.add_handler(CallbackQueryHandler(on_rollback, pattern=matching(Rollback)))
