"""Property-based fuzzing of the real bot: odd updates never reach the error handler.

Hypothesis generates batches of odd updates — huge, empty or control-character text, every
non-text message kind, forged and overlong button data, unknown commands and admin commands
with odd arguments, edits, inline queries, membership changes — in every chat type. They go
through the real ``Application`` (HTTP to the fake Bot API, real Rasa, real SQLite). After each
batch a normal question from a new user must be answered (the barrier: the bot is up and has
taken the batch off the queue), and no handler may have raised.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_application, running
from bot.context import BotContext
from nlu.settings import NluSettings
from storage.settings import StorageSettings
from tests.conftest import NO_SUPPORT_CHAT
from tests.fake_bot_api import FakeBotAPI
from tests.odd_updates import ADMIN, CHATS, Build, update_strategy
from tests.test_telegram_bot import nlu_for_bot, settings_for, storage_for_bot  # noqa: F401  (fixtures)

ERRORS: list[BaseException | None] = []
_barrier_users = iter(range(710_000, 790_000))


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        for chat_id in (CHATS["group"], CHATS["supergroup"]):
            fake.set_chat_member_status(chat_id, ADMIN, "administrator")
        yield fake


async def _record_error(update: object, context: BotContext) -> None:
    ERRORS.append(context.error)


@pytest.fixture(scope="module")
async def app(server: FakeBotAPI, nlu_for_bot: NluSettings, storage_for_bot: StorageSettings) -> AsyncIterator[Any]:  # noqa: F811
    settings = settings_for(server, admin_user_ids=str(ADMIN), rate_limit_burst=1000, rate_limit_per_second=100.0)
    application = build_application(settings, nlu_for_bot, storage_for_bot, NO_SUPPORT_CHAT)
    application.add_error_handler(_record_error)
    async with running(application, poll_timeout=1) as started:
        yield started


async def _barrier(fake: FakeBotAPI) -> None:
    """A normal question from a new user must still be answered after the batch."""
    user = next(_barrier_users)
    since = time.monotonic()
    fake.push_update(fake.make_text_message(user, user, "quen mat khau vneid thi lam sao"))
    [answer] = await fake.wait_for("sendMessage", lambda c: c.chat_id == user and c.ok, since=since, timeout=20)
    assert answer.params["text"].startswith("<b>Quên mật khẩu")


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(update_strategy, min_size=1, max_size=6))
async def test_odd_updates_never_reach_the_error_handler(server: FakeBotAPI, app: Any, batch: list[Build]) -> None:
    server.reset_faults()
    ERRORS.clear()
    for build in batch:
        server.push_update(build(server))
    await _barrier(server)
    await server.wait_updates_consumed()
    assert ERRORS == [], [repr(e) for e in ERRORS]
