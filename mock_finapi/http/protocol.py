"""uvicorn's httptools protocol (through `uvicorn.Config(http=...)`), plus what the emulator needs of a connection:

- a cap on request heads: a head longer than MAX_HEADER_BYTES is answered 431 and the connection closed (httptools
  would buffer it without limit), however the reads split it: its URL and headers are counted as the parser hands
  them over, and a head still incomplete after reads of more than MAX_HEADER_BYTES is refused before it is complete.
  Only bytes of the head count: a body that arrives in the same read as its head, or pipelined requests, never do;
- a time limit on request heads (`head_timeout`): a connection's first head must be complete within `head_timeout`
  seconds of the connection opening, each later one within `head_timeout` of its first byte, else the connection is
  answered 408 and closed. The clock only runs while the server waits for the head: never while a request of the
  connection is being served (nor while its body arrives), never while it idles between requests (uvicorn's
  keep-alive timeout closes idle connections);
- a connection that is refused (431, 408) first gets the answers of the requests before the refused head, in order,
  then the refusal, then its end (a lingering close: `send_refusal`);
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
LINGER = 2.0
"""Seconds a refused connection is read (and what comes discarded) before it is closed; see `send_refusal`."""
TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 31\r\nconnection: close\r\n\r\nRequest header fields too large"
)
TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 15\r\nconnection: close\r\n\r\nRequest timeout"
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
            self.messages = 0
            self.in_head = False
            self.head_bytes = 0
            """Of the reads the current head spans whole (after the read it began in)."""
            self.parsed_bytes = 0
            """Of the current head's URL and headers, as the parser hands them over (whatever the reads)."""
            self.refused = False
            """A head was refused (431, 408): nothing more is parsed into requests, and the connection ends with the
            refusal once the requests before it are answered."""
            self.refusal: bytes | None = None
            """The refusal to send once no response is in flight any more."""
            self.head_timer: asyncio.TimerHandle | None = None
            """Runs while the server waits for a head (see the module's docstring)."""

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            raw = cast(asyncio.Transport, transport)
            # Bound to the transport, not to this protocol: each request's scope holds a copy of the state, and a
            # protocol reached from its own requests' scopes would be a reference cycle, left to the cycle collector
            # with the connection's last request once the connection closed (tests/e2e/test_garbage.py).
            self.app_state[DISCONNECT] = functools.partial(disconnect, raw)
            loop = asyncio.get_running_loop()
            super().connection_made(cast(asyncio.Transport, _Coalesced(raw, loop)))
            self.head_timer = loop.call_later(head_timeout, self.head_timed_out)

        def connection_lost(self, exc: Exception | None) -> None:
            self.stop_head_timer()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self.refused:
                return
            counting, message = self.in_head, self.messages
            super().data_received(data)
            if not self.in_head:
                return
            # A head that began in an earlier read and is still incomplete: all of this read belongs to it.
            if counting and self.messages == message:
                self.head_bytes += len(data)
                if self.head_bytes > MAX_HEADER_BYTES:
                    self.refuse(TOO_LARGE)
                    return
            if self.head_timer is None and not self.serving() and not self.transport.is_closing():
                self.head_timer = self.loop.call_later(head_timeout, self.head_timed_out)

        def serving(self) -> bool:
            """A request of this connection is being served (or waits for its body, or for its turn)."""
            # `cycle` is the request parsed last: it is complete only once every request before it is
            return self.cycle is not None and not self.cycle.response_complete

        def head_timed_out(self) -> None:
            self.head_timer = None
            if not self.serving():  # always so: the timer never runs while a request is served
                self.refuse(TIMED_OUT)

        def stop_head_timer(self) -> None:
            if self.head_timer is not None:
                self.head_timer.cancel()
                self.head_timer = None

        def refuse(self, answer: bytes) -> None:
            """Parse nothing more; answer `answer` and close once the responses in flight are out."""
            self.refused, self.in_head = True, False
            self.stop_head_timer()
            self.refusal = answer
            if not self.serving():
                self.send_refusal()

        def send_refusal(self) -> None:
            """Send the refusal and end the connection: a lingering close, so that the client reads the refusal
            whatever it is still sending (closing with unread bytes would reset the connection, and the reset can
            destroy the refusal in the client's buffers): end our side (FIN), discard what comes (`data_received`),
            close once the client ends its side (`eof_received`) or after LINGER seconds."""
            if self.refusal is not None and not self.transport.is_closing():
                self.transport.write(self.refusal)  # after any response still waiting in `_Coalesced`
                self.transport.write_eof()
                self.loop.call_later(LINGER, self.transport.close)
            self.refusal = None

        def on_response_complete(self) -> None:
            super().on_response_complete()  # starts the next pipelined request, if any
            if self.serving():
                return
            if self.refusal is not None:
                self.send_refusal()
            elif self.in_head and self.head_timer is None and not self.transport.is_closing():
                # a head that began while requests before it were served: its clock starts now
                self.head_timer = self.loop.call_later(head_timeout, self.head_timed_out)

        def parsed(self, size: int) -> bool:
            """Count `size` bytes of the head; False once it is refused (the parser's callbacks then do nothing)."""
            if not self.refused:
                self.parsed_bytes += size
                if self.parsed_bytes > MAX_HEADER_BYTES:
                    self.refuse(TOO_LARGE)
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
            self.stop_head_timer()
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

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
