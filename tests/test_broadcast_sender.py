"""The broadcast outbox and sender against the fake Bot API server and a real database.

Every test runs on a new SQLite file and, when ``TEST_DATABASE_URL_PG`` is set, on a new
PostgreSQL database (``tests/pg.py``). Senders run in this process or as real
``python -m bot sender`` processes (crash and two-sender tests). The pure parts (limits,
error outcomes) are tested in ``tests/unit``.

This file is longer than 400 lines because its end-to-end cases share one set of fixtures and
helpers (server, databases, sender processes) that are not worth a package of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import error as tg

from bot.sender.delivery import send_error
from bot.sender.loop import BroadcastSender
from bot.sender.outcomes import ErrorKind, PauseAll, RetryPolicy, SendError, classify
from bot.sender.runner import build_sender_bot, start_sender_task
from bot.sender.settings import BroadcastSettings
from bot.settings import BotSettings
from broadcasts.announcements import AnnouncementRepository
from broadcasts.models import Announcement, AnnouncementStatus, Delivery, DeliveryStatus, Group
from broadcasts.outbox import BroadcastRepository
from broadcasts.registry import search_text
from broadcasts.reports import CSV_HEADER, Progress, ReportRepository
from nlu.settings import PROJECT_ROOT
from storage.base import as_utc, utc_now
from storage.engine import create_engine, create_schema, session_factory
from tests.fake_bot_api import Call, FakeBotAPI
from tests.pg import backend_url, pg_url  # noqa: F401  (fixtures)

Sessions = async_sessionmaker[AsyncSession]
KICKED = "Forbidden: bot was kicked from the supergroup chat"
THREAD_NOT_FOUND = "Bad Request: message thread not found"
CHAT_NOT_FOUND = "Bad Request: chat not found"
UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"
TEXT = "<b>Thông báo</b> họp giao ban Tổ CNSCĐ lúc 8h, xem https://dichvucong.gov.vn"


# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture
async def sessions(backend_url: str) -> AsyncIterator[Sessions]:  # noqa: F811
    engine = create_engine(backend_url)
    await create_schema(engine)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


def db_url(sessions: Sessions) -> str:
    bind = sessions.kw["bind"]
    return str(bind.url.render_as_string(hide_password=False))


def settings(**overrides: Any) -> BroadcastSettings:
    values: dict[str, Any] = {
        "broadcast_rate_per_second": 200.0,
        "broadcast_retry_base_seconds": 0.05,
        "broadcast_retry_max_seconds": 0.2,
        "broadcast_poll_seconds": 0.1,
        "sender_worker_id": "test-sender",
        **overrides,
    }
    return BroadcastSettings(_env_file=None, **values)  # type: ignore[call-arg]


def bot_settings(server: FakeBotAPI) -> BotSettings:
    return BotSettings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=SecretStr(server.token),
        telegram_api_base_url=server.base_url,
        telegram_api_file_url=server.base_file_url,
    )


async def add_groups(sessions: Sessions, chat_ids: list[int], title: str = "Tổ CNSCĐ xã") -> list[int]:
    """Group rows for these chats (basic groups for ids above -10^12, else supergroups); their ids."""
    rows: list[dict[str, Any]] = [
        {
            "chat_id": chat_id,
            "title": f"{title} {index}",
            "chat_type": "supergroup" if chat_id < -1_000_000_000_000 else "group",
            "search_text": search_text(f"{title} {index}", None, None, []),
            "active": True,
        }
        for index, chat_id in enumerate(chat_ids)
    ]
    async with sessions() as session, session.begin():
        await session.execute(insert(Group), rows)
    async with sessions() as session:
        by_chat = dict((await session.execute(select(Group.chat_id, Group.id))).tuples().all())
    return [by_chat[chat_id] for chat_id in chat_ids]


def supergroups(count: int, first: int = 1) -> list[int]:
    return [-1_001_000_000_000 - i for i in range(first, first + count)]


async def announce(sessions: Sessions, group_ids: list[int], **fields: Any) -> int:
    values: dict[str, Any] = {"sender_user_id": 42, "sender_chat_id": 42, "kind": "text", "text": TEXT, **fields}
    async with sessions() as session, session.begin():
        announcement = await BroadcastRepository(session).create_announcement(group_ids=group_ids, **values)
        return announcement.id


async def progress(sessions: Sessions, announcement_id: int) -> Progress:
    async with sessions() as session:
        return await ReportRepository(session).progress(announcement_id)


async def wait_done(sessions: Sessions, announcement_id: int, timeout: float = 60.0) -> Progress:
    deadline = time.monotonic() + timeout
    while True:
        state = await progress(sessions, announcement_id)
        if state.status == AnnouncementStatus.DONE:
            return state
        if time.monotonic() > deadline:
            raise TimeoutError(f"announcement {announcement_id} not done after {timeout}s: {state}")
        await asyncio.sleep(0.1)


async def deliveries(sessions: Sessions, announcement_id: int) -> list[Delivery]:
    async with sessions() as session:
        query = select(Delivery).where(Delivery.announcement_id == announcement_id).order_by(Delivery.id)
        return list((await session.scalars(query)).all())


@contextlib.asynccontextmanager
async def running_sender(sessions: Sessions, server: FakeBotAPI, config: BroadcastSettings) -> AsyncIterator[Any]:
    """A BroadcastSender in this process with its own Bot; stopped (cleanly) on exit."""
    bot_config = bot_settings(server)
    bot = build_sender_bot(bot_config, config)
    async with bot:
        sender = BroadcastSender(
            sessions,
            bot,
            config,
            config.sender_worker_id,
            group_messages_per_minute=bot_config.group_messages_per_minute,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        try:
            yield sender
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


def sends(server: FakeBotAPI, method: str = "sendMessage") -> list[Call]:
    return [c for c in server.calls_of(method) if c.done and c.ok]


def copies_per_chat(server: FakeBotAPI, method: str = "sendMessage") -> Counter[int]:
    return Counter(int(c.chat_id) for c in sends(server, method))  # type: ignore[arg-type]


@dataclass
class SenderProcess:
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> int:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        return self.process.wait(30)


def start_sender_process(
    server: FakeBotAPI, database_url: str, workdir: Path, name: str, **env_overrides: str
) -> SenderProcess:
    """``python -m bot sender`` on the fake server and the database (no .env: runs in ``workdir``)."""
    env = server.child_env(
        database_url,
        BROADCAST_RATE_PER_SECOND="200",
        BROADCAST_CONCURRENCY="8",
        BROADCAST_LEASE_SECONDS="2",
        BROADCAST_POLL_SECONDS="0.1",
        GROUP_MESSAGES_PER_MINUTE="20",
        SENDER_WORKER_ID=name,
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    env.update(env_overrides)
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "sender"], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return SenderProcess(process, log)


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.02)


# --- the whole path, every error kind ------------------------------------------------------------


async def test_two_thousand_groups_with_every_error_kind(sessions: Sessions, server: FakeBotAPI) -> None:
    ok = supergroups(1_860)
    kicked = supergroups(40, first=10_001)
    no_thread = supergroups(20, first=20_001)
    not_found = supergroups(10, first=30_001)
    flaky = supergroups(40, first=40_001)  # one Bad Gateway, then fine
    down = supergroups(5, first=50_001)  # Bad Gateway every time
    old_groups = [-400_000 - i for i in range(25)]  # basic groups, upgraded to supergroups
    new_ids = {old: -1_009_000_000_000 - i for i, old in enumerate(old_groups)}
    everyone = ok + kicked + no_thread + not_found + flaky + down + old_groups
    assert len(everyone) == 2_000
    group_ids = await add_groups(sessions, everyone)

    for chat in kicked:
        server.set_chat_error(chat, 403, KICKED)
    for chat in no_thread:
        server.set_chat_error(chat, 400, THREAD_NOT_FOUND)
    for chat in not_found:
        server.set_chat_error(chat, 400, CHAT_NOT_FOUND)
    for chat in down:
        server.set_chat_error(chat, 502, "Bad Gateway")
    for chat in flaky:
        server.fail_next("sendMessage", 502, "Bad Gateway", chat_id=chat)
    for old, new in new_ids.items():
        server.set_chat_error(old, 400, UPGRADED, {"migrate_to_chat_id": new})
    for chat in (ok[400], ok[1_000], ok[1_500]):  # Telegram says "slow down" three times
        server.fail_next("sendMessage", 429, retry_after=1, chat_id=chat)
    server.network_failure("sendMessage", count=15)  # dropped connections at the start
    server.rate_limit(global_per_second=400, per_chat_per_minute=20)

    announcement_id = await announce(sessions, group_ids)
    config = settings(broadcast_rate_per_second=400, broadcast_max_attempts=3)
    async with running_sender(sessions, server, config) as sender:
        state = await wait_done(sessions, announcement_id, timeout=120)

    # Every delivery has its final result, with the right reason.
    assert (state.total, state.pending, state.cancelled) == (2_000, 0, 0)
    assert state.sent == len(ok) + len(flaky) + len(old_groups)
    assert state.failed == len(kicked) + len(no_thread) + len(not_found) + len(down)
    assert state.finished_at is not None and state.started_at is not None
    rows = {row.group_id: row for row in await deliveries(sessions, announcement_id)}
    by_chat = dict(zip(everyone, group_ids, strict=True))
    reasons = {
        chat: rows[by_chat[chat]].error for chat in everyone if rows[by_chat[chat]].status == DeliveryStatus.FAILED
    }
    assert all(reasons[c] == "forbidden: bot was kicked from the supergroup chat" for c in kicked)
    assert all(reasons[c] == "bad_request: Message thread not found" for c in no_thread)
    assert all(reasons[c] == "chat_not_found: Chat not found" for c in not_found)
    assert all(reasons[c] == "network: Bad Gateway" for c in down)
    assert all(rows[by_chat[c]].attempts == 3 for c in down)  # max attempts, then failed
    assert all(rows[by_chat[c]].status == DeliveryStatus.SENT and rows[by_chat[c]].attempts == 2 for c in flaky)
    async with sessions() as session:
        repo = ReportRepository(session)
        assert await repo.failure_counts(announcement_id) == {
            "forbidden": 40,
            "bad_request": 20,
            "chat_not_found": 10,
            "network": 5,
        }
        failures = await repo.failures(announcement_id)
        report = await repo.failures_csv(announcement_id)
    assert len(failures) == 75 and failures[0].group_title.startswith("Tổ CNSCĐ xã")
    assert report.startswith(b"\xef\xbb\xbf" + ",".join(CSV_HEADER).encode())
    assert len(report.decode("utf-8-sig").splitlines()) == 76 and "Tổ CNSCĐ xã" in report.decode("utf-8-sig")

    # Kicked groups are inactive; migrated groups follow the new id and got the message there.
    async with sessions() as session:
        groups = {g.id: g for g in (await session.scalars(select(Group))).all()}
    assert all(not groups[by_chat[c]].active for c in kicked)
    assert all(groups[by_chat[c]].active for c in ok + no_thread + down)
    copies = copies_per_chat(server)
    for old, new in new_ids.items():
        group = groups[by_chat[old]]
        assert (group.chat_id, group.chat_type) == (new, "supergroup")
        assert rows[group.id].chat_id == new and copies[new] == 1 and copies[old] == 0

    # Exactly one copy per reachable chat, nothing to failed chats.
    delivered = ok + flaky + list(new_ids.values())
    assert {chat: copies[chat] for chat in delivered} == dict.fromkeys(delivered, 1)
    assert sum(copies.values()) == len(delivered)
    first = sends(server)[0]
    assert first.params["parse_mode"] == "HTML" and first.params["link_preview_options"] == {"is_disabled": True}
    assert "allow_paid_broadcast" not in first.params

    # Every 429 was honoured: nothing was sent while the pause ran.
    too_many = [c for c in server.calls_of("sendMessage") if c.error_code == 429]
    assert len(too_many) >= 3 and sender.stats.retry_after == len(too_many)
    send_times = sorted(c.time for c in sends(server))
    for refused in too_many:
        assert refused.done_time is not None
        pause = refused.response["parameters"]["retry_after"]  # type: ignore[index]
        quiet_from, quiet_to = refused.done_time + 0.2, refused.done_time + pause - 0.05
        assert not [t for t in send_times if quiet_from < t < quiet_to], f"sent during the pause after {refused}"
    assert sender.stats.migrated == len(old_groups)


# --- crash and restart ---------------------------------------------------------------------------


@pytest.mark.slow
async def test_killed_sender_resumes_and_repeats_at_most_what_was_in_flight(
    sessions: Sessions, server: FakeBotAPI, tmp_path: Path
) -> None:
    chats = supergroups(1_500)
    announcement_id = await announce(sessions, await add_groups(sessions, chats))
    server.delay("sendMessage", 0.02)  # keep sends in flight when the process dies

    first = start_sender_process(server, db_url(sessions), tmp_path, "sender-a")
    try:
        await wait_until(lambda: len(sends(server)) >= 450, 60, "the first sender never reached 30%")
    finally:
        first.kill()
    sent_before_kill = len(sends(server))
    assert sent_before_kill < len(chats)
    state = await progress(sessions, announcement_id)
    assert 0 < state.sent <= sent_before_kill  # a "sent" row is always a message Telegram accepted

    second = start_sender_process(server, db_url(sessions), tmp_path, "sender-b")
    try:
        state = await wait_done(sessions, announcement_id, timeout=90)
    finally:
        assert second.terminate() == 0, second.log.read_text()
    assert (state.sent, state.failed, state.pending) == (len(chats), 0, 0)
    copies = copies_per_chat(server)
    assert set(copies) == set(chats)  # nothing lost
    twice = [chat for chat, count in copies.items() if count > 1]
    assert max(copies.values()) <= 2
    assert len(twice) <= 8, f"{len(twice)} chats got two copies; at most the 8 in flight may"
    rows = await deliveries(sessions, announcement_id)
    assert all(row.status == DeliveryStatus.SENT and row.message_id for row in rows)
    assert "Traceback" not in second.log.read_text()


@pytest.mark.slow
async def test_two_sender_processes_share_the_work_without_duplicates(
    sessions: Sessions, server: FakeBotAPI, tmp_path: Path
) -> None:
    chats = supergroups(1_500)
    announcement_id = await announce(sessions, await add_groups(sessions, chats))
    server.delay("sendMessage", 0.005)
    workers = [
        start_sender_process(server, db_url(sessions), tmp_path, name, BROADCAST_LEASE_SECONDS="60")
        for name in ("sender-1", "sender-2")
    ]
    try:
        state = await wait_done(sessions, announcement_id, timeout=90)
    finally:
        codes = [worker.terminate() for worker in workers]
    assert codes == [0, 0], [w.log.read_text() for w in workers]
    assert (state.sent, state.failed, state.pending) == (len(chats), 0, 0)
    copies = copies_per_chat(server)
    assert set(copies) == set(chats) and set(copies.values()) == {1}
    by_worker = Counter(row.claimed_by for row in await deliveries(sessions, announcement_id))
    assert set(by_worker) == {"sender-1", "sender-2"}, by_worker  # both took part


# --- scheduling and cancelling -------------------------------------------------------------------


async def test_scheduled_waits_for_its_time_and_cancelled_never_goes(sessions: Sessions, server: FakeBotAPI) -> None:
    later_chats, cancelled_chats = supergroups(30), supergroups(30, first=1_001)
    later_groups = await add_groups(sessions, later_chats)
    cancelled_groups = await add_groups(sessions, cancelled_chats, title="Nhóm huỷ")
    at = utc_now() + timedelta(seconds=1.5)
    due_monotonic = time.monotonic() + (at - utc_now()).total_seconds()
    later = await announce(sessions, later_groups, scheduled_at=at, sender_user_id=7)
    cancelled = await announce(sessions, cancelled_groups, scheduled_at=at - timedelta(seconds=0.5))
    async with sessions() as session, session.begin():
        repo = AnnouncementRepository(session)
        assert [a.id for a in await repo.scheduled()] == [cancelled, later]
        assert [a.id for a in await repo.scheduled(sender_user_id=7)] == [later]
        assert await repo.cancel(cancelled)
        assert not await repo.cancel(cancelled)

    async with running_sender(sessions, server, settings()) as sender:
        # Barrier: the sender has swept (it starts due announcements) before the time came.
        await wait_until(lambda: sender.stats.sweeps >= 1, 5, "the sender never swept")
        assert time.monotonic() < due_monotonic, "too slow to check before the scheduled time"
        assert (await progress(sessions, later)).status == AnnouncementStatus.SCHEDULED
        state = await wait_done(sessions, later, timeout=20)
        async with sessions() as session, session.begin():
            assert not await AnnouncementRepository(session).cancel(later)  # started: too late to cancel
        # Barrier: two more sweeps, so at least one claim ran after `later` was done. A cancelled
        # delivery that could be claimed would have been claimed by now (with `later`'s, or then).
        swept = sender.stats.sweeps
        await wait_until(lambda: sender.stats.sweeps >= swept + 2, 5, "the sender stopped sweeping")
        assert sender.stats.claimed == 30  # only `later`'s deliveries, each once

    assert state.sent == 30 and state.started_at is not None and state.started_at >= at - timedelta(seconds=0.01)
    assert min(c.time for c in sends(server)) >= due_monotonic - 0.05  # nothing before its time
    assert set(copies_per_chat(server)) == set(later_chats)
    gone = await progress(sessions, cancelled)
    assert (gone.status, gone.cancelled, gone.sent, gone.pending) == (AnnouncementStatus.CANCELLED, 30, 0, 0)
    assert {row.status for row in await deliveries(sessions, cancelled)} == {DeliveryStatus.CANCELLED}
    async with sessions() as session:
        assert await AnnouncementRepository(session).scheduled() == []


async def test_upgraded_group_whose_supergroup_is_registered_too_gets_one_copy(
    sessions: Sessions, server: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    old, new = -500_001, -1_005_000_000_001
    old_id, new_id = await add_groups(sessions, [old, new])
    server.set_chat_error(old, 400, UPGRADED, {"migrate_to_chat_id": new})
    immediate = await announce(sessions, [old_id, new_id])
    # Pending deliveries to both rows: the registry merge cancels the old row's duplicate.
    later = await announce(sessions, [old_id, new_id], scheduled_at=utc_now() + timedelta(seconds=1))
    with caplog.at_level("WARNING", logger="bot.sender"):
        async with running_sender(sessions, server, settings()):
            await wait_done(sessions, immediate)
            await wait_done(sessions, later)
    assert copies_per_chat(server) == Counter({new: 2})  # one per announcement, none twice
    rows = {row.group_id: row for row in await deliveries(sessions, immediate)}
    assert rows[old_id].status == DeliveryStatus.SENT and rows[old_id].message_id is None
    assert (rows[old_id].error or "").startswith("migrated: delivered by delivery")
    assert rows[new_id].status == DeliveryStatus.SENT and rows[new_id].message_id is not None
    rows = {row.group_id: row for row in await deliveries(sessions, later)}
    assert rows[old_id].status == DeliveryStatus.CANCELLED and (rows[old_id].error or "").startswith("merged:")
    assert rows[new_id].status == DeliveryStatus.SENT and rows[new_id].message_id is not None
    assert "registry not migrated" not in caplog.text
    async with sessions() as session:
        groups = {g.id: g for g in (await session.scalars(select(Group))).all()}
    assert not groups[old_id].active and groups[new_id].active  # merged on the second try


# --- content kinds, pinning, paid broadcasts -----------------------------------------------------


async def test_photo_document_pin_and_silent(sessions: Sessions, server: FakeBotAPI) -> None:
    chats = supergroups(6)
    group_ids = await add_groups(sessions, chats)
    photo = await announce(
        sessions, group_ids[:3], kind="photo", file_id="AgACAgIAAxkBAAIphoto", text="<i>Ảnh</i>", pin=True, silent=True
    )
    document = await announce(sessions, group_ids[3:], kind="document", file_id="BQACAgIAAxkBAAIdoc", text="Tệp")
    no_rights = "Bad Request: not enough rights to manage pinned messages in the chat"
    server.fail_next("pinChatMessage", 400, no_rights, chat_id=chats[1])
    async with running_sender(sessions, server, settings()):
        await wait_done(sessions, photo)
        await wait_done(sessions, document)

    photos = sends(server, "sendPhoto")
    assert sorted(int(c.chat_id) for c in photos) == sorted(chats[:3])  # type: ignore[arg-type]
    assert all(c.params["photo"] == "AgACAgIAAxkBAAIphoto" and c.params["caption"] == "<i>Ảnh</i>" for c in photos)
    assert all(c.params["parse_mode"] == "HTML" and c.params["disable_notification"] is True for c in photos)
    documents = sends(server, "sendDocument")
    assert sorted(int(c.chat_id) for c in documents) == sorted(chats[3:])  # type: ignore[arg-type]
    assert all(c.params["document"] == "BQACAgIAAxkBAAIdoc" for c in documents)
    pins = {int(c.chat_id): c.params["message_id"] for c in server.calls_of("pinChatMessage") if c.ok}  # type: ignore[arg-type]
    assert pins == {int(c.chat_id): c.result["message_id"] for c in photos if int(c.chat_id) != chats[1]}  # type: ignore[arg-type]
    rows = {row.chat_id: row for row in await deliveries(sessions, photo)}
    assert {row.status for row in rows.values()} == {DeliveryStatus.SENT}  # a failed pin does not fail the delivery
    assert rows[chats[1]].error == "pin: Not enough rights to manage pinned messages in the chat"
    assert rows[chats[0]].error is None and rows[chats[0]].message_id is not None


async def test_paid_broadcast_mode(sessions: Sessions, server: FakeBotAPI) -> None:
    assert settings().rate_per_second == 200 and not settings().allow_paid_broadcast
    paid = settings(allow_paid_broadcast=True, paid_broadcast_rate_per_second=1000)
    assert paid.rate_per_second == 1000
    announcement_id = await announce(sessions, await add_groups(sessions, supergroups(50)))
    async with running_sender(sessions, server, paid) as sender:
        assert sender.rate == 1000 and sender.bucket.rate > 900
        await wait_done(sessions, announcement_id)
    calls = sends(server)
    assert len(calls) == 50 and all(c.params["allow_paid_broadcast"] is True for c in calls)


# --- stopping, leases, claims --------------------------------------------------------------------


async def test_stop_finishes_in_flight_sends_and_hands_back_the_rest(sessions: Sessions, server: FakeBotAPI) -> None:
    announcement_id = await announce(sessions, await add_groups(sessions, supergroups(300)))
    server.delay("sendMessage", 0.1)
    async with running_sender(sessions, server, settings(broadcast_rate_per_second=50)):
        await server.wait_for("sendMessage", count=10)
    rows = await deliveries(sessions, announcement_id)
    assert Counter(row.status for row in rows).keys() <= {DeliveryStatus.SENT, DeliveryStatus.PENDING}
    sent = [row for row in rows if row.status == DeliveryStatus.SENT]
    assert len(sent) == len(sends(server)) and 10 <= len(sent) < 300
    assert all(row.attempts == 0 and row.claimed_by is None for row in rows if row.status == DeliveryStatus.PENDING)

    # Another sender picks up where this one stopped; nobody gets two copies.
    server.delay("sendMessage", None)
    async with running_sender(sessions, server, settings(sender_worker_id="second")):
        state = await wait_done(sessions, announcement_id)
    assert state.sent == 300 and set(copies_per_chat(server).values()) == {1}


async def test_claims_are_disjoint_and_abandoned_rows_come_back_after_the_lease(sessions: Sessions) -> None:
    announcement_id = await announce(sessions, await add_groups(sessions, supergroups(100)))
    now = utc_now()

    async def claim(worker: str, limit: int, at: Any = None) -> list[int]:
        async with sessions() as session, session.begin():
            rows = await BroadcastRepository(session).claim(worker, limit, 30, at or now)
            return [row.id for row in rows]

    first, second = await asyncio.gather(claim("a", 60), claim("b", 60))
    assert len(first) + len(second) == 100 and not set(first) & set(second)
    assert await claim("c", 10) == []  # all leased
    assert await claim("c", 10, now + timedelta(seconds=31)) == sorted(first + second)[:10]  # leases ran out
    rows = {row.id: row for row in await deliveries(sessions, announcement_id)}
    taken = sorted(first + second)[:10]
    assert all(rows[i].claimed_by == "c" and rows[i].attempts == 2 for i in taken)
    assert all(as_utc(rows[i].lease_until) > now + timedelta(seconds=60) for i in taken)  # type: ignore[arg-type]

    async with sessions() as session, session.begin():
        repo = BroadcastRepository(session)
        assert await repo.release(taken[:5], "c") == 5
        assert await repo.release(taken[5:], "not-the-holder") == 0
        assert await repo.retry_later(taken[5], now, "retry_after: 1s", count_attempt=False, worker_id="c")
        assert await repo.mark_failed(taken[6], "bad_request: x", worker_id="c")
        assert not await repo.mark_failed(taken[7], "bad_request: x", worker_id="a")
    rows = {row.id: row for row in await deliveries(sessions, announcement_id)}
    assert [rows[i].status for i in taken[:8]] == [DeliveryStatus.PENDING] * 6 + [
        DeliveryStatus.FAILED,
        DeliveryStatus.SENDING,
    ]
    assert all(rows[i].attempts == 1 for i in taken[:6])  # handed back: the claim did not count


async def test_create_announcement_in_bulk(sessions: Sessions) -> None:
    group_ids = await add_groups(sessions, supergroups(12_000))
    started = time.perf_counter()
    announcement_id = await announce(sessions, [*group_ids, group_ids[0], 99_999_999])
    elapsed = time.perf_counter() - started
    async with sessions() as session:
        announcement = await session.get(Announcement, announcement_id)
        count = await session.scalar(select(func.count()).where(Delivery.announcement_id == announcement_id))
        chat = await session.scalar(select(Delivery.chat_id).where(Delivery.group_id == group_ids[-1]))
    assert announcement is not None and (announcement.total, announcement.status) == (
        12_000,
        AnnouncementStatus.SENDING,
    )
    assert count == 12_000 and chat == supergroups(12_000)[-1]
    assert elapsed < 10, f"creating 12,000 deliveries took {elapsed:.1f}s"
    assert not await finish(sessions, announcement_id)
    async with sessions() as session, session.begin():
        await session.execute(update(Delivery).values(status=DeliveryStatus.SENT))
    assert await finish(sessions, announcement_id) and not await finish(sessions, announcement_id)
    async with sessions() as session:
        needing = await AnnouncementRepository(session).announcements_needing_report()
    assert [a.id for a in needing] == [announcement_id]


async def finish(sessions: Sessions, announcement_id: int) -> bool:
    async with sessions() as session, session.begin():
        return await AnnouncementRepository(session).finish_if_done(announcement_id)


# --- in-process wiring, lifecycle, error mapping --------------------------------------------------


async def test_start_and_stop_a_sender_task(sessions: Sessions, server: FakeBotAPI) -> None:
    finished: list[int] = []

    async def on_finished(announcement_id: int) -> None:
        finished.append(announcement_id)

    handle = await start_sender_task(bot_settings(server), sessions, settings(), on_finished=on_finished)
    # The runner skips the per-lock lookups of a missing sniffio (a None entry), if it is missing.
    assert "sniffio" in sys.modules or importlib.util.find_spec("sniffio") is not None
    announcement_id = await announce(sessions, await add_groups(sessions, supergroups(20)))
    await wait_done(sessions, announcement_id)
    await wait_until(lambda: finished == [announcement_id], 5, "on_finished was not called")
    await handle.stop()
    assert handle.task.done() and handle.task.exception() is None
    assert handle.sender.stats.sent == 20 and len(copies_per_chat(server)) == 20


async def test_a_finished_announcement_is_closed_within_a_second_of_its_last_result(
    sessions: Sessions, server: FakeBotAPI
) -> None:
    chats = supergroups(40)
    announcement_id = await announce(sessions, await add_groups(sessions, chats))
    server.set_chat_error(chats[-1], 502, "Bad Gateway")  # the last result is a failure after a retry
    async with running_sender(sessions, server, settings(broadcast_max_attempts=2)):
        state = await wait_done(sessions, announcement_id)
    rows = await deliveries(sessions, announcement_id)
    assert (state.sent, state.failed) == (39, 1)
    last_result = max(as_utc(row.updated_at) for row in rows)
    assert state.finished_at is not None
    closed_after = (as_utc(state.finished_at) - last_result).total_seconds()
    # The sweep runs once a second, and at once when the sender runs out of work (typically ms).
    assert 0 <= closed_after < 0.5, f"closed {closed_after:.2f}s after the last result"


def test_send_error_reads_every_ptb_error_class() -> None:
    cases: list[tuple[tg.TelegramError, SendError]] = [
        (tg.RetryAfter(5), SendError(ErrorKind.RETRY_AFTER, "Flood control exceeded. Retry in 5 seconds", 5)),
        (
            tg.ChatMigrated(-1001),
            SendError(ErrorKind.MIGRATED, "Group migrated to supergroup. New chat id: -1001", 0.0, -1001),
        ),
        (tg.Forbidden(KICKED), SendError(ErrorKind.FORBIDDEN, KICKED)),
        (tg.BadRequest(CHAT_NOT_FOUND), SendError(ErrorKind.BAD_REQUEST, "Chat not found")),
        (tg.TimedOut(), SendError(ErrorKind.NETWORK, "Timed out")),
        (tg.NetworkError("Bad Gateway"), SendError(ErrorKind.NETWORK, "Bad Gateway")),
        (tg.Conflict("Conflict: terminated"), SendError(ErrorKind.OTHER, "Conflict: terminated")),
        (tg.InvalidToken(), SendError(ErrorKind.OTHER, "Invalid token")),
        (tg.EndPointNotFound("Not Found"), SendError(ErrorKind.OTHER, "Not Found")),
        (tg.TelegramError("Something else"), SendError(ErrorKind.OTHER, "Something else")),
    ]
    for error, expected in cases:
        assert send_error(error) == expected, type(error)
    classes = {type(error) for error, _ in cases} | {tg.PassportDecryptionError}
    every = {c for c in vars(tg).values() if isinstance(c, type) and issubclass(c, tg.TelegramError)}
    assert every <= classes, every - classes  # a new PTB error class gets a row here
    assert send_error(tg.PassportDecryptionError("x")).kind == ErrorKind.OTHER


def test_retry_after_as_int_or_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = RetryPolicy(3, 1.0, 60.0)
    for value in (2, timedelta(seconds=2)):
        assert classify(send_error(tg.RetryAfter(value)), attempts=1, policy=policy) == PauseAll(2.0)
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB's coming default: retry_after is a timedelta
    error = send_error(tg.RetryAfter(timedelta(seconds=1.5)))
    assert error.retry_after == timedelta(seconds=1.5)
    assert classify(error, attempts=1, policy=policy) == PauseAll(1.5)
