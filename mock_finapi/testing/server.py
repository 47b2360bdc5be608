"""ThreadedServer: a real mock-finapi on 127.0.0.1 and a free port, in a background thread of this process.

    with ThreadedServer(Settings(scenario="expiring-tokens")) as server:
        httpx.post(server.url + "/api/v2/oauth/token", data=...)
        server.admin.advance(61)

Starting takes a few milliseconds and needs no port of its own: the socket is bound to port 0 before the thread
starts, so parallel test processes never race for a port.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from types import TracebackType
from typing import Any

from starlette.applications import Starlette

from mock_finapi.http.app import create_app
from mock_finapi.http.protocol import http_protocol
from mock_finapi.settings import DEFAULT_HOST, Settings
from mock_finapi.testing.admin import AdminClient
from mock_finapi.world import World

START_TIMEOUT = 10.0


class ThreadedServer:
    def __init__(self, settings: Settings | None = None, *, host: str = DEFAULT_HOST, **overrides: Any) -> None:
        """`overrides` are Settings fields, e.g. `ThreadedServer(scenario="locked-user", seed=3)`."""
        base = settings or Settings()
        self.settings = Settings(**{**vars(base), **overrides})
        self.app: Starlette = create_app(self.settings)
        self._host = host
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._error: BaseException | None = None
        self.url = ""
        self._admin: AdminClient | None = None

    @property
    def world(self) -> World:
        """The world being served (replaced by resets and scenario loads)."""
        world: World = self.app.state.world
        return world

    @property
    def admin(self) -> AdminClient:
        if self._admin is None:
            self._admin = AdminClient(self.url, token=self.settings.admin_token)
        return self._admin

    def start(self) -> ThreadedServer:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self._host, 0))
        sock.listen(1024)
        self.url = f"http://{self._host}:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            self.app, http=http_protocol(), log_level="warning", access_log=False, lifespan="off", server_header=False
        )
        self._server = uvicorn.Server(config)
        ready = threading.Event()

        def run() -> None:
            async def serve() -> None:
                task = asyncio.ensure_future(self._server.serve(sockets=[sock]))
                while not self._server.started and not task.done():
                    await asyncio.sleep(0.001)
                ready.set()
                await task

            try:
                asyncio.run(serve())
            except BaseException as exc:  # surfaced by start(); a thread has nobody else to tell
                self._error = exc
            finally:
                ready.set()
                sock.close()

        self._thread = threading.Thread(target=run, name=f"mock-finapi {self.url}", daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT) or not self._server.started:
            self.stop()
            raise RuntimeError(f"mock-finapi did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(START_TIMEOUT)
            self._thread = None
        if self._admin is not None:
            self._admin.close()
            self._admin = None

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
