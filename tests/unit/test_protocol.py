"""The HTTP protocol `serve` runs (uvicorn's httptools protocol, `http/protocol.py`), driven through a transport that
records what it is given: each answer leaves in one write (one TCP segment), whatever its method or body."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import uvicorn
from uvicorn.server import ServerState

from mock_finapi.http.app import create_app
from mock_finapi.http.protocol import _Corked, http_protocol
from mock_finapi.settings import Settings
from tests.helpers import CLIENT_CREDENTIALS

WAIT = 5.0
TOKEN_BODY = urlencode(CLIENT_CREDENTIALS).encode()
TOKEN_REQUEST = (
    b"POST /api/v2/oauth/token HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(TOKEN_BODY), TOKEN_BODY)
)


class Recording(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 40000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def exchange(*steps: tuple[bytes, int]) -> list[bytes]:
    """On one connection, for each step feed its bytes and wait until the transport holds its count of writes; then
    what was written (a little later, so that a write too many would show)."""

    async def run() -> list[bytes]:
        protocol_class = http_protocol()
        config = uvicorn.Config(create_app(Settings()), http=protocol_class, lifespan="off", log_level="warning")
        protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
        transport = Recording()
        protocol.connection_made(transport)
        for data, writes in steps:
            protocol.data_received(data)
            for _ in range(int(WAIT / 0.001)):
                if len(transport.writes) >= writes:
                    break
                await asyncio.sleep(0.001)
        await asyncio.sleep(0.05)
        return transport.writes

    return asyncio.run(run())


def test_an_answer_is_one_write_of_head_and_body() -> None:
    [answer] = exchange((TOKEN_REQUEST, 1))
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert f"content-length: {len(body)}".encode() in head.split(b"\r\n")
    assert body.startswith(b'{"access_token":"')


def test_answers_on_a_kept_alive_connection_are_one_write_each() -> None:
    health = b"GET /__admin/health HTTP/1.1\r\nHost: t\r\n\r\n"
    first, second = exchange((TOKEN_REQUEST + health, 2))
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert first.endswith(b'"scope":"all"}')
    assert second.startswith(b"HTTP/1.1 200 OK\r\n")
    assert second.endswith(b'{"status":"ok","scenario":"default"}')


def test_a_head_answer_is_written_although_it_has_no_body() -> None:
    [answer] = exchange((b"HEAD /__admin/health HTTP/1.1\r\nHost: t\r\n\r\n", 1))
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b"\r\n\r\n")


def test_a_client_expecting_100_continue_gets_it_at_once_and_then_the_answer_in_one_write() -> None:
    head, body = TOKEN_REQUEST.split(b"\r\n\r\n", 1)
    expecting = head + b"\r\nExpect: 100-continue\r\n\r\n"
    go_on, answer = exchange((expecting, 1), (body, 2))
    assert go_on == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b'"scope":"all"}')


def test_a_head_whose_body_never_comes_is_written_when_the_connection_closes() -> None:
    transport = Recording()
    corked = _Corked(transport)
    corked.hold()
    corked.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert transport.writes == []
    corked.close()
    assert transport.writes == [b"HTTP/1.1 200 OK\r\n\r\n"]
    assert transport.closed
