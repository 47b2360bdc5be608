"""The `mock-finapi` command: a thin shell over `create_app()` and uvicorn.

    mock-finapi serve [OPTIONS]        (serve_options.py: each option also reads MOCK_FINAPI_<OPTION>)
    mock-finapi validate PATH...       (every problem of each file, one `file:line: key.path: problem` a line)
    mock-finapi scenarios
    mock-finapi snapshot URL           (a running server's snapshot on stdout)

`python -m mock_finapi` is the same command (__main__.py).

stdout carries the base URL (always its first line) and then the request log; everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import io
import json
import logging.config
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mock_finapi import __version__, serve_options
from mock_finapi.errors import ScenarioError
from mock_finapi.hosts import allowed_hosts
from mock_finapi.scenarios import loader
from mock_finapi.settings import MEMORY, Capacity, Settings

if TYPE_CHECKING:
    from mock_finapi.reload import Reloader
    from mock_finapi.snapshots import Loaded
    from mock_finapi.state.protocol import Store
    from mock_finapi.state_file import StateFile
    from mock_finapi.workers import Inherited

log = logging.getLogger("mock_finapi")

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SNAPSHOT_PATH = "/__admin/snapshot"
SNAPSHOT_TIMEOUT = 300
"""Seconds `mock-finapi snapshot` waits for the server between two reads."""
GRACEFUL_SHUTDOWN = 3
"""Seconds a stop by signal lets requests in flight finish (a `delay_ms` fault, say) before cutting them off, so the
process is gone within 5 s of SIGTERM however slow a request is."""


def _parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The command's parser, and its `serve` subcommand's."""
    parser = argparse.ArgumentParser(prog="mock-finapi", description="Offline emulator of finAPI's sandbox.")
    parser.add_argument("--version", action="version", version=f"mock-finapi {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="serve a scenario over HTTP",
        description="Serve a scenario over HTTP. Each option also reads the variable in brackets; a flag beats it.",
    )
    serve_options.add_arguments(serve)

    validate = commands.add_parser(
        "validate",
        help="check scenario files: every problem as FILE:LINE: KEY.PATH: PROBLEM on stderr, exit 1 if any",
        description="Check scenario files. Each problem of each file is one line on stderr (FILE:LINE: KEY.PATH: "
        f"PROBLEM, at most {loader.MAX_PROBLEMS} a file); a good file is `FILE: ok (NAME)` on stdout. Exit 1 if a "
        "file has a problem.",
    )
    validate.add_argument("paths", nargs="+", metavar="PATH")

    commands.add_parser("scenarios", help="list the built-in scenarios")

    snapshot = commands.add_parser(
        "snapshot",
        help="write a running server's snapshot (its whole state) to stdout",
        description="Write the snapshot of the server at URL (its base URL, e.g. http://127.0.0.1:8080) to stdout: "
        "`mock-finapi snapshot URL > state.json`, then `mock-finapi serve --snapshot state.json` anywhere.",
    )
    snapshot.add_argument("url", metavar="URL")
    snapshot.add_argument("--no-journal", action="store_true", help="leave the request journal out")
    snapshot.add_argument(
        "--admin-token", default=None, metavar="TOKEN", help="the server's admin token [MOCK_FINAPI_ADMIN_TOKEN]"
    )
    return parser, serve


def main(argv: Sequence[str] | None = None) -> int:
    parser, serve = _parser()
    args = parser.parse_args(argv)
    if args.command == "validate":
        return _piped(lambda: _validate(args.paths))
    if args.command == "scenarios":
        return _piped(_list_scenarios)
    if args.command == "snapshot":
        token = args.admin_token or os.environ.get(serve_options.ENV_PREFIX + "ADMIN_TOKEN") or None
        return _piped(lambda: _snapshot(args.url, token, journal=not args.no_journal))
    values = serve_options.resolve(serve, args)
    shared = values["state"] != MEMORY
    if values["workers"] > 1 and not shared:
        serve.error(
            f"--workers {values['workers']} needs a shared state (--state redis://HOST:PORT/DB): with the state in "
            "memory each worker would serve a sandbox of its own"
        )
    if shared and values["state_file"]:
        serve.error("--state-file keeps a state in memory: with --state redis://... the state lives in Redis")
    if values["workers"] > 1 and values["reload"]:
        serve.error("--reload watches the scenario from one process: use it with --workers 1")
    if values["workers"] > 1:
        from mock_finapi import workers

        return workers.supervise(argparse.Namespace(**values), _serve)
    return _serve(argparse.Namespace(**values))


def _piped(command: Callable[[], int]) -> int:
    """Run a command that prints: a reader that stops early (`mock-finapi scenarios | head -1`) ends its output
    quietly, without a BrokenPipeError traceback (what Python's documentation advises for SIGPIPE)."""
    try:
        code = command()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the flush at exit must not fail again
        return 1
    return code


def _validate(paths: list[str]) -> int:
    failed = False
    for path in paths:
        try:
            scenario = loader.load_text(Path(path).read_text(encoding="utf-8"), path)
        except (OSError, UnicodeDecodeError) as exc:
            print(f"{path}: cannot read: {exc}", file=sys.stderr)
            failed = True
        except ScenarioError as exc:
            for line in exc.lines():
                print(line, file=sys.stderr)
            failed = True
        else:
            print(f"{path}: ok ({scenario.name})")
    return 1 if failed else 0


def _list_scenarios() -> int:
    for name in loader.builtin_names():
        try:
            description = loader.load(name).description
        except ScenarioError as exc:
            description = f"BROKEN: {exc}"
        print(f"{name:24} {description}")
    return 0


def _snapshot(url: str, token: str | None, *, journal: bool) -> int:
    """Stream `GET <url>/__admin/snapshot` to stdout (the standard library's HTTP client: no extra dependency)."""
    import urllib.error
    import urllib.request

    base = url.rstrip("/").removesuffix(SNAPSHOT_PATH)
    if not base.startswith(("http://", "https://")):
        print(f"mock-finapi: {url!r} is not an http(s) URL such as http://127.0.0.1:8080", file=sys.stderr)
        return 2
    request = urllib.request.Request(base + SNAPSHOT_PATH + ("" if journal else "?journal=false"))  # noqa: S310 - http(s) checked
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=SNAPSHOT_TIMEOUT) as response:  # noqa: S310 - http(s) checked
            while piece := response.read(1 << 20):
                sys.stdout.buffer.write(piece)
    except urllib.error.HTTPError as exc:
        print(f"mock-finapi: {base} answered {exc.code}: {_error_message(exc.read())}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        print(f"mock-finapi: cannot get a snapshot from {base}: {reason}", file=sys.stderr)
        return 1
    return 0


def _error_message(body: bytes) -> str:
    """The message of a finAPI-shaped error body (an ErrorMessage or an OAuth error), else the body's start."""
    try:
        answer = json.loads(body)
        return str(answer["error_description"] if "error_description" in answer else answer["errors"][0]["message"])
    except (ValueError, KeyError, IndexError, TypeError):
        return body[:200].decode("utf-8", "replace") or "(no body)"


def _serve(args: argparse.Namespace, inherited: Inherited | None = None) -> int:
    """Serve until stopped; `inherited`: as one of `--workers` (workers.py), on the socket and readiness given."""
    from mock_finapi.http import server as http_server
    from mock_finapi.http.app import create_app
    from mock_finapi.snapshots import SnapshotError
    from mock_finapi.state_file import StateFile, StateFileError

    url_file = Path(args.url_file) if args.url_file and inherited is None else None
    if url_file is not None:  # a stale one (of a server that died) is gone before anything can fail or take time
        try:
            url_file.unlink(missing_ok=True)
        except OSError as exc:
            print(f"mock-finapi: cannot remove the URL file {url_file}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    if isinstance(sys.stdout, io.TextIOWrapper):
        # stdout is the URL line (flushed when printed) and the request log (flushed by each of its writes, many
        # lines at a time); a character the terminal's encoding lacks is escaped instead of losing the line.
        sys.stdout.reconfigure(line_buffering=False, errors="backslashreplace")
    log_config = _log_config(args.log_level)
    logging.config.dictConfig(log_config)  # before the app exists: a scenario without seed logs the one it drew
    try:
        settings = Settings(
            scenario=args.scenario,
            seed=args.seed,
            admin=not args.no_admin,
            admin_token=args.admin_token,
            journal_size=args.journal_size,
            request_log=args.log_format,
            scenario_dirs=tuple(args.scenario_dir),
            allowed_hosts=allowed_hosts(args.host, args.allow_host),
            head_timeout=args.head_timeout,
            public_url=args.public_url,
            state=args.state,
            state_prefix=args.state_prefix,
            capacity=Capacity(
                args.max_tokens,
                args.max_users,
                args.max_processes,
                args.max_clients,
                transactions=args.max_transactions,
                web_forms=args.max_web_forms,
            ),
        )
        state_file = StateFile(Path(args.state_file), args.state_interval) if args.state_file else None
        loaded = _saved_state(state_file, args.snapshot, settings)
        if args.reload:  # the reloader compares the file with the very text this loaded
            from mock_finapi import reload  # only here: start-up without --reload does not pay for its import

            path, text, scenario = reload.load(args.scenario)
            app = create_app(settings, scenario=scenario, snapshot=loaded)
            reloader: Reloader | None = reload.Reloader(app.sandbox, path, text)
        else:
            app = create_app(settings, snapshot=loaded)
            reloader = None
    except ScenarioError as exc:
        for line in exc.lines():
            print(f"mock-finapi: {line}", file=sys.stderr)
        return 1
    except (StateFileError, SnapshotError) as exc:
        print(f"mock-finapi: {exc}", file=sys.stderr)
        return 1
    if settings.state != MEMORY and not reach_state(app.sandbox.store, settings):
        return 1
    if inherited is not None:
        sock = inherited.socket
    else:
        try:
            sock = http_server.bind(args.host, args.port)
        except OSError as exc:
            print(f"mock-finapi: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    url = http_server.base_url(sock, args.host)
    failed = False

    class Server(http_server.Server):
        watcher: asyncio.Task[None] | None = None
        keeper: asyncio.Task[None] | None = None

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            nonlocal failed
            await super().startup(sockets)
            if not self.started:
                return
            if reloader is not None:
                from mock_finapi.reload import watch

                self.watcher = asyncio.get_running_loop().create_task(watch(reloader))
            if state_file is not None:
                self.keeper = asyncio.get_running_loop().create_task(state_file.keep(app.sandbox))
            try:
                if inherited is not None:
                    inherited.ready.set()
                else:
                    announce(url, url_file)
            except OSError as exc:
                print(f"mock-finapi: cannot write the URL file {url_file}: {exc.strerror or exc}", file=sys.stderr)
                failed = self.should_exit = True

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            nonlocal failed
            for task in (self.watcher, self.keeper):
                if task is not None:
                    task.cancel()
            await super().shutdown(sockets)
            if state_file is not None and self.started:  # every request has ended: the last state
                try:
                    await state_file.save(app.sandbox, serving=False)
                except OSError as exc:
                    print(f"mock-finapi: cannot write the state file: {exc.strerror or exc}", file=sys.stderr)
                    failed = True

    config = http_server.config(
        app,
        grace=GRACEFUL_SHUTDOWN,
        head_timeout=settings.head_timeout,
        log_level=args.log_level,
        log_config=log_config,
    )
    server = Server(app, config, GRACEFUL_SHUTDOWN)
    _tune_garbage_collector()
    # uvicorn re-raises SIGINT/SIGTERM once it has shut down gracefully, which would kill the process before the
    # URL file is removed and report death by signal. Handlers that only ask uvicorn to stop make a stop by signal
    # a normal exit 0 (they also cover a signal that arrives before uvicorn installs its own).
    # Only the main thread may install signal handlers (uvicorn skips its own elsewhere, too).
    in_main = threading.current_thread() is threading.main_thread()
    stop = {sig: lambda *_: setattr(server, "should_exit", True) for sig in _STOP_SIGNALS if in_main}
    previous = {sig: signal.signal(sig, handler) for sig, handler in stop.items()}
    try:
        server.run(sockets=[sock])
    finally:
        app.stopped()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
        if url_file is not None:
            url_file.unlink(missing_ok=True)
    return 1 if failed else 0


def reach_state(store: Store, settings: Settings) -> bool:
    """Join the shared state before serving (seeding it when it is empty); False, said on stderr, when it cannot be
    reached."""
    from mock_finapi.errors import StoreUnavailable
    from mock_finapi.settings import shown_state

    async def join() -> None:
        try:
            await store.prepare()
        finally:
            await store.close()

    try:
        asyncio.run(join())
    except StoreUnavailable as exc:
        print(f"mock-finapi: cannot reach the shared state at {shown_state(settings.state)}: {exc}", file=sys.stderr)
        return False
    return True


def _saved_state(state_file: StateFile | None, snapshot: str | None, settings: Settings) -> Loaded | None:
    """What to serve instead of the scenario: the state file's state if there is one, else the snapshot given.
    Raises StateFileError or SnapshotError."""
    if state_file is not None:
        state_file.check()
        loaded = state_file.load(settings)
        if loaded is not None:
            scenario = loaded.scenario.name
            log.info("serving the state of %s (scenario %s, seed %d)", state_file.path, scenario, loaded.seed)
            return loaded
    if snapshot is None:
        return None
    from mock_finapi import snapshots

    loaded = snapshots.read_file(Path(snapshot), journal_size=settings.journal_size, capacity=settings.capacity)
    log.info("serving the snapshot %s (scenario %s, seed %d)", snapshot, loaded.scenario.name, loaded.seed)
    return loaded


def _tune_garbage_collector() -> None:
    """Keep the cycle collector's full passes off the request path (this process only; `ThreadedServer` and the
    pytest plugin leave the test process's collector alone).

    Requests leave no reference cycles (tests/e2e/test_garbage.py) and the state frees itself by reference counting,
    so the collector has little to find; yet its full passes walk every object, and with users or tokens piling up
    they grew to 100-300 ms pauses that set p99 latency (bench/). What start-up built is frozen out of its walks,
    and full passes come a hundred times more rarely (after 1,000 instead of 10 passes over the middle generation).
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1000)


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging, plus mock-finapi's own messages (reloads, drawn seeds, errors) on stderr at `level`.

    stdout stays for the URL line and the request log.
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["mock_finapi"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config


def announce(url: str, url_file: Path | None) -> None:
    """Say the server is ready: the URL on stdout, and atomically in the URL file (never half-written)."""
    print(url, flush=True)
    if url_file is not None:
        partial = url_file.with_name(url_file.name + ".partial")
        partial.write_text(url + "\n", encoding="utf-8")
        partial.replace(url_file)


if __name__ == "__main__":
    sys.exit(main())
