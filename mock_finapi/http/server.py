"""Serving an emulator app with uvicorn: the one socket binder and server configuration that `mock-finapi serve` and
`ThreadedServer` share."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from mock_finapi.http.app import Emulator
from mock_finapi.http.protocol import http_protocol


def bind(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A listening TCP socket (`port` 0: a free one, picked by the kernel before the server starts)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # IPPROTO_TCP: asyncio sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket, host: str | None = None) -> str:
    """A URL clients can reach the socket at: on `host` as the socket was bound to it (a name stays the name the
    user chose, e.g. `localhost`), else on the socket's address; a wildcard bind is announced as loopback."""
    address, port = sock.getsockname()[:2]
    host = host or address
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def config(
    app: ASGIApp, *, grace: int, head_timeout: float = 10.0, log_level: str = "warning", log_config: Any = None
) -> uvicorn.Config:
    """uvicorn as the emulator runs on it: httptools and uvloop (via `uvicorn[standard]`), the emulator's protocol,
    no access log (the emulator has its own), no lifespan, no WebSockets, no proxy headers (nothing uses the client's
    address), no `server` header. The benchmark's baseline (bench/baseline_app.py) is served by the same function."""
    return uvicorn.Config(
        app,
        http=http_protocol(head_timeout),
        log_level=log_level,
        log_config=log_config,
        access_log=False,
        lifespan="off",
        ws="none",
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=grace + 1,  # a backstop: the host ends what is left after `grace` itself
    )


class Server(uvicorn.Server):
    """uvicorn's server, running the sandbox's upkeep (`Sandbox.upkeep`) while it serves; once it has been stopping
    for `grace` seconds, requests still waiting (a fault's delay) end without an answer (`Sandbox.stopping`), so a
    stop never waits longer and never cancels a request mid-way. Callbacks still on their way get `callbacks.STOP_GRACE`
    seconds more, then end (recorded as not sent or unanswered)."""

    def __init__(self, app: Emulator, config: uvicorn.Config, grace: int) -> None:
        super().__init__(config)
        self.app, self.grace = app, grace
        self.upkeep: asyncio.Task[None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.upkeep = asyncio.get_running_loop().create_task(self.app.sandbox.upkeep())

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.upkeep is not None:
            self.upkeep.cancel()
        handle = asyncio.get_running_loop().call_later(self.grace, self.app.sandbox.stopping.set)
        try:
            await super().shutdown(sockets)
        finally:
            handle.cancel()
            await self.app.sandbox.close()
