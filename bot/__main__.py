"""``python -m bot run | ask | chat | sender``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys

from bot import texts
from bot.formatting import html_to_console
from bot.pipeline import AnswerPipeline, Reply
from bot.runtime import KnowledgeBaseEmpty, open_runtime
from bot.settings import BotSettings
from knowledge.settings import KnowledgeSettings
from nlu.decision import Decision
from nlu.settings import NluSettings
from nlu.training import TrainingError


def _print_reply(reply: Reply) -> None:
    if reply.truncated:
        print(html_to_console(texts.TRUNCATED_NOTICE.format(limit=len(reply.normalized))))
    print(html_to_console(reply.answer))


async def _ask(pipeline: AnswerPipeline, question: str) -> int:
    _print_reply(await pipeline.answer(question))
    return 0


async def _ask_jsonl(pipeline: AnswerPipeline) -> int:
    """One JSON object per input line, in order; stdout carries nothing else."""
    for line in sys.stdin:
        question = line.rstrip("\n")
        reply = await pipeline.answer(question)
        sys.stdout.write(json.dumps(reply.as_json(), ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


async def _chat(pipeline: AnswerPipeline) -> int:
    print(texts.CONSOLE_WELCOME)
    pending: list[str] = []
    while True:
        try:
            line = await asyncio.to_thread(input, "\nbạn> ")
        except (EOFError, KeyboardInterrupt):
            break
        question = line.strip()
        if question.lower() in {"thoat", "thoát", "exit", "quit"}:
            break
        if pending and question.isdigit() and 1 <= int(question) <= len(pending):
            topic = pipeline.knowledge.topic(pending[int(question) - 1])
            if topic is not None:
                from bot.formatting import render_topic

                print(html_to_console(render_topic(topic)))
            pending = []
            continue
        if not question:
            continue
        reply = await pipeline.answer(question)
        _print_reply(reply)
        pending = reply.candidates if reply.decision is Decision.CLARIFY else []
        if pending:
            print(texts.CONSOLE_CHOICE.format(count=len(pending)))
    print(texts.CONSOLE_BYE)
    return 0


async def _run_pipeline_command(args: argparse.Namespace) -> int:
    async with open_runtime(NluSettings(), KnowledgeSettings()) as runtime:
        if args.command == "ask":
            if args.jsonl:
                return await _ask_jsonl(runtime.pipeline)
            if not args.question:
                print('usage: python -m bot ask "câu hỏi"  (or --jsonl with questions on stdin)', file=sys.stderr)
                return 2
            return await _ask(runtime.pipeline, " ".join(args.question))
        return await _chat(runtime.pipeline)


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
        from bot.broadcast.cli import main_sender

        return main_sender()
    if args.command == "run":
        if settings.telegram_bot_token is None:
            print(texts.NO_TOKEN, file=sys.stderr)
            args.command = "chat"
        else:
            from bot.app import run_telegram

            return run_telegram(settings)
    try:
        return asyncio.run(_run_pipeline_command(args))
    except (TrainingError, KnowledgeBaseEmpty) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
