"""``python -m bot sender``: the broadcast sender as its own process, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys

from bot.sender.loop import BroadcastSender, build_sender_bot
from bot.sender.settings import BroadcastSettings
from bot.settings import BotSettings
from storage.engine import create_engine, create_schema, session_factory
from storage.settings import StorageSettings

logger = logging.getLogger(__name__)


async def run_sender(
    bot_settings: BotSettings, storage_settings: StorageSettings, settings: BroadcastSettings
) -> int:
    engine = create_engine(storage_settings.database_url)
    try:
        await create_schema(engine)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        bot = build_sender_bot(bot_settings, settings)
        # Everything imported so far lives for good: keep the collector from rescanning it.
        gc.freeze()
        async with bot:
            sender = BroadcastSender(session_factory(engine), bot, settings, settings.sender_worker_id)
            await sender.run(stop)
    finally:
        await engine.dispose()
    return 0


def main_sender() -> int:
    bot_settings = BotSettings()
    if bot_settings.telegram_bot_token is None:
        print("error: TELEGRAM_BOT_TOKEN is not set; the sender needs the bot's token", file=sys.stderr)
        return 2
    return asyncio.run(run_sender(bot_settings, StorageSettings(), BroadcastSettings()))


if __name__ == "__main__":
    logging.basicConfig(level=BotSettings().log_level, stream=sys.stderr)
    sys.exit(main_sender())
