"""The same repository and migration tests on SQLite and on a real PostgreSQL server.

PostgreSQL comes from ``TEST_DATABASE_URL_PG`` (set by ``make test``; see ``tests/pg.py``).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from knowledge.content_files import Content, load_content, write_content
from knowledge.models import Topic
from knowledge.repository import KnowledgeRepository
from knowledge.settings import PROJECT_ROOT
from records.models import QuestionRecord
from records.repository import PHONE_MASK, NewRecord, RecordIds, RecordRepository
from storage.base import Base
from storage.engine import create_engine, create_schema, session_factory
from storage.migrate import (
    LEGACY_SCHEMAS,
    MigrationError,
    alembic_config,
    database_revision,
    head_revision,
    schema_differences,
    upgrade_database,
)
from support.repository import TicketRepository
from tests.pg import backend_url, pg_url  # noqa: F401  (fixtures)
from tests.unit.test_support import test_tickets_open_once_per_record_and_fall_due_once as ticket_lifecycle


@pytest.fixture
async def empty_db(backend_url: str) -> AsyncIterator[AsyncEngine]:  # noqa: F811
    """An engine on an empty database of the back end (no schema yet)."""
    engine = create_engine(backend_url)
    yield engine
    await engine.dispose()


def backend(engine: AsyncEngine) -> str:
    return engine.dialect.name


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


# --- the knowledge base ------------------------------------------------------------------------


async def test_import_is_idempotent_and_export_round_trips(
    empty_db: AsyncEngine, content: Content, tmp_path: Path
) -> None:
    await create_schema(empty_db)
    sessions = session_factory(empty_db)
    async with sessions() as session, session.begin():
        first = await KnowledgeRepository(session).sync_content(content)
    async with sessions() as session, session.begin():
        second = await KnowledgeRepository(session).sync_content(content)
    assert len(first.inserted) == len(content.topics) == 49 and first.examples_added > 1500
    assert not second.changed and len(second.unchanged) == 49
    assert second.examples_added == second.examples_removed == 0

    async with sessions() as session:
        exported = await KnowledgeRepository(session).export_content()
    write_content(exported, tmp_path / "export")
    reloaded = load_content(tmp_path / "export")
    assert reloaded.problems == []
    assert [r.entry for r in reloaded.topics] == [r.entry for r in content.topics]
    assert reloaded.out_of_scope == content.out_of_scope
    assert [d.key for d in reloaded.domains] == [d.key for d in content.domains]

    # JSON columns and Vietnamese text come back as they went in.
    async with sessions() as session:
        topic = await session.get(Topic, content.topics[0].entry.id)
    assert topic is not None
    assert topic.answer == content.topics[0].entry.answer
    assert isinstance(topic.links, list) and isinstance(topic.related, list)

    reloaded.topics[0].entry.answer += "\nThêm một dòng."
    dropped = reloaded.topics.pop()
    async with sessions() as session, session.begin():
        third = await KnowledgeRepository(session).sync_content(reloaded)
    assert third.updated == [reloaded.topics[0].entry.id]
    assert third.retired == [dropped.entry.id]
    async with sessions() as session:
        snapshot = await KnowledgeRepository(session).snapshot()
    assert dropped.entry.id not in snapshot.topics and dropped.entry.id not in snapshot.examples


# --- question records --------------------------------------------------------------------------


def make_record(record_id: int, created_at: datetime, **changes: object) -> NewRecord:
    values: dict[str, object] = {
        "id": record_id,
        "created_at": created_at,
        "chat_type": "supergroup",
        "user_id": 7_012_345_678,  # Telegram user ids no longer fit 32 bits
        "chat_id": -1_001_234_567_890,
        "normalized_text": "gọi 0912 345 678 giúp mình",
        "decision": "answer",
        "topic_id": "vneid_muc_2",
        "candidates": ["vneid_muc_2", "vneid_kich_hoat"],
        "confidence": 0.91,
        "latency_ms": 12.5,
        "nlu_source": "rasa",
    }
    values.update(changes)
    return NewRecord(**values)  # type: ignore[arg-type]


def as_utc(value: datetime) -> datetime:
    """SQLite keeps no offset (the project stores UTC); PostgreSQL returns aware datetimes."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def test_question_records_insert_many_skips_stored_ones(empty_db: AsyncEngine) -> None:
    await create_schema(empty_db)
    sessions = session_factory(empty_db)
    ids = RecordIds()
    created = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    first = [make_record(ids.next(), created + timedelta(seconds=i)) for i in range(3)]
    assert all(record.id > 2**32 for record in first)  # the 63-bit ids need BIGINT
    async with sessions() as session, session.begin():
        await RecordRepository(session).add_many(first)
        await RecordRepository(session).add_many([])

    # The write buffer may send a record twice: the stored row wins, the new ones are added.
    again = [make_record(first[0].id, created, normalized_text="khác", decision="unknown")]
    again += [make_record(ids.next(), created, topic_id=None, decision="unknown", candidates=[])]
    async with sessions() as session, session.begin():
        await RecordRepository(session).add_many(again)

    async with sessions() as session:
        rows = (await session.scalars(select(QuestionRecord).order_by(QuestionRecord.id))).all()
        assert [row.id for row in rows] == sorted([r.id for r in first] + [again[1].id])
        stored = rows[0]
        assert stored.id == first[0].id
        assert stored.decision == "answer"
        assert stored.normalized_text == f"gọi {PHONE_MASK} giúp mình"
        assert stored.candidates == ["vneid_muc_2", "vneid_kich_hoat"]
        assert stored.user_id == 7_012_345_678 and stored.chat_id == -1_001_234_567_890
        assert as_utc(stored.created_at) == created
        if backend(empty_db) == "postgresql":
            assert stored.created_at.tzinfo is not None and stored.created_at.utcoffset() == timedelta(0)
        assert rows[-1].topic_id is None and rows[-1].candidates == []

    async with sessions() as session, session.begin():
        repository = RecordRepository(session)
        await repository.set_feedback(first[0].id, -1)
        await repository.set_chosen_topic(again[1].id, "tmdt_voso")
        record = await repository.get(again[1].id)
        assert record is not None
        tickets = TicketRepository(session)
        opened = dict(
            user_id=record.user_id,
            origin_chat_type=record.chat_type,
            origin_chat_id=record.chat_id,
            question=record.normalized_text,
            guesses=record.candidates,
            province=None,
            now=created,
            record_id=record.id,
        )
        ticket, created_now = await tickets.open(**opened)  # type: ignore[arg-type]
        same, created_again = await tickets.open(**opened)  # type: ignore[arg-type]
        assert created_now and not created_again and same.id == ticket.id
    async with sessions() as session:
        repository = RecordRepository(session)
        assert await repository.top_topics(2) == ["vneid_muc_2", "tmdt_voso"]
        assert [t.record_id for t in await TicketRepository(session).unposted()] == [again[1].id]
        assert (await repository.get(first[0].id)).feedback == -1  # type: ignore[union-attr]
        count = await session.scalar(select(func.count()).select_from(QuestionRecord))
        assert count == 4


# --- migrations --------------------------------------------------------------------------------


async def differences(engine: AsyncEngine) -> list[object]:
    async with engine.connect() as connection:
        return await connection.run_sync(schema_differences)


async def test_migrations_create_exactly_the_models(empty_db: AsyncEngine) -> None:
    assert await database_revision(empty_db) is None
    await create_schema(empty_db)
    assert await database_revision(empty_db) == head_revision()
    # alembic's compare_metadata: tables, columns, types, nullability, indexes, unique and foreign keys.
    found = await differences(empty_db)
    assert found == [], (
        "knowledge/models.py and the migrations differ; add a revision: "
        f".venv/bin/python -m knowledge revision 'what changed' (then review it): {found}"
    )
    assert await table_names(empty_db) == set(Base.metadata.tables) | {"alembic_version"}

    # Idempotent, and quick at head.
    started = asyncio.get_running_loop().time()
    await create_schema(empty_db)
    assert asyncio.get_running_loop().time() - started < 0.5
    assert await database_revision(empty_db) == head_revision()

    # The comparison is not vacuous: a column the migrations lack is reported.
    extended = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(extended)
    extended.tables["groups"].append_column(Column("extra", Integer, nullable=True))
    async with empty_db.connect() as connection:
        from alembic.autogenerate import compare_metadata
        from alembic.runtime.migration import MigrationContext

        found = await connection.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), extended))
    assert [(d[0], d[2], d[3].name) for d in found] == [("add_column", "groups", "extra")]


async def test_migrations_downgrade_to_nothing_and_back(empty_db: AsyncEngine) -> None:
    from alembic import command

    await upgrade_database(empty_db)
    async with empty_db.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "base"))
    assert await table_names(empty_db) == {"alembic_version"}
    assert await database_revision(empty_db) is None
    await upgrade_database(empty_db)
    assert await differences(empty_db) == []


@pytest.mark.parametrize("revision", sorted(LEGACY_SCHEMAS))
async def test_database_made_by_create_all_is_stamped_and_upgraded(empty_db: AsyncEngine, revision: str) -> None:
    """Before migrations, create_all made the schema and left no alembic_version table.

    The models have moved on since, so the tables as that revision left them (without its
    alembic_version row) stand in for what create_all made then.
    """
    from alembic import command

    async with empty_db.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
        await connection.execute(text("DROP TABLE alembic_version"))
    assert await table_names(empty_db) == LEGACY_SCHEMAS[revision]
    async with empty_db.begin() as connection:
        await connection.execute(
            text("INSERT INTO domains (key, title, short_title, position) VALUES ('x', 'Cũ', 'Cũ', 1)")
        )
    await create_schema(empty_db)
    assert await database_revision(empty_db) == head_revision()
    assert await differences(empty_db) == []
    async with empty_db.connect() as connection:
        assert (await connection.execute(text("SELECT title FROM domains"))).scalars().all() == ["Cũ"]


async def test_database_with_only_some_tables_is_refused(empty_db: AsyncEngine) -> None:
    async with empty_db.begin() as connection:
        await connection.run_sync(lambda sync: Base.metadata.create_all(sync, tables=[Base.metadata.tables["domains"]]))
    with pytest.raises(MigrationError, match="missing: handoff_requests, question_records"):
        await create_schema(empty_db)
    assert await database_revision(empty_db) is None


def test_migrate_command(backend_url: str) -> None:  # noqa: F811
    env = {**os.environ, "DATABASE_URL": backend_url, "PYTHONPATH": str(PROJECT_ROOT)}

    def migrate() -> str:
        result = subprocess.run(
            [sys.executable, "-m", "knowledge", "migrate"],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            env=env,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    assert f"migrated from nothing to {head_revision()} (head)" in migrate()
    assert f"already at revision {head_revision()} (head)" in migrate()


async def test_concurrent_migrations_of_one_postgresql_database(pg_url: str) -> None:  # noqa: F811
    """Several processes starting at once: the advisory lock lets one migrate, the others wait."""
    engines = [create_engine(pg_url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade_database(engine) for engine in engines))
        assert await database_revision(engines[0]) == head_revision()
        assert await differences(engines[0]) == []
    finally:
        for engine in engines:
            await engine.dispose()


async def test_0004_turns_waiting_handoffs_into_unposted_tickets_and_back(empty_db: AsyncEngine) -> None:
    """Hand-off requests nobody ever read become open tickets the desk's sweep will post."""
    from alembic import command

    async with empty_db.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0003"))
        await connection.execute(
            text(
                "INSERT INTO question_records (id, created_at, chat_type, user_id, chat_id, normalized_text,"
                " decision, topic_id, candidates, confidence, latency_ms, nlu_source)"
                " VALUES (7, :at, 'supergroup', 42, -100, 'hỏi gì đó', 'unknown', NULL, :c, 0.1, 5, 'rasa')"
            ),
            {"at": datetime(2026, 5, 1, tzinfo=UTC), "c": '["dvc_cu_tru"]'},
        )
        await connection.execute(
            text(
                "INSERT INTO handoff_requests (record_id, user_id, chat_id, question, status, created_at)"
                " VALUES (7, 42, -100, 'hỏi gì đó', 'waiting', :at)"
            ),
            {"at": datetime(2026, 5, 1, 1, tzinfo=UTC)},
        )
    await create_schema(empty_db)
    async with session_factory(empty_db)() as session:
        [ticket] = await TicketRepository(session).unposted()
    assert (ticket.record_id, ticket.user_id, ticket.origin_chat_type, ticket.origin_chat_id) == (
        7,
        42,
        "supergroup",
        -100,
    )
    assert ticket.guesses == ["dvc_cu_tru"] and ticket.status == "open" and ticket.header_message_id is None
    async with empty_db.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0003"))
        rows = (await connection.execute(text("SELECT record_id, user_id, status FROM handoff_requests"))).all()
    assert [tuple(r) for r in rows] == [(7, 42, "waiting")]


async def test_ticket_lifecycle_on_both_back_ends(empty_db: AsyncEngine) -> None:
    """The fast tier's ticket checks (SQLite) again on each back end, PostgreSQL included."""
    await create_schema(empty_db)
    await ticket_lifecycle(empty_db)


async def test_curation_lifecycle_on_both_back_ends(empty_db: AsyncEngine, content: Content, tmp_path: Path) -> None:
    """The fast tier's inbox, curated examples and curators (SQLite) again on each back end."""
    from tests.unit.test_curation import (
        curated_yaml_round_trip,
        inbox_lifecycle,
        test_curators_are_granted_and_revoked,
    )

    await create_schema(empty_db)
    await inbox_lifecycle(empty_db, content)
    await curated_yaml_round_trip(empty_db, content, tmp_path)
    await test_curators_are_granted_and_revoked(empty_db)
