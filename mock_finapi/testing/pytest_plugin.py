"""The pytest plugin (entry point `pytest11`, active wherever mock-finapi is installed).

Fixtures:
- `finapi_server` (session): a ThreadedServer on 127.0.0.1 and a free port; `.url`, `.admin`.
- `finapi` (function): the same server, serving a fresh world of the test's scenario (session default or marker),
  so nothing a test did (users, tokens, faults, clock moves, scenario loads) leaks into the next one.
  `finapi.snapshot()` answers its whole state as a snapshot document (save it with `json.dump` to attach to a bug
  report); `finapi.restore(document)` serves one (`finapi.admin.snapshot()`/`restore()` do the same over HTTP).
- `finapi_app` / `finapi_client` (function): a fresh ASGI app and an httpx client bound to it in-process.
- `finapi_callbacks` (function): a `CallbackReceiver` (testing/callbacks.py) on 127.0.0.1 and a free port recording
  every callback POSTed to it: `.url`, `.received`, `.wait_for(predicate=None, *, timeout=5.0, **fields)`.
Marker: `@pytest.mark.finapi(scenario=..., seed=..., now=...)` for one test.
Options: `--finapi-scenario NAME|PATH` and `--finapi-seed N` set the session default.
A scenario path in the marker or the option is relative to pytest's rootdir (not to the current directory), so the
same run works from any subfolder; built-in names and absolute paths stay as they are.
The fixtures need httpx (`pip install 'mock-finapi[pytest]'`); without it they fail saying so. This module itself
imports nothing beyond pytest: it is loaded by every pytest run where mock-finapi is installed.
Under pytest-xdist each worker process starts its own server, so parallel workers never share state or ports.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    import httpx

    from mock_finapi.http.app import Emulator
    from mock_finapi.scenarios.schema import Scenario
    from mock_finapi.settings import Settings
    from mock_finapi.testing.callbacks import CallbackReceiver
    from mock_finapi.testing.server import ThreadedServer

MARKER = "finapi(scenario=None, seed=None, now=None): serve this scenario and seed, with the clock frozen at `now`"
MARKER_ARGS = ("scenario", "seed", "now")
PER_TEST_FIXTURES = ("finapi", "finapi_app", "finapi_client")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mock-finapi", "finAPI emulator")
    group.addoption("--finapi-scenario", default=None, help="scenario (built-in name or YAML path) of the fixtures")
    group.addoption("--finapi-seed", type=int, default=None, help="seed of the fixtures (default: the scenario's)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    name = config.getoption("--finapi-scenario", None)
    if name:  # a typo should stop the run once, not fail every test
        from mock_finapi.errors import ScenarioError
        from mock_finapi.scenarios import loader

        try:
            loader.load(_resolve(config, name))
        except ScenarioError as exc:
            raise pytest.UsageError("\n".join(f"--finapi-scenario {name}: {line}" for line in exc.lines())) from None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A marker written on a test that uses none of the per-test fixtures would silently do nothing."""
    own = any(marker.name == "finapi" for marker in item.own_markers)
    fixtures = getattr(item, "fixturenames", ())
    if own and not any(name in fixtures for name in PER_TEST_FIXTURES):
        pytest.fail(
            f"@pytest.mark.finapi on {item.name} has no effect: the test uses none of the fixtures "
            f"{', '.join(PER_TEST_FIXTURES)} (finapi_server is shared by the session and ignores the marker)",
            pytrace=False,
        )


@dataclass(frozen=True)
class _Wanted:
    settings: Settings
    now: datetime | None
    written: str
    """The scenario as the marker or the option wrote it (settings.scenario has a path resolved)."""


def _resolve(config: pytest.Config, ref: str) -> str:
    """A scenario path relative to the rootdir, made absolute; a built-in name or an absolute path as it is.

    A reference is a path when it names a file under the rootdir, or looks like one (a folder or a .yaml/.yml
    suffix: a missing file is then reported under the rootdir); otherwise it is a built-in scenario's name.
    """
    path = Path(ref)
    if path.is_absolute():
        return ref
    under_root = config.rootpath / path
    if under_root.is_file() or len(path.parts) > 1 or path.suffix in (".yaml", ".yml"):
        return str(under_root)
    return ref


def _session_settings(config: pytest.Config) -> Settings:
    from mock_finapi.settings import Settings

    return Settings(
        scenario=_resolve(config, config.getoption("--finapi-scenario") or "default"),
        seed=config.getoption("--finapi-seed"),
    )


def _needs_httpx(fixture: str) -> None:
    """The test helpers need httpx: without it, a setup error naming the extra to install (no traceback)."""
    try:
        import mock_finapi.testing._httpx  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name != "httpx":
            raise
        missing = str(exc)  # reported outside the handler, so the report shows no chained exception
    else:
        return
    pytest.fail(f"the {fixture} fixture: {missing}", pytrace=False)


def _usage(request: pytest.FixtureRequest, problem: str) -> NoReturn:
    """A setup error naming the test and the problem, without a traceback through the plugin."""
    pytest.fail(f"@pytest.mark.finapi on {request.node.name}: {problem}", pytrace=False)


def _wanted(request: pytest.FixtureRequest) -> _Wanted:
    """The session settings, changed by the test's marker (checked: keyword arguments of the right types only)."""
    settings = _session_settings(request.config)
    marker = request.node.get_closest_marker("finapi")
    if marker is None:
        return _Wanted(settings, None, request.config.getoption("--finapi-scenario") or "default")
    if marker.args:
        _usage(
            request, f"takes keyword arguments only ({', '.join(a + '=' for a in MARKER_ARGS)}), got {marker.args!r}"
        )
    unknown = sorted(set(marker.kwargs) - set(MARKER_ARGS))
    if unknown:
        _usage(request, f"unknown argument(s) {', '.join(unknown)} (allowed: {', '.join(MARKER_ARGS)})")
    scenario, seed, now = (marker.kwargs.get(name) for name in MARKER_ARGS)
    if scenario is not None and not isinstance(scenario, str):
        _usage(request, f"scenario= must be a built-in scenario name or a YAML path (str), got {scenario!r}")
    if seed is not None and (type(seed) is not int or seed < 0):
        _usage(request, f"seed= must be a non-negative int, got {seed!r}")
    if scenario is not None:
        settings = replace(settings, scenario=_resolve(request.config, scenario))
    if seed is not None:
        settings = replace(settings, seed=seed)
    written = scenario if scenario is not None else request.config.getoption("--finapi-scenario") or "default"
    return _Wanted(settings, _parse_now(request, now) if now is not None else None, written)


def _parse_now(request: pytest.FixtureRequest, now: Any) -> datetime:
    from datetime import UTC

    from mock_finapi.clock import EARLIEST, LATEST, parse_rfc3339

    when: datetime | None = None
    if isinstance(now, datetime):
        when = now if now.tzinfo is not None else now.replace(tzinfo=UTC)  # as for text: no offset means UTC
    elif isinstance(now, str):
        with suppress(ValueError):  # reported below: failing inside a handler would chain the ValueError
            when = parse_rfc3339(now)
        if when is None:
            _usage(request, f"now= must be an RFC 3339 timestamp such as 2026-01-01T09:00:00+01:00, got {now!r}")
    else:
        _usage(request, f"now= must be an RFC 3339 string or a datetime, got {now!r}")
    if when is None or not EARLIEST <= when < LATEST:
        _usage(request, f"now= must lie between {EARLIEST.year} and {LATEST.year}, got {now!r}")
    return when


def _scenario(request: pytest.FixtureRequest, wanted: _Wanted) -> Scenario:
    from mock_finapi.errors import ScenarioError
    from mock_finapi.scenarios import loader

    try:
        return loader.load(wanted.settings.scenario)
    except ScenarioError as exc:
        problem = str(exc)  # reported outside the handler, so the report shows no chained traceback
    _usage(request, f"scenario={wanted.written!r}: {problem}")


@pytest.fixture(scope="session")
def finapi_server(request: pytest.FixtureRequest) -> Iterator[ThreadedServer]:
    """One emulator for the whole session (per xdist worker), on a free port."""
    _needs_httpx("finapi_server")
    from mock_finapi.testing.server import ThreadedServer

    with ThreadedServer(_session_settings(request.config)) as server:
        yield server


@pytest.fixture
def finapi(finapi_server: ThreadedServer, request: pytest.FixtureRequest) -> ThreadedServer:
    """The session's emulator serving a fresh world of the test's scenario, so no state leaks between tests.

    Without a marker that is the session's scenario and seed on a fresh clock. `finapi.admin.reset()` inside the
    test goes back to the test's scenario (the marker's `now` is not restored).
    """
    wanted = _wanted(request)
    session = finapi_server.settings
    if (wanted.settings.scenario, wanted.settings.seed) == (session.scenario, session.seed):
        finapi_server.reset(freeze_at=wanted.now)
    else:
        scenario = _scenario(request, wanted)
        finapi_server.serve(scenario, seed=wanted.settings.seed, freeze_at=wanted.now)
    return finapi_server


@pytest.fixture
def finapi_app(request: pytest.FixtureRequest) -> Emulator:
    """A fresh emulator app for in-process use (no socket), honouring the marker and the options."""
    from mock_finapi.http.app import create_app

    wanted = _wanted(request)
    return create_app(wanted.settings, scenario=_scenario(request, wanted), freeze_at=wanted.now)


@pytest.fixture
def finapi_callbacks() -> Iterator[CallbackReceiver]:
    """A local http server recording the callbacks the emulator sends (stopped after the test). Its plain http URL
    needs a scenario with `webforms: {callbacks: {allow_http: true}}` for Web Form callbacks (finAPI's URL rule);
    `userSynchronizationCallbackUrl` takes it as it is."""
    from mock_finapi.testing.callbacks import CallbackReceiver

    with CallbackReceiver() as receiver:
        yield receiver


@pytest.fixture
def finapi_client(finapi_app: Emulator) -> Iterator[httpx.Client]:
    """An httpx.Client talking to `finapi_app` in-process (base URL `http://mock-finapi`)."""
    _needs_httpx("finapi_client")
    from mock_finapi.testing.inprocess import InProcessClient

    with InProcessClient(finapi_app) as client:
        yield client
