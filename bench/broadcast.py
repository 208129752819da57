"""A broadcast to 10,000 groups: a real ``python -m bot sender`` process against the fake Bot API.

The fake server (in this process) enforces a global limit of ``--rate`` sends a second over a
sliding second, answering 429 with ``retry_after`` past it (Telegram's 30/s scaled up so the
run stays short), and 20 a minute per group. The sender is configured at the same rate
(``BROADCAST_RATE_PER_SECOND``) and per-group limit (``GROUP_MESSAGES_PER_MINUTE``, the bot's). The
same run goes on SQLite and, given ``--pg-url`` or ``TEST_DATABASE_URL_PG``, on PostgreSQL
(a new database there, dropped afterwards).

Reported per back end: the rate achieved at the server (first to last accepted send) as a
share of the limit (target ≥ 0.95), the 429s the sender provoked, messages lost (groups
without a copy) and duplicated (copies beyond one) — both must be 0 — and the sender's peak
memory (VmHWM of the process) next to its memory when idle before the broadcast.

    .venv/bin/python bench/broadcast.py [--groups 10000] [--rate 500] [--pg-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from broadcasts.models import AnnouncementStatus, Delivery, DeliveryStatus, Group
from broadcasts.outbox import BroadcastRepository
from broadcasts.reports import ReportRepository
from nlu.settings import PROJECT_ROOT
from storage.engine import create_engine, create_schema, session_factory
from tests.fake_bot_api import FakeBotAPI
from tests.pg import scratch_database

PER_GROUP_PER_MINUTE = 20  # Telegram's limit into one group; the fake server's and the sender's
TEXT = "<b>Thông báo</b> của Tổ Công nghệ số cộng đồng: họp giao ban lúc 8h sáng thứ Hai."


@dataclass
class Result:
    backend: str
    groups: int
    limit: float
    achieved: float
    provoked_429: int
    lost: int
    duplicates: int
    not_sent_in_db: int
    idle_mib: float
    peak_mib: float
    cpu_seconds: float
    wall_seconds: float

    @property
    def share(self) -> float:
        return self.achieved / self.limit


def proc_status(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_one(backend: str, url: str, args: argparse.Namespace, workdir: Path) -> Result:
    engine = create_engine(url)
    await create_schema(engine)
    sessions = session_factory(engine)
    chats = [-1_002_000_000_000 - i for i in range(args.groups)]
    rows = [
        {"chat_id": chat, "title": f"Tổ CNSCĐ {i}", "chat_type": "supergroup", "search_text": f"to cnscd {i}"}
        for i, chat in enumerate(chats)
    ]
    async with sessions() as session, session.begin():
        await session.execute(insert(Group), rows)
    async with sessions() as session:
        group_ids = list((await session.scalars(select(Group.id).order_by(Group.id))).all())

    async with FakeBotAPI() as fake:
        fake.rate_limit(global_per_second=int(args.rate), per_chat_per_minute=PER_GROUP_PER_MINUTE)
        env = fake.child_env(
            url,
            BROADCAST_RATE_PER_SECOND=str(args.rate),
            BROADCAST_CONCURRENCY=str(args.concurrency),
            GROUP_MESSAGES_PER_MINUTE=str(PER_GROUP_PER_MINUTE),
            SENDER_WORKER_ID=f"bench-{backend}",
            PYTHONPATH=str(PROJECT_ROOT),
        )
        log_path = workdir / f"sender-{backend}.log"
        with log_path.open("wb") as log:
            command = [sys.executable, "-m", "bot", "sender"]
            if args.profile:
                command[1:1] = ["-m", "cProfile", "-o", str(Path(args.profile).resolve())]
            sender = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            await fake.wait_for("getMe", timeout=60)
            await asyncio.sleep(1.0)  # let it settle into idle polling
            idle = proc_status(sender.pid, "VmRSS")
            cpu_before = proc_cpu_seconds(sender.pid)
            started = time.monotonic()
            async with sessions() as session, session.begin():
                repo = BroadcastRepository(session)
                announcement = await repo.create_announcement(
                    sender_user_id=1, sender_chat_id=1, kind="text", text=TEXT, group_ids=group_ids
                )
            while True:
                await asyncio.sleep(0.5)
                if sender.poll() is not None:
                    raise RuntimeError(f"the sender exited early; see {log_path}:\n{log_path.read_text()[-2000:]}")
                async with sessions() as session:
                    state = await ReportRepository(session).progress(announcement.id)
                if state.status == AnnouncementStatus.DONE:
                    break
                if time.monotonic() - started > max(120.0, 5 * args.groups / args.rate):
                    raise TimeoutError(f"not done: {state}")
            wall = time.monotonic() - started
            peak = proc_status(sender.pid, "VmHWM")
            cpu = proc_cpu_seconds(sender.pid) - cpu_before
        finally:
            sender.terminate()
            sender.wait(timeout=60)

        accepted = [c for c in fake.calls_of("sendMessage") if c.ok]
        copies = Counter(c.chat_id for c in accepted)
        times = sorted(c.time for c in accepted)
        achieved = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        if os.environ.get("BENCH_DEBUG"):
            per_second = Counter(int(t - times[0]) for t in times)
            print("per second:", [per_second[i] for i in range(len(per_second))], file=sys.stderr)
            served = sorted(c.done_time - c.time for c in accepted if c.done_time is not None)
            p50, p99 = served[len(served) // 2], served[int(len(served) * 0.99)]
            print(f"server time p50 {p50 * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms", file=sys.stderr)
        provoked = fake.stats.rate_limited
    async with sessions() as session:
        statuses = Counter((await session.scalars(select(Delivery.status))).all())
    await engine.dispose()
    return Result(
        backend=backend,
        groups=args.groups,
        limit=args.rate,
        achieved=achieved,
        provoked_429=provoked,
        lost=sum(1 for chat in chats if copies[chat] == 0),
        duplicates=sum(count - 1 for count in copies.values() if count > 1),
        not_sent_in_db=sum(n for status, n in statuses.items() if status != DeliveryStatus.SENT),
        idle_mib=idle,
        peak_mib=peak,
        cpu_seconds=cpu,
        wall_seconds=wall,
    )


async def with_pg_database(server_url: str, args: argparse.Namespace, workdir: Path) -> Result:
    async with scratch_database(server_url, "bench_broadcast") as database:
        return await run_one("postgresql", database, args, workdir)


async def main_async(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    results: list[Result] = []
    skipped: str | None = None
    try:
        if args.backend in ("all", "sqlite"):
            results.append(await run_one("sqlite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}", args, workdir))
        pg_url = args.pg_url or os.environ.get("TEST_DATABASE_URL_PG")
        if args.backend in ("all", "postgresql"):
            if pg_url:
                results.append(await with_pg_database(pg_url, args, workdir))
            else:
                skipped = "PostgreSQL: skipped (no --pg-url and TEST_DATABASE_URL_PG is not set)"
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"broadcast of {args.groups} text messages, fake Bot API limit {args.rate:g}/s over a sliding second "
        f"and {PER_GROUP_PER_MINUTE}/min per group; sender at {args.rate:g}/s, {args.concurrency} in flight"
    )
    print(f"machine: {os.cpu_count()} CPUs, load average before the table {os.getloadavg()[0]:.2f}")
    header = (
        f"{'back end':12s}{'sent/s':>9s}{'of limit':>10s}{'429s':>6s}{'lost':>6s}{'dupes':>7s}"
        f"{'not sent':>10s}{'idle MiB':>10s}{'peak MiB':>10s}{'CPU s':>7s}{'wall s':>8s}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.backend:12s}{r.achieved:9.1f}{r.share:10.3f}{r.provoked_429:6d}{r.lost:6d}{r.duplicates:7d}"
            f"{r.not_sent_in_db:10d}{r.idle_mib:10.0f}{r.peak_mib:10.0f}{r.cpu_seconds:7.1f}{r.wall_seconds:8.1f}"
        )
    if skipped:
        print(skipped)
    failed = False
    for r in results:
        verdicts = []
        if r.share < 0.95:
            verdicts.append(f"rate {r.share:.4f} of the limit is below 0.95")
        if r.lost or r.duplicates or r.not_sent_in_db:
            verdicts.append(f"{r.lost} lost, {r.duplicates} duplicated, {r.not_sent_in_db} not marked sent")
            failed = True
        verdict = "; ".join(verdicts) if verdicts else "ok (≥ 0.95 of the limit, nothing lost or doubled)"
        print(f"{r.backend}: {verdict}")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=500.0, help="the fake server's limit and the sender's rate")
    parser.add_argument("--concurrency", type=int, default=8, help="BROADCAST_CONCURRENCY of the sender")
    parser.add_argument("--pg-url", help="a PostgreSQL server (any database on it); a new database is made there")
    parser.add_argument("--backend", choices=("all", "sqlite", "postgresql"), default="all")
    parser.add_argument("--profile", help="run the sender under cProfile, writing its stats to this file")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (database, sender logs)")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
