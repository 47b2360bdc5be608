"""uvicorn's httptools protocol, plus the one thing network faults need: a way to break the request's connection.

Each request's ASGI scope gets the extension `mock_finapi.disconnect`: a callable `disconnect(reset: bool)` that
resets (RST) or closes (FIN, no answer) the real TCP connection at once and marks the request's cycle as disconnected,
so uvicorn neither answers for the app nor logs the missing answer. Nothing yields to the event loop on the way, so
whatever the app does after it (the journal entry) happens before the server serves anything else. Without httptools
(or in-process) the extension is absent and network faults are raised as exceptions instead.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

DISCONNECT = "mock_finapi.disconnect"


def http_protocol() -> Any:
    """The protocol class for `uvicorn.Config(http=...)`, or "auto" when httptools is not installed."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - uvicorn[standard] ships httptools on CPython
        return "auto"

    class DisconnectingProtocol(HttpToolsProtocol):
        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            cycle = self.cycle
            if cycle is not None and cycle.scope is self.scope:  # a request to run (not an upgrade)
                extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
                extensions[DISCONNECT] = partial(_disconnect, self.transport, cycle)

    return DisconnectingProtocol


def _disconnect(transport: asyncio.Transport, cycle: RequestResponseCycle, reset: bool) -> None:
    cycle.disconnected = True  # the cycle sends nothing more, and uvicorn does not answer 500 for the app
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:  # SO_LINGER 0: closing sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
