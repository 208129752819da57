"""When the assistant retrains by itself, read from the environment or ``.env``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LearningSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Retrain every day at this hour (Vietnam time) when there are new curated examples; -1: never.
    learning_retrain_hour: int = Field(default=2, ge=-1, le=23)
    # Retrain as soon as this many examples were curated since the current model; 0: never.
    learning_retrain_after_examples: int = Field(default=30, ge=0)
    # How often the count above is checked.
    learning_check_seconds: float = Field(default=300.0, ge=5.0)
    # How often every bot process looks at the current model version row, to serve a version
    # another process published or rolled back to (its fallback and thresholds).
    learning_follow_seconds: float = Field(default=30.0, ge=1.0)
