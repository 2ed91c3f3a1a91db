"""Run the HTTP application on the gRPC server's event loop (uvicorn, without its signal handling:
the server's own graceful shutdown stops both)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from typing import Any

import uvicorn


class _Embedded(uvicorn.Server):
    def capture_signals(self) -> Any:
        return contextlib.nullcontext()


class HttpServer:
    """uvicorn serving ``app`` on a socket bound before start, so port 0 gives a known free port."""

    def __init__(self, app: Any, host: str, port: int, tls: tuple[Path, Path] | None = None) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host.strip("[]"), port))
        except OSError as exc:
            self._socket.close()
            raise OSError(
                f"cannot serve HTTP on {host}:{port} ({exc.strerror}); pick another --http-port"
            ) from None
        self.port: int = self._socket.getsockname()[1]
        cert, key = tls if tls is not None else (None, None)
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            ssl_certfile=cert,
            ssl_keyfile=key,
            timeout_graceful_shutdown=5,
        )
        self._server = _Embedded(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise OSError("the HTTP server stopped while starting")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._socket.close()
