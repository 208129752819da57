"""``python -m bot sender``: the broadcast sender as its own process, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys

from bot.sender.runner import skip_missing_sniffio_lookups, start_sender_task
from bot.sender.settings import BroadcastSettings
from bot.settings import BotSettings
from storage.engine import create_engine, create_schema, session_factory
from storage.settings import StorageSettings

logger = logging.getLogger(__name__)


async def run_sender(bot_settings: BotSettings, storage_settings: StorageSettings, settings: BroadcastSettings) -> int:
    skip_missing_sniffio_lookups()
    engine = create_engine(storage_settings.database_url)
    try:
        await create_schema(engine)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        handle = await start_sender_task(bot_settings, session_factory(engine), settings)
        # Everything made so far lives for good: keep the collector from rescanning it.
        gc.freeze()
        # Until a signal (or the sender's task ends by itself, e.g. with an error).
        signalled = asyncio.create_task(stop.wait())
        await asyncio.wait({signalled, handle.task}, return_when=asyncio.FIRST_COMPLETED)
        signalled.cancel()
        await handle.stop(timeout=None)  # in-flight sends finish; raises what the sender raised
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
