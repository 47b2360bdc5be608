"""Shared fixtures: an in-process emulator on the default scenario with a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette

from mock_finapi.clock import Clock
from mock_finapi.http.app import create_app
from mock_finapi.settings import Settings
from mock_finapi.testing.inprocess import InProcessClient
from tests.helpers import START


@pytest.fixture
def clock() -> Clock:
    """Frozen at the default scenario's start: time moves only when a test advances it."""
    return Clock(START, frozen=True)


@pytest.fixture
def scenario_name() -> str:
    """Override in a module to serve another built-in scenario or a YAML path."""
    return "default"


@pytest.fixture
def app(clock: Clock, scenario_name: str) -> Starlette:
    return create_app(Settings(scenario=scenario_name), clock=clock)


@pytest.fixture
def client(app: Starlette) -> Iterator[InProcessClient]:
    with InProcessClient(app) as c:
        yield c
