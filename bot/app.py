"""Building and running the Telegram ``Application`` (the one wiring function lives here)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from urllib.parse import urlparse

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ApplicationBuilder

import texts
import texts.learning as learning_texts
import texts.stats as stats_texts
import texts.support as say
from answering.ratelimit import rate_limiter
from answering.runtime import open_runtime
from answering.service import AnswerService
from bot.context import CONTEXT_TYPES, BotApplication, BotData, Open
from bot.errors import on_error
from bot.features import register_all
from bot.sender.runner import start_sender_task
from bot.settings import BotSettings
from coordination.conversations import ConversationIndex
from coordination.leases import LeaseKeeper, keep_renewed
from learning.publish import ModelPublisher
from learning.settings import LearningSettings
from nlu.settings import NluSettings
from records.repository import RecordIds
from records.writer import RecordWriter
from storage.settings import StorageSettings
from support.directory import SupportDirectory
from support.settings import SupportSettings

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = Update.ALL_TYPES
RECORD_NODE_PREFIX = "record-node:"
NODE_LEASE_SECONDS = 60.0


def webhook_secret(settings: BotSettings) -> str:
    """``WEBHOOK_SECRET``, or one derived from the token (HMAC-SHA256, hex: Telegram's allowed characters).

    Derived, not random: every process behind the load balancer computes the same secret, so each
    one's ``setWebhook`` (same URL, same secret) is harmless and each accepts every update.
    """
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    assert settings.telegram_bot_token is not None
    token = settings.telegram_bot_token.get_secret_value().encode()
    return hmac.new(token, b"webhook-secret", hashlib.sha256).hexdigest()


async def _keep_record_node(leases: LeaseKeeper, ids: RecordIds) -> None:
    """Renew this process's record-id node; if it was lost (a long database outage), take another."""
    while True:
        await keep_renewed(leases, f"{RECORD_NODE_PREFIX}{ids.node}", NODE_LEASE_SECONDS, NODE_LEASE_SECONDS / 3)
        ids.node = await leases.acquire_node(RECORD_NODE_PREFIX, RecordIds.NODES, NODE_LEASE_SECONDS)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def build_application(
    settings: BotSettings,
    nlu_settings: NluSettings | None = None,
    storage_settings: StorageSettings | None = None,
    support_settings: SupportSettings | None = None,
    learning_settings: LearningSettings | None = None,
) -> BotApplication:
    """The Application with every feature; resources open in post_init and close in post_shutdown."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(settings.concurrent_updates)
        # httpcore's pool does work per pooled connection on every request; keep it near the need.
        .connection_pool_size(settings.telegram_connection_pool_size)
        .rate_limiter(
            # Replies are not throttled up front (Telegram answers 429 with retry_after, which is
            # honoured); only the documented per-group limit is kept.
            AIORateLimiter(
                overall_max_rate=0,
                group_max_rate=settings.group_messages_per_minute,
                group_time_period=60,
                max_retries=settings.telegram_max_retries,
            )
        )
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    urls = settings.api_urls()
    if urls is not None:
        builder = builder.base_url(urls[0]).base_file_url(urls[1])
    application: BotApplication = builder.build()  # type: ignore[assignment]
    application.bot_data.configure(
        settings,
        nlu_settings or NluSettings(),
        storage_settings or StorageSettings(),
        support_settings or SupportSettings(),
        learning_settings or LearningSettings(),
    )
    register_all(application)
    application.add_error_handler(on_error)
    return application


async def _post_init(application: BotApplication) -> None:
    data: BotData = application.bot_data
    settings = data.config
    assert data.nlu_settings is not None and data.storage_settings is not None
    stack = AsyncExitStack()
    try:
        runtime = await stack.enter_async_context(open_runtime(data.nlu_settings, data.storage_settings))
        writer = RecordWriter(runtime.sessions)
        writer.start()
        stack.push_async_callback(writer.stop)
        leases = LeaseKeeper(runtime.sessions)
        stack.push_async_callback(leases.release_all)  # after the writer stopped (the stack unwinds backwards)
        # A record-id node of its own, so ids made by several processes never collide.
        record_ids = RecordIds(await leases.acquire_node(RECORD_NODE_PREFIX, RecordIds.NODES, NODE_LEASE_SECONDS))
        stack.push_async_callback(_stop, asyncio.create_task(_keep_record_node(leases, record_ids)))
        opened = Open(
            runtime=runtime,
            answers=AnswerService(runtime, writer, record_ids),
            limiter=rate_limiter(
                runtime.engine, burst=settings.rate_limit_burst, per_second=settings.rate_limit_per_second
            ),
            leases=leases,
            conversations=ConversationIndex(runtime.engine),
            exit_stack=stack,
            directory=SupportDirectory(data.support.support_chat_id, runtime.sessions),
            publisher=ModelPublisher(
                runtime.pipeline,
                runtime.rasa_urls,
                runtime.rasa_token,
                runtime.http,
                data.nlu_settings.model_dir,
            ),
        )
        if settings.broadcast_sender_in_bot:
            opened.sender = await start_sender_task(settings, runtime.sessions)
            stack.push_async_callback(opened.sender.stop)
    except BaseException:
        await stack.aclose()
        raise
    data.opened = opened
    await _set_commands(application, settings, human=await opened.directory.exists())
    # Everything loaded so far lives until shutdown: keep it out of the collector's way, so
    # garbage-collection pauses stay short while answering.
    gc.freeze()
    logger.warning("bot @%s is ready", application.bot.username)


async def _set_commands(application: BotApplication, settings: BotSettings, *, human: bool) -> None:
    """The Vietnamese command lists: private chats, groups, and the longer one for super-admins.

    ``/hotro`` and ``/tinh`` are listed only when some support chat exists.
    """
    bot = application.bot
    private = texts.COMMANDS_PRIVATE + (say.COMMANDS_PRIVATE if human else [])
    await bot.set_my_commands([BotCommand(c, d) for c, d in private], scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands([BotCommand(c, d) for c, d in texts.COMMANDS_GROUP], scope=BotCommandScopeAllGroupChats())
    admin_only = (
        texts.COMMANDS_ADMIN
        + say.COMMANDS_ADMIN
        + stats_texts.COMMANDS_ADMIN
        + learning_texts.COMMANDS_CURATOR
        + learning_texts.COMMANDS_ADMIN
    )
    for admin in sorted(settings.admin_user_ids):
        commands = [BotCommand(c, d) for c, d in private + admin_only]
        try:
            await bot.set_my_commands(commands, scope=BotCommandScopeChat(admin))
        except TelegramError:  # the admin has not started a chat with the bot yet
            logger.warning("could not set the admin command list for %s", admin)


async def _post_shutdown(application: BotApplication) -> None:
    opened, application.bot_data.opened = application.bot_data.opened, None
    if opened is not None:
        await opened.exit_stack.aclose()


def run_telegram(settings: BotSettings) -> int:
    """Long polling, or a webhook when WEBHOOK_URL is set; blocks until stopped (Ctrl+C, SIGTERM)."""
    application = build_application(settings)
    if settings.webhook_url:
        # Any number of processes may run this behind a load balancer: same URL, same secret.
        secret = webhook_secret(settings)
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlparse(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
        )
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
    return 0


@asynccontextmanager
async def running(
    application: BotApplication,
    *,
    poll_timeout: float = 1.0,
    webhook: dict[str, object] | None = None,
) -> AsyncIterator[BotApplication]:
    """Start and stop like ``run_polling``/``run_webhook`` do, inside an already running loop.

    For tests and benchmarks, which own the event loop; production uses ``run_telegram``.
    """
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    assert application.updater is not None
    try:
        if webhook is None:
            await application.updater.start_polling(
                poll_interval=0, timeout=int(poll_timeout), allowed_updates=ALLOWED_UPDATES
            )
        else:
            await application.updater.start_webhook(allowed_updates=ALLOWED_UPDATES, **webhook)  # type: ignore[arg-type]
        await application.start()
        yield application
    finally:
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
