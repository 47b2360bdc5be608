"""`mock-finapi serve --workers N`: N processes serving one port, on one shared state (Redis).

The parent joins the shared state first (seeding it with the scenario when it is empty: `serve` exits 1 when Redis
cannot be reached), binds the port, and starts N workers (fresh interpreters: `multiprocessing`'s spawn) that inherit
the listening socket; the kernel hands each new connection to one of them. Once every worker serves, the parent says
so as one server does (the URL on stdout and in `--url-file`). SIGINT or SIGTERM to the parent stops the workers
gracefully (each as one server stops) and the parent exits 0; a worker that ends on its own stops the others and
the parent exits 1. Each worker writes its own request log lines to the shared stdout.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import socket
import sys
import time
from collections.abc import Callable
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import NamedTuple

STARTUP_TIMEOUT = 60.0
"""Seconds the workers may take to serve."""
STOP_TIMEOUT = 10.0
"""Seconds a worker may take to stop gracefully before it is killed."""
POLL = 0.05


class Inherited(NamedTuple):
    """What a worker gets from the parent: the listening socket and the event it sets once it serves."""

    socket: socket.socket
    ready: Event


Serve = Callable[[argparse.Namespace, Inherited | None], int]


def supervise(args: argparse.Namespace, serve: Serve) -> int:
    from mock_finapi.cli import announce, reach_state
    from mock_finapi.errors import ScenarioError
    from mock_finapi.http import server as http_server
    from mock_finapi.http.app import create_app
    from mock_finapi.settings import Settings

    url_file = Path(args.url_file) if args.url_file else None
    if url_file is not None:
        url_file.unlink(missing_ok=True)
    settings = Settings(scenario=args.scenario, seed=args.seed, state=args.state, state_prefix=args.state_prefix)
    try:
        app = create_app(settings)  # the scenario's state, which seeds an empty prefix
    except ScenarioError as exc:
        for line in exc.lines():
            print(f"mock-finapi: {line}", file=sys.stderr)
        return 1
    if not reach_state(app.sandbox.store, settings):
        return 1
    try:
        sock = http_server.bind(args.host, args.port)
    except OSError as exc:
        print(f"mock-finapi: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    context = multiprocessing.get_context("spawn")
    stopping: list[int] = []
    previous = {sig: signal.signal(sig, lambda number, _: stopping.append(number)) for sig in _SIGNALS}
    workers: list[tuple[SpawnProcess, Event]] = []
    try:
        for _ in range(args.workers):
            ready = context.Event()
            worker = context.Process(target=_work, args=(serve, args, Inherited(sock, ready)))
            worker.start()
            workers.append((worker, ready))
        if not _all_ready(workers, stopping):
            return 0 if stopping else 1
        announce(http_server.base_url(sock, args.host), url_file)
        while not stopping and all(worker.is_alive() for worker, _ in workers):
            time.sleep(POLL)
        return 0 if stopping else 1
    finally:
        _stop([worker for worker, _ in workers])
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
        if url_file is not None:
            url_file.unlink(missing_ok=True)


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _work(serve: Serve, args: argparse.Namespace, inherited: Inherited) -> None:
    sys.exit(serve(args, inherited))


def _all_ready(workers: list[tuple[SpawnProcess, Event]], stopping: list[int]) -> bool:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not all(ready.is_set() for _, ready in workers):
        dead = [worker for worker, _ in workers if not worker.is_alive()]
        if stopping or dead or time.monotonic() > deadline:
            if dead:
                print(f"mock-finapi: a worker ended before serving (exit {dead[0].exitcode})", file=sys.stderr)
            elif not stopping:
                print(f"mock-finapi: the workers did not serve within {STARTUP_TIMEOUT:.0f} s", file=sys.stderr)
            return False
        time.sleep(POLL)
    return True


def _stop(workers: list[SpawnProcess]) -> None:
    for worker in workers:
        if worker.is_alive() and worker.pid is not None:
            worker.terminate()  # SIGTERM: a graceful stop
    deadline = time.monotonic() + STOP_TIMEOUT
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            worker.kill()
            worker.join()
