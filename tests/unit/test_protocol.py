"""The HTTP protocol `serve` runs (uvicorn's httptools protocol with the emulator's additions, `http/protocol.py`),
driven through a transport that records what it is given: answers leave in one write each (`_Coalesced`), request
heads are capped whatever the reads (only their own bytes count) and must be complete in time (`head_timeout`), a
refused connection gets the answers before the refusal first, and network faults break the connection through the
`DISCONNECT` callable in each request's scope `state`.

Timeouts are checked by the order of the event loop's timers, never by how long something took: a sleep shorter than
the head timeout ends before the timeout, a longer one after it."""

from __future__ import annotations

import asyncio
import re
import socket
import struct
from typing import Any
from urllib.parse import urlencode

import pytest
from uvicorn.server import ServerState

from mock_finapi.http import protocol
from mock_finapi.http import server as http_server
from mock_finapi.http.app import Emulator, create_app
from mock_finapi.http.protocol import DISCONNECT, MAX_HEADER_BYTES, _Coalesced, http_protocol
from mock_finapi.scenarios.loader import load_text
from mock_finapi.settings import Settings
from mock_finapi.state.models import JournalQuery
from tests.helpers import CLIENT_CREDENTIALS

pytestmark = pytest.mark.anyio

WAIT = 5.0
SETTLE = 0.05
"""How long to wait for a write too many."""
TOKEN_BODY = urlencode(CLIENT_CREDENTIALS).encode()
TOKEN_REQUEST = (
    b"POST /api/v2/oauth/token HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(TOKEN_BODY), TOKEN_BODY)
)
OVER, UNDER = MAX_HEADER_BYTES + 1024, MAX_HEADER_BYTES - 1024
"""Sizes of request heads clearly over and under the cap (the parser hands their parts over, not every byte)."""
HEALTH = b"GET /__admin/health HTTP/1.1\r\nHost: t\r\n\r\n"
OK = b"HTTP/1.1 200 OK\r\n"
TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 15\r\n"
    b"connection: close\r\n\r\nRequest timeout"
)
HEAD_TIMEOUT = 0.2
HALF_A_HEAD = b"GET /__admin/health HTTP/1.1\r\nHost: t\r\nX-Half: "
FAULTS = """
name: network-faults
seed: 1
clients:
  - {client_id: c, client_secret: s}
faults:
  - {name: reset, match: {path: /reset}, network: connection_reset}
  - {name: empty, match: {path: /empty}, network: empty_response}
  - {name: cut, match: {path: /cut}, network: malformed_json}
  - {name: slow, match: {path: /slow}, delay_ms: 600, respond: {status: 503}}
"""


class FakeSocket:
    def __init__(self) -> None:
        self.options: list[tuple[int, int, bytes]] = []

    def setsockopt(self, level: int, option: int, value: bytes) -> None:
        self.options.append((level, option, value))

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 8080)

    def getpeername(self) -> tuple[str, int]:
        return ("127.0.0.1", 40000)


class Recording(asyncio.Transport):
    """A connection's transport: keeps what is written; closing it tells the protocol the connection is gone."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = self.aborted = self.eof = False
        self.socket = FakeSocket()
        self.protocol: asyncio.Protocol | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "a write after close"
        assert not self.eof, "a write after the end of writing"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self._lost()

    def abort(self) -> None:
        self.aborted = True
        self._lost()

    def _lost(self) -> None:
        if not self.closed and self.protocol is not None:
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)
        self.closed = True

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        assert not self.closed, "an end of writing after close"
        self.eof = True

    @property
    def ended(self) -> bool:
        """Nothing more is written: closed, or only our side (a lingering close)."""
        return self.closed or self.eof

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        info = {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 40000), "socket": self.socket}
        return info.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class Connection:
    """One connection of the protocol to `app`, fed by hand."""

    def __init__(self, app: Emulator, app_state: dict[str, Any] | None = None, head_timeout: float = 10.0) -> None:
        config = http_server.config(app, grace=1)  # as served: no WebSockets (their import warns on old uvicorns)
        config.load()
        protocol_class = http_protocol(head_timeout)
        self.app_state: dict[str, Any] = {} if app_state is None else app_state
        self.protocol = protocol_class(config=config, server_state=ServerState(), app_state=self.app_state)
        self.transport = Recording()
        self.transport.protocol = self.protocol
        self.protocol.connection_made(self.transport)

    async def send(self, data: bytes, writes: int, *, ended: bool = False) -> list[bytes]:
        """Feed `data` and wait until the transport holds `writes` writes (and has ended, if `ended`), a little
        longer (a write too many would show); answers every write so far."""
        self.protocol.data_received(data)
        for _ in range(int(WAIT / 0.001)):
            if len(self.transport.writes) >= writes and (self.transport.ended or not ended):
                break
            await asyncio.sleep(0.001)
        await asyncio.sleep(SETTLE)
        return self.transport.writes

    async def send_in_reads(self, data: bytes, size: int) -> None:
        for start in range(0, len(data), size):
            self.protocol.data_received(data[start : start + size])
            await asyncio.sleep(0)


@pytest.fixture
def app() -> Emulator:
    return create_app(Settings())


@pytest.fixture
async def connection(app: Emulator, anyio_backend: str) -> Connection:
    return Connection(app)  # made on the event loop, as a server makes its connections


def head_of(size: int, path: bytes = b"/api/v2/users") -> bytes:
    """A GET whose head (request line and headers) is `size` bytes long."""
    start = b"GET " + path + b" HTTP/1.1\r\nHost: t\r\nX-Padding: "
    return start + b"a" * (size - len(start) - 4) + b"\r\n\r\n"


async def journaled(app: Emulator) -> int:
    return await app.sandbox.store.count_journal(JournalQuery())


# answers in one write
async def test_an_answer_is_one_write_of_head_and_body(connection: Connection) -> None:
    [answer] = await connection.send(TOKEN_REQUEST, 1)
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(OK)
    assert f"content-length: {len(body)}".encode() in head.split(b"\r\n")
    assert body.startswith(b'{"access_token":"')


async def test_answers_on_a_kept_alive_connection_are_one_write_each(connection: Connection) -> None:
    first, second = await connection.send(TOKEN_REQUEST + HEALTH, 2)
    assert first.startswith(OK)
    assert first.endswith(b'"scope":"all"}')
    assert second.startswith(OK)
    assert second.endswith(b'{"status":"ok","scenario":"default"}')
    [*_, third] = await connection.send(HEALTH, 3)
    assert third.startswith(OK)
    assert third.endswith(b'{"status":"ok","scenario":"default"}')


async def test_a_head_answer_is_written_although_it_has_no_body(connection: Connection) -> None:
    [answer] = await connection.send(b"HEAD /__admin/health HTTP/1.1\r\nHost: t\r\n\r\n", 1)
    assert answer.startswith(OK)
    assert answer.endswith(b"\r\n\r\n")


async def test_a_client_expecting_100_continue_gets_it_at_once_and_then_the_answer_in_one_write(
    connection: Connection,
) -> None:
    head, body = TOKEN_REQUEST.split(b"\r\n\r\n", 1)
    assert await connection.send(head + b"\r\nExpect: 100-continue\r\n\r\n", 1) == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    _, answer = await connection.send(body, 2)
    assert answer.startswith(OK)
    assert answer.endswith(b'"scope":"all"}')


# _Coalesced, the transport the protocol writes through
async def test_writes_within_one_event_loop_turn_leave_together_at_its_end() -> None:
    transport = Recording()
    coalesced = _Coalesced(transport, asyncio.get_running_loop())
    coalesced.write(b"head ")
    coalesced.write(b"body")
    assert transport.writes == []
    await asyncio.sleep(0)
    assert transport.writes == [b"head body"]
    coalesced.write(b"next")
    await asyncio.sleep(0)
    assert transport.writes == [b"head body", b"next"]


async def test_closing_writes_what_waits_first_and_aborting_drops_it() -> None:
    closing, aborting = Recording(), Recording()
    for transport in (closing, aborting):
        coalesced = _Coalesced(transport, asyncio.get_running_loop())
        coalesced.write(b"HTTP/1.1 200 OK\r\n\r\n")
        (coalesced.close if transport is closing else coalesced.abort)()
    await asyncio.sleep(0)  # the flush that was due finds nothing left
    assert (closing.writes, closing.closed, closing.aborted) == ([b"HTTP/1.1 200 OK\r\n\r\n"], True, False)
    assert (aborting.writes, aborting.closed, aborting.aborted) == ([], True, True)


async def test_everything_else_is_the_real_transports() -> None:
    transport = Recording()
    coalesced = _Coalesced(transport, asyncio.get_running_loop())
    assert coalesced.get_extra_info("socket") is transport.socket
    assert not coalesced.is_closing()
    transport.closed = True
    assert coalesced.is_closing()


# the cap on request heads
async def test_a_head_over_the_cap_in_one_read_is_answered_431_and_never_served(
    app: Emulator, connection: Connection
) -> None:
    [answer] = await connection.send(head_of(OVER), 1)
    assert answer.startswith(TOO_LARGE)
    assert answer.endswith(b"\r\n\r\nRequest header fields too large")
    assert connection.transport.ended
    assert await journaled(app) == 0


async def test_a_head_over_the_cap_in_many_reads_is_answered_431_before_it_is_complete(
    app: Emulator, connection: Connection
) -> None:
    unfinished = head_of(4 * MAX_HEADER_BYTES)[:-4]
    await connection.send_in_reads(unfinished, 1000)
    writes = await connection.send(b"", 1)
    assert [w[: len(TOO_LARGE)] for w in writes] == [TOO_LARGE]
    assert connection.transport.ended
    assert await journaled(app) == 0


async def test_a_request_line_over_the_cap_is_answered_431(connection: Connection) -> None:
    line = b"GET /api/v2/users?" + b"q" * (2 * MAX_HEADER_BYTES) + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    [answer] = await connection.send(line, 1)
    assert answer.startswith(TOO_LARGE)


async def test_a_head_over_the_cap_on_a_kept_alive_connection_is_answered_431(connection: Connection) -> None:
    [first] = await connection.send(HEALTH, 1)
    assert first.startswith(OK)
    _, refused = await connection.send(head_of(OVER), 2)
    assert refused.startswith(TOO_LARGE)


async def test_many_small_headers_over_the_cap_are_answered_431(connection: Connection) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % n for n in range(MAX_HEADER_BYTES // 8))
    [answer] = await connection.send(b"GET /api/v2/users HTTP/1.1\r\nHost: t\r\n" + headers + b"\r\n", 1)
    assert answer.startswith(TOO_LARGE)


async def test_a_head_just_under_the_cap_is_served(connection: Connection) -> None:
    [answer] = await connection.send(head_of(UNDER, b"/__admin/health"), 1)
    assert answer.startswith(OK)


async def test_a_body_in_the_same_read_as_its_head_does_not_count(connection: Connection) -> None:
    body = TOKEN_BODY + b"&padding=" + b"a" * (4 * MAX_HEADER_BYTES)
    request = (
        b"POST /api/v2/oauth/token HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    [answer] = await connection.send(request, 1)
    assert answer.startswith(OK)
    assert answer.endswith(b'"scope":"all"}')


async def test_a_head_split_over_reads_counts_only_its_own_bytes(connection: Connection) -> None:
    head = head_of(UNDER, b"/__admin/health")
    await connection.send_in_reads(head, 4096)
    [answer] = await connection.send(b"", 1)
    assert answer.startswith(OK)


async def test_pipelined_requests_beyond_the_cap_in_one_read_are_all_served(connection: Connection) -> None:
    request = head_of(2048, b"/__admin/health")
    count = 2 * MAX_HEADER_BYTES // len(request)
    writes = await connection.send(request * count, count)
    assert len(writes) == count
    assert all(w.startswith(OK) for w in writes)


async def test_after_a_431_nothing_more_is_read(app: Emulator, connection: Connection) -> None:
    await connection.send(head_of(OVER), 1)
    connection.protocol.data_received(HEALTH)
    await asyncio.sleep(SETTLE)
    assert len(connection.transport.writes) == 1
    assert await journaled(app) == 0


async def test_requests_before_a_head_over_the_cap_are_answered_first_in_order(connection: Connection) -> None:
    await connection.send(HEALTH + HEALTH + head_of(OVER), 2, ended=True)
    received = b"".join(connection.transport.writes)  # the refusal may leave in one write with the last answer
    assert re.findall(rb"HTTP/1\.1 [^\r]*\r\n", received) == [OK, OK, TOO_LARGE]
    assert received.endswith(b"\r\n\r\nRequest header fields too large")
    assert connection.transport.ended


async def test_a_refused_connection_discards_what_comes_and_is_closed_after_the_linger_time(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(protocol, "LINGER", HEAD_TIMEOUT)
    [answer] = await connection.send(head_of(OVER), 1, ended=True)
    assert answer.startswith(TOO_LARGE)
    assert not connection.transport.closed  # only our side ended: the client reads the 431 whatever it still sends
    connection.protocol.data_received(HEALTH)
    await asyncio.sleep(2 * HEAD_TIMEOUT)
    assert (len(connection.transport.writes), connection.transport.closed) == (1, True)


# the time limit on request heads
@pytest.fixture
async def timed(app: Emulator, anyio_backend: str) -> Connection:
    return Connection(app, head_timeout=HEAD_TIMEOUT)


async def test_a_connection_that_sends_nothing_is_answered_408_and_closed_after_the_head_timeout(
    timed: Connection,
) -> None:
    await asyncio.sleep(HEAD_TIMEOUT / 2)
    assert (timed.transport.writes, timed.transport.ended) == ([], False)
    assert await timed.send(b"", 1, ended=True) == [TIMED_OUT]
    assert timed.transport.ended


async def test_half_a_head_is_answered_408_after_the_head_timeout_and_never_served(
    app: Emulator, timed: Connection
) -> None:
    timed.protocol.data_received(HALF_A_HEAD)
    await asyncio.sleep(HEAD_TIMEOUT / 2)
    assert (timed.transport.writes, timed.transport.ended) == ([], False)
    assert await timed.send(b"", 1, ended=True) == [TIMED_OUT]
    timed.protocol.data_received(b"x\r\n\r\n")  # the rest, too late
    await asyncio.sleep(SETTLE)
    assert timed.transport.writes == [TIMED_OUT]
    assert await journaled(app) == 0


async def test_the_first_head_counts_from_the_connection_opening(timed: Connection) -> None:
    await asyncio.sleep(HEAD_TIMEOUT * 0.6)
    timed.protocol.data_received(HALF_A_HEAD)  # a late first byte does not restart the clock
    await asyncio.sleep(HEAD_TIMEOUT * 0.6)
    assert (timed.transport.writes, timed.transport.ended) == ([TIMED_OUT], True)


async def test_a_head_complete_in_time_over_several_reads_is_served_and_the_connection_kept(
    timed: Connection,
) -> None:
    timed.protocol.data_received(HALF_A_HEAD)
    await asyncio.sleep(HEAD_TIMEOUT / 2)
    [answer] = await timed.send(b"x\r\n\r\n", 1)
    assert answer.startswith(OK)
    await asyncio.sleep(2 * HEAD_TIMEOUT)  # idle between requests: uvicorn's keep-alive timeout (5 s) applies
    assert (len(timed.transport.writes), timed.transport.ended) == (1, False)


async def test_a_later_head_counts_from_its_first_byte(timed: Connection) -> None:
    [answer] = await timed.send(HEALTH, 1)
    assert answer.startswith(OK)
    await asyncio.sleep(2 * HEAD_TIMEOUT)
    timed.protocol.data_received(HALF_A_HEAD)
    await asyncio.sleep(HEAD_TIMEOUT / 2)
    assert (len(timed.transport.writes), timed.transport.ended) == (1, False)
    _, refused = await timed.send(b"", 2, ended=True)
    assert refused == TIMED_OUT


async def test_a_request_being_served_is_never_cut_and_a_head_after_it_counts_from_its_answer(
    faulty: Emulator,
) -> None:
    timed = Connection(faulty, head_timeout=HEAD_TIMEOUT)  # the answer takes 600 ms: three head timeouts
    [answer] = await timed.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n" + HALF_A_HEAD, 1)
    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert not timed.transport.ended
    _, refused = await timed.send(b"", 2, ended=True)
    assert refused == TIMED_OUT


async def test_a_head_over_the_cap_is_not_timed_out_twice(timed: Connection) -> None:
    await timed.send_in_reads(head_of(4 * MAX_HEADER_BYTES)[:-4], 1000)
    await asyncio.sleep(2 * HEAD_TIMEOUT)
    assert [w[: len(TOO_LARGE)] for w in timed.transport.writes] == [TOO_LARGE]


# breaking a connection: network faults
@pytest.fixture
def faulty() -> Emulator:
    return create_app(Settings(request_log="off"), scenario=load_text(FAULTS, "faults.yaml"))


async def test_each_connection_has_a_state_of_its_own_with_its_disconnect(faulty: Emulator) -> None:
    shared: dict[str, Any] = {"served": "by the server"}
    one, two = Connection(faulty, shared), Connection(faulty, shared)
    assert shared == {"served": "by the server"}
    assert one.protocol.app_state[DISCONNECT] != two.protocol.app_state[DISCONNECT]
    assert one.protocol.app_state["served"] == "by the server"


async def test_a_connection_reset_fault_resets_the_connection_without_an_answer(faulty: Emulator) -> None:
    connection = Connection(faulty)
    assert await connection.send(b"GET /reset HTTP/1.1\r\nHost: t\r\n\r\n", 0, ended=True) == []
    assert (connection.transport.closed, connection.transport.aborted) == (True, True)
    linger = struct.pack("ii", 1, 0)  # closing sends RST, not FIN
    assert connection.transport.socket.options == [(socket.SOL_SOCKET, socket.SO_LINGER, linger)]
    [entry] = await faulty.sandbox.store.journal(JournalQuery())
    assert (entry.path, entry.fault, entry.status) == ("/reset", "reset", 0)


async def test_an_empty_response_fault_closes_the_connection_without_an_answer(faulty: Emulator) -> None:
    connection = Connection(faulty)
    assert await connection.send(b"GET /empty HTTP/1.1\r\nHost: t\r\n\r\n", 0, ended=True) == []
    assert (connection.transport.closed, connection.transport.aborted) == (True, False)
    assert connection.transport.socket.options == []
    [entry] = await faulty.sandbox.store.journal(JournalQuery())
    assert (entry.fault, entry.status) == ("empty", 0)


async def test_a_malformed_json_fault_answers_in_one_write_and_keeps_the_connection(faulty: Emulator) -> None:
    connection = Connection(faulty)
    [answer] = await connection.send(b"GET /cut HTTP/1.1\r\nHost: t\r\n\r\n", 1)
    assert answer.startswith(OK)
    assert b"\r\nx-mock-fault: cut\r\n" in answer
    assert answer.endswith(b'\r\n\r\n{"access_token": "')
    assert not connection.transport.closed


async def test_disconnect_is_a_callable_of_the_connection(faulty: Emulator) -> None:
    resetting, closing = Connection(faulty), Connection(faulty)
    resetting.protocol.app_state[DISCONNECT](reset=True)
    closing.protocol.app_state[DISCONNECT](reset=False)
    assert (resetting.transport.aborted, closing.transport.aborted, closing.transport.closed) == (True, False, True)
    await asyncio.sleep(SETTLE)  # the protocols learn the connections are gone: nothing is written
    assert resetting.transport.writes == closing.transport.writes == []
