"""Model versions: every trained candidate, whether it was published or held back, and why.

The files live in ``NLU_MODEL_DIR`` (one ``.tar.gz`` plus its manifest per version); these rows
are what every bot process agrees on, so the one marked ``current`` is the model all of them
and all NLU servers should answer with.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utc_now


class VersionStatus(StrEnum):
    CANDIDATE = "candidate"  # trained, being evaluated
    PUBLISHED = "published"  # passed the gate (or is a rollback target) and was put into service
    HELD_BACK = "held_back"  # worse than the current model beyond the tolerance
    FAILED = "failed"  # training or evaluation failed


class ModelVersion(Base):
    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # the model file's stem, e.g. nlu-1a2b3c4d5e6f
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    status: Mapped[str] = mapped_column(String(16), default=VersionStatus.CANDIDATE)
    current: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    trigger: Mapped[str] = mapped_column(String(16))  # command, schedule, count, rollback, setup
    started_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    examples: Mapped[int] = mapped_column(Integer, default=0)
    curated: Mapped[int] = mapped_column(Integer, default=0)
    # Gate figures of this model and of the model it was compared with, and timings in seconds.
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
