"""``python -m learning retrain``: train a candidate model from the database and judge it.

Runs as its own process (the bot starts it and only awaits its exit), so answers never wait for
training. Rasa trains in a child process while calibration and the quality gate run here, so
the two share the cores. The result is one JSON line on stdout (the last line), read by the bot:

    {"status": "passed" | "held_back" | "unchanged" | "failed", "name": …, "version_id": …,
     "figures": {…}, "reason": …, "train_seconds": …, "evaluate_seconds": …}

Publishing is not done here: the bot process that serves answers swaps the model, the fallback
and the thresholds together (``learning.publish``).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from knowledge.repository import KnowledgeRepository
from learning.gate import run_gate
from learning.models import VersionStatus
from learning.versions import VersionFiles, VersionRepository, adopt_setup_model
from nlu.decision import OUT_OF_SCOPE
from nlu.evaluate import BLIND_QUESTIONS, load_questions
from nlu.settings import PROJECT_ROOT, NluSettings
from nlu.training import (
    CALIBRATION_FILES,
    CONFIG,
    Manifest,
    TrainingError,
    calibrate,
    classifier_settings,
    fingerprint,
    finish_rasa,
    load_calibration_questions,
    start_rasa,
    write_rasa_data,
)
from storage.base import utc_now
from storage.engine import create_engine, create_schema, session_factory
from storage.settings import StorageSettings

BUILD = PROJECT_ROOT / "build" / "learning"


def regression_questions(examples: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """(gold, text): the calibration questions and the blind set, for topics both models know."""
    pairs = [pair for path in CALIBRATION_FILES for pair in load_calibration_questions(path, examples)]
    if BLIND_QUESTIONS.exists():
        pairs += [(q.topic or OUT_OF_SCOPE, q.text) for q in load_questions(BLIND_QUESTIONS)]
    return [(gold, text) for gold, text in pairs if gold in examples]


async def _load(storage: StorageSettings) -> tuple[dict[str, list[str]], list[tuple[str, str]], dict[str, list[str]]]:
    """(training examples with the curated ones, curated (label, text), the imported examples alone)."""
    engine = create_engine(storage.database_url)
    try:
        await create_schema(engine)
        async with session_factory(engine)() as session:
            knowledge = KnowledgeRepository(session)
            examples = await knowledge.training_examples()
            curated = await knowledge.curated_examples()
    finally:
        await engine.dispose()
    curated_texts = {(label, text) for label, text in curated}
    imported = {label: [t for t in texts if (label, t) not in curated_texts] for label, texts in examples.items()}
    return examples, curated, imported


async def _record(storage: StorageSettings, **values: Any) -> int:
    engine = create_engine(storage.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            versions = VersionRepository(session)
            if values.pop("adopt_as_current", False):
                version = await versions.record(**values)
                await versions.make_current(version, values["now"])
            else:
                version = await versions.record(**values)
            return version.id
    finally:
        await engine.dispose()


async def _current_name(storage: StorageSettings) -> str | None:
    engine = create_engine(storage.database_url)
    try:
        async with session_factory(engine)() as session:
            current = await VersionRepository(session).current()
            return current.name if current else None
    finally:
        await engine.dispose()


def retrain(nlu: NluSettings, storage: StorageSettings, *, trigger: str, started_by: int | None) -> dict[str, Any]:
    examples, curated, imported = asyncio.run(_load(storage))
    current_name = asyncio.run(_current_name(storage))
    if current_name is None or not VersionFiles(nlu.model_dir, current_name).exists():
        current_name = adopt_setup_model(nlu.model_dir, nlu.training_examples, imported)
        asyncio.run(
            _record(
                storage,
                name=current_name,
                now=utc_now(),
                trigger="setup",
                started_by=None,
                status=VersionStatus.PUBLISHED,
                examples=sum(map(len, VersionFiles(nlu.model_dir, current_name).examples().values())),
                curated=0,
                figures={},
                reason=None,
                adopt_as_current=True,
            )
        )
    current = VersionFiles(nlu.model_dir, current_name)
    fp = fingerprint(examples)
    name = f"nlu-{fp[:12]}"
    if name == current_name:
        return {"status": "unchanged", "name": name, "reason": "no new examples since the current model"}
    candidate = VersionFiles(nlu.model_dir, name)
    data = BUILD / f"{name}.yml"
    write_rasa_data(examples, data)
    started = time.monotonic()
    process, archive = start_rasa(nlu, CONFIG, data, candidate.folder, name)
    # Rasa trains beside the evaluation: note when it is done, to report the two apart.
    rasa_done: list[float] = []

    def note_rasa_done() -> None:
        process.wait()
        rasa_done.append(time.monotonic())

    watcher = threading.Thread(target=note_rasa_done, daemon=True)
    watcher.start()
    try:
        evaluate_started = time.monotonic()
        calibration, notes = calibrate(examples)
        gate = run_gate(
            current_examples=current.examples(),
            current_thresholds=current.manifest().calibration.rasa,
            candidate_examples=examples,
            candidate_thresholds=calibration.rasa,
            regression=regression_questions(examples),
            curated=curated,
            settings=classifier_settings(),
        )
        evaluate_seconds = time.monotonic() - evaluate_started
    except BaseException:
        process.kill()
        process.wait()
        raise
    finish_rasa(process, archive)
    watcher.join()
    train_seconds = (rasa_done[0] if rasa_done else time.monotonic()) - started
    count = sum(map(len, examples.values()))
    candidate.write(
        Manifest(fp, archive.name, calibration, {**notes, "examples": count, "curated": len(curated)}), examples
    )
    figures = {
        **gate.as_dict(),
        "train_seconds": round(train_seconds, 1),
        "evaluate_seconds": round(evaluate_seconds, 1),
    }
    version_id = asyncio.run(
        _record(
            storage,
            name=name,
            now=utc_now(),
            trigger=trigger,
            started_by=started_by,
            status=VersionStatus.CANDIDATE if gate.passed else VersionStatus.HELD_BACK,
            examples=count,
            curated=len(curated),
            figures=figures,
            reason=None if gate.passed else gate.reason,
        )
    )
    return {
        "status": "passed" if gate.passed else "held_back",
        "name": name,
        "version_id": version_id,
        "figures": figures,
        "reason": gate.reason,
        "train_seconds": round(train_seconds, 1),
        "evaluate_seconds": round(evaluate_seconds, 1),
    }


def main_retrain(trigger: str, started_by: int | None) -> int:
    try:
        result = retrain(NluSettings(), StorageSettings(), trigger=trigger, started_by=started_by)
    except (TrainingError, FileNotFoundError, OSError) as error:
        result = {"status": "failed", "reason": str(error)}
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0 if result["status"] != "failed" else 1


def last_json_line(output: str) -> dict[str, Any]:
    """The worker's result: the last line of its stdout that is a JSON object."""
    for line in reversed(output.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return {"status": "failed", "reason": "the training process printed no result"}
