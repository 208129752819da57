"""Putting a model version into service without stopping answers.

Why ``PUT /model`` and not a model server polled through ``endpoints.yml``: the swap must happen
right after the quality gate, at a moment this process chooses, and the lexical fallback and the
thresholds must change in the same step as the model. ``PUT /model`` returns when the server has
loaded the new model, so we know that moment; a polled model server would switch whenever its
next pull came (``wait_time_between_pulls``), unseen by the processes that hold the thresholds.

The known pitfalls, and what is done about them:
- ``/model/parse`` stops answering while a model loads: for the duration of the swap the answer
  pipeline is told not to ask Rasa at all (``ResilientClassifier.pause_rasa``) and the lexical
  fallback answers, with its own thresholds; no question waits and none is dropped.
- with several Sanic workers only the worker that got the request loads the model: our servers
  run one worker each (``rasa run`` without ``SANIC_WORKERS``), and ``PUT /model`` is sent to
  every server URL, one after the other.
- memory growing with every loaded model is measured by ``bench/model_swap.py``.

After the servers answer, the new fallback (built from the version's own examples) and the
version's thresholds replace the old ones together, and the top-level manifest points to the
version so a restart serves it too.

Several bot processes: the NLU servers are shared, so the publishing process's ``PUT /model``
serves them all; what each process holds in memory is the lexical fallback and the thresholds.
Every process calls :meth:`ModelPublisher.follow` with the current version row now and then
(``bot.features.learning.versions``); when the row changed to a version this process does not
serve, it swaps its own fallback and thresholds from the version folder (no ``PUT``). The
knowledge snapshot does not change with a model version (topics change only by an import and
a restart). The version folders must be on a disk every bot process reads (one host, or a
shared volume).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from answering.pipeline import AnswerPipeline
from learning.versions import VersionFiles
from nlu.lexical import LexicalClassifier

logger = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """A server refused or failed to load the model; the previous model stays in service."""


@dataclass(frozen=True)
class Published:
    name: str
    seconds: float
    servers: int


class ModelPublisher:
    def __init__(
        self,
        pipeline: AnswerPipeline,
        servers: Sequence[str],
        token: str,
        http: httpx.AsyncClient,
        model_dir: Path,
        *,
        load_timeout: float = 180.0,
    ) -> None:
        self._pipeline = pipeline
        self._servers = list(servers)
        self._token = token
        self._http = http
        self._model_dir = model_dir
        self._timeout = load_timeout
        self._lock = asyncio.Lock()
        # The version whose fallback and thresholds this process serves, and the current
        # version row as last seen (a change of the row is what following reacts to).
        self.serving: str | None = None
        self._seen: str | None = None
        self._looked = False

    async def publish(self, name: str, *, rollback: bool = False) -> Published:
        """Load version ``name`` into every server, then switch fallback and thresholds with it."""
        files = VersionFiles(self._model_dir, name)
        if not files.exists():
            raise PublishError(f"model version {name} has no files in {files.folder}")
        async with self._lock:
            started = time.monotonic()
            manifest = files.manifest()
            # Built before the swap, off the event loop: it fits a vectoriser on every example.
            fallback = await asyncio.to_thread(LexicalClassifier, files.examples())
            classifier = self._pipeline.classifier
            classifier.pause_rasa()
            try:
                for server in self._servers:
                    await self._load(server, str(files.archive.resolve()))
                classifier.replace_fallback(fallback)
                self._pipeline.calibration = manifest.calibration
            finally:
                classifier.resume_rasa()
            await asyncio.to_thread(functools.partial(files.serve, pinned=rollback))
            self.serving = name
            return Published(name, time.monotonic() - started, len(self._servers))

    async def follow(self, current: str | None) -> bool:
        """Serve ``current`` (the version row) here too when it changed since last seen; True if swapped.

        The first call only remembers the row (this process started with the manifest's model,
        which the publisher pointed at that version). A row not yet updated after this process's
        own publish is still the one seen before, so it is not swapped back.
        """
        async with self._lock:
            previous, first = self._seen, not self._looked
            changed = current != previous
            self._seen, self._looked = current, True
            if first or not changed or current is None or current == self.serving:
                return False
            files = VersionFiles(self._model_dir, current)
            if not files.exists():
                logger.warning("model version %s is current but has no files in %s", current, files.folder)
                self._seen = previous  # tried again next time
                return False
            manifest = files.manifest()
            fallback = await asyncio.to_thread(LexicalClassifier, files.examples())
            # No await between the two: no question sees one without the other.
            self._pipeline.classifier.replace_fallback(fallback)
            self._pipeline.calibration = manifest.calibration
            self.serving = current
            logger.warning("following model version %s published by another process", current)
            return True

    async def _load(self, server: str, archive: str) -> None:
        try:
            response = await self._http.put(
                f"{server.rstrip('/')}/model",
                params={"token": self._token} if self._token else None,
                json={"model_file": archive},
                timeout=self._timeout,
            )
        except httpx.HTTPError as error:
            raise PublishError(f"{server}: {error}") from error
        if response.status_code != 204:
            raise PublishError(f"{server} answered {response.status_code}: {response.text[:200]}")
        logger.info("model %s loaded by %s", archive, server)
