"""Two real NLU servers behind one pipeline: one stops during a stream of questions, then comes back.

Every question is still answered by Rasa (the other server), never by the lexical fallback;
once the stopped server is started again on its port, it is probed and used again.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from answering.pipeline import AnswerPipeline
from knowledge.repository import KnowledgeSnapshot
from nlu.client import Ranking, RasaClient
from nlu.lexical import LexicalClassifier
from nlu.pool import RasaPool
from nlu.resilient import ResilientClassifier, Source
from nlu.server import LocalRasaServer
from nlu.settings import NluSettings
from nlu.training import Manifest

QUESTIONS = [
    "kich hoat vneid muc 2 o dau",
    "bác em muốn bán chè lên postmart thì làm sao",
    "bị lừa chuyển tiền thì báo ai",
    "nộp hồ sơ dịch vụ công trực tuyến thế nào",
    "cài onetouch ở đâu",
    "quet ma qr thanh toan co an toan ko",
]
RETRY_SECONDS = 0.5  # how soon a failed server is probed again


class CountingClient(RasaClient):
    """A real client that counts the questions its server answered."""

    def __init__(self, name: str, answered: Counter[str], *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.name, self.answered = name, answered

    async def parse(self, text: str) -> Ranking:
        ranking = await super().parse(text)
        self.answered[self.name] += 1
        return ranking


@pytest.fixture
def second_server(
    nlu_settings: NluSettings, rasa_server: LocalRasaServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalRasaServer]:
    log = tmp_path_factory.mktemp("rasa-second") / "rasa.log"
    with LocalRasaServer(nlu_settings, token=rasa_server.token, log_file=log) as server:
        yield server


async def test_a_stopped_server_is_left_out_and_used_again_when_it_returns(
    rasa_server: LocalRasaServer,
    second_server: LocalRasaServer,
    nlu_settings: NluSettings,
    knowledge: KnowledgeSnapshot,
    lexical: LexicalClassifier,
    manifest: Manifest,
) -> None:
    answered: Counter[str] = Counter()
    async with httpx.AsyncClient() as http:
        clients = [
            CountingClient(name, answered, server.url, server.token, timeout=5.0, http=http)
            for name, server in (("first", rasa_server), ("second", second_server))
        ]
        pool = RasaPool(clients, retry_seconds=RETRY_SECONDS)
        pipeline = AnswerPipeline(ResilientClassifier(pool, lexical, retry_seconds=30), knowledge, manifest.calibration)

        async def ask(rounds: int) -> list[Source]:
            sources: list[Source] = []
            for _ in range(rounds):
                replies = await asyncio.gather(*(pipeline.answer(q) for q in QUESTIONS))
                sources += [reply.source for reply in replies]
            return sources

        # Both servers answer while both are up.
        assert set(await ask(3)) == {Source.RASA}
        assert answered["first"] > 0 and answered["second"] > 0

        # The second stops while questions keep coming, and they keep coming after it has.
        stopping = asyncio.create_task(asyncio.to_thread(second_server.stop))
        sources: list[Source] = []
        while not stopping.done():
            sources += await ask(1)
        await stopping
        sources += await ask(5)
        assert sources.count(Source.RASA) == len(sources), Counter(sources)
        assert pool.healthy == 1

        # It comes back on the same port: after the retry time it is probed and used again.
        before = answered["second"]
        await asyncio.to_thread(second_server.start)
        deadline = asyncio.get_running_loop().time() + 30
        while answered["second"] == before:
            assert asyncio.get_running_loop().time() < deadline, "the restarted server was never used again"
            assert set(await ask(1)) == {Source.RASA}
        assert pool.healthy == 2
        await ask(3)
        assert answered["second"] > before + 3  # used in turn, not only probed once
