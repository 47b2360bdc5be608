"""uvicorn's httptools protocol (through `uvicorn.Config(http=...)`), plus what the emulator needs of a connection:

- a cap on request heads: a head longer than MAX_HEADER_BYTES is answered 431 and the connection closed (httptools
  would buffer it without limit), however the reads split it: its URL and headers are counted as the parser hands
  them over, and a head still incomplete after reads of more than MAX_HEADER_BYTES is refused before it is complete.
  Only bytes of the head count: a body that arrives in the same read as its head, or pipelined requests, never do;
- a way to break a request's connection (network faults): each request's ASGI scope `state` holds `DISCONNECT`, a
  callable `disconnect(reset: bool)` that resets (RST) or closes (FIN) the connection at once. The app then waits
  for `http.disconnect` on `receive`, so uvicorn knows the connection is gone before the app returns;
- writes coalesced within an event-loop turn (`_Coalesced`): an answer's head and body, which uvicorn writes
  separately, leave in one system call and one TCP segment.
Without httptools (or in-process) none of this exists and network faults are raised as exceptions instead.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import struct
from typing import Any, cast

DISCONNECT = "mock_finapi.disconnect"
MAX_HEADER_BYTES = 64 * 1024
TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 31\r\nconnection: close\r\n\r\nRequest header fields too large"
)


def http_protocol(head_timeout: float = 10.0) -> Any:
    """The protocol class for `uvicorn.Config(http=...)`, or "auto" when httptools is not installed."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - uvicorn[standard] ships httptools on CPython
        return "auto"

    class EmulatorProtocol(HttpToolsProtocol):
        def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any], **kwargs: Any) -> None:
            super().__init__(config, server_state, dict(app_state), **kwargs)  # a state of this connection's own
            self.raw_transport: asyncio.Transport | None = None
            self.messages = 0
            self.in_head = False
            self.head_bytes = 0
            """Of the reads the current head spans whole (after the read it began in)."""
            self.parsed_bytes = 0
            """Of the current head's URL and headers, as the parser hands them over (whatever the reads)."""
            self.refused = False
            """A 431 was sent: the connection is closing and nothing more is parsed into requests."""

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            raw = cast(asyncio.Transport, transport)
            self.raw_transport = raw
            # Bound to the transport, not to this protocol: each request's scope holds a copy of the state, and a
            # protocol reached from its own requests' scopes would be a reference cycle, left to the cycle collector
            # with the connection's last request once the connection closed (tests/e2e/test_garbage.py).
            self.app_state[DISCONNECT] = functools.partial(disconnect, raw)
            super().connection_made(cast(asyncio.Transport, _Coalesced(raw, asyncio.get_running_loop())))

        def data_received(self, data: bytes) -> None:
            if self.refused:
                return
            counting, message = self.in_head, self.messages
            super().data_received(data)
            # A head that began in an earlier read and is still incomplete: all of this read belongs to it.
            if counting and self.in_head and self.messages == message:
                self.head_bytes += len(data)
                if self.head_bytes > MAX_HEADER_BYTES:
                    self.refuse()

        def refuse(self) -> None:
            self.refused, self.in_head = True, False
            if self.raw_transport is not None:
                self.raw_transport.write(TOO_LARGE)
                self.raw_transport.close()

        def parsed(self, size: int) -> bool:
            """Count `size` bytes of the head; False once it is refused (the parser's callbacks then do nothing)."""
            if not self.refused:
                self.parsed_bytes += size
                if self.parsed_bytes > MAX_HEADER_BYTES:
                    self.refuse()
            return not self.refused

        def on_message_begin(self) -> None:
            if self.refused:
                return
            super().on_message_begin()
            self.messages += 1
            self.in_head, self.head_bytes, self.parsed_bytes = True, 0, 0

        def on_url(self, url: bytes) -> None:
            if self.parsed(len(url)):
                super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            if self.parsed(len(name) + len(value) + 4):  # `name: value\r\n`
                super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self.in_head = False
            if not self.refused:
                super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if not self.refused:
                super().on_body(body)

        def on_message_complete(self) -> None:
            if not self.refused:
                super().on_message_complete()

    return EmulatorProtocol


def disconnect(transport: asyncio.Transport, reset: bool) -> None:
    """Break the connection at once: reset (RST) or close (FIN)."""
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:  # SO_LINGER 0: closing sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


class _Coalesced:
    """A transport whose writes within one event-loop turn go out together at the end of it."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport, self._loop = transport, loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
