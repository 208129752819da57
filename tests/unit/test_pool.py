"""Several NLU servers: spread over the healthy ones, a failing one out for a while, the fallback only
when none answers (fake servers, fake clock)."""

from __future__ import annotations

import pytest

from nlu.client import NluUnavailable, Ranking
from nlu.pool import RasaPool
from nlu.settings import NluSettings
from tests.conftest import FakeClock


class FakeServer:
    def __init__(self, name: str) -> None:
        self.name, self.up, self.calls = name, True, 0

    async def parse(self, text: str) -> Ranking:
        self.calls += 1
        if not self.up:
            raise NluUnavailable(f"{self.name} is down")
        return [(self.name, 1.0)]

    async def is_ready(self) -> bool:
        return self.up


def pool_of(servers: list[FakeServer], clock: FakeClock) -> RasaPool:
    return RasaPool(servers, retry_seconds=10, clock=clock)  # type: ignore[arg-type]


async def test_questions_are_spread_over_the_healthy_servers(clock: FakeClock) -> None:
    a, b = FakeServer("a"), FakeServer("b")
    pool = pool_of([a, b], clock)
    answers = [(await pool.parse("q"))[0][0] for _ in range(6)]
    assert sorted(answers) == ["a", "a", "a", "b", "b", "b"]


async def test_a_failing_server_is_taken_out_then_tried_again(clock: FakeClock) -> None:
    a, b = FakeServer("a"), FakeServer("b")
    pool = pool_of([a, b], clock)
    a.up = False
    assert [(await pool.parse("q"))[0][0] for _ in range(4)] == ["b"] * 4
    assert a.calls == 1 and pool.healthy == 1  # asked once, then left out
    a.up = True
    clock.advance(10)
    answers = {(await pool.parse("q"))[0][0] for _ in range(4)}
    assert answers == {"a", "b"} and pool.healthy == 2


async def test_only_when_every_server_fails_does_the_caller_fall_back(clock: FakeClock) -> None:
    a, b = FakeServer("a"), FakeServer("b")
    pool = pool_of([a, b], clock)
    a.up = b.up = False
    with pytest.raises(NluUnavailable):
        await pool.parse("q")
    assert not await pool.is_ready()
    b.up = True
    assert await pool.is_ready()


def test_servers_are_read_from_a_comma_separated_rasa_url() -> None:
    settings = NluSettings(_env_file=None, rasa_url="http://127.0.0.1:5005/, http://127.0.0.1:5006")  # type: ignore[call-arg]
    assert settings.rasa_servers() == ["http://127.0.0.1:5005", "http://127.0.0.1:5006"]
    assert NluSettings(_env_file=None, rasa_url=None).rasa_servers() == []  # type: ignore[call-arg]


def test_rasa_urls_is_the_same_setting_as_rasa_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RASA_URL", raising=False)
    monkeypatch.setenv("RASA_URLS", "http://127.0.0.1:5005,http://127.0.0.1:5006")
    assert NluSettings(_env_file=None).rasa_servers() == ["http://127.0.0.1:5005", "http://127.0.0.1:5006"]  # type: ignore[call-arg]
    monkeypatch.delenv("RASA_URLS")
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:7000")
    assert NluSettings(_env_file=None).rasa_servers() == ["http://127.0.0.1:7000"]  # type: ignore[call-arg]
