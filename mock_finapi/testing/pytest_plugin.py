"""The pytest plugin (entry point `pytest11`, active wherever mock-finapi is installed).

Fixtures:
- `finapi_server` (session): a ThreadedServer on 127.0.0.1 and a free port; `.url`, `.admin`.
- `finapi` (function): the same server, reset to its scenario before each test (and set up by the marker).
- `finapi_app` / `finapi_client` (function): a fresh ASGI app and an httpx client bound to it in-process.
Marker: `@pytest.mark.finapi(scenario=..., seed=..., now=...)` for one test.
Options: `--finapi-scenario NAME|PATH` and `--finapi-seed N` set the session default.
Under pytest-xdist each worker process starts its own server, so parallel workers never share state or ports.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx
    from starlette.applications import Starlette

    from mock_finapi.settings import Settings
    from mock_finapi.testing.server import ThreadedServer

MARKER = "finapi(scenario=None, seed=None, now=None): serve this scenario and seed, with the clock frozen at `now`"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mock-finapi", "finAPI emulator")
    group.addoption("--finapi-scenario", default=None, help="scenario (built-in name or YAML path) of the fixtures")
    group.addoption("--finapi-seed", type=int, default=None, help="seed of the fixtures (default: the scenario's)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


def _session_settings(config: pytest.Config) -> Settings:
    from mock_finapi.settings import Settings

    return Settings(
        scenario=config.getoption("--finapi-scenario") or "default",
        seed=config.getoption("--finapi-seed"),
    )


def _marker(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("finapi")
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError("@pytest.mark.finapi takes keyword arguments only: scenario=, seed=, now=")
    unknown = set(marker.kwargs) - {"scenario", "seed", "now"}
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.finapi: unknown arguments {sorted(unknown)}")
    return dict(marker.kwargs)


def _settings_for(request: pytest.FixtureRequest) -> tuple[Settings, str | None]:
    wanted = _marker(request)
    settings = _session_settings(request.config)
    if wanted.get("scenario") is not None or wanted.get("seed") is not None:
        settings = replace(
            settings, scenario=wanted.get("scenario") or settings.scenario, seed=wanted.get("seed", settings.seed)
        )
    return settings, wanted.get("now")


def _set_now(world: Any, now: Any) -> None:
    from datetime import datetime

    from mock_finapi.clock import parse_rfc3339

    world.clock.set(now if isinstance(now, datetime) else parse_rfc3339(str(now)))
    world.clock.freeze(True)


@pytest.fixture(scope="session")
def finapi_server(request: pytest.FixtureRequest) -> Iterator[ThreadedServer]:
    """One emulator for the whole session (per xdist worker), on a free port."""
    from mock_finapi.testing.server import ThreadedServer

    with ThreadedServer(_session_settings(request.config)) as server:
        yield server


@pytest.fixture
def finapi(finapi_server: ThreadedServer, request: pytest.FixtureRequest) -> ThreadedServer:
    """The session's emulator, reset to a fresh world of the test's scenario, so no state leaks between tests."""
    from mock_finapi.scenarios import loader
    from mock_finapi.world import World

    settings, now = _settings_for(request)
    current = finapi_server.world
    if settings.scenario == finapi_server.settings.scenario and settings.seed == finapi_server.settings.seed:
        world = current.reset()
    else:
        world = World(loader.load(settings.scenario), seed=settings.seed, journal_size=settings.journal_size)
    if now is not None:
        _set_now(world, now)
    finapi_server.app.state.world = world
    return finapi_server


@pytest.fixture
def finapi_app(request: pytest.FixtureRequest) -> Starlette:
    """A fresh emulator app for in-process use (no socket), honouring the marker and the options."""
    from mock_finapi.http.app import create_app

    settings, now = _settings_for(request)
    app = create_app(settings)
    if now is not None:
        _set_now(app.state.world, now)
    return app


@pytest.fixture
def finapi_client(finapi_app: Starlette) -> Iterator[httpx.Client]:
    """An httpx.Client talking to `finapi_app` in-process."""
    from mock_finapi.testing.inprocess import InProcessClient

    with InProcessClient(finapi_app) as client:
        yield client
