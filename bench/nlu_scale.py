"""Questions per second with one and with two NLU servers: same client, same questions, same run.

Two real Rasa servers with the trained model. In alternating rounds (so that machine noise hits
every variant alike) it drives, at ``--concurrency`` questions in flight:

- raw ``/model/parse`` on server 1 (the baseline);
- our answer pipeline with ``RASA_URLS`` = server 1 only;
- our answer pipeline with ``RASA_URLS`` = servers 1 and 2 (``nlu.pool.RasaPool``).

Prints p50/p99 latency and throughput of each, the two-server/one-server throughput ratio and
the ratio of our pipeline to raw ``/model/parse`` with one server, each measured in the same
run. On a 2-core machine two servers cannot double the rate: the pipeline and the servers share
the cores (``nproc`` is printed with the figures).

    .venv/bin/python bench/nlu_scale.py [--requests 800] [--rounds 3] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from answering.pipeline import AnswerPipeline
from answering.runtime import load_knowledge
from bench.nlu_latency import QUESTIONS, drive_rounds
from nlu.client import RasaClient
from nlu.lexical import LexicalClassifier
from nlu.pool import RasaPool
from nlu.resilient import ResilientClassifier
from nlu.server import LocalRasaServer, current_model
from nlu.settings import NluSettings
from storage.engine import create_engine, create_schema, session_factory
from storage.settings import StorageSettings

LABELS = {"raw": "raw /model/parse, 1 server", "one": "our pipeline, 1 server", "two": "our pipeline, 2 servers"}


async def main_async(args: argparse.Namespace) -> int:
    nlu_settings = NluSettings()
    texts = [str(q["text"]) for q in yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]]
    questions = (texts * (args.requests // len(texts) + 1))[: args.requests]
    engine = create_engine(StorageSettings().database_url)
    await create_schema(engine)
    knowledge = await load_knowledge(session_factory(engine))
    await engine.dispose()
    manifest = current_model(nlu_settings)
    async with contextlib.AsyncExitStack() as stack:
        first = LocalRasaServer(nlu_settings)
        second = LocalRasaServer(nlu_settings, token=first.token)
        for server in (first, second):
            stack.enter_context(server)
        limits = httpx.Limits(max_connections=2 * args.concurrency, max_keepalive_connections=2 * args.concurrency)
        http = await stack.enter_async_context(httpx.AsyncClient(limits=limits))
        fallback = LexicalClassifier(knowledge.examples)

        def pipeline_on(*servers: LocalRasaServer) -> AnswerPipeline:
            clients = [RasaClient(s.url, s.token, timeout=30, http=http) for s in servers]
            rasa = clients[0] if len(clients) == 1 else RasaPool(clients, retry_seconds=60)
            return AnswerPipeline(
                ResilientClassifier(rasa, fallback, retry_seconds=60), knowledge, manifest.calibration
            )

        params = {"token": first.token}

        async def raw(text: str) -> object:
            response = await http.post(f"{first.url}/model/parse", params=params, json={"text": text})
            response.raise_for_status()
            return response.json()

        calls: dict[str, Callable[[str], Awaitable[object]]] = {
            "raw": raw,
            "one": pipeline_on(first).answer,
            "two": pipeline_on(first, second).answer,
        }
        results = await drive_rounds(calls, questions, args.concurrency, args.rounds)

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    print(
        f"{args.requests} questions × {args.rounds} rounds, {args.concurrency} concurrent, "
        f"{os.cpu_count()} CPUs, model {manifest.model_file}"
    )
    print(f"{'':34s}{'p50 ms':>10s}{'p99 ms':>10s}{'questions/s':>14s}")
    for name in results:
        print(f"{LABELS[name]:34s}{median(name, 'p50'):10.1f}{median(name, 'p99'):10.1f}{median(name, 'qps'):14.1f}")
    print(f"2 servers / 1 server (our pipeline): throughput ×{median('two', 'qps') / median('one', 'qps'):.3f}")
    print(
        f"our pipeline / raw /model/parse (1 server): throughput ×{median('one', 'qps') / median('raw', 'qps'):.3f}, "
        f"p50 ×{median('one', 'p50') / median('raw', 'p50'):.3f}"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
