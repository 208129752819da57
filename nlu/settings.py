"""Settings of the NLU layer, read from the environment or ``.env``."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class NluSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Leave RASA_URLS (or RASA_URL, the same setting) empty to have the commands start a local Rasa
    # server themselves. Several servers (same model, same token): comma-separated; questions are
    # spread over the healthy ones.
    rasa_url: str | None = Field(default=None, validation_alias=AliasChoices("rasa_urls", "rasa_url"))

    rasa_token: SecretStr = SecretStr("")
    rasa_timeout_seconds: float = Field(default=2.0, gt=0)
    # After a failure, how long to answer from the lexical fallback before trying Rasa again.
    rasa_retry_seconds: float = Field(default=10.0, ge=0)
    rasa_startup_timeout_seconds: float = Field(default=240.0, gt=0)
    rasa_env: Path = PROJECT_ROOT / ".venv-rasa"
    model_dir: Path = PROJECT_ROOT / "nlu" / "models"
    training_examples: Path = PROJECT_ROOT / "build" / "training_examples.json"

    def rasa_servers(self) -> list[str]:
        """The configured NLU servers, in order (``RASA_URLS=http://a:5005,http://b:5006``)."""
        return [part.strip().rstrip("/") for part in (self.rasa_url or "").split(",") if part.strip()]
