"""A model version published (or rolled back to) by one bot process is served by the others.

Each "process" is its own ``ModelPublisher`` with its own pipeline (its own lexical fallback and
thresholds, the per-process state), over one database and one model folder. No NLU server is
involved: with none configured, publishing swaps only what the process holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from answering.pipeline import AnswerPipeline
from knowledge.repository import KnowledgeSnapshot
from learning.models import VersionStatus
from learning.publish import ModelPublisher
from learning.versions import VersionFiles, VersionRepository
from nlu.decision import Calibration, Thresholds
from nlu.lexical import LexicalClassifier
from nlu.resilient import ResilientClassifier
from nlu.training import Manifest
from storage.base import utc_now
from storage.engine import create_engine, create_schema, session_factory


def calibration(answer: float) -> Calibration:
    return Calibration(rasa=Thresholds(answer, 0.0, 0.15, 0.08), lexical=Thresholds(answer, 0.0, 0.3, 0.25))


def write_version(model_dir: Path, name: str, answer: float, examples: dict[str, list[str]]) -> None:
    files = VersionFiles(model_dir, name)
    files.write(Manifest(name, files.archive.name, calibration(answer), {}), examples)
    files.archive.write_bytes(b"not a real model: no NLU server loads it here")


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine: AsyncEngine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'versions.db'}")
    await create_schema(engine)
    yield session_factory(engine)
    await engine.dispose()


async def make_current(sessions: async_sessionmaker[AsyncSession], name: str) -> None:
    async with sessions() as session, session.begin():
        versions = VersionRepository(session)
        version = await versions.record(
            name, now=utc_now(), trigger="test", started_by=None, status=VersionStatus.CANDIDATE,
            examples=1, curated=0, figures={}, reason=None,
        )  # fmt: skip
        await versions.make_current(version, utc_now())


async def current(sessions: async_sessionmaker[AsyncSession]) -> str | None:
    async with sessions() as session:
        version = await VersionRepository(session).current()
    return version.name if version else None


async def test_other_processes_follow_a_publish_and_a_rollback(
    tmp_path: Path, sessions: async_sessionmaker[AsyncSession], knowledge: KnowledgeSnapshot
) -> None:
    model_dir = tmp_path / "models"
    first_examples = dict(list(knowledge.examples.items())[:4])
    write_version(model_dir, "v1", 0.5, first_examples)
    write_version(model_dir, "v2", 0.7, {**first_examples, "extra_topic": ["mot cau hoi moi hoan toan"]})
    await make_current(sessions, "v1")
    async with httpx.AsyncClient() as http:
        pipelines = [
            AnswerPipeline(
                ResilientClassifier(None, LexicalClassifier(first_examples), retry_seconds=10),
                knowledge,
                calibration(0.5),
            )
            for _ in range(2)
        ]
        a, b = (ModelPublisher(p, [], "", http, model_dir) for p in pipelines)
        assert not await a.follow(await current(sessions)) and not await b.follow(await current(sessions))  # startup

        await a.publish("v2")  # process A publishes; its row is written right after
        assert not await a.follow(await current(sessions))  # the row still says v1: A does not swap back
        await make_current(sessions, "v2")
        before = pipelines[1].classifier._fallback
        assert await b.follow(await current(sessions))  # B's next check
        assert pipelines[1].calibration == calibration(0.7) and pipelines[1].classifier._fallback is not before
        assert not await a.follow(await current(sessions)) and not await b.follow(await current(sessions))

        await b.publish("v1", rollback=True)  # B rolls back; A follows
        await make_current(sessions, "v1")
        assert await a.follow(await current(sessions)) and pipelines[0].calibration == calibration(0.5)
        assert not await b.follow(await current(sessions))

        await make_current(sessions, "v3")  # a row whose files this process cannot see (yet)
        assert not await a.follow("v3") and pipelines[0].calibration == calibration(0.5)
        write_version(model_dir, "v3", 0.9, first_examples)
        assert await a.follow("v3") and pipelines[0].calibration == calibration(0.9)  # tried again, then served
