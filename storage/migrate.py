"""Bring a database to the newest schema with Alembic (no alembic.ini: the config is built here).

``upgrade_database(engine)`` works on SQLite and PostgreSQL alike and is what ``create_schema``
and ``python -m knowledge migrate`` call. It is quick when the database is already at head
(one query of ``alembic_version``).

Databases made before migrations existed
    Until migrations were added the schema was made with ``Base.metadata.create_all``, which
    leaves no ``alembic_version`` table. Such a database is recognised by its table names: when
    they are exactly those of a revision below (``LEGACY_SCHEMAS``), it is stamped at that
    revision and then upgraded as usual, so nothing is created twice and no data is touched.
    A database holding only some of the tables of a revision is refused with a clear error
    rather than guessed at. An empty database (or one with only other applications' tables)
    is migrated from the start.
"""

from __future__ import annotations

import functools
import importlib
import tempfile
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.base import Base

# Every package that keeps tables; imported before Alembic compares or creates the whole schema.
MODEL_MODULES = (
    "knowledge.models",
    "records.models",
    "broadcasts.models",
    "support.models",
    "curation.models",
    "learning.models",
    "coordination.models",
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# The table sets that ``create_all`` produced before migrations existed, by the revision each
# equals. Fixed for good: databases made from now on carry their revision in alembic_version.
_FIRST_RELEASE = frozenset({"domains", "topics", "training_examples", "question_records", "handoff_requests"})
LEGACY_SCHEMAS: dict[str, frozenset[str]] = {
    "0001": _FIRST_RELEASE,
    "0002": _FIRST_RELEASE | {"groups", "broadcasters", "announcements", "deliveries"},
}

# Any constant: serialises concurrent migrations of one PostgreSQL database (several processes starting).
_PG_LOCK_ID = 0x6B6E6F776C6564


class MigrationError(RuntimeError):
    """The database cannot be brought to the current schema automatically."""


def full_metadata() -> MetaData:
    """The metadata of every table of the project (the model modules register on one ``Base``)."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without an ini file; ``connection`` is used by ``env.py`` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise MigrationError(f"no migrations in {MIGRATIONS_DIR / 'versions'}")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision in ``alembic_version``; None for an unversioned (empty or legacy) database."""
    return MigrationContext.configure(connection).get_current_revision()


def legacy_revision(connection: Connection) -> str | None:
    """The revision an unversioned database made by ``create_all`` equals; None if it has none of our tables."""
    tables = set(inspect(connection).get_table_names())
    ours = tables & LEGACY_SCHEMAS[max(LEGACY_SCHEMAS)]
    if not ours:
        return None
    for revision, expected in LEGACY_SCHEMAS.items():
        if ours == expected:
            return revision
    nearest = min(LEGACY_SCHEMAS.values(), key=lambda expected: len(expected ^ ours))
    missing = ", ".join(sorted(nearest - ours)) or "-"
    unexpected = ", ".join(sorted(ours - nearest)) or "-"
    raise MigrationError(
        "the database has no alembic_version table and only some of the assistant's tables "
        f"(missing: {missing}; unexpected: {unexpected}); it cannot be upgraded automatically: "
        "start from an empty database and run 'python -m knowledge import'"
    )


def _upgrade(connection: Connection) -> None:
    head = head_revision()
    if current_revision(connection) == head:
        return
    if connection.dialect.name == "postgresql":
        # Another process may be migrating the same database: wait for it, then look again.
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
        if current_revision(connection) == head:
            return
    config = alembic_config(connection)
    if current_revision(connection) is None:
        baseline = legacy_revision(connection)
        if baseline is not None:
            command.stamp(config, baseline)
    command.upgrade(config, "head")


async def upgrade_database(engine: AsyncEngine) -> None:
    """Migrate the database to the newest revision (idempotent; a legacy database is stamped first)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def database_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(current_revision)


def schema_differences(connection: Connection) -> list[object]:
    """What autogenerate would change to make the database match ``Base.metadata`` ([] when in step)."""
    context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
    return list(compare_metadata(context, full_metadata()))


async def new_revision(message: str) -> Path:
    """Autogenerate the next revision file from the models, diffed against a scratch SQLite at head.

    Review the file: autogenerate misses some changes (renames, server defaults, data moves).
    """
    from storage.engine import create_engine

    rev_id = f"{int(head_revision()) + 1:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(scratch) / 'head.db'}")
        try:
            await upgrade_database(engine)
            async with engine.begin() as connection:

                def _revision(sync_connection: Connection) -> None:
                    command.revision(alembic_config(sync_connection), message, autogenerate=True, rev_id=rev_id)

                await connection.run_sync(_revision)
        finally:
            await engine.dispose()
    head_revision.cache_clear()
    return next((MIGRATIONS_DIR / "versions").glob(f"{rev_id}_*.py"))
