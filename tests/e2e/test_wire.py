"""The wire, over a real socket: what a client sends is read as HTTP/1.1 means it, whatever the reads.

- The cap on request heads (64 KiB, 431) counts head bytes only: a body that arrives with its head, in one read (one
  `sendall`, as curl and Python's `http.client` send a request with a body they hold), never counts, nor do pipelined
  requests. Both are answered as any request is, in order.
- Slow clients (`head_timeout`): a connection that has not sent a complete request head in time is answered 408 and
  closed; while a thousand such connections wait, other clients are answered.

Each test talks raw bytes to a server of its own, a ThreadedServer or a `mock-finapi serve` process; the test
functions take only its URL, so they run against any server (`url` fixture).
"""

from __future__ import annotations

import contextlib
import resource
import select
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import pytest

from mock_finapi.http.protocol import MAX_HEADER_BYTES, TIMED_OUT, TOO_LARGE
from mock_finapi.settings import MAX_BODY_BYTES
from mock_finapi.testing.server import ThreadedServer
from tests.e2e.server import serving

WAIT = 10.0
"""For an answer or an end of connection that is due (a hang only reaches it)."""
HEAD_TIMEOUT = 5.0
"""Long enough to open a thousand connections on a busy machine before the first of them times out."""
HALF_OPEN = 1000
HALF_A_HEAD = b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: "


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class Wire:
    """One connection: raw bytes out, answers parsed one after another (status line, headers, content-length)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None
        assert parts.port is not None
        self.host = f"{parts.hostname}:{parts.port}".encode()
        self.socket = socket.create_connection((parts.hostname, parts.port), timeout=WAIT)
        self.reader: BinaryIO = self.socket.makefile("rb")

    def close(self) -> None:
        self.reader.close()
        self.socket.close()

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        self.socket.sendall(data)

    def answer(self) -> Answer:
        status_line = self.reader.readline()
        assert status_line.startswith(b"HTTP/1.1 "), status_line[:200]
        headers: dict[str, str] = {}
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.reader.read(int(headers.get("content-length", "0")))
        return Answer(int(status_line.split()[1]), headers, body)

    def rest(self) -> bytes:
        """Everything up to the end of the connection."""
        return self.reader.read()


def post_users(host: bytes, body: bytes, request_id: str) -> bytes:
    """A POST /api/v2/users without a token (401 before anything else), head and body in one piece."""
    return (
        b"POST /api/v2/users HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nX-Request-Id: %s\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (host, request_id.encode(), len(body), body)
    )


def json_body(size: int) -> bytes:
    """A JSON object of exactly `size` bytes."""
    start, end = b'{"id":"', b'"}'
    return start + b"a" * (size - len(start) - len(end)) + end


def get(host: bytes, path: str, request_id: str, *, padding: int = 0) -> bytes:
    pad = b"X-Padding: %s\r\n" % (b"p" * padding) if padding else b""
    return b"GET %s HTTP/1.1\r\nHost: %s\r\nX-Request-Id: %s\r\n%s\r\n" % (
        path.encode(),
        host,
        request_id.encode(),
        pad,
    )


def assert_unauthorized(answer: Answer, request_id: str) -> None:
    assert answer.status == 401
    assert answer.headers["x-request-id"] == request_id
    assert answer.body.startswith(b'{"error":"invalid_token"')


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with ThreadedServer() as server:
        yield server.url


# bodies are not headers
@pytest.mark.parametrize("size", [64 * 1024, 256 * 1024, MAX_BODY_BYTES], ids=["64KiB", "256KiB", "1MiB"])
def test_a_body_sent_with_its_head_in_one_piece_is_read_as_a_body(url: str, size: int) -> None:
    with Wire(url) as wire:
        wire.send(post_users(wire.host, json_body(size), f"body-{size}"))
        assert_unauthorized(wire.answer(), f"body-{size}")
        wire.send(get(wire.host, "/__admin/health", "after-the-body"))  # the body was read whole, as a body
        after = wire.answer()
        assert (after.status, after.headers["x-request-id"]) == (200, "after-the-body")


def test_a_head_just_under_the_cap_with_a_body_of_1_mib_is_served(url: str) -> None:
    with Wire(url) as wire:
        head = post_users(wire.host, json_body(MAX_BODY_BYTES), "under-the-cap")
        padding = b"X-Padding: %s\r\n" % (b"p" * (MAX_HEADER_BYTES - 2048))
        wire.send(head.replace(b"\r\n\r\n", b"\r\n" + padding + b"\r\n", 1))
        assert_unauthorized(wire.answer(), "under-the-cap")


@pytest.mark.parametrize("body", [0, MAX_BODY_BYTES], ids=["no-body", "1MiB-body"])
def test_a_head_over_the_cap_is_answered_431_and_the_connection_closed(url: str, body: int) -> None:
    with Wire(url) as wire:
        head = get(wire.host, "/__admin/health", "over-the-cap", padding=MAX_HEADER_BYTES + 1024)
        if body:
            head = head.replace(b"\r\n\r\n", b"\r\nContent-Length: %d\r\n\r\n" % body, 1) + b"b" * body
        with contextlib.suppress(ConnectionResetError):  # the server may refuse before it has read everything
            wire.send(head)
        assert wire.rest() == TOO_LARGE


def test_3000_pipelined_requests_in_one_piece_are_all_answered_in_order(url: str) -> None:
    with Wire(url) as wire:
        requests = b"".join(get(wire.host, "/api/v2/users", f"pipelined-{n}") for n in range(3000))
        assert len(requests) > 2 * MAX_HEADER_BYTES
        sender = threading.Thread(target=wire.send, args=(requests,))  # answers are read while it is sent
        sender.start()
        try:
            for n in range(3000):
                assert_unauthorized(wire.answer(), f"pipelined-{n}")
        finally:
            sender.join(WAIT)
        wire.send(get(wire.host, "/__admin/health", "after-the-pipeline"))
        assert wire.answer().headers["x-request-id"] == "after-the-pipeline"


# slow clients
@pytest.fixture
def open_files() -> Iterator[None]:
    """Room for a thousand client sockets and their thousand server ends (the server runs in this process)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 2 * HALF_OPEN + 1024
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"needs {needed} open files, the hard limit is {hard}")
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def half_open(url: str, count: int) -> list[socket.socket]:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    sockets: list[socket.socket] = []
    for _ in range(count):
        sock = socket.create_connection((parts.hostname, parts.port), timeout=WAIT)
        sockets.append(sock)
        sock.sendall(HALF_A_HEAD)
    return sockets


def arrived(sockets: list[socket.socket]) -> int:
    """How many of `sockets` have received a byte or the end of the connection (a recv would not block)."""
    poll = select.poll()
    for sock in sockets:
        poll.register(sock, select.POLLIN)
    return len(poll.poll(0))


def read_to_the_end(sockets: list[socket.socket], timeout: float) -> dict[socket.socket, bytes]:
    """What each socket receives until the server closes it."""
    received = dict.fromkeys(sockets, b"")
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while selector.get_map() and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.1):
                ready = key.fileobj
                assert isinstance(ready, socket.socket)
                data = ready.recv(4096)
                received[ready] += data
                if not data:
                    selector.unregister(ready)
    return received


@pytest.mark.slow
@pytest.mark.usefixtures("open_files")
def test_a_thousand_half_open_connections_hold_nobody_up_and_are_closed_after_the_head_timeout() -> None:
    with ThreadedServer(head_timeout=HEAD_TIMEOUT) as server:
        waiting = half_open(server.url, HALF_OPEN)
        try:
            with Wire(server.url) as wire:
                wire.send(get(wire.host, "/__admin/health", "meanwhile"))
                answer = wire.answer()
                assert (answer.status, answer.headers["x-request-id"]) == (200, "meanwhile")
            assert arrived(waiting) == 0  # answered while all of them still wait
            received = read_to_the_end(waiting, WAIT)
            assert set(received.values()) == {TIMED_OUT}
        finally:
            for sock in waiting:
                sock.close()


@pytest.mark.slow
def test_serve_head_timeout_closes_a_connection_that_sends_nothing(tmp_path: Path) -> None:
    with (
        serving(tmp_path, "--head-timeout", "0.3", "--log-format", "off") as served,
        Wire(served.url) as silent,
        Wire(served.url) as other,
    ):
        other.send(get(other.host, "/__admin/health", "served"))
        assert other.answer().status == 200
        assert silent.rest() == TIMED_OUT


# DNS rebinding: ThreadedServer answers as `serve` does on loopback
@pytest.mark.parametrize(
    ("host", "status"),
    [("127.0.0.1", 200), ("localhost", 200), ("qa.local", 200), ("attacker.example", 403), ("localhost.evil", 403)],
)
def test_threaded_server_answers_loopback_and_added_host_names_only(host: str, status: int) -> None:
    with ThreadedServer(allowed_hosts=("qa.local",)) as server, Wire(server.url) as wire:
        port = urlsplit(server.url).port
        assert port is not None
        wire.send(b"GET /__admin/health HTTP/1.1\r\nHost: %s:%d\r\nX-Request-Id: host\r\n\r\n" % (host.encode(), port))
        assert wire.answer().status == status
