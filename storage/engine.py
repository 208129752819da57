"""Async engine and session factory; SQLite by default, PostgreSQL via DATABASE_URL.

SQLite has one writer at a time. A transaction that starts as a reader and then writes
(SQLite's default, deferred ``BEGIN``) fails at once with "database is locked" when another
connection wrote meanwhile: SQLite does not wait on ``busy_timeout`` for such an upgrade. So
every transaction here starts with ``BEGIN IMMEDIATE``, which takes the write lock up front and
*does* wait (up to ``SQLITE_BUSY_TIMEOUT_MS``) — writers queue instead of failing. WAL keeps
readers outside transactions unblocked. PostgreSQL needs none of this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.migrate import upgrade_database

SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """Create the engine; for SQLite also the folder of the file and sane pragmas."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # the driver emits no BEGIN of its own; see below
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # PostgreSQL (postgresql+asyncpg://user:password@host/db): a pool sized for the bot's concurrent
    # updates, connections checked before use and renewed now and then (server or proxy restarts).
    kwargs.setdefault("pool_pre_ping", True)
    if "poolclass" not in kwargs:  # NullPool and friends take no size
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_schema(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (idempotent; one query when already there).

    An empty database is created by the migrations; one made by ``create_all`` before
    migrations existed is stamped, then upgraded (see ``storage.migrate``).
    """
    await upgrade_database(engine)
