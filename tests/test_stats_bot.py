"""/thongke and the daily digest through the real Application and the fake Bot API server.

The bot gets a database of its own (the knowledge base plus the seed of
``tests/unit/test_stats.py``), so other tests' records and tickets cannot change a count, and
a fixed clock (10/03/2026 10:00 in Vietnam). The same seed is also counted on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_application, running
from bot.features.stats import DIGEST_JOB_NAME
from broadcasts.roles import RoleRepository
from broadcasts.scope import Scope
from knowledge.content_files import Content
from knowledge.repository import KnowledgeRepository
from nlu.settings import NluSettings
from stats.export import days_csv
from stats.figures import Period, StatsRepository
from stats.summary import summary_html
from storage.engine import create_engine, create_schema, session_factory
from storage.settings import StorageSettings
from support.settings import SupportSettings
from tests.fake_bot_api import Call, FakeBotAPI
from tests.pg import pg_url  # noqa: F401  (fixture)
from tests.test_telegram_bot import nlu_for_bot, settings_for  # noqa: F401  (fixture)
from tests.unit.test_stats import (
    DIGEST_09_03,
    EXPECTED_DAYS,
    NOW,
    SUMMARY_EVERYWHERE,
    SUMMARY_HA_NOI,
    VN,
    png_size,
    seed,
)
from texts import stats as texts

ADMIN, BROADCASTER, STRANGER = 910_001, 910_002, 910_003
SUPPORT_CHAT = -1009100000001
GROUP = -1001  # the seed's Hà Nội group
TOPICS = ("attt_bi_lua", "attt_mat_khau", "dvc_cong_quoc_gia")  # real topics: the CSV shows their titles


async def seed_database(url: str) -> None:
    engine = create_engine(url)
    try:
        await create_schema(engine)
        async with session_factory(engine)() as session, session.begin():
            await seed(session, TOPICS)
            await RoleRepository(session).grant(BROADCASTER, ["tinh:ha_noi"], ADMIN)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def stats_database(tmp_path_factory: pytest.TempPathFactory, content: Content) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('stats-bot') / 'assistant.db'}"
    engine = create_engine(url)
    await create_schema(engine)
    async with session_factory(engine)() as session, session.begin():
        await KnowledgeRepository(session).sync_content(content)
    await engine.dispose()
    await seed_database(url)
    return url


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture(scope="module")
async def app(server: FakeBotAPI, nlu_for_bot: NluSettings, stats_database: str) -> AsyncIterator[Any]:  # noqa: F811
    support = SupportSettings(  # type: ignore[call-arg]
        _env_file=None, support_chat_id=SUPPORT_CHAT, support_digest_hour=7, support_sweep_seconds=3600
    )
    storage = StorageSettings(_env_file=None, database_url=stats_database)  # type: ignore[call-arg]
    application = build_application(settings_for(server, admin_user_ids=str(ADMIN)), nlu_for_bot, storage, support)
    application.bot_data.clock = lambda: NOW
    async with running(application, poll_timeout=1) as started:
        yield started


@pytest.fixture
def fake(server: FakeBotAPI, app: Any) -> FakeBotAPI:
    server.reset_faults()
    server.clear()
    return server


async def command(
    fake: FakeBotAPI, chat: int, user: int, text: str, *, last: str = "sendMessage", count: int = 1
) -> list[Call]:
    """Send ``text`` and wait for ``count`` ``last`` calls; every finished call to the chat since, in order."""
    since = time.monotonic()
    fake.push_update(fake.make_text_message(chat, user, text))
    await fake.wait_for(last, lambda c: c.chat_id == chat and c.ok, count=count, since=since, timeout=30)
    return [c for c in fake.calls if c.time >= since and c.chat_id == chat and c.done]


def uploaded(fake: FakeBotAPI, call: Call) -> list[bytes]:
    contents = []
    for upload in call.files:
        stored = fake.upload(upload.file_id)
        assert stored is not None and stored.content is not None
        contents.append(stored.content)
    return contents


def csv_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def test_a_super_admin_gets_charts_summary_and_csv(fake: FakeBotAPI, app: Any) -> None:
    calls = await command(fake, ADMIN, ADMIN, "/thongke 7", last="sendDocument", count=2)
    calls = [c for c in calls if c.method != "sendChatAction"]
    assert [c.method for c in calls] == ["sendMediaGroup", "sendMessage", "sendDocument", "sendDocument"]
    [album, summary, days, topics] = calls
    photos = uploaded(fake, album)
    assert len(photos) == 5 and len(album.params["media"]) == 5
    assert all(item["type"] == "photo" for item in album.params["media"])
    assert all(png_size(photo) == (1000, 560) for photo in photos)
    assert summary.params["text"] == texts.STATS_SUMMARY.format(**SUMMARY_EVERYWHERE)
    assert summary.params["parse_mode"] == "HTML"
    [days_file] = uploaded(fake, days)
    assert days.files[0].filename == "thongke-2026-03-04-2026-03-10-theo-ngay.csv"
    assert csv_of(days_file)[1:] == EXPECTED_DAYS
    assert topics.files[0].filename == "thongke-2026-03-04-2026-03-10-theo-chu-de.csv"
    titles = app.bot_data.knowledge.topics
    assert csv_of(uploaded(fake, topics)[0])[1:] == [
        ["attt_bi_lua", titles["attt_bi_lua"].title, "3", "2", "1"],
        ["attt_mat_khau", titles["attt_mat_khau"].title, "2", "1", "0"],
        ["dvc_cong_quoc_gia", titles["dvc_cong_quoc_gia"].title, "1", "0", "0"],
    ]


async def test_a_broadcaster_sees_their_scope_only(fake: FakeBotAPI) -> None:
    calls = await command(fake, BROADCASTER, BROADCASTER, "/thongke", last="sendDocument", count=2)
    [summary] = [c for c in calls if c.method == "sendMessage"]
    assert summary.params["text"] == texts.STATS_SUMMARY.format(**SUMMARY_HA_NOI)
    [days, _topics] = [c for c in calls if c.method == "sendDocument"]
    rows = csv_of(uploaded(fake, days)[0])
    assert [row[1] for row in rows[1:]] == ["2", "0", "0", "0", "0", "2", "1"]  # r1 r2 · r8 r13 · r10


@pytest.mark.parametrize(
    ("user", "text", "reply"),
    [
        (STRANGER, "/thongke", texts.STATS_NOT_ALLOWED),
        (STRANGER, "/thongke 30", texts.STATS_NOT_ALLOWED),
        (ADMIN, "/thongke abc", texts.STATS_USAGE),
        (ADMIN, "/thongke 1000000", texts.STATS_USAGE),
        (ADMIN, "/thongke 7 30", texts.STATS_USAGE),
        (BROADCASTER, "/thongke -7", texts.STATS_USAGE),
    ],
)
async def test_strangers_and_bad_periods_get_a_polite_text(fake: FakeBotAPI, user: int, text: str, reply: str) -> None:
    calls = await command(fake, user, user, text)
    # The refusal or the usage is the handler's last word: nothing else was sent before it.
    assert [(c.method, c.params.get("text")) for c in calls] == [("sendMessage", reply)]


async def test_in_a_group_it_points_to_the_private_chat(fake: FakeBotAPI) -> None:
    calls = await command(fake, GROUP, ADMIN, "/thongke 7")
    assert [(c.method, c.params.get("text")) for c in calls] == [("sendMessage", texts.STATS_PRIVATE_ONLY)]


async def test_the_daily_digest_is_posted_once_per_day(fake: FakeBotAPI, app: Any) -> None:
    [job] = app.job_queue.get_jobs_by_name(DIGEST_JOB_NAME)
    app.bot_data.clock = lambda: datetime(2026, 3, 10, 7, 0, tzinfo=VN)
    try:
        await job.run(app)  # returns when the callback has finished
        [digest] = await fake.wait_for_sent(SUPPORT_CHAT)
        assert digest.params["text"] == DIGEST_09_03 and digest.params["parse_mode"] == "HTML"
        await job.run(app)  # the same day again: nothing more
        assert len(fake.sent_messages(SUPPORT_CHAT)) == 1
        app.bot_data.clock = lambda: datetime(2026, 3, 11, 7, 0, 5, tzinfo=VN)
        await job.run(app)
        later = await fake.wait_for_sent(SUPPORT_CHAT, count=2)
        assert len(later) == 2 and "10/03/2026" in later[1].params["text"]
    finally:
        app.bot_data.clock = lambda: NOW


async def test_postgresql_counts_like_sqlite(pg_url: str) -> None:  # noqa: F811
    await seed_database(pg_url)
    engine: AsyncEngine = create_engine(pg_url)
    try:
        async with session_factory(engine)() as session:
            repository = StatsRepository(session)
            everywhere = await repository.figures(Period.last_days(NOW, 7), Scope.everything())
            ha_noi = await repository.figures(Period.last_days(NOW, 7), Scope.tagged(["tinh:ha_noi"]))
            unanswered = await repository.unanswered(Period.last_days(NOW, 7), Scope.everything())
    finally:
        await engine.dispose()
    assert summary_html(everywhere, Scope.everything()) == texts.STATS_SUMMARY.format(**SUMMARY_EVERYWHERE)
    assert csv_of(days_csv(everywhere))[1:] == EXPECTED_DAYS
    assert summary_html(ha_noi, Scope.tagged(["tinh:ha_noi"])) == texts.STATS_SUMMARY.format(**SUMMARY_HA_NOI)
    assert [(q.text, q.count) for q in unanswered] == [
        ("cách đổi tên zalo", 3),
        ("mật khẩu wifi", 2),
        ("wifi <nhà> & quán", 1),
    ]
