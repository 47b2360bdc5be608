"""httpx for the test helpers (fixtures, ThreadedServer, InProcessClient, AdminClient), or an error naming the extra
that brings it: httpx comes with `mock-finapi[pytest]` (and `[test]`), not with the emulator, which needs none of it.
"""

from __future__ import annotations

MISSING = "mock-finapi's test helpers need httpx, which is not installed: pip install 'mock-finapi[pytest]'"

try:
    import httpx
except ModuleNotFoundError as exc:
    if exc.name != "httpx":  # a dependency of an installed httpx is missing: its own error says that better
        raise
    raise ModuleNotFoundError(MISSING, name="httpx") from None

__all__ = ["MISSING", "httpx"]
