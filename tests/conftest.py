"""Shared fixtures: a real SQLite knowledge base, the real trained model behind a real Rasa server."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from answering.pipeline import AnswerPipeline
from knowledge.content_files import Content, load_content
from knowledge.repository import KnowledgeRepository, KnowledgeSnapshot
from knowledge.settings import KnowledgeSettings
from nlu.client import RasaClient
from nlu.lexical import LexicalClassifier
from nlu.resilient import ResilientClassifier
from nlu.server import LocalRasaServer, current_model
from nlu.settings import PROJECT_ROOT, NluSettings
from nlu.training import Manifest
from storage.engine import create_engine, create_schema, session_factory
from support.settings import SupportSettings

CONTENT_DIR = PROJECT_ROOT / "knowledge" / "content"
TOPICS_SPEC = KnowledgeSettings(_env_file=None).topics_spec  # type: ignore[call-arg]
# Bots under test never read a developer's .env: no support chat unless a test sets one.
NO_SUPPORT_CHAT = SupportSettings(_env_file=None, support_chat_id=None)  # type: ignore[call-arg]


class FakeClock:
    """A monotonic clock that moves only when the test says so (inject it wherever ``clock=`` is accepted)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start  # not 0: code must not assume the clock starts anywhere in particular

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a monotonic clock never goes back")
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(CONTENT_DIR)


@pytest.fixture(scope="session")
def nlu_settings() -> NluSettings:
    # Tests never depend on a developer's .env or environment.
    return NluSettings(_env_file=None, rasa_url=None, rasa_token="", rasa_timeout_seconds=2.0)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def manifest(nlu_settings: NluSettings) -> Manifest:
    return current_model(nlu_settings)


@pytest.fixture(scope="session")
def rasa_server(nlu_settings: NluSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRasaServer]:
    """One real Rasa server with the model trained by the set-up, for the whole session."""
    log = tmp_path_factory.mktemp("rasa") / "rasa.log"
    with LocalRasaServer(nlu_settings, log_file=log) as server:
        yield server


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'assistant.db'}"


async def knowledge_engine(database_url: str, content: Content) -> AsyncEngine:
    """A migrated database holding the knowledge base (the caller disposes of the engine)."""
    engine = create_engine(database_url)
    await create_schema(engine)
    async with session_factory(engine)() as session, session.begin():
        await KnowledgeRepository(session).sync_content(content)
    return engine


@pytest.fixture(scope="session")
async def engine(database_url: str, content: Content) -> AsyncIterator[AsyncEngine]:
    engine = await knowledge_engine(database_url, content)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def knowledge(engine: AsyncEngine) -> KnowledgeSnapshot:
    async with session_factory(engine)() as session:
        return await KnowledgeRepository(session).snapshot()


@pytest.fixture(scope="session")
def lexical(knowledge: KnowledgeSnapshot) -> LexicalClassifier:
    return LexicalClassifier(knowledge.examples)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def pipeline(
    rasa_server: LocalRasaServer,
    http: httpx.AsyncClient,
    knowledge: KnowledgeSnapshot,
    lexical: LexicalClassifier,
    manifest: Manifest,
) -> AnswerPipeline:
    rasa = RasaClient(rasa_server.url, rasa_server.token, timeout=5.0, http=http)
    return AnswerPipeline(ResilientClassifier(rasa, lexical, retry_seconds=30), knowledge, manifest.calibration)


@pytest.fixture
def cli_env(rasa_server: LocalRasaServer, database_url: str, engine: AsyncEngine) -> dict[str, str]:
    """Environment for ``python -m bot`` subprocesses using the session's Rasa and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RASA_", "TELEGRAM_"))}
    env.update(
        RASA_URL=rasa_server.url,
        RASA_TOKEN=rasa_server.token,
        DATABASE_URL=database_url,
        PYTHONPATH=str(PROJECT_ROOT),
    )
    return env


def project_path(*parts: str) -> Path:
    return PROJECT_ROOT.joinpath(*parts)
