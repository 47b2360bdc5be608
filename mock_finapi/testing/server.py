"""ThreadedServer: a real mock-finapi on 127.0.0.1 and a free port, in a background thread of this process.

    with ThreadedServer(Settings(scenario="expiring-tokens")) as server:
        httpx.post(server.url + "/api/v2/oauth/token", data=...)
        server.admin.advance(61)

Starting takes a few milliseconds and needs no port of its own: the socket is bound to port 0 before the thread
starts, so parallel test processes never race for a port. As `mock-finapi serve` on a loopback address, it answers
only requests whose `Host` names loopback or one of `settings.allowed_hosts` (against DNS rebinding).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar, cast

from mock_finapi import hosts, snapshots
from mock_finapi.http import server as http_server
from mock_finapi.http.app import Emulator, create_app
from mock_finapi.scenarios.schema import Scenario
from mock_finapi.settings import DEFAULT_HOST, Settings
from mock_finapi.testing.admin import AdminClient
from mock_finapi.world import World

T = TypeVar("T")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
GRACEFUL_SHUTDOWN = 2
"""Seconds `stop()` lets requests still in flight (a `delay_ms` fault, say) finish before cutting them off."""


class ThreadedServer:
    def __init__(self, settings: Settings | None = None, *, host: str = DEFAULT_HOST, **overrides: Any) -> None:
        """`overrides` are Settings fields, e.g. `ThreadedServer(scenario="locked-user", seed=3)`; `allowed_hosts`
        names `Host` names allowed besides loopback ones (as `--allow-host`).

        The scenario is loaded here (a bad one raises ScenarioError before any thread or socket exists).
        """
        base = Settings(**{**vars(settings or Settings()), **overrides})
        self.settings = dataclasses.replace(base, allowed_hosts=hosts.allowed_hosts(host, base.allowed_hosts or ()))
        self.app: Emulator = create_app(self.settings)
        self.scenario: Scenario = self.world.scenario
        """The scenario the server was started with (what `reset()` goes back to)."""
        self.seed: int = self.world.seed
        """The seed of the first world (drawn at random when neither the settings nor the scenario name one)."""
        self._host = host
        self._thread: threading.Thread | None = None
        self._server: http_server.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None
        self.url = ""
        self._admin: AdminClient | None = None

    @property
    def world(self) -> World:
        """The world being served (replaced by resets and scenario loads)."""
        return self.app.sandbox.world

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def admin(self) -> AdminClient:
        """An AdminClient for this server (closed by `stop()`)."""
        if not self.url:
            raise RuntimeError("ThreadedServer is not started: use `with ThreadedServer() as server:` or start()")
        if self._admin is None:
            self._admin = AdminClient(self.url, token=self.settings.admin_token)
        return self._admin

    def reset(self, *, freeze_at: datetime | None = None) -> World:
        """Serve a fresh world of the starting scenario and seed, on a fresh clock (no HTTP round trip).

        Unlike `POST /__admin/reset`, which resets whatever is served now, this also undoes scenario loads.
        """
        return self.serve(self.scenario, seed=self.seed, freeze_at=freeze_at)

    def serve(self, scenario: Scenario, *, seed: int | None = None, freeze_at: datetime | None = None) -> World:
        """Serve a fresh world of `scenario` (`Sandbox.swap`); `freeze_at` starts its clock there, frozen."""
        return self._run(self.app.sandbox.swap(scenario, seed=seed, freeze_at=freeze_at))

    def snapshot(self, *, journal: bool = True) -> dict[str, Any]:
        """The served state as a snapshot document (`snapshots.py`; as `GET /__admin/snapshot`, without HTTP)."""
        pieces = self._run(self.app.sandbox.snapshot(journal=journal))
        return cast(dict[str, Any], json.loads(b"".join(pieces)))  # written here, off the server's event loop

    def restore(self, snapshot: dict[str, Any] | bytes) -> World:
        """Serve a snapshot (as `POST /__admin/snapshot`, without HTTP); raises SnapshotError for one that cannot be
        loaded, and the server keeps serving what it served."""
        data = snapshot if isinstance(snapshot, bytes) else json.dumps(snapshot).encode()
        settings = self.settings
        loaded = snapshots.load(data, journal_size=settings.journal_size, capacity=settings.capacity)
        return self._run(self.app.sandbox.restore(loaded))

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run on the server's event loop (or on a loop of its own before the server started)."""
        if self._loop is None or not self.running:
            return asyncio.run(coroutine)
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(STOP_TIMEOUT)

    def start(self) -> ThreadedServer:
        if self._thread is not None:
            raise RuntimeError(f"ThreadedServer is already started at {self.url}")
        sock = http_server.bind(self._host, 0, backlog=1024)
        self.url = http_server.base_url(sock, self._host)
        config = http_server.config(self.app, grace=GRACEFUL_SHUTDOWN, head_timeout=self.settings.head_timeout)
        server = self._server = http_server.Server(self.app, config, GRACEFUL_SHUTDOWN)
        self._error = None
        ready = threading.Event()

        def run() -> None:
            async def serve() -> None:
                self._loop = asyncio.get_running_loop()
                task = asyncio.ensure_future(server.serve(sockets=[sock]))
                while not server.started and not task.done():
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
        if not ready.wait(START_TIMEOUT) or not server.started:
            error = self._error
            self.stop()
            raise RuntimeError(f"mock-finapi did not start within {START_TIMEOUT:g} s: {error!r}")
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end (idempotent; `url` keeps naming the address it had)."""
        thread, self._thread = self._thread, None
        if self._server is not None:
            self._server.should_exit = True
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if thread is not None:
            thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                raise RuntimeError(f"mock-finapi thread {thread.name!r} did not stop within {STOP_TIMEOUT:g} s")
            self.app.stopped()

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
