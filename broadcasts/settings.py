"""Settings of announcements' acknowledgements ("✅ Đã nhận"), read from the environment or ``.env``."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_REMINDER_HOURS = 24 * 30  # a reminder a month later reminds of nothing useful


class AcknowledgementSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Hours after an announcement finished before its sender may send the one reminder
    # to the groups that have not tapped "✅ Đã nhận" (give teams time to read it first).
    ack_reminder_after_hours: float = Field(default=24.0, ge=0, le=MAX_REMINDER_HOURS)

    @property
    def reminder_after(self) -> timedelta:
        return timedelta(hours=self.ack_reminder_after_hours)


@cache
def acknowledgement_settings() -> AcknowledgementSettings:
    """The settings, read once per process (validated on first use: the bot reads them at start-up)."""
    return AcknowledgementSettings()
