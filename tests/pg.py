"""PostgreSQL for tests: a fresh database per test on the server named by ``TEST_DATABASE_URL_PG``.

``make test`` starts a throwaway server (``scripts/pg-test-server.sh``) and sets the variable;
a plain ``pytest`` without it skips the PostgreSQL cases and says why. When the variable is
set, a server that does not answer is an error, never a skip.

Use in a test module (pytest finds fixtures through the module's namespace)::

    from tests.pg import backend_url, pg_url  # noqa: F401  (fixtures)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

PG_ENV = "TEST_DATABASE_URL_PG"
SKIP_REASON = (
    f"{PG_ENV} is not set: the PostgreSQL cases run under 'make test', which starts a server "
    "(or: scripts/pg-test-server.sh start build/pg 55432 and "
    f"{PG_ENV}=$(scripts/pg-test-server.sh url build/pg 55432) pytest ...)"
)
BACKENDS = ("sqlite", "postgresql")


def pg_server_url() -> str | None:
    """The URL of the test server's maintenance database, e.g. postgresql+asyncpg://postgres@127.0.0.1:5/db."""
    return os.environ.get(PG_ENV) or None


@asynccontextmanager
async def scratch_database(server_url: str, prefix: str = "test") -> AsyncIterator[str]:
    """A new, empty database on a PostgreSQL server, dropped afterwards: its async URL (tests, benchmarks)."""
    url = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A new, empty database on the test server (dropped afterwards): its async URL."""
    server = pg_server_url()
    if server is None:
        pytest.skip(SKIP_REASON)
    async with scratch_database(server) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The same test once on a new SQLite file and once on a new PostgreSQL database."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
