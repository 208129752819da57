"""Answers while the bot's own sender broadcasts at full speed: question latency with and without.

One real ``python -m bot run`` process with the in-process sender (``BROADCAST_SENDER_IN_BOT``,
paid mode at ``--rate``) against the fake Bot API in this process. First ``--questions``
questions from ``--users`` members in a closed loop (each asks again when its answer came) with
no broadcast; then an announcement to ``--groups`` groups is created and, once its first
messages arrive at the server, the same questions again while it is being sent. Latency is
from the update being offered to ``getUpdates`` until the bot's answer (``sendMessage``) is
answered. Printed: p50 and p99 of both phases, their ratios, and the broadcast's rate while
the questions ran (share of the limit).

One real local Rasa server answers (as in ``bench/bot_throughput.py``); the fake server limits
the whole bot to 1.2 × ``--rate`` a second (room for the answers above the broadcast, which
paces itself at the rate) and no per-chat limit (the members ask faster than 20 a minute).

    .venv/bin/python bench/answers_during_broadcast.py [--groups 30000] [--rate 1000] [--questions 600]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bot_throughput import Replies, percentile
from broadcasts.models import Group
from broadcasts.outbox import BroadcastRepository
from nlu.server import LocalRasaServer
from nlu.settings import PROJECT_ROOT, NluSettings
from storage.engine import create_engine, create_schema, session_factory
from storage.settings import StorageSettings
from tests.fake_bot_api import FakeBotAPI

# Questions of the kind members ask (written for this bench; not an evaluation set).
QUESTIONS = [
    "quên mật khẩu VNeID thì làm sao",
    "cách đăng ký tài khoản định danh điện tử mức 2",
    "nộp hồ sơ trên cổng dịch vụ công như thế nào",
    "đổi số điện thoại trên VNeID",
    "thanh toán tiền điện qua ngân hàng",
    "cài ứng dụng VNeID trên điện thoại",
    "tích hợp giấy phép lái xe vào VNeID",
    "bị khóa tài khoản VNeID",
    "xin chào trợ lý",
    "tra cứu hồ sơ dịch vụ công",
]
ALONE_SECONDS = 5.0
FIRST_GROUP = -1_004_000_000_000  # the bench's groups are this chat id and below
TEXT = "<b>Thông báo</b> của Tổ Công nghệ số cộng đồng: họp giao ban lúc 8h sáng thứ Hai."


async def ask(fake: FakeBotAPI, questions: list[str], users: int, first_user: int) -> list[float]:
    """Closed-loop conversations; each answer's latency in ms."""
    replies = Replies(fake)
    replies.seen = len(fake.calls)
    watcher = asyncio.create_task(replies.run())
    latencies: list[float] = []
    queue = list(reversed(questions))

    async def conversation(user: int) -> None:
        while queue:
            text = queue.pop()
            future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            replies.waiting[user] = future
            pushed = time.monotonic()
            fake.push_update(fake.make_text_message(user, user, text))
            done = await asyncio.wait_for(future, 60)
            latencies.append((done - pushed) * 1000)

    try:
        await asyncio.gather(*(conversation(first_user + i) for i in range(users)))
    finally:
        watcher.cancel()
    return latencies


async def main_async(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="answers-broadcast-"))
    database = workdir / "assistant.db"
    shutil.copy(Path(StorageSettings().database_url.split("///", 1)[1]), database)
    database_url = f"sqlite+aiosqlite:///{database}"
    engine = create_engine(database_url)
    await create_schema(engine)
    sessions = session_factory(engine)
    rows = [
        {"chat_id": FIRST_GROUP - i, "title": f"Tổ {i}", "chat_type": "supergroup", "search_text": f"to {i}"}
        for i in range(args.groups)
    ]
    async with sessions() as session, session.begin():
        for start in range(0, len(rows), 10_000):
            await session.execute(insert(Group), rows[start : start + 10_000])
    async with sessions() as session:
        group_ids = list((await session.scalars(select(Group.id).where(Group.chat_id <= FIRST_GROUP))).all())
    questions = (QUESTIONS * (args.questions // len(QUESTIONS) + 1))[: args.questions]

    with LocalRasaServer(NluSettings()) as rasa:
        async with FakeBotAPI() as fake:
            # Room above the broadcast for the answers: the sender paces itself at the rate.
            fake.rate_limit(global_per_second=int(args.rate * 1.2))
            env = fake.child_env(
                database_url,
                RASA_URL=rasa.url,
                RASA_TOKEN=rasa.token,
                BROADCAST_SENDER_IN_BOT="true",
                ALLOW_PAID_BROADCAST="true",
                PAID_BROADCAST_RATE_PER_SECOND=str(args.rate),
                BROADCAST_CONCURRENCY=str(args.concurrency),
                GROUP_MESSAGES_PER_MINUTE="20",
                RATE_LIMIT_BURST="1000000",
                LOG_LEVEL="WARNING",
                PYTHONPATH=str(PROJECT_ROOT),
            )
            with (workdir / "bot.log").open("wb") as log:
                bot = subprocess.Popen(
                    [sys.executable, "-m", "bot", "run"], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
                )
            try:
                await fake.wait_for("setMyCommands", count=2, timeout=180)
                await ask(fake, questions[:60], args.users, 1_000_000)  # warm-up
                # No garbage collection in this process from here: its pauses over the fake
                # server's recorded calls would stall the server (see bench/broadcast.py).
                gc.collect()
                gc.freeze()
                gc.disable()
                quiet = await ask(fake, questions, args.users, 2_000_000)

                async with sessions() as session, session.begin():
                    await BroadcastRepository(session).create_announcement(
                        sender_user_id=1, sender_chat_id=1, kind="text", text=TEXT, group_ids=group_ids
                    )
                await fake.wait_for("sendMessage", lambda c: int(c.chat_id or 0) <= FIRST_GROUP, timeout=60)
                alone_start = time.monotonic()
                await asyncio.sleep(ALONE_SECONDS)  # the broadcast alone, for its rate without questions
                window_start = time.monotonic()
                busy = await ask(fake, questions, args.users, 3_000_000)
                window_end = time.monotonic()
            finally:
                gc.enable()
                bot.terminate()
                try:
                    await asyncio.to_thread(bot.wait, 120)  # the fake server must keep answering meanwhile
                except subprocess.TimeoutExpired:
                    bot.kill()
            broadcast = [c.time for c in fake.calls_of("sendMessage") if c.ok and int(c.chat_id or 0) <= FIRST_GROUP]
            rate_alone = sum(1 for t in broadcast if alone_start <= t < window_start) / (window_start - alone_start)
            rate_during = sum(1 for t in broadcast if window_start <= t <= window_end) / (window_end - window_start)
            too_many = fake.stats.rate_limited
    await engine.dispose()
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"{args.questions} questions, {args.users} members in a closed loop, real Rasa; in-process sender, paid mode "
        f"at {args.rate:g}/s, {args.groups} groups"
    )
    print(f"{'':22s}{'p50 ms':>9s}{'p99 ms':>9s}")
    rows_out = (("no broadcast", quiet), ("during the broadcast", busy))
    for label, values in rows_out:
        print(f"{label:22s}{percentile(values, 0.5):9.1f}{percentile(values, 0.99):9.1f}")
    p50 = percentile(busy, 0.5) / percentile(quiet, 0.5)
    p99 = percentile(busy, 0.99) / percentile(quiet, 0.99)
    print(f"during / without: p50 ×{p50:.2f}, p99 ×{p99:.2f}")
    print(
        f"broadcast alone ({ALONE_SECONDS:g} s before the questions): {rate_alone:.0f} messages/s = "
        f"{rate_alone / args.rate:.3f} of the limit"
    )
    print(
        f"broadcast while the questions ran: {rate_during:.0f} messages/s = "
        f"{rate_during / args.rate:.3f} of the limit; 429s: {too_many}"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=30_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--questions", type=int, default=600)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--keep", action="store_true")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
