"""The circuit breaker of ``ResilientClassifier`` on a fake clock, with a fake Rasa and a real lexical fallback."""

from __future__ import annotations

import asyncio
import logging

import pytest

from nlu.client import NluUnavailable
from nlu.lexical import LexicalClassifier
from nlu.normalize import normalize
from nlu.resilient import ResilientClassifier, Source
from tests.conftest import FakeClock
from tests.unit.conftest import FakeRasa

RETRY = 30.0
RASA_RANKING = [("vneid_quen_mat_khau", 0.875), ("dvc_phat_giao_thong", 0.0625)]
QUESTION = normalize("quên mật khẩu VNeID thì làm sao")


@pytest.fixture(scope="module")
def lexical() -> LexicalClassifier:
    return LexicalClassifier(
        {
            "vneid_quen_mat_khau": ["quên mật khẩu vneid", "lấy lại mật khẩu vneid", "vneid quên mk phải làm gì"],
            "dvc_phat_giao_thong": ["nộp phạt giao thông trên dịch vụ công", "nộp phạt vi phạm giao thông online"],
            "out_of_scope": ["giá vàng hôm nay", "thời tiết ngày mai"],
        }
    )


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa(RASA_RANKING)


@pytest.fixture
def classifier(rasa: FakeRasa, lexical: LexicalClassifier, clock: FakeClock) -> ResilientClassifier:
    return ResilientClassifier(rasa, lexical, retry_seconds=RETRY, clock=clock)  # type: ignore[arg-type]


def messages(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in record.getMessage() for record in caplog.records if record.name == "nlu.resilient")


@pytest.fixture(autouse=True)
def _capture_warnings(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="nlu.resilient")


async def test_rasa_answers_while_it_is_up(classifier: ResilientClassifier, rasa: FakeRasa) -> None:
    for _ in range(3):
        result = await classifier.classify(QUESTION)
        assert result.source is Source.RASA and result.ranking == RASA_RANKING
    assert rasa.calls == [QUESTION] * 3
    assert classifier.rasa_available


async def test_the_fallback_ranks_when_rasa_fails(
    classifier: ResilientClassifier, rasa: FakeRasa, lexical: LexicalClassifier, caplog: pytest.LogCaptureFixture
) -> None:
    rasa.up = False
    result = await classifier.classify(QUESTION)
    assert result.source is Source.LEXICAL
    assert result.ranking == lexical.rank_normalized([QUESTION])[0]
    assert result.ranking[0][0] == "vneid_quen_mat_khau"
    assert len(rasa.calls) == 1 and not classifier.rasa_available
    assert messages(caplog, "Rasa unavailable") == 1


async def test_open_circuit_skips_rasa_until_retry_seconds_pass(
    classifier: ResilientClassifier, rasa: FakeRasa, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    rasa.up = False
    await classifier.classify(QUESTION)
    rasa.up = True  # back already, but nobody asks it until the window has passed
    for _ in range(3):
        clock.advance(RETRY / 4)
        assert (await classifier.classify(QUESTION)).source is Source.LEXICAL
    assert len(rasa.calls) == 1

    clock.advance(RETRY / 4)  # exactly retry_seconds since the failure
    result = await classifier.classify(QUESTION)
    assert result.source is Source.RASA and result.ranking == RASA_RANKING
    assert len(rasa.calls) == 2 and classifier.rasa_available
    assert messages(caplog, "Rasa is back") == 1
    # Closed again: every question goes to Rasa, and "back" is said only once.
    for _ in range(3):
        assert (await classifier.classify(QUESTION)).source is Source.RASA
    assert len(rasa.calls) == 5
    assert messages(caplog, "Rasa is back") == 1
    assert messages(caplog, "Rasa unavailable") == 1


async def test_a_failed_retry_reopens_the_circuit_for_a_full_window(
    classifier: ResilientClassifier, rasa: FakeRasa, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    rasa.up = False
    await classifier.classify(QUESTION)
    clock.advance(RETRY)
    assert (await classifier.classify(QUESTION)).source is Source.LEXICAL  # one try, failed
    assert len(rasa.calls) == 2
    # The new window counts from the failed retry, not from the first failure.
    clock.advance(RETRY - 0.5)
    assert (await classifier.classify(QUESTION)).source is Source.LEXICAL
    assert len(rasa.calls) == 2
    clock.advance(0.5)
    rasa.up = True
    assert (await classifier.classify(QUESTION)).source is Source.RASA
    assert len(rasa.calls) == 3
    # One outage, one warning each way, however many retries failed in between.
    assert messages(caplog, "Rasa unavailable") == 1
    assert messages(caplog, "Rasa is back") == 1


async def test_a_second_outage_opens_the_circuit_again(
    classifier: ResilientClassifier, rasa: FakeRasa, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(2):  # down, back, down, back
        rasa.up = False
        assert (await classifier.classify(QUESTION)).source is Source.LEXICAL
        calls = len(rasa.calls)
        rasa.up = True
        assert (await classifier.classify(QUESTION)).source is Source.LEXICAL
        assert len(rasa.calls) == calls
        clock.advance(RETRY)
        assert (await classifier.classify(QUESTION)).source is Source.RASA
    assert messages(caplog, "Rasa unavailable") == 2
    assert messages(caplog, "Rasa is back") == 2


async def test_without_rasa_the_fallback_always_answers(lexical: LexicalClassifier, clock: FakeClock) -> None:
    classifier = ResilientClassifier(None, lexical, retry_seconds=RETRY, clock=clock)
    assert not classifier.rasa_available
    for _ in range(3):
        result = await classifier.classify(QUESTION)
        assert result.source is Source.LEXICAL and result.ranking[0][0] == "vneid_quen_mat_khau"
        clock.advance(RETRY * 2)
    assert not classifier.rasa_available


class GatedRasa(FakeRasa):
    """A Rasa whose answer waits for ``gate``: a probe that is still in flight."""

    def __init__(self, ranking: list[tuple[str, float]]) -> None:
        super().__init__(ranking)
        self.gate = asyncio.Event()

    async def parse(self, text: str) -> list[tuple[str, float]]:
        self.calls.append(text)
        await self.gate.wait()
        if not self.up:
            raise NluUnavailable("fake Rasa is down")
        return list(self.ranking)


async def test_only_one_question_probes_a_rasa_that_was_down(lexical: LexicalClassifier, clock: FakeClock) -> None:
    rasa = GatedRasa(RASA_RANKING)
    classifier = ResilientClassifier(rasa, lexical, retry_seconds=RETRY, clock=clock)  # type: ignore[arg-type]
    rasa.up = False
    rasa.gate.set()
    assert (await classifier.classify(QUESTION)).source is Source.LEXICAL  # the circuit opens
    rasa.gate.clear()
    clock.advance(RETRY)
    probe = asyncio.ensure_future(classifier.classify(QUESTION))
    while len(rasa.calls) < 2:  # the probe has reached Rasa and waits there
        await asyncio.sleep(0)
    others = [await classifier.classify(QUESTION) for _ in range(5)]
    assert [o.source for o in others] == [Source.LEXICAL] * 5 and len(rasa.calls) == 2
    rasa.up = True
    rasa.gate.set()
    assert (await probe).source is Source.RASA
    assert (await classifier.classify(QUESTION)).source is Source.RASA and len(rasa.calls) == 3
