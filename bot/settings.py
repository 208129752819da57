"""Settings of the bot layer, read from the environment or ``.env`` and validated at start-up."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class BotSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    # Another Bot API server (a local one, or a test server): e.g. http://127.0.0.1:8081/bot{token}
    telegram_api_base_url: str | None = None
    telegram_api_file_url: str | None = None
    # Set to switch from long polling to a webhook, e.g. https://bot.example.vn/telegram
    webhook_url: str | None = None
    # Several bot processes behind a load balancer share one secret: this one, or (unset) one derived
    # from the token, the same in every process (``bot.app.webhook_secret``).
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)

    # Per-user limit on questions: a burst, then a steady rate.
    rate_limit_burst: int = Field(default=6, ge=1)
    rate_limit_per_second: float = Field(default=0.5, gt=0)
    concurrent_updates: int = Field(default=64, ge=1)
    telegram_connection_pool_size: int = Field(default=16, ge=2)
    # Telegram allows about 20 messages a minute into one group; 429s are retried after retry_after.
    group_messages_per_minute: int = Field(default=20, ge=1)
    telegram_max_retries: int = Field(default=3, ge=0)
    log_level: str = "WARNING"
    # Super-admins (Telegram user ids, comma-separated): grant broadcaster rights, see every report.
    admin_user_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    # Seconds between live edits of a broadcast's progress message.
    broadcast_progress_seconds: float = Field(default=3.0, ge=1.0)
    # Run the broadcast sender inside the bot process (a separate `python -m bot sender` also works).
    broadcast_sender_in_bot: bool = True

    def api_urls(self) -> tuple[str, str] | None:
        """(base_url, base_file_url) of another Bot API server, or None for Telegram's own.

        The one place the file URL is derived: ``…/bot{token}`` → ``…/file/bot{token}``.
        """
        if not self.telegram_api_base_url:
            return None
        base = self.telegram_api_base_url
        return base, self.telegram_api_file_url or base.replace("/bot", "/file/bot", 1)

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _comma_separated_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(";", ",").split(",") if part.strip())
        return value

    @field_validator("telegram_api_base_url", "webhook_url", "telegram_api_file_url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("telegram_bot_token", "webhook_secret", mode="before")
    @classmethod
    def _blank_secret_is_none(cls, value: object) -> object:
        return value or None
