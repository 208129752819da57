"""``python -m bot run | ask | chat | sender``.

Imports are deferred so that each command loads only what it uses (the sender
process does not need the NLU stack).
"""

from __future__ import annotations

import argparse
import logging
import sys

import texts
from bot.settings import BotSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="the Telegram bot, or the console chat without a token")
    ask = commands.add_parser("ask", help="answer one question, or JSON lines from stdin")
    ask.add_argument("question", nargs="*")
    ask.add_argument("--jsonl", action="store_true", help="one question per stdin line → JSON lines")
    commands.add_parser("chat", help="interactive console chat")
    commands.add_parser("sender", help="the group broadcast sender, as its own process")
    args = parser.parse_args(argv)
    settings = BotSettings()
    logging.basicConfig(
        level=settings.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.command == "sender":
        from bot.sender.cli import main_sender

        return main_sender()
    if args.command == "run":
        if settings.telegram_bot_token is None:
            print(texts.NO_TOKEN, file=sys.stderr)
            args.command = "chat"
        else:
            from bot.app import run_telegram

            return run_telegram(settings)
    from answering.console import run_console

    return run_console(args)


if __name__ == "__main__":
    sys.exit(main())
