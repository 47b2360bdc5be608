"""Helpers for test suites and scripts (they need httpx: `pip install 'mock-finapi[pytest]'`).

from mock_finapi.testing import ThreadedServer, AdminClient

with ThreadedServer(scenario="expiring-tokens") as server:
    ...  # point your finAPI client at server.url; server.admin.advance(61)

The names are imported on first use: the pytest plugin lives in this package and is loaded by every pytest run in
an environment with mock-finapi installed, which should not pay for Starlette, uvicorn and httpx unless a test
uses the emulator.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mock_finapi.testing.admin import AdminClient
    from mock_finapi.testing.callbacks import CallbackReceiver
    from mock_finapi.testing.inprocess import InProcessClient
    from mock_finapi.testing.server import ThreadedServer

__all__ = ["AdminClient", "CallbackReceiver", "InProcessClient", "ThreadedServer"]

_MODULES = {
    "AdminClient": "admin",
    "CallbackReceiver": "callbacks",
    "InProcessClient": "inprocess",
    "ThreadedServer": "server",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
