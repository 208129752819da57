"""The proof of the learning loop, through the real Application, the real Rasa and a real retraining:

1. a question the assistant does not know;
2. a curator resolves it in ``/hopthu``;
3. ``/huanluyen``: retraining in another process, the quality gate, publishing into the running
   Rasa server;
4. the same question and a paraphrase are now answered with that topic;
5. a rollback in ``/phienban`` brings the old behaviour back.

The test has its own model folder (a copy of the set-up's model), database and Rasa server, so
the model it publishes never reaches the other tests or the project's ``nlu/models``.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

import texts
import texts.learning as say
from bot.app import build_application, running
from bot.settings import BotSettings
from knowledge.content_files import Content
from learning.settings import LearningSettings
from nlu.server import LocalRasaServer
from nlu.settings import NluSettings
from nlu.training import Manifest
from storage.settings import StorageSettings
from tests.conftest import NO_SUPPORT_CHAT, knowledge_engine
from tests.fake_bot_api import Call, FakeBotAPI

ADMIN = 6_000_001
CURATOR = 6_000_002
MEMBER = 6_000_003
QUESTION = "bị lừa qua trò chơi kim cương rồng bay thì làm sao"
PARAPHRASE = "tro choi kim cuong rong bay lua tien phai lam gi"
TOPIC = "attt_bi_lua"


@pytest.fixture(scope="module")
def nlu(tmp_path_factory: pytest.TempPathFactory, nlu_settings: NluSettings) -> NluSettings:
    """A model folder of its own, starting with the set-up's model."""
    folder = tmp_path_factory.mktemp("models")
    top = Manifest.load(nlu_settings.model_dir)
    assert top is not None
    shutil.copy2(top.model_path(nlu_settings.model_dir), folder / Path(top.model_file).name)
    Manifest(top.fingerprint, Path(top.model_file).name, top.calibration, top.notes).save(folder)
    examples = folder / "training_examples.json"
    shutil.copy2(nlu_settings.training_examples, examples)
    return nlu_settings.model_copy(update={"model_dir": folder, "training_examples": examples})


@pytest.fixture(scope="module")
def rasa(nlu: NluSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRasaServer]:
    with LocalRasaServer(nlu, log_file=tmp_path_factory.mktemp("rasa-loop") / "rasa.log") as server:
        yield server


@pytest.fixture(scope="module")
async def database(tmp_path_factory: pytest.TempPathFactory, content: Content) -> AsyncIterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('loop-db') / 'assistant.db'}"
    engine = await knowledge_engine(url, content)
    await engine.dispose()
    yield url


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


@pytest.fixture(scope="module")
async def app(fake: FakeBotAPI, nlu: NluSettings, rasa: LocalRasaServer, database: str) -> AsyncIterator[Any]:
    settings = BotSettings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=fake.token,
        telegram_api_base_url=fake.base_url,
        telegram_api_file_url=fake.base_file_url,
        admin_user_ids=str(ADMIN),
        broadcast_sender_in_bot=False,
        rate_limit_burst=50,
        rate_limit_per_second=50,
    )
    served = nlu.model_copy(update={"rasa_url": rasa.url, "rasa_token": SecretStr(rasa.token)})
    storage = StorageSettings(_env_file=None, database_url=database)  # type: ignore[call-arg]
    learning = LearningSettings(  # type: ignore[call-arg]
        _env_file=None, learning_retrain_hour=-1, learning_retrain_after_examples=0
    )
    application = build_application(settings, served, storage, NO_SUPPORT_CHAT, learning)
    async with running(application, poll_timeout=1) as started:
        yield started


def buttons(call: Call) -> list[tuple[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


async def ask(fake: FakeBotAPI, user: int, text: str, timeout: float = 20) -> Call:
    since = time.monotonic()
    fake.push_update(fake.make_text_message(user, user, text))
    [call] = await fake.wait_for("sendMessage", lambda c: c.chat_id == user, since=since, timeout=timeout)
    return call


async def press(fake: FakeBotAPI, user: int, message: Call, data: str, method: str = "editMessageText") -> Call:
    since = time.monotonic()
    fake.push_update(fake.make_callback_query(user, user, message.result["message_id"], data))
    [call] = await fake.wait_for(method, lambda c: c.chat_id == user or method == "answerCallbackQuery", since=since)
    return call


async def test_a_curated_question_is_learnt_published_and_rolled_back(fake: FakeBotAPI, app: Any) -> None:
    # 1. Not known today.
    before = await ask(fake, MEMBER, QUESTION)
    assert before.params["text"].startswith(texts.UNKNOWN)

    # A stranger cannot curate; the super-admin makes CURATOR a curator.
    refused = await ask(fake, MEMBER, "/hopthu")
    assert refused.params["text"] == say.NOT_CURATOR
    granted = await ask(fake, ADMIN, f"/capbientap {CURATOR}")
    assert granted.params["text"] == say.CURATOR_GRANTED.format(user_id=CURATOR)

    # 2. The curator finds the question in the inbox and resolves its group to the topic.
    inbox = await ask(fake, CURATOR, "/hopthu")
    assert "kim cương rồng bay" in inbox.params["text"]
    choices = [data for _, data in buttons(inbox)]
    assert any(data.startswith("io:") for data in choices) and any(data.endswith(":out_of_scope") for data in choices)
    group_id = next(data for data in choices if data.startswith("io:")).split(":")[1]
    domains = await press(fake, CURATOR, inbox, f"io:{group_id}", "editMessageReplyMarkup")
    attt = next(data for _, data in buttons(domains) if data == f"id:{group_id}:attt")
    topics = await press(fake, CURATOR, inbox, attt, "editMessageReplyMarkup")
    assert f"ip:{group_id}:{TOPIC}" in [data for _, data in buttons(topics)]
    after_pick = await press(fake, CURATOR, inbox, f"ip:{group_id}:{TOPIC}")
    assert "kim cương rồng bay" not in after_pick.params["text"]

    # 3. Retraining, the gate and publishing.
    started = time.monotonic()
    since = time.monotonic()
    fake.push_update(fake.make_text_message(CURATOR, CURATOR, "/huanluyen"))
    [published] = await fake.wait_for(
        "sendMessage",
        lambda c: c.chat_id == CURATOR and ("Đã đưa mô hình mới" in (c.text or "") or "Giữ lại" in (c.text or "")),
        since=since,
        timeout=300,
    )
    assert "Đã đưa mô hình mới" in published.params["text"], published.params["text"]
    elapsed = time.monotonic() - started
    assert elapsed < 300
    print(f"/huanluyen → published in {elapsed:.1f} s: {published.params['text']}")  # the figures, with -s

    # 4. The question and a paraphrase are answered with the topic.
    for text in (QUESTION, PARAPHRASE):
        reply = await ask(fake, MEMBER, text)
        assert not reply.params["text"].startswith(texts.UNKNOWN), text
        assert reply.params["text"].startswith("<b>Bị lừa") or "lừa" in reply.params["text"][:200]

    # 5. Roll back to the set-up's model: the old behaviour returns.
    versions = await ask(fake, CURATOR, "/phienban")
    rollbacks = [data for _, data in buttons(versions) if data.startswith("vr:")]
    assert rollbacks, versions.params["text"]
    since = time.monotonic()
    fake.push_update(fake.make_callback_query(CURATOR, CURATOR, versions.result["message_id"], rollbacks[0]))
    await fake.wait_for(
        "sendMessage", lambda c: c.chat_id == CURATOR and "Đã dùng lại" in (c.text or ""), since=since, timeout=120
    )
    again = await ask(fake, MEMBER, QUESTION)
    assert again.params["text"].startswith(texts.UNKNOWN)
