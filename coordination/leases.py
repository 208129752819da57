"""Named leases in the database: exactly one process holds each one until ``lease_until``.

Acquiring and renewing are one atomic upsert: the row is taken when it is free, expired, or
already ours. Times are the database's clock on PostgreSQL (``clock_timestamp()``), so processes
with skewed clocks agree; on SQLite (one process) Python's UTC clock. A holder that dies loses
the lease when it runs out. ``last_period`` remembers the last period (a day) a periodic job
finished, so it runs once per period however many processes start it or restart.

``LeaseKeeper`` is what a process uses: its holder name, its sessions, and on SQLite (one bot
process by design) every lease simply succeeds, still remembering periods in the table.
Plain code: no Telegram.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, DateTime, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordination.models import Lease
from storage.base import as_utc

logger = logging.getLogger(__name__)


def new_holder() -> str:
    """A name no other process has: host, pid and a random part (a pid is reused after restarts)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Held:
    name: str
    holder: str
    last_period: str | None


class LeaseRepository:
    """Never commits; the caller's unit of work does."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def _now(self) -> Any:
        if self.postgres:
            return func.clock_timestamp(type_=DateTime(timezone=True))
        return literal(datetime.now(UTC), DateTime(timezone=True))

    async def acquire(self, name: str, holder: str, seconds: float, *, force: bool = False) -> Held | None:
        """Take or renew ``name`` for ``seconds``; None when another holder's lease is still running.

        ``force`` takes it whatever the row says (one process on SQLite).
        """
        now = self._now()
        if self.postgres:
            until = now + timedelta(seconds=seconds)
        else:
            until = literal(datetime.now(UTC) + timedelta(seconds=seconds), DateTime(timezone=True))
        insert = pg_insert if self.postgres else sqlite_insert
        values = insert(Lease).values(name=name, holder=holder, lease_until=until, updated_at=now)
        table = Lease.__table__
        free: ColumnElement[bool] | None = None
        if not force:
            free = (table.c.holder == holder) | (table.c.lease_until < now)
        statement = values.on_conflict_do_update(
            index_elements=["name"],
            set_={"holder": holder, "lease_until": until, "updated_at": now},
            where=free,
        ).returning(Lease.holder, Lease.last_period)
        row = (await self.session.execute(statement)).first()
        if row is None:
            return None
        return Held(name, str(row[0]), row[1])

    async def release(self, name: str, holder: str) -> bool:
        """Give the lease up now (shutdown), keeping ``last_period``; False if it was not ours."""
        past = datetime(1970, 1, 1, tzinfo=UTC)
        result = await self.session.execute(
            update(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .values(lease_until=past)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def mark_period(self, name: str, holder: str, period: str) -> bool:
        """Remember that ``period`` is done; only the holder may (False if it lost the lease meanwhile)."""
        result = await self.session.execute(
            update(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .values(last_period=period)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def held_names(self, prefix: str) -> set[str]:
        """Names starting with ``prefix`` whose lease is still running (for picking a free node)."""
        rows = await self.session.scalars(
            select(Lease.name).where(Lease.name.startswith(prefix), Lease.lease_until >= self._now())
        )
        return set(rows)

    async def get(self, name: str) -> Lease | None:
        return await self.session.get(Lease, name)


class LeaseKeeper:
    """One process's leases: acquire, release everything at shutdown, pick a node number."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, holder: str | None = None) -> None:
        self.sessions = sessions
        self.holder = holder or new_holder()
        self._held: set[str] = set()
        self.single_process: bool | None = None

    async def _single(self, session: AsyncSession) -> bool:
        if self.single_process is None:
            self.single_process = session.get_bind().dialect.name != "postgresql"
        return self.single_process

    async def acquire(self, name: str, seconds: float) -> Held | None:
        async with self.sessions() as session, session.begin():
            held = await LeaseRepository(session).acquire(name, self.holder, seconds, force=await self._single(session))
        if held is not None:
            self._held.add(name)
        else:
            self._held.discard(name)
        return held

    async def mark_period(self, name: str, period: str) -> bool:
        async with self.sessions() as session, session.begin():
            return await LeaseRepository(session).mark_period(name, self.holder, period)

    async def release(self, name: str) -> None:
        self._held.discard(name)
        async with self.sessions() as session, session.begin():
            await LeaseRepository(session).release(name, self.holder)

    async def release_all(self) -> None:
        for name in sorted(self._held):
            try:
                await self.release(name)
            except Exception:  # shutting down: a lease not released runs out by itself
                logger.warning("lease %s not released", name, exc_info=True)

    async def acquire_node(self, prefix: str, nodes: int, seconds: float) -> int:
        """A node number in ``0..nodes-1`` that no running process holds, as lease ``prefix<number>``."""
        for _ in range(20):
            async with self.sessions() as session:
                taken = await LeaseRepository(session).held_names(prefix)
            free = [n for n in range(nodes) if f"{prefix}{n}" not in taken]
            if not free:
                raise RuntimeError(f"all {nodes} node numbers of {prefix!r} are held")
            node = random.choice(free)
            if await self.acquire(f"{prefix}{node}", seconds) is not None:
                return node
            await asyncio.sleep(0.01)  # another process took that one just now
        raise RuntimeError(f"no free node number of {prefix!r} after 20 tries")


async def keep_renewed(keeper: LeaseKeeper, name: str, seconds: float, every: float) -> bool:
    """Renew ``name`` every ``every`` seconds until cancelled; returns False when it was lost."""
    while True:
        await asyncio.sleep(every)
        try:
            held = await keeper.acquire(name, seconds)
        except Exception:  # the database is away for a moment: try again before the lease runs out
            logger.warning("lease %s not renewed", name, exc_info=True)
            continue
        if held is None:
            logger.error("lease %s was lost (taken by another process)", name)
            return False


def lease_until(lease: Lease) -> datetime:
    return as_utc(lease.lease_until)
