"""The whole bot (a real ``python -m bot run`` process) against the pipeline alone.

One real Rasa server serves both. The bot talks HTTP to the fake Bot API server
in this process; ``--users`` conversations run in a closed loop (each sends its
next question when the previous answer arrives) for both the bot and the
pipeline-only run, in the same run, so ratios are comparable. Bot latency is
from the update being offered to ``getUpdates`` until the bot's ``sendMessage``
is answered.

    .venv/bin/python bench/bot_throughput.py [--updates 1000] [--users 32]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from answering.pipeline import AnswerPipeline
from answering.runtime import load_knowledge
from nlu.client import RasaClient
from nlu.lexical import LexicalClassifier
from nlu.resilient import ResilientClassifier
from nlu.server import LocalRasaServer, current_model
from nlu.settings import PROJECT_ROOT, NluSettings
from storage.engine import create_engine, create_schema, session_factory
from storage.settings import StorageSettings
from tests.fake_bot_api import FakeBotAPI

QUESTIONS = PROJECT_ROOT.parent / "shared" / "spec" / "dev-questions.yaml"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    return {
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "per_second": len(latencies) / elapsed,
        "mean": statistics.fmean(latencies),
    }


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Replies:
    """Resolves one future per chat when the bot's sendMessage to that chat has finished."""

    def __init__(self, fake: FakeBotAPI) -> None:
        self.fake = fake
        self.seen = 0
        self.waiting: dict[int, asyncio.Future[float]] = {}

    async def run(self) -> None:
        processed: set[int] = set()
        while True:
            calls = self.fake.calls
            # Long polls stay unfinished for a while: look past them, not just up to them.
            for index in range(self.seen, len(calls)):
                call = calls[index]
                if index in processed or not call.done:
                    continue
                processed.add(index)
                if call.method == "sendMessage":
                    future = self.waiting.pop(call.chat_id, None)  # type: ignore[arg-type]
                    if future is not None and not future.done():
                        future.set_result(call.done_time or time.monotonic())
            while self.seen < len(calls) and self.seen in processed:
                processed.discard(self.seen)
                self.seen += 1
            await asyncio.sleep(0.001)


async def drive_bot(fake: FakeBotAPI, questions: list[str], users: int, first_user: int) -> dict[str, float]:
    replies = Replies(fake)
    replies.seen = len(fake.calls)
    watcher = asyncio.create_task(replies.run())
    latencies: list[float] = []
    queue = list(reversed(questions))

    async def conversation(user: int) -> None:
        while queue:
            text = queue.pop()
            future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            replies.waiting[user] = future
            pushed = time.monotonic()
            fake.push_update(fake.make_text_message(user, user, text))
            done = await asyncio.wait_for(future, 60)
            latencies.append((done - pushed) * 1000)

    started = time.monotonic()
    await asyncio.gather(*(conversation(first_user + i) for i in range(users)))
    elapsed = time.monotonic() - started
    watcher.cancel()
    return summary(latencies, elapsed)


async def drive_pipeline(pipeline: AnswerPipeline, questions: list[str], users: int) -> dict[str, float]:
    latencies: list[float] = []
    queue = list(reversed(questions))

    async def conversation() -> None:
        while queue:
            text = queue.pop()
            started = time.perf_counter()
            await pipeline.answer(text)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.monotonic()
    await asyncio.gather(*(conversation() for _ in range(users)))
    return summary(latencies, time.monotonic() - started)


async def main_async(args: argparse.Namespace) -> int:
    nlu_settings = NluSettings()
    texts = [str(q["text"]) for q in yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]]
    questions = (texts * (args.updates // len(texts) + 1))[: args.updates]
    source_db = Path(StorageSettings().database_url.split("///", 1)[1])
    workdir = Path(tempfile.mkdtemp(prefix="bot-bench-"))
    database = workdir / "assistant.db"
    shutil.copy(source_db, database)
    database_url = f"sqlite+aiosqlite:///{database}"
    engine = create_engine(database_url)
    await create_schema(engine)  # the copied database may predate the newest migration
    knowledge = await load_knowledge(session_factory(engine))
    await engine.dispose()
    manifest = current_model(nlu_settings)
    results: dict[str, list[dict[str, float]]] = {"bot": [], "pipeline": []}
    with LocalRasaServer(nlu_settings) as rasa:
        async with FakeBotAPI() as fake, httpx.AsyncClient() as http:
            env = fake.child_env(
                database_url,
                RASA_URL=rasa.url,
                RASA_TOKEN=rasa.token,
                RATE_LIMIT_BURST="1000000",
                LOG_LEVEL="WARNING",
                PYTHONPATH=str(PROJECT_ROOT),
            )
            log = open(workdir / "bot.log", "wb")  # noqa: SIM115
            bot = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                await fake.wait_for("setMyCommands", count=2, timeout=120)
                rasa_client = RasaClient(rasa.url, rasa.token, timeout=30, http=http)
                pipeline = AnswerPipeline(
                    ResilientClassifier(rasa_client, LexicalClassifier(knowledge.examples), retry_seconds=60),
                    knowledge,
                    manifest.calibration,
                )
                await drive_bot(fake, questions[:100], args.users, 1_000_000)  # warm-up
                await drive_pipeline(pipeline, questions[:100], args.users)
                for round_number in range(args.rounds):
                    first_user = 2_000_000 + round_number * 10_000
                    results["bot"].append(await drive_bot(fake, questions, args.users, first_user))
                    results["pipeline"].append(await drive_pipeline(pipeline, questions, args.users))
                    print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)
                peak = peak_rss_mib(bot.pid)
            finally:
                bot.terminate()
                await asyncio.to_thread(bot.wait, 60)  # the fake server must keep answering meanwhile
                log.close()
    shutil.rmtree(workdir, ignore_errors=True)

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    print(f"{args.updates} text updates × {args.rounds} rounds, {args.users} concurrent users, real Rasa + SQLite")
    print(f"{'':16s}{'p50 ms':>10s}{'p99 ms':>10s}{'updates/s':>12s}")
    for name, label in (("pipeline", "pipeline only"), ("bot", "whole bot")):
        print(f"{label:16s}{median(name, 'p50'):10.1f}{median(name, 'p99'):10.1f}{median(name, 'per_second'):12.1f}")
    p50 = median("bot", "p50") / median("pipeline", "p50")
    p99 = median("bot", "p99") / median("pipeline", "p99")
    rate = median("bot", "per_second") / median("pipeline", "per_second")
    print(f"bot / pipeline: p50 ×{p50:.3f}, p99 ×{p99:.3f}, throughput ×{rate:.3f}")
    added = p50 - 1
    print(f"latency the bot adds at p50: {added:+.1%} ({'within' if added <= 0.20 else 'OVER'} the 20% budget)")
    print(f"bot process peak memory (VmHWM): {peak:.0f} MiB")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
