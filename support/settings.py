"""Settings of the support desk, read from the environment or ``.env`` and validated at start-up."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SupportSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # The default support chat: a supergroup where the bot is an administrator. Unset means no
    # desk, unless a super-admin attached chats to provinces (then only members of those provinces).
    support_chat_id: int | None = None
    # Tickets show members anonymously ("Thành viên #…"); True adds the first name.
    support_show_first_name: bool = False
    # An unanswered ticket is raised again in the support chat (and the member told it waits) ...
    support_remind_after_minutes: float = Field(default=30.0, gt=0)
    # ... and after this long the member gets an honest message with the official hotlines.
    support_give_up_after_minutes: float = Field(default=240.0, gt=0)
    # How often the desk looks for tickets to post, raise again or give up on.
    support_sweep_seconds: float = Field(default=60.0, ge=1.0)
    # The daily digest in the default support chat, at this hour (Vietnam time); -1 switches it off.
    support_digest_hour: int = Field(default=7, ge=-1, le=23)

    @field_validator("support_chat_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def remind_after(self) -> timedelta:
        return timedelta(minutes=self.support_remind_after_minutes)

    @property
    def give_up_after(self) -> timedelta:
        return timedelta(minutes=self.support_give_up_after_minutes)
