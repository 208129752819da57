"""Settings of the broadcast sender, read from the environment or ``.env``."""

from __future__ import annotations

import math
import os
import socket

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"[-64:]


class BroadcastSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Telegram allows a bot about 30 messages a second in total; stay below it. This is the
    # WHOLE bot's rate: on PostgreSQL every sender process draws from one shared budget (the
    # row ``rate_budgets(broadcast_budget_name)``, coordination.budget), so do not divide it
    # between senders. On SQLite there is one sender with its own bucket at this rate.
    # (The per-group limit is the bot's: BotSettings.group_messages_per_minute.)
    broadcast_rate_per_second: float = Field(default=25.0, gt=0)
    # The shared budget's row; senders with the same name share one rate (max 32 characters).
    broadcast_budget_name: str = Field(default="telegram", min_length=1, max_length=32)
    # Each grant from the shared budget covers this long of the rate: longer means fewer
    # database round trips, shorter means the other senders learn of a 429 pause sooner.
    broadcast_budget_chunk_seconds: float = Field(default=0.05, gt=0, le=1.0)
    # Sends in flight at once (each with its own connection of the sender's pool). Unset: enough
    # for the rate (see ``concurrency``); a crash can repeat at most this many messages.
    broadcast_concurrency: int | None = Field(default=None, ge=1, le=256)
    # Attempts for network errors and timeouts before a delivery fails with "network: …".
    broadcast_max_attempts: int = Field(default=5, ge=1)
    # A claimed delivery not finished within the lease is taken over by another sender.
    broadcast_lease_seconds: float = Field(default=60.0, gt=0)
    # Backoff after a network error: base·2^(attempt-1), capped.
    broadcast_retry_base_seconds: float = Field(default=1.0, ge=0)
    broadcast_retry_max_seconds: float = Field(default=60.0, ge=0)
    # How often to look for due deliveries when there are none.
    broadcast_poll_seconds: float = Field(default=0.5, gt=0)
    # Paid broadcasts (Telegram Stars): allow_paid_broadcast=True on every send, higher rate.
    allow_paid_broadcast: bool = False
    paid_broadcast_rate_per_second: float = Field(default=1000.0, gt=0)
    # Must differ between running senders; the default is unique per process.
    sender_worker_id: str = Field(default_factory=default_worker_id)

    @field_validator("sender_worker_id")
    @classmethod
    def _worker_id(cls, value: str) -> str:
        return value.strip()[:64] or default_worker_id()

    @property
    def concurrency(self) -> int:
        """Sends in flight: the setting, else about 32 ms of the rate (a send's round trip), 8 to 64.

        Measured on 2 cores: 8 carries 25/s easily but caps 1,000/s far below the limit; 32 holds
        0.95 of 1,000/s; 64 provoked 429s (bursts). See docs/broadcast-performance.md.
        """
        if self.broadcast_concurrency is not None:
            return self.broadcast_concurrency
        return min(64, max(8, math.ceil(self.rate_per_second / 32)))

    @property
    def rate_per_second(self) -> float:
        """The bot's global rate, for all senders together (the paid rate in paid mode)."""
        return self.paid_broadcast_rate_per_second if self.allow_paid_broadcast else self.broadcast_rate_per_second
