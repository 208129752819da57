"""Small async client for Rasa's HTTP API (``rasa run --enable-api``).

Every call has a timeout and every failure surfaces as :class:`NluUnavailable`,
so callers can fall back instead of hanging or crashing.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

Ranking = list[tuple[str, float]]


class NluUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


class RankingService(Protocol):
    """What the answer path needs from NLU: one server (:class:`RasaClient`) or several (``nlu.pool``)."""

    async def parse(self, text: str) -> Ranking: ...

    async def is_ready(self) -> bool: ...


class RasaClient:
    """Calls ``POST /model/parse`` and ``GET /status`` with the server's auth token."""

    def __init__(self, base_url: str, token: str, *, timeout: float, http: httpx.AsyncClient) -> None:
        self._base_url = base_url.rstrip("/")
        self._params = {"token": token} if token else {}
        self._timeout = timeout
        self._http = http

    async def parse(self, text: str) -> Ranking:
        """Intent ranking for ``text``, best first."""
        data = await self._request("POST", "/model/parse", json={"text": text})
        ranking = data.get("intent_ranking") or []
        if not ranking and data.get("intent", {}).get("name"):
            ranking = [data["intent"]]
        try:
            return [(str(item["name"]), float(item["confidence"])) for item in ranking]
        except (KeyError, TypeError, ValueError) as error:
            raise NluUnavailable(f"unexpected parse response: {error}") from error

    async def is_ready(self) -> bool:
        """True when the server answers and has a model loaded."""
        try:
            data = await self._request("GET", "/status")
        except NluUnavailable:
            return False
        return bool(data.get("model_file"))

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(
                method, self._base_url + path, params=self._params, timeout=self._timeout, **kwargs
            )
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise NluUnavailable(f"{method} {path}: {error!r}") from error
        if not isinstance(data, dict):
            raise NluUnavailable(f"{method} {path}: response is not a JSON object")
        return data
