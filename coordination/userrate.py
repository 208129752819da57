"""The per-user answer limit shared by every bot process: a GCRA per user in ``user_rates``.

One statement does the whole check on PostgreSQL: it reads the database's clock, inserts the
user or updates their theoretical arrival time (``tat``, seconds since the epoch), and returns
the outcome, so the answer path pays one round trip and two processes share one budget.

The sign of ``tat`` carries "the user was told": positive after an allowed question, negative
after a refusal (its magnitude unchanged). The first refusal after an allowed question is the
one to answer; further refusals are silent, as in the in-memory limiter.
Plain code: no Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# :t is the emission interval (1 / per_second), :limit the burst times :t. ``excluded.tat`` is
# the database's "now" plus :t. ``prior`` sees the row as the statement began (for "told").
_TAKE = text(
    """
    WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now),
    prior AS (SELECT tat FROM user_rates WHERE user_id = :user_id)
    INSERT INTO user_rates AS r (user_id, tat)
    SELECT :user_id, clock.now + :t FROM clock
    ON CONFLICT (user_id) DO UPDATE SET tat = CASE
        WHEN greatest(abs(r.tat) + :t, excluded.tat) - (excluded.tat - :t) <= :limit
            THEN greatest(abs(r.tat) + :t, excluded.tat)
        ELSE -abs(r.tat)
    END
    RETURNING r.tat, (SELECT tat FROM prior)
    """
)


@dataclass(frozen=True)
class Taken:
    allowed: bool
    told_before: bool  # refused, and an earlier refusal already told the user


class SharedUserRates:
    """``take`` one question from a user's budget on PostgreSQL (autocommit, one statement)."""

    def __init__(self, engine: AsyncEngine, *, burst: int, per_second: float) -> None:
        self.engine = engine
        self.interval = 1.0 / per_second
        self.limit = burst * self.interval

    async def take(self, user_id: int) -> Taken:
        async with self.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            row = (await autocommit.execute(_TAKE, {"user_id": user_id, "t": self.interval, "limit": self.limit})).one()
        tat, prior = float(row[0]), row[1]
        if tat > 0:
            return Taken(allowed=True, told_before=False)
        return Taken(allowed=False, told_before=prior is not None and float(prior) < 0)
