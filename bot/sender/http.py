"""The bulk sends' own lean HTTP path to the Bot API: a JSON body in, four fields out.

Why not PTB's ``Bot`` here: at 1,000 messages a second each message may cost about 1 ms of
CPU in all, and PTB's path (httpx → httpcore → anyio → h11, then a ``telegram.Message``
built from the answer) cost about 4.5 ms (profiled, ``docs/broadcast-performance.md``); httpx
alone measured 1.9 ms and httpcore alone 1.3 ms of CPU per request, aiohttp (already a pinned
dependency, C-accelerated HTTP parser) 0.12 ms. So the broadcast's sends (``sendMessage``,
``sendPhoto``, ``sendDocument``, ``pinChatMessage``) go through one ``aiohttp`` session with a
keep-alive pool, post a body built once per announcement (:class:`bot.sender.delivery.Content`),
and read only ``ok``, ``result`` and the error fields. What an error answer means is decided in
one place, :func:`bot.sender.outcomes.api_error` (the same kinds PTB's exceptions give).
Everything else the bot does still goes through PTB.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from yarl import URL

from bot.sender.outcomes import ErrorKind, SendError, api_error, transport_error

JSON_HEADERS = {"Content-Type": "application/json"}
CONNECT_TIMEOUT = 5.0  # PTB's default connect timeout
INVALID_ANSWER = SendError(ErrorKind.OTHER, "Invalid server response")
READ_TIMEOUT = 10.0  # a file_id send answers in well under a second; PTB's default read timeout is 5 s


class ApiFailure(Exception):
    """A send the Bot API refused or that got no answer; ``error`` says which kind."""

    def __init__(self, error: SendError) -> None:
        super().__init__(error.message)
        self.error = error


class BulkApi:
    """A keep-alive connection pool to ``{base_url}/{method}`` for JSON posts (see the module docstring).

    ``base_url`` is what PTB's ``Bot.base_url`` gives: the server and ``bot<token>``.
    """

    def __init__(self, base_url: str, *, connections: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.connections = connections
        self._urls: dict[str, URL] = {}
        self._session: aiohttp.ClientSession | None = None

    def _url(self, method: str) -> URL:
        url = self._urls.get(method)
        if url is None:
            url = self._urls[method] = URL(f"{self.base_url}/{method}")
        return url

    def _open(self) -> aiohttp.ClientSession:
        """The session, made on first use (aiohttp wants a running event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections, ttl_dns_cache=300),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT, sock_read=READ_TIMEOUT),
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent",),
                raise_for_status=False,
            )
        return self._session

    async def call(self, method: str, body: bytes) -> Any:
        """POST ``body`` (JSON) to ``method``; Telegram's ``result``, or :class:`ApiFailure`."""
        session = self._open()
        try:
            async with session.post(self._url(method), data=body, headers=JSON_HEADERS) as response:
                status = response.status
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise ApiFailure(transport_error(error)) from error
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            answer = None
        if status == 200:
            if answer is not None and answer.get("ok") is True:
                return answer.get("result")
            raise ApiFailure(INVALID_ANSWER)  # as PTB: "Invalid server response", retried
        raise ApiFailure(api_error(status, answer))

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
            await asyncio.sleep(0)  # let the connector close its transports
        self._session = None


def sent_message_id(result: Any) -> int:
    """``result.message_id`` of a send's answer (``ApiFailure`` when it is missing)."""
    if isinstance(result, dict):
        value = result.get("message_id")
        if isinstance(value, int):
            return value
    raise ApiFailure(INVALID_ANSWER)
