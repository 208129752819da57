"""Building and closing the resources the pipeline needs, for every entry point.

Knowledge is read once from the database into a snapshot; Rasa is the configured
server if it answers, otherwise a local one started here and stopped on exit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from answering.pipeline import AnswerPipeline
from knowledge.repository import KnowledgeRepository, KnowledgeSnapshot
from nlu.client import RankingService, RasaClient
from nlu.lexical import LexicalClassifier
from nlu.pool import RasaPool
from nlu.resilient import ResilientClassifier
from nlu.server import LocalRasaServer, current_model
from nlu.settings import NluSettings
from storage.engine import create_engine, create_schema, session_factory
from storage.settings import StorageSettings

logger = logging.getLogger(__name__)


class KnowledgeBaseEmpty(RuntimeError):
    pass


@dataclass
class Runtime:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    knowledge: KnowledgeSnapshot
    pipeline: AnswerPipeline
    rasa_urls: list[str]  # every NLU server answering for this process (publishing reaches each)
    rasa_token: str


async def load_knowledge(sessions: async_sessionmaker[AsyncSession]) -> KnowledgeSnapshot:
    async with sessions() as session:
        snapshot = await KnowledgeRepository(session).snapshot()
    if not snapshot.topics:
        raise KnowledgeBaseEmpty("the knowledge base is empty; run 'python -m knowledge import'")
    return snapshot


@asynccontextmanager
async def open_runtime(
    nlu_settings: NluSettings,
    storage_settings: StorageSettings,
    *,
    start_local_rasa: bool = True,
) -> AsyncIterator[Runtime]:
    """Everything the pipeline needs; closes it all (and a local Rasa) on exit."""
    async with AsyncExitStack() as stack:
        engine = create_engine(storage_settings.database_url)
        stack.push_async_callback(engine.dispose)
        await create_schema(engine)
        sessions = session_factory(engine)
        knowledge = await load_knowledge(sessions)
        # A small pool: httpcore scans every pooled connection per request, so big pools cost CPU.
        http = httpx.AsyncClient(limits=httpx.Limits(max_connections=16, max_keepalive_connections=16))
        stack.push_async_callback(http.aclose)
        manifest = current_model(nlu_settings)

        servers, token = nlu_settings.rasa_servers(), nlu_settings.rasa_token.get_secret_value()
        timeout = nlu_settings.rasa_timeout_seconds
        rasa: RankingService | None = None
        if servers:
            clients = [RasaClient(url, token, timeout=timeout, http=http) for url in servers]
            rasa = clients[0] if len(clients) == 1 else RasaPool(clients, retry_seconds=nlu_settings.rasa_retry_seconds)
            if not await rasa.is_ready():
                logger.warning("no NLU server answers at %s", ", ".join(servers))
                rasa, servers = None, []
        if rasa is None and start_local_rasa:
            server = LocalRasaServer(nlu_settings)
            logger.warning("starting a local Rasa server (takes a few seconds) ...")
            await asyncio.to_thread(server.start)
            stack.callback(server.stop)
            servers, token = [server.url], server.token
            rasa = RasaClient(server.url, server.token, timeout=timeout, http=http)
        classifier = ResilientClassifier(
            rasa, LexicalClassifier(knowledge.examples), retry_seconds=nlu_settings.rasa_retry_seconds
        )
        pipeline = AnswerPipeline(classifier, knowledge, manifest.calibration)
        yield Runtime(engine, sessions, http, knowledge, pipeline, servers, token)
