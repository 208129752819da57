"""Issue 11's test: two real bot processes behind one webhook, on one PostgreSQL database.

Two ``python -m bot run`` processes with ``WEBHOOK_URL`` set, each on its own port, talk to the
fake Bot API server; a tiny proxy here alternates the updates between them, as a load balancer
would, and the test posts updates to it as Telegram would (with the secret header). A
``/thongbao`` flow whose every step reaches the other process ends in exactly one announcement
with the chosen options; a confirm tapped twice (each tap to another process) still makes one.

The NLU server is a stand-in that is up but never parses (answers come from the lexical
fallback): no Rasa is needed. Every wait is on a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

import texts
from broadcasts.models import Announcement, Delivery
from broadcasts.registry import GroupRepository
from coordination.models import Lease
from knowledge.content_files import Content
from nlu.settings import PROJECT_ROOT
from storage.engine import session_factory
from tests.conftest import knowledge_engine
from tests.fake_bot_api import Call, FakeBotAPI
from tests.pg import pg_url  # noqa: F401  (fixture)

ADMIN = 910_001
GROUPS = [-1003000000001, -1003000000002, -1003000000003]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def buttons(call: Call) -> list[tuple[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_site(app: web.Application, port: int) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


@dataclass
class Proxy:
    """Alternates each POST between the backends; remembers which one got each update."""

    url: str
    routed: list[int]


@contextlib.asynccontextmanager
async def alternating_proxy(ports: list[int]) -> AsyncIterator[Proxy]:
    turn = itertools.count()
    routed: list[int] = []
    client = ClientSession()

    async def forward(request: web.Request) -> web.Response:
        index = next(turn) % len(ports)
        routed.append(index)
        headers = {k: v for k, v in request.headers.items() if k in ("Content-Type", SECRET_HEADER)}
        target = f"http://127.0.0.1:{ports[index]}{request.path}"
        async with client.post(target, data=await request.read(), headers=headers) as response:
            return web.Response(status=response.status, body=await response.read())

    app = web.Application()
    app.router.add_post("/{tail:.*}", forward)
    port = free_port()
    runner = await start_site(app, port)
    try:
        yield Proxy(f"http://127.0.0.1:{port}/telegram", routed)
    finally:
        await runner.cleanup()
        await client.close()


@contextlib.asynccontextmanager
async def nlu_without_a_model() -> AsyncIterator[str]:
    """Says it is ready, then fails every parse: the bots answer from the lexical fallback."""

    async def status(_request: web.Request) -> web.Response:
        return web.json_response({"model_file": "stand-in.tar.gz"})

    async def parse(_request: web.Request) -> web.Response:
        return web.json_response({"error": "no model"}, status=503)

    app = web.Application()
    app.router.add_get("/status", status)
    app.router.add_post("/model/parse", parse)
    port = free_port()
    runner = await start_site(app, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@dataclass
class BotProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def stop(self) -> int:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)


def start_bot(
    fake: FakeBotAPI, database_url: str, webhook_url: str, nlu_url: str, workdir: Path, name: str, port: int
) -> BotProcess:
    env = fake.child_env(
        database_url,
        WEBHOOK_URL=webhook_url,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        RASA_URL=nlu_url,
        RASA_TOKEN="",
        ADMIN_USER_IDS=str(ADMIN),
        BROADCAST_SENDER_IN_BOT="false",  # this test is about composing; the outbox is checked in the database
        BROADCAST_PROGRESS_SECONDS="1",
        SUPPORT_CHAT_ID="",
        SUPPORT_DIGEST_HOUR="-1",
        LEARNING_RETRAIN_HOUR="-1",
        LEARNING_RETRAIN_AFTER_EXAMPLES="0",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return BotProcess(process, port, log)


async def wait_listening(bot: BotProcess, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if bot.process.poll() is not None:
            raise AssertionError(f"the bot exited ({bot.process.returncode}):\n{bot.log.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            _reader, writer = await asyncio.open_connection("127.0.0.1", bot.port)
            writer.close()
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the bot does not listen on {bot.port}:\n{bot.log.read_text()[-3000:]}")
        await asyncio.sleep(0.1)


@dataclass
class Cluster:
    fake: FakeBotAPI
    engine: AsyncEngine
    proxy: Proxy
    secret: str

    async def post(self, update: dict[str, Any]) -> int:
        return await self.fake.post_webhook(self.proxy.url, update, self.secret)

    async def step(self, update: dict[str, Any], method: str, count: int = 1) -> list[Call]:
        since = time.monotonic()
        assert await self.post(update) == 200
        if method == "answerCallbackQuery":
            query_id = update["callback_query"]["id"]
            return await self.fake.wait_for(
                method, lambda c: c.params.get("callback_query_id") == query_id, since=since, timeout=20
            )
        return await self.fake.wait_for(method, lambda c: c.chat_id == ADMIN, count=count, since=since, timeout=20)

    async def press(self, message: Call, data: str, method: str = "editMessageText", count: int = 1) -> list[Call]:
        return await self.step(
            self.fake.make_callback_query(ADMIN, ADMIN, message.result["message_id"], data), method, count
        )

    async def announcements(self) -> list[Announcement]:
        async with session_factory(self.engine)() as session:
            return list(await session.scalars(select(Announcement).order_by(Announcement.id)))


@pytest.fixture
async def cluster(pg_url: str, content: Content, tmp_path: Path) -> AsyncIterator[Cluster]:  # noqa: F811
    engine = await knowledge_engine(pg_url, content)
    async with session_factory(engine)() as session, session.begin():
        groups = GroupRepository(session)
        for i, chat_id in enumerate(GROUPS):
            await groups.register(chat_id, f"Tổ CNSCĐ thôn {i + 1}", "supergroup", False)
        for chat_id in GROUPS[:2]:
            await groups.set_province(chat_id, "nghe_an")
    bots: list[BotProcess] = []
    try:
        async with FakeBotAPI() as fake, nlu_without_a_model() as nlu_url:
            ports = [free_port(), free_port()]
            async with alternating_proxy(ports) as proxy:
                for name, port in zip(("bot-a", "bot-b"), ports, strict=True):
                    bots.append(start_bot(fake, pg_url, proxy.url, nlu_url, tmp_path, name, port))
                await asyncio.gather(*(wait_listening(bot) for bot in bots))
                hooks = await fake.wait_for("setWebhook", count=2, timeout=30)
                secrets = {c.params.get("secret_token") for c in hooks}
                assert len(secrets) == 1 and None not in secrets  # the same secret from both: harmless twice
                yield Cluster(fake, engine, proxy, str(secrets.pop()))
    finally:
        codes = [bot.stop() for bot in bots]
        await engine.dispose()
        for bot in bots:
            print(f"--- {bot.log.name} (exit {bot.process.returncode})\n{bot.log.read_text()[-2000:]}")
        assert all(code == 0 for code in codes), codes


async def wait_for_lease(engine: AsyncEngine, name: str, timeout: float = 20.0) -> dict[str, Lease]:
    deadline = time.monotonic() + timeout
    while True:
        async with session_factory(engine)() as session:
            leases = {lease.name: lease for lease in await session.scalars(select(Lease))}
        if name in leases:
            return leases
        if time.monotonic() > deadline:
            raise AssertionError(f"no lease {name} after {timeout}s: {sorted(leases)}")
        await asyncio.sleep(0.1)


async def compose_to_summary(cluster: Cluster, content: str, *, pin: bool, ack: bool) -> Call:
    fake = cluster.fake
    [started] = await cluster.step(fake.make_text_message(ADMIN, ADMIN, "/thongbao"), "sendMessage")
    assert started.params["text"] == texts.COMPOSE_START
    [audience] = await cluster.step(fake.make_text_message(ADMIN, ADMIN, content), "sendMessage")
    assert "<b>3 nhóm</b>" in audience.params["text"]
    [chosen] = await cluster.press(audience, "bt:0")
    assert "<b>2 nhóm</b>" in chosen.params["text"] and "Nghệ An" in chosen.params["text"]
    [options] = await cluster.press(audience, "bn")
    if pin:
        [options] = await cluster.press(audience, "bp")
        assert "Ghim tin: bật" in options.params["text"]
    if ack:
        [options] = await cluster.press(audience, "bk")
        assert "Nút Đã nhận: bật" in options.params["text"]
        assert ("✅ Nút Đã nhận: bật", "bk") in [
            (b["text"], b["callback_data"]) for row in options.params["reply_markup"]["inline_keyboard"] for b in row
        ]
    [preview, summary] = await cluster.press(audience, "bw", "sendMessage", count=2)
    assert preview.params["text"] == content
    assert buttons(preview) == ([(texts.BUTTON_ACK, "bk")] if ack else [])  # as the groups will see it
    if ack:
        [sample] = await cluster.press(preview, "bk", "answerCallbackQuery")  # only explains itself
        assert sample.params["text"] == texts.COMPOSE_ACK_PREVIEW
    assert "2 nhóm" in summary.params["text"] and f"Nút Đã nhận: {'bật' if ack else 'tắt'}" in summary.params["text"]
    return summary


async def test_a_compose_flow_alternating_between_two_processes(cluster: Cluster) -> None:
    summary = await compose_to_summary(cluster, "Họp tổ công nghệ số lúc 8 giờ", pin=True, ack=True)
    confirmed = (await cluster.press(summary, "bo"))[0]  # (the progress job may edit it once more)
    assert "Thông báo #" in confirmed.params["text"]
    routed = cluster.proxy.routed
    assert set(routed) == {0, 1} and all(a != b for a, b in itertools.pairwise(routed))  # every step changed process
    [announcement] = await cluster.announcements()
    assert (announcement.pin, announcement.silent, announcement.ack_button, announcement.total) == (
        True,
        False,
        True,
        2,
    )
    assert announcement.text == "Họp tổ công nghệ số lúc 8 giờ" and announcement.audience == ["tinh:nghe_an"]
    assert announcement.progress_message_id == summary.result["message_id"]
    async with session_factory(cluster.engine)() as session:
        chats = set(await session.scalars(select(Delivery.chat_id).where(Delivery.announcement_id == announcement.id)))
    assert chats == set(GROUPS[:2])
    leases = await wait_for_lease(cluster.engine, "broadcast-progress")  # the progress job runs (every second)
    nodes = {lease.holder for name, lease in leases.items() if name.startswith("record-node:")}
    assert len(nodes) == 2 and leases["broadcast-progress"].holder in nodes  # one id node each; one progress job

    update = cluster.fake.make_text_message(ADMIN, ADMIN, "/start")
    refused = [await cluster.fake.post_webhook(cluster.proxy.url, dict(update), "not-the-secret") for _ in range(2)]
    assert refused == [403, 403]  # a wrong secret is refused by both processes


async def test_a_double_tapped_confirm_on_two_processes_makes_one_announcement(cluster: Cluster) -> None:
    fake = cluster.fake
    summary = await compose_to_summary(cluster, "Cảnh báo lừa đảo qua điện thoại", pin=False, ack=False)
    taps = [fake.make_callback_query(ADMIN, ADMIN, summary.result["message_id"], "bo") for _ in range(2)]
    since = time.monotonic()
    statuses = await asyncio.gather(*(cluster.post(tap) for tap in taps))
    assert statuses == [200, 200]
    assert cluster.proxy.routed[-1] != cluster.proxy.routed[-2]  # one tap to each process
    answers = await fake.wait_for(
        "answerCallbackQuery",
        lambda c: c.params.get("callback_query_id") in {t["callback_query"]["id"] for t in taps},
        count=2,
        since=since,
        timeout=20,
    )
    confirmed = (
        await fake.wait_for(
            "editMessageText", lambda c: c.chat_id == ADMIN and "Thông báo #" in (c.text or ""), since=since, timeout=20
        )
    )[0]
    assert sorted(a.params.get("text") or "" for a in answers) == ["", texts.MENU_EXPIRED]  # the loser is told politely
    [announcement] = await cluster.announcements()
    assert (announcement.total, announcement.ack_button, announcement.pin) == (2, False, False)
    assert f"#{announcement.id}" in (confirmed.text or "")

    # A step after the flow ended gets the same polite reply as a stale button.
    [late] = await cluster.press(summary, "bw", "answerCallbackQuery")
    assert late.params.get("text") == texts.MENU_EXPIRED


async def test_a_group_search_turns_its_pages_on_the_other_process(cluster: Cluster) -> None:
    async with session_factory(cluster.engine)() as session, session.begin():
        groups = GroupRepository(session)
        for i in range(18):
            await groups.register(-1003100000000 - i, f"Tổ Zalo thôn {i}", "supergroup", False)
        for i in range(10):
            await groups.register(-1003200000000 - i, f"Nhóm khác {i}", "supergroup", False)
    [first] = await cluster.step(cluster.fake.make_text_message(ADMIN, ADMIN, "/nhom zalo"), "sendMessage")
    assert "18 nhóm</b> khớp «zalo» — trang 1/2" in first.params["text"]
    [second] = await cluster.press(first, "gl:2")  # the other process: it never saw the search
    assert "18 nhóm</b> khớp «zalo» — trang 2/2" in second.params["text"]
    assert cluster.proxy.routed[-1] != cluster.proxy.routed[-2]
