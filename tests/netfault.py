"""A TCP proxy that can cut or slow the connection to a real server (network faults only)."""

from __future__ import annotations

import asyncio
import contextlib


class FaultyProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = "up"  # "up" | "down" (connections dropped) | "slow"
        self.delay = 0.0
        self._server: asyncio.base_events.Server | None = None
        self.port = 0
        self._open: set[asyncio.StreamWriter] = set()

    def cut(self) -> None:
        """Go down: drop every open connection and refuse new ones."""
        self.mode = "down"
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "down":
            writer.transport.abort()
            return
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            with contextlib.suppress(OSError):
                sink.close()

        self._open.update({writer, upstream_writer})
        try:
            await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        finally:
            self._open.difference_update({writer, upstream_writer})
