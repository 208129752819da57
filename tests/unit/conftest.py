"""The fast tier: no Rasa, no fake Bot API server, no database, no processes, no sockets, no sleeping.

Every test here runs under guards that turn a network connection, a subprocess or a
wall-clock sleep into a test failure, so a slow dependency cannot creep in unnoticed.
Time-dependent code gets the ``clock`` fixture (``tests/conftest.py``) instead.
The tier does not import ``telegram`` either: when only ``tests/unit`` runs, an import of it
(by a test module or by the code it imports) fails the run and names the module responsible.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib.abc
import importlib.machinery
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from knowledge.content_files import Content
from knowledge.repository import DomainView, KnowledgeSnapshot, LinkView, TopicView
from nlu.client import NluUnavailable
from nlu.lexical import Ranking

UNIT_DIR = Path(__file__).resolve().parent


# Set while a unit test runs. Tasks the test starts inherit it; threads and the tasks of other tests'
# session fixtures do not, so only the unit test's own work is refused.
_in_unit_test: contextvars.ContextVar[bool] = contextvars.ContextVar("in_unit_test", default=False)


def _guarded(original: Any, what: str, *, allowed: Any = None) -> Any:
    """``original``, except when called from a unit test (and ``allowed(*args)`` is not true)."""

    def guard(*args: Any, **kwargs: Any) -> Any:
        if _in_unit_test.get() and not (allowed and allowed(*args)):
            raise AssertionError(f"unit tests must not {what}; move the test out of tests/unit or use a fake")
        return original(*args, **kwargs)

    return guard


class _TelegramImportWatch(importlib.abc.MetaPathFinder):
    """Notes which unit test module first imports ``telegram``; finds nothing itself."""

    def __init__(self) -> None:
        self.culprit: str | None = None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "telegram" and self.culprit is None:
            frame = sys._getframe(1)
            while frame is not None:
                file = Path(frame.f_code.co_filename)
                if file.name.startswith("test_") and file.parent == UNIT_DIR:
                    self.culprit = file.name
                    break
                frame = frame.f_back  # type: ignore[assignment]
            else:
                self.culprit = "code outside tests/unit"
        return None


_TELEGRAM_ALREADY_LOADED = "telegram" in sys.modules  # e.g. by tests/conftest.py, or by other tests collected first
_telegram_watch = _TelegramImportWatch()
if not _TELEGRAM_ALREADY_LOADED:
    sys.meta_path.insert(0, _telegram_watch)


@pytest.fixture(scope="session", autouse=True)
def _unit_tier_does_not_import_telegram(request: pytest.FixtureRequest) -> Iterator[None]:
    """Checked when only the unit tier runs (a full run imports telegram for the other tests)."""
    if all(UNIT_DIR in Path(item.path).resolve().parents for item in request.session.items):
        assert not _TELEGRAM_ALREADY_LOADED, (
            "telegram was imported before the unit tier's conftest (tests/conftest.py?)"
        )
        imported = "telegram" in sys.modules
        assert not imported, f"the unit tier imported telegram (first by {_telegram_watch.culprit})"
    yield
    if _telegram_watch in sys.meta_path:
        sys.meta_path.remove(_telegram_watch)


@pytest.fixture(autouse=True)
def _no_network_processes_or_sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    telegram_loaded = "telegram" in sys.modules
    for method in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, method, _guarded(getattr(socket.socket, method), "open a network socket"))
    monkeypatch.setattr(socket, "create_connection", _guarded(socket.create_connection, "open a network socket"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _guarded(subprocess.Popen.__init__, "start a process"))
    no_sleep = "sleep; advance the fake clock instead"
    monkeypatch.setattr(time, "sleep", _guarded(time.sleep, no_sleep))
    monkeypatch.setattr(asyncio, "sleep", _guarded(asyncio.sleep, no_sleep, allowed=lambda delay, *_: delay <= 0))
    _in_unit_test.set(True)
    yield
    _in_unit_test.set(False)
    assert telegram_loaded or "telegram" not in sys.modules, "this unit test imported telegram"


class FakeRasa:
    """Stands in for ``nlu.client.RasaClient``: returns ``ranking`` while up, raises ``NluUnavailable`` while down."""

    def __init__(self, ranking: Ranking | None = None) -> None:
        self.ranking: Ranking = ranking or []
        self.by_text: dict[str, Ranking] = {}  # a ranking for one normalised text, else ``ranking``
        self.up = True
        self.calls: list[str] = []

    async def parse(self, text: str) -> Ranking:
        self.calls.append(text)
        if not self.up:
            raise NluUnavailable("fake Rasa is down")
        return list(self.by_text.get(text, self.ranking))


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture(scope="session")
def curated_knowledge(content: Content) -> KnowledgeSnapshot:
    """The snapshot the answer pipeline reads, built straight from the content files (no database)."""
    topics = {
        record.entry.id: TopicView(
            id=record.entry.id,
            domain=record.domain,
            title=record.entry.title,
            summary=record.entry.summary,
            answer=record.entry.answer,
            links=tuple(LinkView(link.label, link.url) for link in record.entry.links),
            related=tuple(record.entry.related),
        )
        for record in content.topics
    }
    domains = tuple(
        DomainView(d.key, d.title, d.short_title, tuple(r.entry.id for r in content.topics if r.domain == d.key))
        for d in content.domains
    )
    return KnowledgeSnapshot(domains, topics, content.training_examples())
