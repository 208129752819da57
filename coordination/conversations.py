"""The state of multi-step flows (``/thongbao``) in the database, so any process can take the next step.

One row per (user, chat): the flow, its step, the step's data (JSON) and a version. Every write
names the version it read; a write whose version is no longer there lost a race (a double tap
reaching two processes at once) and changes nothing. An expired row is treated as absent.
Plain code: no Telegram. Never commits; the caller's unit of work does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from coordination.models import ConversationState
from storage.base import as_utc


@dataclass(frozen=True)
class Conversation:
    """A snapshot of one row; ``version`` is what a later write must still find."""

    user_id: int
    chat_id: int
    flow: str
    step: str
    data: dict[str, Any]
    version: int
    expires_at: datetime


def _snapshot(row: ConversationState) -> Conversation:
    return Conversation(
        row.user_id, row.chat_id, row.flow, row.step, dict(row.data or {}), row.version, as_utc(row.expires_at)
    )


async def lookup(engine: AsyncEngine, user_id: int, chat_id: int, now: datetime) -> Conversation | None:
    """Like :meth:`ConversationRepository.get`, as cheaply as possible: the check every private
    message pays. On PostgreSQL one round trip (autocommit: no BEGIN and ROLLBACK around it)."""
    table = ConversationState.__table__
    query = select(table).where(table.c.user_id == user_id, table.c.chat_id == chat_id)
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        row = (await connection.execute(query)).mappings().first()
    if row is None:
        return None
    found = Conversation(
        row["user_id"], row["chat_id"], row["flow"], row["step"], dict(row["data"] or {}), row["version"],
        as_utc(row["expires_at"]),
    )  # fmt: skip
    return None if found.expires_at <= now else found


class ConversationIndex:
    """The look-up every private message pays, kept cheap.

    PostgreSQL (several processes): :func:`lookup`, one round trip. SQLite (one bot process by
    design): the keys this process gave state to, loaded once from the table, answer "no state"
    without touching the database (a SQLite transaction takes the write lock, even to read);
    only a known key is read. A key whose state ended or expired is at worst one more read.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.single_process = engine.dialect.name != "postgresql"
        self._keys: set[tuple[int, int]] = set()
        self._loaded = False

    async def lookup(self, user_id: int, chat_id: int, now: datetime) -> Conversation | None:
        if self.single_process:
            if not self._loaded:
                await self._load(now)
            if (user_id, chat_id) not in self._keys:
                return None
        return await lookup(self.engine, user_id, chat_id, now)

    def started(self, user_id: int, chat_id: int) -> None:
        self._keys.add((user_id, chat_id))

    def ended(self, user_id: int, chat_id: int) -> None:
        self._keys.discard((user_id, chat_id))

    async def _load(self, now: datetime) -> None:
        table = ConversationState.__table__
        query = select(table.c.user_id, table.c.chat_id).where(table.c.expires_at > now)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        self._keys |= {(int(u), int(c)) for u, c in rows}  # keys started meanwhile stay
        self._loaded = True


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int, chat_id: int, now: datetime) -> Conversation | None:
        """The live conversation of this user in this chat (one primary-key SELECT); None if none or expired."""
        row = (
            await self.session.execute(
                select(ConversationState).where(
                    ConversationState.user_id == user_id, ConversationState.chat_id == chat_id
                )
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        found = _snapshot(row)
        self.session.expunge(row)
        return None if found.expires_at <= now else found

    async def start(
        self, user_id: int, chat_id: int, flow: str, step: str, data: dict[str, Any], *, now: datetime, ttl: timedelta
    ) -> Conversation:
        """Begin (or begin again) a flow; any earlier state of this user and chat is replaced.

        The version goes up from whatever was there, so a step still holding the old one loses.
        """
        values = {
            "user_id": user_id,
            "chat_id": chat_id,
            "flow": flow,
            "step": step,
            "data": data,
            "version": 1,
            "expires_at": now + ttl,
            "updated_at": now,
        }
        table = ConversationState.__table__
        insert = pg_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        upsert = insert(ConversationState).values(values)
        statement = upsert.on_conflict_do_update(
            index_elements=["user_id", "chat_id"],
            set_={
                "flow": flow,
                "step": step,
                "data": data,
                "version": table.c.version + 1,
                "expires_at": now + ttl,
                "updated_at": now,
            },
        ).returning(ConversationState.version)
        version = int((await self.session.execute(statement)).scalar_one())
        return Conversation(user_id, chat_id, flow, step, dict(data), version, now + ttl)

    async def advance(
        self, current: Conversation, step: str, data: dict[str, Any], *, now: datetime, ttl: timedelta
    ) -> Conversation | None:
        """Move to ``step`` with ``data`` if nobody wrote since ``current`` was read; None if someone did."""
        result = await self.session.execute(
            update(ConversationState)
            .where(*self._same(current))
            .values(step=step, data=data, version=current.version + 1, expires_at=now + ttl, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return Conversation(
            current.user_id, current.chat_id, current.flow, step, dict(data), current.version + 1, now + ttl
        )

    async def finish(self, current: Conversation) -> bool:
        """End the flow; False if another step got there first (then the caller must not act on it).

        Inside the transaction that acts on the last step, this is the guard against a double tap:
        on PostgreSQL the second DELETE waits for the first transaction and then finds no row; on
        SQLite the transactions run one after the other.
        """
        result = await self.session.execute(
            delete(ConversationState).where(*self._same(current)).execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def drop(self, user_id: int, chat_id: int) -> None:
        """Forget whatever state this user and chat have (``/huy``)."""
        await self.session.execute(
            delete(ConversationState)
            .where(ConversationState.user_id == user_id, ConversationState.chat_id == chat_id)
            .execution_options(synchronize_session=False)
        )

    async def expire(self, now: datetime) -> int:
        """Delete every expired row (housekeeping; reads already treat them as absent)."""
        result = await self.session.execute(
            delete(ConversationState)
            .where(ConversationState.expires_at <= now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    @staticmethod
    def _same(current: Conversation) -> tuple[Any, ...]:
        return (
            ConversationState.user_id == current.user_id,
            ConversationState.chat_id == current.chat_id,
            ConversationState.version == current.version,
        )
