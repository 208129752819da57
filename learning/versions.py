"""Model versions on disk and in the database.

Each version keeps its own folder, ``NLU model dir/versions/<name>/``: the Rasa archive, its
manifest (thresholds) and the training examples it was trained on. The examples travel with the
model because the lexical fallback and the thresholds must describe the same examples as the
model, and because a rollback must restore all three together. The top-level ``manifest.json``
always names the version in service, so a restart (``make run``) serves the same model.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from learning.models import ModelVersion, VersionStatus
from nlu.training import Manifest, fingerprint, load_examples

VERSIONS = "versions"
EXAMPLES = "examples.json"
PINNED = "pinned_by_rollback"


@dataclass(frozen=True)
class VersionFiles:
    """One version's folder: the archive, the manifest and the examples."""

    model_dir: Path
    name: str

    @property
    def folder(self) -> Path:
        return self.model_dir / VERSIONS / self.name

    @property
    def archive(self) -> Path:
        return self.folder / f"{self.name}.tar.gz"

    @property
    def relative_archive(self) -> str:
        return f"{VERSIONS}/{self.name}/{self.name}.tar.gz"

    def manifest(self) -> Manifest:
        loaded = Manifest.load(self.folder)
        if loaded is None:
            raise FileNotFoundError(f"no manifest for model version {self.name}")
        return loaded

    def examples(self) -> dict[str, list[str]]:
        data = json.loads((self.folder / EXAMPLES).read_text(encoding="utf-8"))
        return {str(k): [str(t) for t in v] for k, v in data["intents"].items()}

    def exists(self) -> bool:
        return self.archive.exists() and (self.folder / EXAMPLES).exists() and (self.folder / "manifest.json").exists()

    def write(self, manifest: Manifest, examples: Mapping[str, Sequence[str]]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest.save(self.folder)
        payload = {"intents": {k: list(v) for k, v in examples.items()}}
        (self.folder / EXAMPLES).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")

    def serve(self, *, pinned: bool = False) -> None:
        """Make this version the one a restart serves: the top-level manifest points into its folder.

        ``pinned`` (a rollback): ``make setup`` must not retrain over it just because the database
        holds newer curated examples; the next published model lifts the pin.
        """
        manifest = self.manifest()
        notes = {**manifest.notes, PINNED: True} if pinned else manifest.notes
        Manifest(manifest.fingerprint, self.relative_archive, manifest.calibration, notes).save(self.model_dir)


def adopt_setup_model(model_dir: Path, examples_file: Path, fallback_examples: Mapping[str, Sequence[str]]) -> str:
    """Give the model trained by ``make setup`` a version folder (once), so it can be compared and
    rolled back to like any other. Its examples are the set-up's examples file when that is what it
    was trained on (same fingerprint), else ``fallback_examples``."""
    top = Manifest.load(model_dir)
    if top is None:
        raise FileNotFoundError(f"no trained model in {model_dir}; run 'make setup'")
    name = Path(top.model_file).name.removesuffix(".tar.gz")
    files = VersionFiles(model_dir, name)
    if files.exists():
        return name
    examples: Mapping[str, Sequence[str]] = fallback_examples
    if examples_file.exists():
        from_file = load_examples(examples_file)
        if fingerprint(from_file) == top.fingerprint:
            examples = from_file
    files.folder.mkdir(parents=True, exist_ok=True)
    source = top.model_path(model_dir)
    if source.resolve() != files.archive.resolve():
        shutil.copy2(source, files.archive)
    files.write(Manifest(top.fingerprint, files.archive.name, top.calibration, top.notes), examples)
    return name


class VersionRepository:
    """Never commits; the caller's unit of work does."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self) -> ModelVersion | None:
        version: ModelVersion | None = await self.session.scalar(
            select(ModelVersion).where(ModelVersion.current.is_(True)).limit(1)
        )
        return version

    async def get(self, version_id: int) -> ModelVersion | None:
        return await self.session.get(ModelVersion, version_id)

    async def by_name(self, name: str) -> ModelVersion | None:
        version: ModelVersion | None = await self.session.scalar(select(ModelVersion).where(ModelVersion.name == name))
        return version

    async def record(
        self,
        name: str,
        *,
        now: datetime,
        trigger: str,
        started_by: int | None,
        status: VersionStatus,
        examples: int,
        curated: int,
        figures: Mapping[str, object],
        reason: str | None,
    ) -> ModelVersion:
        """Add the version, or update the row of the same name (the same examples trained again)."""
        version = await self.by_name(name)
        if version is None:
            version = ModelVersion(name=name, created_at=now, trigger=trigger)
            self.session.add(version)
        else:
            version.trigger = trigger
        version.started_by, version.status = started_by, status
        version.examples, version.curated = examples, curated
        version.figures, version.reason = dict(figures), reason
        await self.session.flush()
        return version

    async def make_current(self, version: ModelVersion, now: datetime) -> None:
        await self.session.execute(update(ModelVersion).where(ModelVersion.id != version.id).values(current=False))
        version.current, version.status, version.published_at = True, VersionStatus.PUBLISHED, now
        await self.session.flush()

    async def newest(self, limit: int = 8) -> list[ModelVersion]:
        query = select(ModelVersion).order_by(ModelVersion.created_at.desc(), ModelVersion.id.desc()).limit(limit)
        return list(await self.session.scalars(query))
