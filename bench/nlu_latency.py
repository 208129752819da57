"""Our answer pipeline against raw Rasa ``/model/parse`` on the same questions.

Both run against one real Rasa server with the trained model, at 32 concurrent
questions, in alternating rounds so that machine noise hits both alike. Prints
p50/p99 latency and throughput for each, and the pipeline's overhead as ratios
measured in the same run.

    .venv/bin/python bench/nlu_latency.py [--requests 800] [--rounds 3] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
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
from storage.engine import create_engine, session_factory
from storage.settings import StorageSettings

QUESTIONS = PROJECT_ROOT.parent / "shared" / "spec" / "dev-questions.yaml"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def drive(call: Callable[[str], Awaitable[object]], questions: list[str], concurrency: int) -> dict[str, float]:
    limit = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(text: str) -> None:
        async with limit:
            started = time.perf_counter()
            await call(text)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(one(q) for q in questions))
    elapsed = time.perf_counter() - started
    return {"p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99), "qps": len(questions) / elapsed}


async def main_async(args: argparse.Namespace) -> int:
    nlu_settings = NluSettings()
    texts = [str(q["text"]) for q in yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]]
    questions = (texts * (args.requests // len(texts) + 1))[: args.requests]
    engine = create_engine(StorageSettings().database_url)
    knowledge = await load_knowledge(session_factory(engine))
    await engine.dispose()
    manifest = current_model(nlu_settings)
    with LocalRasaServer(nlu_settings) as server:
        limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
        async with httpx.AsyncClient(limits=limits) as http:
            rasa = RasaClient(server.url, server.token, timeout=30, http=http)
            pipeline = AnswerPipeline(
                ResilientClassifier(rasa, LexicalClassifier(knowledge.examples), retry_seconds=60),
                knowledge,
                manifest.calibration,
            )
            params = {"token": server.token}

            async def raw(text: str) -> object:
                response = await http.post(f"{server.url}/model/parse", params=params, json={"text": text})
                response.raise_for_status()
                return response.json()

            await drive(raw, questions[:64], args.concurrency)  # warm-up
            await drive(pipeline.answer, questions[:64], args.concurrency)
            results: dict[str, list[dict[str, float]]] = {"raw": [], "pipeline": []}
            for round_number in range(args.rounds):
                for name, call in (("raw", raw), ("pipeline", pipeline.answer)):
                    results[name].append(await drive(call, questions, args.concurrency))
                print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    print(
        f"{args.requests} questions × {args.rounds} rounds, {args.concurrency} concurrent, model {manifest.model_file}"
    )
    print(f"{'':22s}{'p50 ms':>10s}{'p99 ms':>10s}{'questions/s':>14s}")
    for name, label in (("raw", "raw /model/parse"), ("pipeline", "our pipeline")):
        print(f"{label:22s}{median(name, 'p50'):10.1f}{median(name, 'p99'):10.1f}{median(name, 'qps'):14.1f}")
    p50_ratio = median("pipeline", "p50") / median("raw", "p50")
    p99_ratio = median("pipeline", "p99") / median("raw", "p99")
    qps_ratio = median("pipeline", "qps") / median("raw", "qps")
    print(f"pipeline / raw: p50 ×{p50_ratio:.3f}, p99 ×{p99_ratio:.3f}, throughput ×{qps_ratio:.3f}")
    overhead = max(p50_ratio, 1 / qps_ratio) - 1
    verdict = "within" if overhead <= 0.20 else "OVER"
    print(f"pipeline overhead: {overhead:+.1%} ({verdict} the 20% budget)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
