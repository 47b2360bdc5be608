"""Callbacks (services/callbacks.py): finAPI's URL rule, and attempts over real HTTP to local receivers on 127.0.0.1
(a `CallbackReceiver` in a thread, or raw asyncio servers for broken ones), recorded in the store; outbound fault
rules."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest

from mock_finapi.clock import Clock
from mock_finapi.scenarios.schema import CallbackSpec
from mock_finapi.services import callbacks as callbacks_module
from mock_finapi.services.callbacks import Callbacks
from mock_finapi.services.faults import FaultRequest, matches, parse_rule, view
from mock_finapi.state.webforms import CallbackAttempt
from mock_finapi.testing.callbacks import CallbackReceiver
from mock_finapi.validation import Invalid
from mock_finapi.world import World
from tests.unit.support import REAL, advance, make_world

pytestmark = pytest.mark.anyio

SCENARIO = """\
name: callbacks
seed: 1
clock: {start: "2026-01-01T09:00:00+01:00", frozen: true}
clients:
  - {client_id: a1, client_secret: s, mandator_id: m1, config: {userSynchronizationCallbackUrl: URL_A}}
  - {client_id: a2, client_secret: s, mandator_id: m1, config: {userSynchronizationCallbackUrl: URL_B}}
  - {client_id: a3, client_secret: s, mandator_id: m1}
  - {client_id: b1, client_secret: s, mandator_id: m2, config: {userSynchronizationCallbackUrl: URL_C}}
"""
BODY = {"webFormId": "2b4c6d8e-0000-4000-8000-000000000001", "status": "COMPLETED"}


def world(text: str = SCENARIO, **urls: str) -> World:
    for name, url in urls.items():
        text = text.replace(name, json.dumps(url))
    for name in ("URL_A", "URL_B", "URL_C"):
        text = text.replace(name, "null")
    return make_world(text)


def sender(w: World, **spec: Any) -> Callbacks:
    return Callbacks(w.store, Clock(), CallbackSpec(**spec))


async def attempts(w: World) -> list[CallbackAttempt]:
    return await w.store.callbacks()


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as r:
        yield r


@contextmanager
def refused_port() -> Iterator[int]:
    """A port of 127.0.0.1 held by a socket that does not listen: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@asynccontextmanager
async def raw_server(answer: bytes | None, *, close: bool = True) -> AsyncIterator[str]:
    """An asyncio server on 127.0.0.1 that reads the request head and writes `answer` (None: nothing, and it keeps
    the connection open until the test ends); answers its base URL."""
    held: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        held.append(writer)
        if answer is not None:
            writer.write(answer)
            await writer.drain()
            if close:
                writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        for writer in held:
            writer.transport.abort()
        server.close()
        await server.wait_closed()


# finAPI's URL rule (WEBFORM.md §2.1)
@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:8443/cb",
        "https://host.docker.internal/cb",
        "https://example.com",
        "https://www.example.com/callbacks/finalised?secret=abc&x=1",
        "https://api.example.co.uk:8443/a/b",
        "https://" + "a" * 200 + ".example.com/" + "p" * (2048 - 221),
    ],
)
def test_finapi_rule_takes_https_urls_with_a_dotted_host(url: str) -> None:
    assert len(url) <= 2048
    assert sender(world()).url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://localhost:8080/cb", callbacks_module.MSG_URL_PATTERN),
        ("http://example.com/cb", callbacks_module.MSG_URL_PATTERN),
        ("http://127.0.0.1:8080/cb", callbacks_module.MSG_URL_PATTERN),
        ("http://localhost:8080/cb", callbacks_module.MSG_URL_PATTERN),
        ("http://host.docker.internal/cb", callbacks_module.MSG_URL_PATTERN),
        ("ftp://example.com/cb", callbacks_module.MSG_URL_PATTERN),
        ("https://", callbacks_module.MSG_URL_PATTERN),
        ("", callbacks_module.MSG_URL_PATTERN),
        ("https://example.com/a b", callbacks_module.MSG_URL_PATTERN),
        (" https://example.com/cb", callbacks_module.MSG_URL_PATTERN),
        ("https://example.com/cb\n", callbacks_module.MSG_URL_PATTERN),
        ("https://exa mple.com/cb", callbacks_module.MSG_URL_PATTERN),
        ("https://example.com/" + "p" * (2049 - 20), callbacks_module.MSG_URL_TOO_LONG),
        (5, "must be a string"),
    ],
)
def test_finapi_rule_refuses_http_dotless_hosts_and_long_urls(url: Any, problem: str) -> None:
    assert sender(world()).url_problem(url) == problem


def test_no_url_is_no_problem() -> None:
    assert sender(world()).url_problem(None) is None


def test_the_longest_url_is_2048_characters() -> None:
    base = "https://example.com/"
    check = sender(world()).url_problem
    assert check(base + "p" * (2048 - len(base))) is None
    assert check(base + "p" * (2049 - len(base))) == "must be at most 2048 characters"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/cb",
        "http://localhost:8080/cb",
        "https://localhost:8080/cb",
        "http://[::1]:8080/cb",
        "http://receiver/cb",
        "http://host.docker.internal:9000/finalised?x=1",
        "http://example.com",
        "https://127.0.0.1:8443/cb",
    ],
)
def test_allow_http_takes_http_and_dotless_hosts(url: str) -> None:
    assert sender(world(), allow_http=True).url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/cb", callbacks_module.MSG_URL_LOCAL),
        ("http://", callbacks_module.MSG_URL_LOCAL),
        ("http:///cb", callbacks_module.MSG_URL_LOCAL),
        ("http://localhost:99999/cb", callbacks_module.MSG_URL_LOCAL),
        ("http://localhost:port/cb", callbacks_module.MSG_URL_LOCAL),
        ("http://local host/cb", callbacks_module.MSG_URL_LOCAL),
        ("localhost:8080/cb", callbacks_module.MSG_URL_LOCAL),
        ("http://localhost/" + "p" * 2040, callbacks_module.MSG_URL_TOO_LONG),
    ],
)
def test_allow_http_still_refuses_what_is_no_http_url(url: str, problem: str) -> None:
    assert sender(world(), allow_http=True).url_problem(url) == problem


# outbound fault rules: parsing and matching
def test_a_callback_rule_parses_and_shows_its_match() -> None:
    rule = parse_rule({"name": "slow-cb", "match": {"callback": True, "path": "/hooks/*"}, "delay_ms": 500}, "x")
    assert (rule.callback, rule.path, rule.delay_ms) == (True, "/hooks/*", 500)
    assert not rule.needs_body
    assert view(rule)["match"] == {"callback": True, "path": "/hooks/*"}
    assert "callback" not in view(parse_rule({"match": {"path": "/a"}, "delay_ms": 1}, "x"))["match"]


@pytest.mark.parametrize(
    ("match", "key", "problem"),
    [
        ({"callback": "yes"}, "match.callback", "must be a boolean, not a string"),
        ({"callback": 1}, "match.callback", "must be a boolean, not an integer"),
        ({"callback": True, "client_id": "c"}, "match.client_id", "matches on path and fields only"),
    ],
)
def test_a_bad_callback_rule_is_refused(match: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_rule({"match": match, "respond": {}}, "x")
    assert caught.value.path == key
    assert problem in caught.value.problem


def test_outbound_rules_match_callbacks_only_and_inbound_rules_requests_only() -> None:
    outbound = parse_rule({"match": {"callback": True, "path": "/cb"}, "respond": {}}, "out")
    inbound = parse_rule({"match": {"path": "/cb"}, "respond": {}}, "in")
    everything = parse_rule({"respond": {}}, "all")
    request = FaultRequest("POST", "/cb", {}, None)
    callback = FaultRequest("POST", "/cb", {}, None, callback=True)
    assert (matches(outbound, request), matches(outbound, callback)) == (False, True)
    assert (matches(inbound, request), matches(inbound, callback)) == (True, False)
    assert (matches(everything, request), matches(everything, callback)) == (True, False)
    fields = parse_rule({"match": {"callback": True, "fields": {"status": "EXPIRED"}}, "respond": {}}, "f")
    assert matches(fields, callback._replace(fields={"status": "EXPIRED"}))
    assert not matches(fields, callback._replace(fields={"status": "COMPLETED"}))


# attempts over real HTTP
async def test_a_callback_is_posted_as_json_and_recorded(receiver: CallbackReceiver) -> None:
    w = world()
    callbacks = sender(w, allow_http=True)
    callbacks.send("webForm.finalised", receiver.url + "/finalised?ref=7", BODY, "m1")
    await callbacks.drain()
    [got] = receiver.received
    assert got.path == "/finalised?ref=7"
    assert got.body == BODY
    assert got.raw == json.dumps(BODY, separators=(",", ":")).encode()
    assert got.headers["content-type"] == "application/json"
    assert got.headers["content-length"] == str(len(got.raw))
    assert got.headers["connection"] == "close"
    assert got.headers["host"] == receiver.url.removeprefix("http://")
    [attempt] = await attempts(w)
    assert attempt.kind == "webForm.finalised"
    assert attempt.url == receiver.url + "/finalised?ref=7"
    assert json.loads(attempt.body) == BODY
    assert (attempt.status, attempt.error, attempt.mandator_id, attempt.fault) == (200, None, "m1", None)
    assert 0 < attempt.duration < 5


async def test_the_time_recorded_is_the_virtual_time(receiver: CallbackReceiver) -> None:
    w = world()
    later = await advance(w, 3600)
    callbacks = Callbacks(w.store, w.clock, CallbackSpec())
    callbacks.send("user.deleted", receiver.url, {"userId": "u", "event": "DELETED"}, None)
    await callbacks.drain()
    [attempt] = await attempts(w)
    assert attempt.time == later  # the world's real-time source stands still at REAL
    assert w.clock.real() == REAL


async def test_the_receivers_status_is_recorded_and_redirects_are_not_followed() -> None:
    w = world()
    callbacks = sender(w)
    with CallbackReceiver(status=500) as failing, CallbackReceiver(status=302) as moving:
        callbacks.send("task.finalised", failing.url + "/a", {"taskId": "t", "status": "COMPLETED"}, "m1")
        callbacks.send("task.finalised", moving.url + "/b", {"taskId": "t", "status": "COMPLETED"}, "m1")
        await callbacks.drain()
        assert len(failing.received) == len(moving.received) == 1
    recorded = {a.url.rsplit("/", 1)[1]: (a.status, a.error) for a in await attempts(w)}
    assert recorded == {"a": (500, None), "b": (302, None)}


async def test_sending_returns_at_once_and_drain_waits() -> None:
    w = world()
    callbacks = sender(w, timeout=0.3)
    async with raw_server(None) as url:
        loop = asyncio.get_running_loop()
        started = loop.time()
        callbacks.send("webForm.finalised", url + "/slow", BODY, "m1")
        assert loop.time() - started < 0.05
        assert callbacks.in_flight == 1
        assert await attempts(w) == []
        await callbacks.drain()
        assert callbacks.in_flight == 0
    [attempt] = await attempts(w)
    assert (attempt.status, attempt.error) == (None, "timed out after 0.3 s")
    assert 0.3 <= attempt.duration < 2


async def test_a_refused_connection_is_recorded() -> None:
    w = world()
    callbacks = sender(w)
    with refused_port() as port:
        callbacks.send("webForm.finalised", f"http://127.0.0.1:{port}/cb", BODY, "m1")
        await callbacks.drain()
    [attempt] = await attempts(w)
    assert (attempt.status, attempt.error) == (None, "connection refused")


async def test_a_refused_connection_on_every_address_of_a_name_is_refused() -> None:
    """`localhost` may resolve to ::1 and 127.0.0.1: refused on each is one "connection refused"."""
    w = world()
    callbacks = sender(w)
    with refused_port() as port:
        callbacks.send("webForm.finalised", f"http://localhost:{port}/cb", BODY, None)
        await callbacks.drain()
    [attempt] = await attempts(w)
    assert attempt.error == "connection refused"


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"", "connection closed without an answer"),
        (b"hello\r\n", "malformed answer: no HTTP status line"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "malformed answer: no HTTP status line"),
        (b"X" * 10_000, "malformed answer: no HTTP status line"),
    ],
)
async def test_a_broken_answer_is_recorded(answer: bytes, error: str) -> None:
    w = world()
    callbacks = sender(w)
    async with raw_server(answer) as url:
        callbacks.send("webForm.finalised", url + "/cb", BODY, "m1")
        await callbacks.drain()
    [attempt] = await attempts(w)
    assert (attempt.status, attempt.error) == (None, error)


async def test_the_status_counts_once_the_status_line_is_in() -> None:
    """A receiver that answers its status line and then never finishes: the status is what counts."""
    w = world()
    callbacks = sender(w, timeout=2)
    async with raw_server(b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n", close=False) as url:
        callbacks.send("webForm.finalised", url + "/cb", BODY, "m1")
        await callbacks.drain()
    [attempt] = await attempts(w)
    assert (attempt.status, attempt.error) == (204, None)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("not a url", "invalid URL: spaces or control characters"),
        ("mailto:someone@example.com", "invalid URL: not an http or https URL"),
        ("http:///cb", "invalid URL: no host"),
        ("http://127.0.0.1:99999/cb", "invalid URL: Port out of range 0-65535"),
        ("http://exämple.com/cb", "invalid URL: characters outside ASCII (encode them)"),
    ],
)
async def test_an_unusable_url_is_recorded(url: str, error: str) -> None:
    w = world()
    callbacks = sender(w)
    callbacks.send("webForm.finalised", url, BODY, "m1")
    await callbacks.drain()
    [attempt] = await attempts(w)
    assert (attempt.status, attempt.error) == (None, error)


async def test_a_host_that_does_not_resolve_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolver's answer for an unknown name (made here: a sandbox's DNS may answer slowly or not at all)."""

    async def unknown(self: asyncio.AbstractEventLoop, host: str, *args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop().__class__, "getaddrinfo", unknown)
    w = world()
    callbacks = sender(w)
    callbacks.send("webForm.finalised", "https://nothing.invalid/cb", BODY, "m1")
    await callbacks.drain()
    [attempt] = await attempts(w)
    assert (attempt.status, attempt.error) == (None, "cannot resolve host 'nothing.invalid'")


async def test_https_to_a_plain_http_receiver_is_a_tls_error(receiver: CallbackReceiver) -> None:
    w = world()
    callbacks = sender(w)
    callbacks.send("webForm.finalised", receiver.url.replace("http:", "https:") + "/cb", BODY, "m1")
    await callbacks.drain()
    [attempt] = await attempts(w)
    assert attempt.status is None
    assert attempt.error is not None
    assert attempt.error.startswith("TLS: ")


async def test_callbacks_in_flight_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(callbacks_module, "MAX_IN_FLIGHT", 1)
    w = world()
    callbacks = sender(w, timeout=0.2)
    async with raw_server(None) as url:
        callbacks.send("webForm.finalised", url + "/first", BODY, "m1")
        callbacks.send("webForm.finalised", url + "/second", BODY, "m1")
        await callbacks.drain()
    recorded = {a.url.rsplit("/", 1)[1]: a.error for a in await attempts(w)}
    assert recorded == {"first": "timed out after 0.2 s", "second": "not sent: 1 callbacks were in flight already"}


async def test_send_outside_an_event_loop_does_not_raise() -> None:
    w = world()
    callbacks = sender(w)
    await asyncio.to_thread(callbacks.send, "webForm.finalised", "https://example.com/cb", BODY, "m1")
    assert callbacks.in_flight == 0


# outbound fault rules acting
FAULTS = """\
name: callback-faults
seed: 1
clients:
  - {client_id: c, client_secret: s, mandator_id: m1}
faults:
  - name: request-rule
    match: {path: /slow}
    respond: {status: 500}
  - name: slow-receiver
    match: {callback: true, path: /slow}
    delay_ms: 300
  - name: lost
    match: {callback: true, path: /lost/*}
    network: connection_reset
  - name: refused-expired
    match: {callback: true, fields: {status: EXPIRED}}
    respond: {status: 503}
    times: 1
"""


async def test_a_delay_rule_delays_the_attempt(receiver: CallbackReceiver) -> None:
    w = world(FAULTS)
    callbacks = sender(w)
    callbacks.send("webForm.finalised", receiver.url + "/slow", BODY, "m1")
    callbacks.send("webForm.finalised", receiver.url + "/fast", BODY, "m1")
    await callbacks.drain()
    recorded = {a.url.rsplit("/", 1)[1]: a for a in await attempts(w)}
    assert (recorded["slow"].status, recorded["slow"].fault) == (200, "slow-receiver")
    assert recorded["slow"].duration >= 0.3
    assert (recorded["fast"].status, recorded["fast"].fault) == (200, None)
    assert recorded["fast"].duration < 0.3
    assert [c.path for c in receiver.received] == ["/fast", "/slow"]


async def test_failing_rules_fail_the_attempt_without_sending(receiver: CallbackReceiver) -> None:
    w = world(FAULTS)
    callbacks = sender(w)
    expired = {"webFormId": BODY["webFormId"], "status": "EXPIRED"}
    callbacks.send("webForm.finalised", receiver.url + "/lost/1", BODY, "m1")
    callbacks.send("webForm.finalised", receiver.url + "/x", expired, "m1")
    await callbacks.drain()
    callbacks.send("webForm.finalised", receiver.url + "/y", expired, "m1")  # `times: 1` is used up
    await callbacks.drain()
    recorded = {a.url.rsplit("/", 1)[1]: (a.status, a.error, a.fault) for a in await attempts(w)}
    assert recorded == {
        "1": (None, "injected fault 'lost'", "lost"),
        "x": (None, "injected fault 'refused-expired'", "refused-expired"),
        "y": (200, None, None),
    }
    assert [c.path for c in receiver.received] == ["/y"]
    counts = {c.rule.name: (c.matched, c.fired) for c in await w.store.fault_counts()}
    assert counts == {"request-rule": (0, 0), "slow-receiver": (0, 0), "lost": (1, 1), "refused-expired": (2, 1)}


async def test_a_stop_ends_a_delay_and_the_callback_is_not_sent(receiver: CallbackReceiver) -> None:
    w = world(FAULTS.replace("delay_ms: 300", "delay_ms: 60000"))
    callbacks = sender(w)
    callbacks.send("webForm.finalised", receiver.url + "/slow", BODY, "m1")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await callbacks.drain(grace=0.1)
    assert loop.time() - started < 2
    [attempt] = await attempts(w)
    assert (attempt.status, attempt.error, attempt.fault) == (None, "not sent: the emulator stopped", "slow-receiver")
    assert receiver.received == []


async def test_a_stop_ends_an_attempt_waiting_for_its_answer() -> None:
    w = world()
    callbacks = sender(w, timeout=30)
    async with raw_server(None) as url:
        callbacks.send("webForm.finalised", url + "/cb", BODY, "m1")
        await asyncio.sleep(0.05)
        await callbacks.drain(grace=0.1)
    [attempt] = await attempts(w)
    assert (attempt.status, attempt.error) == (None, "no answer: the emulator stopped")
    assert attempt.duration < 2


# user deletion
async def test_user_deletion_goes_to_every_client_of_the_mandator() -> None:
    with CallbackReceiver() as a, CallbackReceiver() as b, CallbackReceiver() as c:
        w = world(URL_A=a.url + "/sync", URL_B=b.url + "/users?k=1", URL_C=c.url)
        callbacks = sender(w)
        await callbacks.user_deleted("m1", ["Alice", "bob"])
        await callbacks.user_deleted("m1", [])
        await callbacks.drain()
        bodies = sorted((r.path, json.dumps(r.body)) for r in a.received)
        assert bodies == [
            ("/sync", '{"userId": "Alice", "event": "DELETED"}'),
            ("/sync", '{"userId": "bob", "event": "DELETED"}'),
        ]
        assert sorted((r.path, r.body["userId"]) for r in b.received) == [
            ("/users?k=1", "Alice"),
            ("/users?k=1", "bob"),
        ]
        assert c.received == []
    recorded = await attempts(w)
    assert len(recorded) == 4
    assert {(a.kind, a.mandator_id, a.status) for a in recorded} == {("user.deleted", "m1", 200)}


async def test_deleting_a_web_form_drops_its_callbacks_not_yet_sent(receiver: CallbackReceiver) -> None:
    w = world(FAULTS.replace("delay_ms: 300", "delay_ms: 60000"))
    callbacks = sender(w)
    other = {"webFormId": "2b4c6d8e-0000-4000-8000-000000000002", "status": "COMPLETED"}
    callbacks.send("webForm.finalised", receiver.url + "/slow", BODY, "m1")
    callbacks.send("webForm.finalised", receiver.url + "/fast", other, "m1")
    await asyncio.sleep(0.05)
    assert callbacks.drop(BODY["webFormId"]) == 1
    assert callbacks.drop(other["webFormId"]) == 0  # sent already
    await callbacks.drain()
    recorded = {a.url.rsplit("/", 1)[1]: (a.status, a.error, a.fault) for a in await attempts(w)}
    assert recorded == {
        "slow": (None, "not sent: its web form was deleted", "slow-receiver"),
        "fast": (200, None, None),
    }
    assert [c.path for c in receiver.received] == ["/fast"]


async def test_a_closed_sender_ends_its_callbacks_unrecorded_and_sends_no_more(receiver: CallbackReceiver) -> None:
    w = world(FAULTS.replace("delay_ms: 300", "delay_ms: 60000"))
    callbacks = sender(w, timeout=30)
    async with raw_server(None) as silent:
        callbacks.send("webForm.finalised", receiver.url + "/slow", BODY, "m1")  # delayed by the rule
        callbacks.send("webForm.finalised", silent + "/cb", BODY, "m1")  # waiting for an answer
        await asyncio.sleep(0.05)
        loop = asyncio.get_running_loop()
        started = loop.time()
        callbacks.close()
        await callbacks.drain()
        assert loop.time() - started < 2
        callbacks.send("webForm.finalised", receiver.url + "/fast", BODY, "m1")
        assert callbacks.in_flight == 0
    assert await attempts(w) == []
    assert receiver.received == []
