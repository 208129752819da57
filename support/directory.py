"""Where tickets go and which chats are support chats, cached for a few seconds.

The answer path asks "is there a human for this member?" on every unknown answer and the relay
asks "is this a support chat?" on replies, so the province → chat map is read from the database
at most once per ``ttl`` seconds (other processes' changes show up within that time; this
process's own changes at once, through :meth:`invalidate`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from support.repository import SupportChatRepository
from support.routing import is_support_chat, route


class SupportDirectory:
    def __init__(
        self,
        default_chat: int | None,
        sessions: async_sessionmaker[AsyncSession],
        *,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.default_chat = default_chat
        self._sessions = sessions
        self._ttl = ttl
        self._clock = clock
        self._cached: dict[str, int] | None = None
        self._loaded_at = 0.0

    async def by_province(self) -> dict[str, int]:
        if self._cached is None or self._clock() - self._loaded_at >= self._ttl:
            async with self._sessions() as session:
                self._cached = await SupportChatRepository(session).by_province()
            self._loaded_at = self._clock()
        return self._cached

    def invalidate(self) -> None:
        self._cached = None

    async def route(self, province: str | None) -> int | None:
        return route(province, await self.by_province(), self.default_chat)

    async def is_support_chat(self, chat_id: int) -> bool:
        return is_support_chat(chat_id, await self.by_province(), self.default_chat)

    async def exists(self) -> bool:
        """Is there any support chat at all (the default one or one attached to a province)?"""
        return self.default_chat is not None or bool(await self.by_province())
