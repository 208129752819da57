"""A broadcast to many groups: real ``python -m bot sender`` processes against the fake Bot API.

The fake server (in this process) enforces a global limit of ``--rate`` sends a second over a
sliding second, answering 429 with ``retry_after`` past it, and 20 a minute per group. The
senders run in paid mode (``ALLOW_PAID_BROADCAST=true``, ``PAID_BROADCAST_RATE_PER_SECOND``;
``--free`` uses ``BROADCAST_RATE_PER_SECOND``) with the bot's per-group limit. ``--senders N``
starts N sender processes that share the one limit: on PostgreSQL through the shared rate
budget (``coordination.budget``, each configured with the whole rate), on SQLite (no shared
budget there) each with ``rate / N``.

Reported per run: the rate achieved at the server (first to last accepted send) as a share
of the limit (target ≥ 0.95); CPU seconds per 1,000 messages of each sender (before this
work: about 6.5) and its peak memory (VmHWM) next to its idle memory; the fake server's own
CPU (this process's main thread while sending, per 1,000 messages, so one can see it is not
the bottleneck); the 429s the senders provoked; messages lost (groups without a copy) and
duplicated (copies beyond one), both must be 0; and the time to create the announcement
(``create_announcement`` and its commit).

    .venv/bin/python bench/broadcast.py [--groups 100000] [--rate 1000] [--senders 1]
        [--backend sqlite|pg|all] [--pg-url postgresql+asyncpg://…] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from broadcasts.models import Announcement, AnnouncementStatus, Delivery, DeliveryStatus, Group
from broadcasts.outbox import BroadcastRepository
from broadcasts.reports import ReportRepository
from nlu.settings import PROJECT_ROOT
from storage.engine import create_engine, create_schema, session_factory
from tests.fake_bot_api import FakeBotAPI
from tests.pg import scratch_database

PER_GROUP_PER_MINUTE = 20  # Telegram's limit into one group; the fake server's and the sender's
TEXT = "<b>Thông báo</b> của Tổ Công nghệ số cộng đồng: họp giao ban lúc 8h sáng thứ Hai."
OLD_CPU_PER_1000 = 6.5  # CPU seconds per 1,000 messages before the lean path (500/s, SQLite)


@dataclass
class SenderFigures:
    idle_mib: float
    peak_mib: float
    cpu_seconds: float

    def per_1000(self, messages: int) -> float:
        return 1000 * self.cpu_seconds / max(1, messages)


@dataclass
class Result:
    backend: str
    groups: int
    limit: float
    senders: int
    achieved: float
    provoked_429: int
    lost: int
    duplicates: int
    not_sent_in_db: int
    create_seconds: float
    wall_seconds: float
    server_cpu_seconds: float
    bench_cpu_seconds: float
    figures: list[SenderFigures] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.achieved / self.limit


def proc_status(pid: int, name: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sender_env(fake: FakeBotAPI, url: str, args: argparse.Namespace, backend: str, number: int) -> dict[str, str]:
    shared = backend == "postgresql"  # the shared budget; SQLite senders split the rate instead
    rate = args.rate if shared else args.rate / args.senders
    values = {
        "BROADCAST_CONCURRENCY": str(args.concurrency),
        "GROUP_MESSAGES_PER_MINUTE": str(PER_GROUP_PER_MINUTE),
        "SENDER_WORKER_ID": f"bench-{backend}-{number}",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    if args.free:
        values["BROADCAST_RATE_PER_SECOND"] = str(rate)
    else:
        values.update(ALLOW_PAID_BROADCAST="true", PAID_BROADCAST_RATE_PER_SECOND=str(rate))
    return fake.child_env(url, **values)


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
        for start in range(0, len(rows), 10_000):
            await session.execute(insert(Group), rows[start : start + 10_000])
    async with sessions() as session:
        group_ids = list((await session.scalars(select(Group.id).order_by(Group.id))).all())
    del rows

    async with FakeBotAPI() as fake:
        fake.rate_limit(global_per_second=int(args.rate), per_chat_per_minute=PER_GROUP_PER_MINUTE)
        senders: list[subprocess.Popen[bytes]] = []
        logs = [workdir / f"sender-{backend}-{n}.log" for n in range(args.senders)]
        try:
            for number, log_path in enumerate(logs):
                command = [sys.executable, "-m", "bot", "sender"]
                if args.profile:
                    command[1:1] = ["-m", "cProfile", "-o", str(Path(f"{args.profile}.{number}").resolve())]
                with log_path.open("wb") as log:
                    senders.append(
                        subprocess.Popen(
                            command,
                            cwd=workdir,
                            env=sender_env(fake, url, args, backend, number),
                            stdout=log,
                            stderr=subprocess.STDOUT,
                        )
                    )
            await fake.wait_for("getMe", count=args.senders, timeout=60)
            await asyncio.sleep(1.0)  # let them settle into idle polling
            idle = [proc_status(s.pid, "VmRSS") for s in senders]
            cpu_before = [proc_cpu_seconds(s.pid) for s in senders]
            started = time.monotonic()
            async with sessions() as session, session.begin():
                announcement = await BroadcastRepository(session).create_announcement(
                    sender_user_id=1, sender_chat_id=1, kind="text", text=TEXT, group_ids=group_ids
                )
            create_seconds = time.monotonic() - started
            # No garbage collection in this process while sending: a collection over the fake
            # server's 100,000 recorded calls stalls it, and the requests queued meanwhile are
            # stamped as one burst (429s and dips the sender never caused).
            gc.collect()
            gc.freeze()
            gc.disable()
            server_cpu_before, bench_cpu_before = time.thread_time(), time.process_time()
            while True:
                await asyncio.sleep(0.5)
                for sender, log_path in zip(senders, logs, strict=True):
                    if sender.poll() is not None:
                        raise RuntimeError(f"a sender exited early; see {log_path}:\n{log_path.read_text()[-2000:]}")
                async with sessions() as session:  # a primary-key read: the poll must not load the machine
                    status = await session.scalar(select(Announcement.status).where(Announcement.id == announcement.id))
                if status == AnnouncementStatus.DONE:
                    break
                if time.monotonic() - started > max(120.0, 5 * args.groups / args.rate):
                    async with sessions() as session:
                        raise TimeoutError(f"not done: {await ReportRepository(session).progress(announcement.id)}")
            server_cpu = time.thread_time() - server_cpu_before
            bench_cpu = time.process_time() - bench_cpu_before
            wall = time.monotonic() - started
            figures = [
                SenderFigures(idle_mib, proc_status(s.pid, "VmHWM"), proc_cpu_seconds(s.pid) - before)
                for s, idle_mib, before in zip(senders, idle, cpu_before, strict=True)
            ]
        finally:
            gc.enable()
            for sender in senders:
                sender.terminate()
            for sender in senders:
                sender.wait(timeout=60)

        accepted = [c for c in fake.calls_of("sendMessage") if c.ok]
        copies = Counter(c.chat_id for c in accepted)
        times = sorted(c.time for c in accepted)
        achieved = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        if args.debug:
            per_second = Counter(int(t - times[0]) for t in times)
            print("sends per second:", [per_second[i] for i in range(len(per_second))], file=sys.stderr)
        provoked = fake.stats.rate_limited
    async with sessions() as session:
        statuses = Counter((await session.scalars(select(Delivery.status))).all())
    await engine.dispose()
    return Result(
        backend=backend,
        groups=args.groups,
        limit=args.rate,
        senders=args.senders,
        achieved=achieved,
        provoked_429=provoked,
        lost=sum(1 for chat in chats if copies[chat] == 0),
        duplicates=sum(count - 1 for count in copies.values() if count > 1),
        not_sent_in_db=sum(n for status, n in statuses.items() if status != DeliveryStatus.SENT),
        create_seconds=create_seconds,
        wall_seconds=wall,
        server_cpu_seconds=server_cpu,
        bench_cpu_seconds=bench_cpu,
        figures=figures,
    )


async def with_pg_database(server_url: str, args: argparse.Namespace, workdir: Path) -> Result:
    async with scratch_database(server_url, "bench_broadcast") as database:
        return await run_one("postgresql", database, args, workdir)


def report(results: list[Result], args: argparse.Namespace) -> bool:
    mode = "free" if args.free else "paid"
    print(
        f"broadcast of {args.groups} text messages, fake Bot API limit {args.rate:g}/s over a sliding second and "
        f"{PER_GROUP_PER_MINUTE}/min per group; {args.senders} sender(s), {mode} mode, "
        f"{args.concurrency} in flight each"
    )
    print(f"machine: {os.cpu_count()} CPUs, load average now {os.getloadavg()[0]:.2f}")
    header = (
        f"{'back end':11s}{'sent/s':>8s}{'of limit':>9s}{'429s':>6s}{'lost':>6s}{'dupes':>6s}{'not sent':>9s}"
        f"{'create s':>9s}{'wall s':>8s}{'server CPU s/1000':>18s}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        server = 1000 * r.server_cpu_seconds / max(1, r.groups)
        print(
            f"{r.backend:11s}{r.achieved:8.1f}{r.share:9.3f}{r.provoked_429:6d}{r.lost:6d}{r.duplicates:6d}"
            f"{r.not_sent_in_db:9d}{r.create_seconds:9.2f}{r.wall_seconds:8.1f}{server:18.3f}"
        )
        print(
            f"    fake server: {r.server_cpu_seconds:.1f} CPU s while sending (this process's main thread; the whole "
            f"process, with the database polls: {r.bench_cpu_seconds:.1f} s)"
        )
        for number, f in enumerate(r.figures):
            print(
                f"    sender {number}: CPU {f.cpu_seconds:.1f} s = {f.per_1000(r.groups // r.senders):.2f} s per 1,000 "
                f"messages (before: ~{OLD_CPU_PER_1000}), memory idle {f.idle_mib:.0f} MiB, peak {f.peak_mib:.0f} MiB"
            )
    ok = True
    for r in results:
        verdicts = []
        if r.share < 0.95:
            verdicts.append(f"rate {r.share:.4f} of the limit is below 0.95")
        if r.lost or r.duplicates or r.not_sent_in_db or r.provoked_429:
            verdicts.append(
                f"{r.lost} lost, {r.duplicates} duplicated, {r.not_sent_in_db} not marked sent, {r.provoked_429} 429s"
            )
        ok = ok and not verdicts
        verdict = "; ".join(verdicts) if verdicts else "ok (≥ 0.95 of the limit, nothing lost or doubled, no 429)"
        print(f"{r.backend}: {verdict}")
    return ok


async def main_async(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    results: list[Result] = []
    skipped: str | None = None
    try:
        if args.backend in ("all", "sqlite"):
            results.append(await run_one("sqlite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}", args, workdir))
        pg_url = args.pg_url or os.environ.get("TEST_DATABASE_URL_PG")
        if args.backend in ("all", "pg", "postgresql"):
            if pg_url:
                results.append(await with_pg_database(pg_url, args, workdir))
            else:
                skipped = "PostgreSQL: skipped (no --pg-url and TEST_DATABASE_URL_PG is not set)"
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    ok = report(results, args)
    if skipped:
        print(skipped)
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=1000.0, help="the fake server's limit and the senders' rate")
    parser.add_argument("--senders", type=int, default=1, help="sender processes sharing the one limit")
    parser.add_argument("--concurrency", type=int, default=32, help="BROADCAST_CONCURRENCY of each sender")
    parser.add_argument("--free", action="store_true", help="not paid mode: BROADCAST_RATE_PER_SECOND")
    parser.add_argument("--pg-url", help="a PostgreSQL server (any database on it); a new database is made there")
    parser.add_argument("--backend", choices=("all", "sqlite", "pg", "postgresql"), default="all")
    parser.add_argument("--profile", help="run each sender under cProfile, writing its stats to FILE.<n>")
    parser.add_argument("--debug", action="store_true", help="print the sends of each second")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (database, sender logs)")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
