"""Rasa down or slow: the lexical fallback answers at once; Rasa is used again when it returns."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from answering.pipeline import AnswerPipeline
from knowledge.repository import KnowledgeSnapshot
from nlu.client import RasaClient
from nlu.decision import Decision
from nlu.lexical import LexicalClassifier
from nlu.resilient import ResilientClassifier, Source
from nlu.server import LocalRasaServer, free_port
from nlu.training import Manifest
from tests.netfault import FaultyProxy


@pytest.fixture
async def proxy(rasa_server: LocalRasaServer) -> AsyncIterator[FaultyProxy]:
    proxy = FaultyProxy("127.0.0.1", rasa_server.port)
    await proxy.start()
    yield proxy
    await proxy.stop()


def make_pipeline(
    url: str,
    token: str,
    http: httpx.AsyncClient,
    knowledge: KnowledgeSnapshot,
    lexical: LexicalClassifier,
    manifest: Manifest,
    retry: float,
    clock: Callable[[], float] = time.monotonic,
) -> AnswerPipeline:
    rasa = RasaClient(url, token, timeout=0.5, http=http)
    classifier = ResilientClassifier(rasa, lexical, retry_seconds=retry, clock=clock)
    return AnswerPipeline(classifier, knowledge, manifest.calibration)


async def test_rasa_not_running_fallback_answers(http, knowledge, lexical, manifest, caplog) -> None:  # type: ignore[no-untyped-def]
    pipeline = make_pipeline(f"http://127.0.0.1:{free_port()}", "x", http, knowledge, lexical, manifest, 60)
    with caplog.at_level(logging.WARNING, logger="nlu.resilient"):
        started = time.monotonic()
        reply = await pipeline.answer("quen mat khau vneid thi lam sao")
        second = await pipeline.answer("cho hỏi cách nộp phạt vi phạm giao thông trên cổng dịch vụ công")
        elapsed = time.monotonic() - started
    assert reply.source is Source.LEXICAL and second.source is Source.LEXICAL
    assert reply.decision is Decision.ANSWER and reply.topic == "vneid_quen_mat_khau"
    assert second.decision is Decision.ANSWER and second.topic == "dvc_phat_giao_thong"
    assert elapsed < 2.0
    assert sum("Rasa unavailable" in r.getMessage() for r in caplog.records) == 1
    oos = await pipeline.answer("giá vàng hôm nay bao nhiêu một chỉ")
    assert oos.decision is Decision.UNKNOWN


async def test_outage_and_recovery(proxy, rasa_server, http, knowledge, lexical, manifest, clock, caplog) -> None:  # type: ignore[no-untyped-def]
    # The outage is real (the proxy cuts the connection to the real Rasa); only the circuit breaker's
    # retry window runs on a fake clock, so nothing waits for it to pass.
    pipeline = make_pipeline(proxy.url, rasa_server.token, http, knowledge, lexical, manifest, retry=30, clock=clock)
    question = "dang ky tam tru tren vneid the nao"
    assert (await pipeline.answer(question)).source is Source.RASA

    proxy.cut()
    down = await pipeline.answer(question)
    assert down.source is Source.LEXICAL and down.topic == "dvc_cu_tru"

    # Rasa is reachable again, but while the circuit is open the fallback answers without trying it.
    proxy.mode = "up"
    clock.advance(29.5)
    assert (await pipeline.answer(question)).source is Source.LEXICAL

    clock.advance(0.5)
    with caplog.at_level(logging.WARNING, logger="nlu.resilient"):
        back = await pipeline.answer(question)
        again = await pipeline.answer(question)
    assert back.source is Source.RASA and back.topic == "dvc_cu_tru"
    assert again.source is Source.RASA
    assert sum("Rasa is back" in r.getMessage() for r in caplog.records) == 1


async def test_slow_rasa_times_out_to_the_fallback(proxy, rasa_server, http, knowledge, lexical, manifest) -> None:  # type: ignore[no-untyped-def]
    pipeline = make_pipeline(proxy.url, rasa_server.token, http, knowledge, lexical, manifest, retry=30)
    proxy.mode, proxy.delay = "slow", 3.0
    started = time.monotonic()
    reply = await pipeline.answer("Lỡ đọc mã OTP cho người lạ rồi phải làm gì")
    assert time.monotonic() - started < 1.5  # the 0.5 s timeout, not the 3 s delay
    assert reply.source is Source.LEXICAL and reply.topic == "attt_bi_lua"
