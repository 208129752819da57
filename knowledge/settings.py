"""Settings of the knowledge base: where its content files and the shared topic spec are."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class KnowledgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    content_dir: Path = PROJECT_ROOT / "knowledge" / "content"
    topics_spec: Path = PROJECT_ROOT.parent / "shared" / "spec" / "topics.yaml"
