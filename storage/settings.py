"""Where the database is: the one setting every process that opens it reads."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # SQLite by default; postgresql+asyncpg://user:password@host/db for PostgreSQL.
    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'data' / 'assistant.db'}"
