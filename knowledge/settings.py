"""Settings of the knowledge layer, read from the environment or ``.env``."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class KnowledgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'data' / 'assistant.db'}"
    content_dir: Path = PROJECT_ROOT / "knowledge" / "content"
    topics_spec: Path = PROJECT_ROOT.parent / "shared" / "spec" / "topics.yaml"
