"""Our answer pipeline against raw Rasa ``/model/parse`` on the same questions; with
``--before``, also today's pipeline against the one before issue 8.

Both run against one real Rasa server with the trained model, at 32 concurrent
questions, in alternating rounds so that machine noise hits both alike. Prints
p50/p99 latency and throughput for each, and the pipeline's overhead as ratios
measured in the same run.

``--before`` starts a second Rasa server with the model as it was before issue 8
(logistic regression, C=20, on the knowledge base at ``BASE_COMMIT``; trained once into
``build/bench/``) and runs that pipeline as it was (messages read whole) in the same
alternating rounds, so the ratio after/before is measured under the same noise. The
questions are the dev set; the share of them read sentence by sentence is printed.

    .venv/bin/python bench/nlu_latency.py [--requests 800] [--rounds 3] [--concurrency 32] [--before]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from nlu.reading import parts
from nlu.resilient import ResilientClassifier
from nlu.server import LocalRasaServer, current_model
from nlu.settings import PROJECT_ROOT, NluSettings
from nlu.training import CONFIG, SEED, train_rasa_model, write_rasa_data
from storage.engine import create_engine, create_schema, session_factory
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


async def drive_rounds(
    calls: dict[str, Callable[[str], Awaitable[object]]], questions: list[str], concurrency: int, rounds: int
) -> dict[str, list[dict[str, float]]]:
    """A warm-up, then ``rounds`` rounds in which every call gets the questions in turn (noise hits all alike)."""
    for call in calls.values():
        await drive(call, questions[:64], concurrency)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in calls}
    for round_number in range(rounds):
        for name, call in calls.items():
            results[name].append(await drive(call, questions, concurrency))
        print(f"round {round_number + 1}/{rounds} done", file=sys.stderr)
    return results


BEFORE_CLASSIFIER = {"model": "logistic", "C": 20.0, "out_of_scope_weight": 1.0}


def before_model(settings: NluSettings) -> Path:
    """The Rasa model as it was before issue 8, trained once (about a minute) into build/bench/."""
    from bench.nlu_ablation import BASE_COMMIT, content_at

    out_dir = PROJECT_ROOT / "build" / "bench"
    name = f"nlu-before-{BASE_COMMIT}"
    model = out_dir / f"{name}.tar.gz"
    if model.exists():
        return model
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"].endswith("VietnameseTopicClassifier"):
            component.update(BEFORE_CLASSIFIER, random_seed=SEED)
    out_dir.mkdir(parents=True, exist_ok=True)
    config_path = out_dir / "config-before.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    data = out_dir / "nlu-before.yml"
    write_rasa_data(content_at(BASE_COMMIT), data)
    print("training the before-issue-8 model once ...", file=sys.stderr)
    return train_rasa_model(settings, config_path, data, out_dir, name)


async def main_async(args: argparse.Namespace) -> int:
    nlu_settings = NluSettings()
    texts = [str(q["text"]) for q in yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]]
    questions = (texts * (args.requests // len(texts) + 1))[: args.requests]
    engine = create_engine(StorageSettings().database_url)
    await create_schema(engine)  # the database may predate the newest migration
    knowledge = await load_knowledge(session_factory(engine))
    await engine.dispose()
    manifest = current_model(nlu_settings)
    long_share = sum(bool(parts(q)) for q in texts) / len(texts)
    async with contextlib.AsyncExitStack() as stack:
        server = stack.enter_context(LocalRasaServer(nlu_settings))
        before = (
            stack.enter_context(LocalRasaServer(nlu_settings, model=before_model(nlu_settings)))
            if args.before
            else None
        )
        limits = httpx.Limits(max_connections=2 * args.concurrency, max_keepalive_connections=2 * args.concurrency)
        http = await stack.enter_async_context(httpx.AsyncClient(limits=limits))
        fallback = LexicalClassifier(knowledge.examples)

        def pipeline_on(rasa_server: LocalRasaServer, *, read_long_messages: bool) -> AnswerPipeline:
            rasa = RasaClient(rasa_server.url, rasa_server.token, timeout=30, http=http)
            classifier = ResilientClassifier(rasa, fallback, retry_seconds=60)
            return AnswerPipeline(classifier, knowledge, manifest.calibration, read_long_messages=read_long_messages)

        params = {"token": server.token}

        async def raw(text: str) -> object:
            response = await http.post(f"{server.url}/model/parse", params=params, json={"text": text})
            response.raise_for_status()
            return response.json()

        calls: dict[str, Callable[[str], Awaitable[object]]] = {
            "raw": raw,
            "pipeline": pipeline_on(server, read_long_messages=True).answer,
        }
        if before is not None:
            calls["before"] = pipeline_on(before, read_long_messages=False).answer
        results = await drive_rounds(calls, questions, args.concurrency, args.rounds)

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    print(
        f"{args.requests} questions × {args.rounds} rounds, {args.concurrency} concurrent, "
        f"model {manifest.model_file}; "
        f"{long_share:.1%} of the questions are long and also read sentence by sentence"
    )
    print(f"{'':34s}{'p50 ms':>10s}{'p99 ms':>10s}{'questions/s':>14s}")
    labels = {"raw": "raw /model/parse", "pipeline": "our pipeline", "before": "pipeline before issue 8"}
    for name in results:
        print(f"{labels[name]:34s}{median(name, 'p50'):10.1f}{median(name, 'p99'):10.1f}{median(name, 'qps'):14.1f}")
    p50_ratio = median("pipeline", "p50") / median("raw", "p50")
    p99_ratio = median("pipeline", "p99") / median("raw", "p99")
    qps_ratio = median("pipeline", "qps") / median("raw", "qps")
    print(f"pipeline / raw: p50 ×{p50_ratio:.3f}, p99 ×{p99_ratio:.3f}, throughput ×{qps_ratio:.3f}")
    overhead = max(p50_ratio, 1 / qps_ratio) - 1
    verdict = "within" if overhead <= 0.20 else "OVER"
    print(f"pipeline overhead: {overhead:+.1%} ({verdict} the 20% budget)")
    if "before" in results:
        p50_change = median("pipeline", "p50") / median("before", "p50")
        p99_change = median("pipeline", "p99") / median("before", "p99")
        qps_change = median("pipeline", "qps") / median("before", "qps")
        print(f"after / before issue 8: p50 ×{p50_change:.3f}, p99 ×{p99_change:.3f}, throughput ×{qps_change:.3f}")
        worse = max(p50_change, 1 / qps_change) - 1
        print(f"per-question latency change: {worse:+.1%} ({'within' if worse <= 0.20 else 'OVER'} the 20% budget)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--before", action="store_true", help="also the pipeline and model before issue 8")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
