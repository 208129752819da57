"""Rasa first, the lexical fallback when Rasa is down or slow, and back by itself.

A tiny circuit breaker: after a failure every question goes to the fallback
(no waiting on a dead server) until ``retry_seconds`` have passed; then the
next question tries Rasa again — one question, while the others arriving meanwhile keep
using the fallback — and the first success closes the circuit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from nlu.client import NluUnavailable, RankingService
from nlu.lexical import LexicalClassifier, Ranking

logger = logging.getLogger(__name__)


class Source(StrEnum):
    RASA = "rasa"
    LEXICAL = "lexical"


@dataclass(frozen=True)
class Classification:
    ranking: Ranking
    source: Source


class ResilientClassifier:
    def __init__(
        self,
        rasa: RankingService | None,
        fallback: LexicalClassifier,
        *,
        retry_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rasa = rasa
        self._fallback = fallback
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._down_since: float | None = None if rasa else clock()
        self._probing = False  # one question is trying a Rasa that was down
        self._paused = 0  # > 0 while a model is being swapped: the fallback answers meanwhile

    @property
    def rasa_available(self) -> bool:
        return self._rasa is not None and self._down_since is None

    async def classify(self, normalized: str) -> Classification:
        """Rank topics for already-normalised text; never raises for NLU outages."""
        if self._rasa is not None and self._should_try_rasa():
            probe = self._down_since is not None
            self._probing = self._probing or probe
            try:
                ranking = await self._rasa.parse(normalized)
            except NluUnavailable as error:
                if self._down_since is None:
                    logger.warning("Rasa unavailable, answering from the lexical fallback: %s", error)
                self._down_since = self._clock()
            else:
                if self._down_since is not None:
                    logger.warning("Rasa is back; leaving the lexical fallback")
                    self._down_since = None
                return Classification(ranking, Source.RASA)
            finally:
                if probe:
                    self._probing = False
        return Classification(self._fallback.rank_normalized([normalized])[0], Source.LEXICAL)

    def pause_rasa(self) -> None:
        """Answer from the fallback until :meth:`resume_rasa`: Rasa stops answering while it loads a
        model, and no question should wait for that."""
        self._paused += 1

    def resume_rasa(self) -> None:
        self._paused = max(0, self._paused - 1)

    def replace_fallback(self, fallback: LexicalClassifier) -> None:
        """A new model's examples: the fallback must describe the same examples as the model."""
        self._fallback = fallback

    def _should_try_rasa(self) -> bool:
        if self._paused:
            return False
        if self._down_since is None:
            return True
        return not self._probing and self._clock() - self._down_since >= self._retry_seconds
