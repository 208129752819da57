"""Per-user limits on questions: a flood from one user is refused cheaply, others are unaffected.

Two implementations with the same behaviour and settings (a burst, then a steady rate; the
first refusal is told, further ones are silent): ``UserRateLimiter`` in memory for one process
(SQLite), ``SharedRateLimiter`` over ``coordination.userrate`` on PostgreSQL, where several bot
processes must share one budget per user.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from coordination.userrate import SharedUserRates


class Verdict(Enum):
    ALLOW = "allow"
    REFUSE_AND_TELL = "refuse_and_tell"  # first refusal of a burst: say so once
    REFUSE_SILENTLY = "refuse_silently"


class RateLimiter(Protocol):
    async def verdict(self, user_id: int) -> Verdict: ...


@dataclass
class _Bucket:
    tokens: float
    updated: float
    told: bool = False


class UserRateLimiter:
    def __init__(
        self,
        *,
        burst: int,
        per_second: float,
        max_users: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.per_second = per_second
        self.max_users = max_users
        self._clock = clock
        self._buckets: OrderedDict[int, _Bucket] = OrderedDict()

    async def verdict(self, user_id: int) -> Verdict:
        return self.check(user_id)

    def check(self, user_id: int) -> Verdict:
        now = self._clock()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = _Bucket(tokens=float(self.burst), updated=now)
            self._buckets[user_id] = bucket
            if len(self._buckets) > self.max_users:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(user_id)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_second)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.told = False
            return Verdict.ALLOW
        if bucket.told:
            return Verdict.REFUSE_SILENTLY
        bucket.told = True
        return Verdict.REFUSE_AND_TELL


class SharedRateLimiter:
    """The same limit for every process on one PostgreSQL database (one round trip per question)."""

    def __init__(self, engine: AsyncEngine, *, burst: int, per_second: float) -> None:
        self.rates = SharedUserRates(engine, burst=burst, per_second=per_second)

    async def verdict(self, user_id: int) -> Verdict:
        taken = await self.rates.take(user_id)
        if taken.allowed:
            return Verdict.ALLOW
        return Verdict.REFUSE_SILENTLY if taken.told_before else Verdict.REFUSE_AND_TELL


def rate_limiter(engine: AsyncEngine, *, burst: int, per_second: float) -> RateLimiter:
    """Shared on PostgreSQL (several processes), in memory on SQLite (one process)."""
    if engine.dialect.name == "postgresql":
        return SharedRateLimiter(engine, burst=burst, per_second=per_second)
    return UserRateLimiter(burst=burst, per_second=per_second)
