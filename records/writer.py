"""Writes question records in batches, off the reply path.

A handler only appends to an in-memory queue (microseconds); a background task
writes whatever has gathered in one INSERT per batch, one session and one commit
per batch. ``flush()`` lets a handler that needs a record (feedback, hand-off)
wait until it is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from records.repository import NewRecord, RecordRepository

logger = logging.getLogger(__name__)


class RecordWriter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_batch: int = 500,
        max_delay_seconds: float = 0.05,
        retries: int = 3,
    ) -> None:
        self._sessions = sessions
        self._queue: asyncio.Queue[NewRecord] = asyncio.Queue()
        self._max_batch = max_batch
        self._max_delay = max_delay_seconds
        self._retries = retries
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.batches = 0

    def add(self, record: NewRecord) -> None:
        self._queue.put_nowait(record)

    async def flush(self) -> None:
        """Return when every record added so far is committed (or given up on)."""
        if self._task is None:
            await self._drain_now()
            return
        await self._queue.join()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="record-writer")

    async def stop(self) -> None:
        """Write what is left, then stop."""
        if self._task is not None:
            await self._queue.join()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._drain_now()

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            deadline = asyncio.get_running_loop().time() + self._max_delay
            while len(batch) < self._max_batch:
                timeout = deadline - asyncio.get_running_loop().time()
                if timeout <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), timeout))
                except TimeoutError:
                    break
            await self._write(batch)
            for _ in batch:
                self._queue.task_done()

    async def _drain_now(self) -> None:
        batch: list[NewRecord] = []
        while not self._queue.empty():
            batch.append(self._queue.get_nowait())
        if batch:
            await self._write(batch)
            for _ in batch:
                self._queue.task_done()

    async def _write(self, batch: list[NewRecord]) -> None:
        for attempt in range(1, self._retries + 1):
            try:
                async with self._sessions() as session, session.begin():
                    await RecordRepository(session).add_many(batch)
                self.written += len(batch)
                self.batches += 1
                return
            except SQLAlchemyError:
                logger.exception("writing %d question records failed (attempt %d)", len(batch), attempt)
                await asyncio.sleep(0.2 * attempt)
        logger.error("gave up on %d question records", len(batch))
