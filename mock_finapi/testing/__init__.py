"""Helpers for test suites and scripts (they need the `test` extra for httpx).

from mock_finapi.testing import ThreadedServer, AdminClient

with ThreadedServer(scenario="expiring-tokens") as server:
    ...  # point your finAPI client at server.url; server.admin.advance(61)
"""

from mock_finapi.testing.admin import AdminClient
from mock_finapi.testing.inprocess import InProcessClient
from mock_finapi.testing.server import ThreadedServer

__all__ = ["AdminClient", "InProcessClient", "ThreadedServer"]
