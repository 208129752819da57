"""Several NLU servers behind one ``parse``: spread questions over the healthy ones.

A server that fails (timeout, error) is taken out for ``retry_seconds``, then tried again by one
question; the next healthy server answers meanwhile. Only when every server fails does ``parse``
raise :class:`NluUnavailable`, and the caller (``ResilientClassifier``) answers from the lexical
fallback. Same interface as :class:`nlu.client.RasaClient`, so either can sit behind the pipeline.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence

from nlu.client import NluUnavailable, Ranking, RasaClient


class RasaPool:
    def __init__(
        self,
        clients: Sequence[RasaClient],
        *,
        retry_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not clients:
            raise ValueError("a pool needs at least one NLU server")
        self._clients = list(clients)
        self._down_since: list[float | None] = [None] * len(clients)
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._turn = itertools.count()

    def _order(self) -> list[int]:
        """A server whose retry time has come first (one question probes it; if it still fails, the
        healthy ones answer that question), then the healthy servers round-robin."""
        start = next(self._turn) % len(self._clients)
        indexes = [(start + i) % len(self._clients) for i in range(len(self._clients))]
        now = self._clock()
        healthy = [i for i in indexes if self._down_since[i] is None]
        due = [i for i in indexes if (down := self._down_since[i]) is not None and now - down >= self._retry_seconds]
        return due + healthy

    @property
    def healthy(self) -> int:
        return sum(down is None for down in self._down_since)

    async def parse(self, text: str) -> Ranking:
        errors: list[str] = []
        for index in self._order():
            try:
                ranking = await self._clients[index].parse(text)
            except NluUnavailable as error:
                self._down_since[index] = self._clock()
                errors.append(str(error))
                continue
            self._down_since[index] = None
            return ranking
        raise NluUnavailable("; ".join(errors) or "every NLU server is out for now")

    async def is_ready(self) -> bool:
        return any([await client.is_ready() for client in self._clients])
