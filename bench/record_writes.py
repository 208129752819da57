"""Question records: the batched background writer against one transaction per record.

What a handler pays is the time to hand the record over; what the database
sustains is records per second. Both are measured in one run on a fresh SQLite
file (and PostgreSQL with --pg-url), so the ratio is what counts.

    .venv/bin/python bench/record_writes.py [--records 5000] [--pg-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from records.repository import NewRecord, RecordIds, RecordRepository
from records.writer import RecordWriter
from storage.base import utc_now
from storage.engine import create_engine, create_schema, session_factory


def records(count: int) -> list[NewRecord]:
    ids = RecordIds()
    return [
        NewRecord(
            id=ids.next(),
            created_at=utc_now(),
            chat_type="private",
            user_id=1000 + i % 300,
            chat_id=1000 + i % 300,
            normalized_text=f"kich hoat vneid muc 2 o dau {i}",
            decision="answer",
            topic_id="vneid_kich_hoat",
            candidates=["vneid_kich_hoat"],
            confidence=0.9,
            latency_ms=12.5,
            nlu_source="rasa",
        )
        for i in range(count)
    ]


async def one_transaction_each(url: str, batch: list[NewRecord], concurrency: int) -> tuple[float, float]:
    engine = create_engine(url)
    await create_schema(engine)
    sessions = session_factory(engine)
    handler_costs: list[float] = []
    limit = asyncio.Semaphore(concurrency)

    async def write(record: NewRecord) -> None:
        async with limit:
            started = time.perf_counter()
            async with sessions() as session, session.begin():
                await RecordRepository(session).add_many([record])
            handler_costs.append((time.perf_counter() - started) * 1e6)

    started = time.perf_counter()
    await asyncio.gather(*(write(r) for r in batch))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return len(batch) / elapsed, statistics.median(handler_costs)


async def batched(url: str, batch: list[NewRecord]) -> tuple[float, float]:
    engine = create_engine(url)
    await create_schema(engine)
    writer = RecordWriter(session_factory(engine))
    writer.start()
    handler_costs: list[float] = []
    started = time.perf_counter()
    for record in batch:
        begin = time.perf_counter()
        writer.add(record)
        handler_costs.append((time.perf_counter() - begin) * 1e6)
        if len(handler_costs) % 50 == 0:
            await asyncio.sleep(0)  # let the writer run, as between real updates
    await writer.flush()
    elapsed = time.perf_counter() - started
    await writer.stop()
    await engine.dispose()
    return len(batch) / elapsed, statistics.median(handler_costs)


async def main_async(args: argparse.Namespace) -> int:
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("SQLite", f"sqlite+aiosqlite:///{tmp}/a.db", f"sqlite+aiosqlite:///{tmp}/b.db"))
        if args.pg_url:
            targets.append(("PostgreSQL", args.pg_url, args.pg_url))
        print(f"{args.records} records; handler cost = median time a handler waits per record")
        print(f"{'':12s}{'path':28s}{'records/s':>12s}{'handler µs':>12s}")
        for name, url_a, url_b in targets:
            naive_rate, naive_cost = await one_transaction_each(url_a, records(args.records), 16)
            batch_rate, batch_cost = await batched(url_b, records(args.records))
            print(f"{name:12s}{'one transaction per record':28s}{naive_rate:12.0f}{naive_cost:12.0f}")
            print(f"{'':12s}{'batched background writer':28s}{batch_rate:12.0f}{batch_cost:12.1f}")
            print(
                f"{'':12s}batched vs per-record: throughput ×{batch_rate / naive_rate:.1f}, "
                f"handler waits {naive_cost / batch_cost:,.0f}× less"
            )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--pg-url")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
