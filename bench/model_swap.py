"""Swapping the model under load, and the NLU server's memory over many swaps.

A real Rasa server serves the current model; the answer pipeline (Rasa client, lexical fallback,
thresholds) sends ``--rate`` questions a second (dev-set wording, cycled) while
``learning.publish.ModelPublisher`` swaps between two model versions ``--swaps`` times, exactly
as ``/huanluyen`` and ``/phienban`` do. Prints how many questions got an answer, how many got no
reply (an exception or a timeout: must be 0), how many were answered by the fallback, the swap
times, and the server's resident memory after the first and after the last swap.

The two versions live in a scratch model folder: the set-up's model, and the pre-issue-8 model
of ``bench/nlu_latency.py --before`` when it was built (else the same archive under another
name, which still makes the server load a model each time).

    .venv/bin/python bench/model_swap.py [--rate 20] [--swaps 10]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from answering.pipeline import AnswerPipeline
from answering.runtime import load_knowledge
from learning.publish import ModelPublisher
from learning.versions import VersionFiles, adopt_setup_model
from nlu.client import RasaClient
from nlu.lexical import LexicalClassifier
from nlu.resilient import ResilientClassifier, Source
from nlu.server import LocalRasaServer
from nlu.settings import PROJECT_ROOT, NluSettings
from nlu.training import Manifest, load_examples
from storage.engine import create_engine, create_schema, session_factory
from storage.settings import StorageSettings

QUESTIONS = PROJECT_ROOT.parent / "shared" / "spec" / "dev-questions.yaml"
BEFORE = PROJECT_ROOT / "build" / "bench" / "nlu-before-f7fa5b7.tar.gz"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def scratch_versions(settings: NluSettings, folder: Path) -> tuple[str, str]:
    """Two version folders in ``folder``: the set-up's model and a second one."""
    top = Manifest.load(settings.model_dir)
    assert top is not None, "run 'make setup' first"
    shutil.copy2(top.model_path(settings.model_dir), folder / Path(top.model_file).name)
    Manifest(top.fingerprint, Path(top.model_file).name, top.calibration, top.notes).save(folder)
    examples = load_examples(settings.training_examples)
    first = adopt_setup_model(folder, settings.training_examples, examples)
    second = "nlu-benchswap00"
    files = VersionFiles(folder, second)
    files.folder.mkdir(parents=True, exist_ok=True)
    source = BEFORE if BEFORE.exists() else VersionFiles(folder, first).archive
    shutil.copy2(source, files.archive)
    files.write(Manifest("bench", files.archive.name, top.calibration, {}), examples)
    return first, second


async def run(args: argparse.Namespace) -> int:
    settings = NluSettings()
    folder = Path(tempfile.mkdtemp(prefix="model-swap-"))
    first, second = scratch_versions(settings, folder)
    questions = [str(q["text"]) for q in yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]]
    engine = create_engine(StorageSettings().database_url)
    await create_schema(engine)  # the database may predate the newest migration
    knowledge = await load_knowledge(session_factory(engine))
    await engine.dispose()
    server = LocalRasaServer(settings, model=VersionFiles(folder, first).archive)
    await asyncio.to_thread(server.start)
    process = server._process
    assert process is not None
    try:
        async with httpx.AsyncClient() as http:
            rasa = RasaClient(server.url, server.token, timeout=settings.rasa_timeout_seconds, http=http)
            classifier = ResilientClassifier(rasa, LexicalClassifier(knowledge.examples), retry_seconds=1.0)
            top = Manifest.load(folder)
            assert top is not None
            pipeline = AnswerPipeline(classifier, knowledge, top.calibration)
            publisher = ModelPublisher(pipeline, [server.url], server.token, http, folder)
            counts = {"asked": 0, "answered": 0, "no_reply": 0, "fallback": 0}
            stop = asyncio.Event()

            async def one(text: str) -> None:
                try:
                    reply = await asyncio.wait_for(pipeline.answer(text), timeout=10)
                except Exception:
                    counts["no_reply"] += 1
                    return
                counts["answered"] += 1
                if reply.source is not Source.RASA:
                    counts["fallback"] += 1

            async def load() -> None:
                tasks: list[asyncio.Task[None]] = []
                index = 0
                while not stop.is_set():
                    tasks.append(asyncio.create_task(one(questions[index % len(questions)])))
                    counts["asked"] += 1
                    index += 1
                    await asyncio.sleep(1 / args.rate)
                await asyncio.gather(*tasks)

            sender = asyncio.create_task(load())
            await asyncio.sleep(2)
            swaps: list[float] = []
            memory: list[float] = []
            for swap in range(args.swaps):
                published = await publisher.publish(second if swap % 2 == 0 else first)
                swaps.append(published.seconds)
                memory.append(rss_mb(process.pid))
                await asyncio.sleep(1)
            stop.set()
            await sender
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"{args.swaps} swaps at {args.rate} questions/s "
        f"({'two different models' if BEFORE.exists() else 'one model loaded again'})"
    )
    print(
        f"questions asked {counts['asked']}: answered {counts['answered']}, no reply {counts['no_reply']}, "
        f"answered by the fallback {counts['fallback']}"
    )
    print(f"swap seconds: median {statistics.median(swaps):.2f}, max {max(swaps):.2f}")
    print(
        f"Rasa RSS after swap 1: {memory[0]:.0f} MB; after swap {len(memory)}: {memory[-1]:.0f} MB "
        f"(×{memory[-1] / memory[0]:.2f}); all: {', '.join(f'{m:.0f}' for m in memory)}"
    )
    return 0 if counts["no_reply"] == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--swaps", type=int, default=10)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
