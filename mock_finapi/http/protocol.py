"""uvicorn's httptools protocol, plus the one thing network faults need: the connection's transport.

The transport is put into the ASGI scope as the extension `mock_finapi.transport`, so a fault rule can reset or
close the real TCP connection. Without httptools (or in-process) the extension is absent and network faults are
raised as exceptions instead.
"""

from __future__ import annotations

from typing import Any

TRANSPORT = "mock_finapi.transport"


def http_protocol() -> Any:
    """The protocol class for `uvicorn.Config(http=...)`, or "auto" when httptools is not installed."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - uvicorn[standard] ships httptools on CPython
        return "auto"

    class TransportExposingProtocol(HttpToolsProtocol):
        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.scope["extensions"] = {TRANSPORT: self.transport}  # type: ignore[dict-item]

    return TransportExposingProtocol
