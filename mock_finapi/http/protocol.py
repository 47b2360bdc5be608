"""uvicorn's httptools protocol, plus a way to break a request's connection (network faults need it) and answers in
one write.

Each request's ASGI scope gets the extension `mock_finapi.disconnect`: a callable `disconnect(reset: bool)` that
resets (RST) or closes (FIN, no answer) the real TCP connection at once and marks the request's cycle as disconnected,
so uvicorn neither answers for the app nor logs the missing answer. Nothing yields to the event loop on the way, so
whatever the app does after it (the journal entry) happens before the server serves anything else. Without httptools
(or in-process) the extension is absent and network faults are raised as exceptions instead.

uvicorn writes an answer's head as soon as the app starts it and the body when it comes: two system calls and two TCP
segments for each answer. The extension `mock_finapi.one_write` (a callable without arguments, called just before a
whole answer starts: `render.respond`) makes the head wait for the body, so that both go out together (`_Corked`):
about a tenth more answers per second on one core.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import weakref
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

DISCONNECT = "mock_finapi.disconnect"
ONE_WRITE = "mock_finapi.one_write"
MAX_HEADER_BYTES = 64 * 1024
"""A request line plus headers beyond this is refused with 431 before it is buffered any further."""
TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 31\r\nconnection: close\r\n\r\nRequest header fields too large"
)


def http_protocol() -> Any:
    """The protocol class for `uvicorn.Config(http=...)`, or "auto" when httptools is not installed."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - uvicorn[standard] ships httptools on CPython
        return "auto"

    class DisconnectingProtocol(HttpToolsProtocol):
        header_bytes = 0
        in_headers = True
        corked: _Corked

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.corked = _Corked(transport)

        def data_received(self, data: bytes) -> None:
            if self.in_headers:
                self.header_bytes += len(data)
                if self.header_bytes > MAX_HEADER_BYTES:  # httptools itself would buffer headers without limit
                    self.in_headers = False
                    self.transport.write(TOO_LARGE)
                    self.transport.close()
                    return
            super().data_received(data)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.in_headers, self.header_bytes = True, 0

        def on_headers_complete(self) -> None:
            self.in_headers = False
            super().on_headers_complete()
            cycle = self.cycle
            if cycle is not None and cycle.scope is self.scope:  # a request to run (not an upgrade)
                extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
                # A weak reference: the scope is the cycle's own, and a strong one would make every request a
                # reference cycle that only the garbage collector frees (long GC pauses under load)
                extensions[DISCONNECT] = partial(_disconnect, self.transport, weakref.ref(cycle))
                extensions[ONE_WRITE] = self.corked.hold
                cycle.transport = self.corked  # type: ignore[assignment]

    return DisconnectingProtocol


def _disconnect(transport: asyncio.Transport, cycle_ref: weakref.ref[RequestResponseCycle], reset: bool) -> None:
    cycle = cycle_ref()
    if cycle is not None:  # the cycle sends nothing more, and uvicorn does not answer 500 for the app
        cycle.disconnected = True
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:  # SO_LINGER 0: closing sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


class _Corked:
    """The transport a request's cycle writes to: after `hold()` its next write (an answer's head) waits for the one
    after it (the body) and goes out with it."""

    __slots__ = ("held", "holding", "transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.held = b""
        self.holding = False

    def hold(self) -> None:
        self.holding = True

    def write(self, data: bytes) -> None:
        if self.holding:
            self.holding = False
            self.held = data
            return
        if self.held:
            data, self.held = self.held + data, b""
        self.transport.write(data)

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def close(self) -> None:
        if self.held:  # a head whose body never came: as uvicorn would have sent it
            self.write(b"")
        self.transport.close()
