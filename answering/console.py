"""Console entry points: ``ask``, ``ask --jsonl`` and ``chat``, on the same pipeline as Telegram."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import texts
from answering.formatting import html_to_console
from answering.pipeline import AnswerPipeline, Reply
from answering.runtime import KnowledgeBaseEmpty, open_runtime
from nlu.decision import Decision
from nlu.settings import NluSettings
from nlu.training import TrainingError
from storage.settings import StorageSettings


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
                from answering.formatting import render_topic

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
    async with open_runtime(NluSettings(), StorageSettings()) as runtime:
        if args.command == "ask":
            if args.jsonl:
                return await _ask_jsonl(runtime.pipeline)
            if not args.question:
                print('usage: python -m bot ask "câu hỏi"  (or --jsonl with questions on stdin)', file=sys.stderr)
                return 2
            return await _ask(runtime.pipeline, " ".join(args.question))
        return await _chat(runtime.pipeline)


def run_console(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run_pipeline_command(args))
    except (TrainingError, KnowledgeBaseEmpty) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
