"""Hostile input (issue 6, point 6) beyond tests/api/test_http_errors.py: oversized and repeated headers over a real
socket, repeated form keys, deeply nested and broken JSON on every JSON endpoint, path tricks and Python tags in
admin scenario loads, and constant-time secret checks."""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_finapi import bodies, cli, credentials, errors
from mock_finapi.http.app import create_app
from mock_finapi.settings import Settings
from mock_finapi.testing.inprocess import InProcessClient
from mock_finapi.testing.server import ThreadedServer
from tests.api.admin_helpers import CREDENTIALS, TWO_MANDATORS
from tests.api.test_http_errors import SELFGEN, assert_error
from tests.helpers import (
    CLIENT_CREDENTIALS,
    CLIENT_ID,
    CLIENT_SECRET,
    TOKEN_PATH,
    assert_token_answer,
    bearer,
    client_token,
    password_grant,
    user_tokens,
)
from tests.helpers import SCENARIO as SUITE_SCENARIO

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
INVALID_CLIENT = {"error": "invalid_client", "error_description": errors.MSG_BAD_CLIENT}
MANDATOR = "2c6b8f0e-7d42-4f1a-9a43-1f0c2d3e4a5b"
TIMEOUT = 10.0
SCENARIO = """\
name: {name}
clients:
  - {{client_id: c, client_secret: s}}
"""


# ------------------------------------------------------------------------------------------ headers, real socket
@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer(scenario=SUITE_SCENARIO, seed=1) as served:
        yield served


@pytest.fixture(scope="module")
def user_token(server: ThreadedServer) -> str:
    response = httpx.post(server.url + TOKEN_PATH[2], data=password_grant(), timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def raw_request(server: ThreadedServer, data: bytes) -> bytes:
    """Send `data` on a fresh connection and read until the server closes it (requests say `Connection: close`)."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
        with contextlib.suppress(OSError):  # the server may refuse and close before reading all: its answer stays
            sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
        return b"".join(chunks)


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer[9:12])


def assert_still_serving(server: ThreadedServer, user_token: str) -> None:
    response = httpx.get(server.url + "/api/v2/users", headers=bearer(user_token), timeout=TIMEOUT)
    assert (response.status_code, response.json()["id"]) == (200, "username")


def get_users(token: str, *extra: bytes) -> bytes:
    lines = [b"GET /api/v2/users HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close", b"Authorization: Bearer "]
    lines[-1] += token.encode()
    return b"\r\n".join([*lines, *extra]) + b"\r\n\r\n"


@pytest.mark.parametrize("size", [64 * 1024, 1024 * 1024], ids=["64KiB", "1MiB"])
def test_headers_over_64_kib_are_refused_with_431_and_the_server_keeps_serving(
    server: ThreadedServer, user_token: str, size: int
) -> None:
    answer = raw_request(server, get_users(user_token, b"X-Padding: " + b"a" * size))
    assert status_of(answer) == 431
    assert_still_serving(server, user_token)


def test_many_headers_are_refused_with_431_and_the_server_keeps_serving(
    server: ThreadedServer, user_token: str
) -> None:
    answer = raw_request(server, get_users(user_token, *(b"X-H%d: v" % i for i in range(20_000))))
    assert status_of(answer) == 431
    assert_still_serving(server, user_token)


def test_headers_just_under_the_limit_are_served(server: ThreadedServer, user_token: str) -> None:
    answer = raw_request(server, get_users(user_token, b"X-Padding: " + b"a" * (60 * 1024)))
    assert status_of(answer) == 200
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["id"] == "username"


def test_an_oversized_request_id_header_answers_400_with_a_generated_id(
    server: ThreadedServer, user_token: str
) -> None:
    response = httpx.get(
        server.url + "/api/v2/users", headers=bearer(user_token) | {"X-Request-Id": "r" * 4096}, timeout=TIMEOUT
    )
    body = assert_error(response, 400, "BAD_REQUEST", errors.MSG_REQUEST_ID_TOO_LONG)
    assert SELFGEN.fullmatch(body["requestId"])
    assert_still_serving(server, user_token)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /api/v2/users HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Bad: a\x00b\r\n\r\n",
        b"GET /api/v2/users HTTP/1.1\r\nHost: x\r\nConnection: close\r\nBad Header Name: v\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
    ],
    ids=["NUL-in-header", "space-in-header-name", "TLS-hello"],
)
def test_requests_the_http_parser_refuses_get_its_400_and_the_server_keeps_serving(
    server: ThreadedServer, user_token: str, request_bytes: bytes
) -> None:
    answer = raw_request(server, request_bytes)
    assert status_of(answer) == 400  # uvicorn's plain-text 400 (README: "What it does not emulate")
    assert_still_serving(server, user_token)


def test_a_128_kib_request_line_is_refused_with_431(server: ThreadedServer, user_token: str) -> None:
    line = b"GET /api/v2/users?" + b"q" * (128 * 1024) + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    assert status_of(raw_request(server, line)) == 431
    assert_still_serving(server, user_token)


def test_a_client_that_leaves_mid_headers_disturbs_nothing(server: ThreadedServer, user_token: str) -> None:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    for _ in range(20):
        with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
            sock.sendall(b"GET /api/v2/users HTTP/1.1\r\nHost: x\r\nX-Partial: " + b"a" * 10_000)
    assert_still_serving(server, user_token)


# -------------------------------------------------------------------------------------------- repeated keys
def token_request(client: httpx.Client, body: str, query: str = "") -> httpx.Response:
    return client.post(TOKEN_PATH[2] + (f"?{query}" if query else ""), content=body.encode(), headers=FORM)


def assert_granted_or_refused(response: httpx.Response, status: int) -> None:
    """A client token (200), or the refusal of the client's credentials (401)."""
    if status == 200:
        assert_token_answer(response)
    else:
        assert (response.status_code, response.json()) == (401, INVALID_CLIENT)


def test_a_repeated_form_key_takes_its_first_value(client: httpx.Client) -> None:
    """Documented in mock_finapi/http/body.py (as a servlet's getParameter: the first value of a repeated key)."""
    creds = f"client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"
    first_cc = token_request(client, f"grant_type=client_credentials&grant_type=password&{creds}")
    assert first_cc.status_code == 200
    assert "refresh_token" not in first_cc.json()
    first_password = token_request(
        client, f"grant_type=password&grant_type=client_credentials&{creds}&username=username&password=password"
    )
    assert first_password.status_code == 200
    assert "refresh_token" in first_password.json()


@pytest.mark.parametrize(
    ("secrets", "status"),
    [(("wrong", CLIENT_SECRET), 401), ((CLIENT_SECRET, "wrong"), 200)],
    ids=["wrong-first", "right-first"],
)
def test_a_repeated_client_secret_is_judged_by_its_first_value(
    client: httpx.Client, secrets: tuple[str, str], status: int
) -> None:
    body = f"grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={secrets[0]}&client_secret={secrets[1]}"
    assert_granted_or_refused(token_request(client, body), status)


@pytest.mark.parametrize(
    ("in_body", "in_query", "status"), [(CLIENT_SECRET, "wrong", 200), ("wrong", CLIENT_SECRET, 401)]
)
def test_a_body_field_beats_the_same_query_parameter(
    client: httpx.Client, in_body: str, in_query: str, status: int
) -> None:
    body = f"grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={in_body}"
    assert_granted_or_refused(token_request(client, body, f"client_secret={in_query}"), status)


def test_a_repeated_json_key_takes_its_last_value_as_jackson_does(client: httpx.Client) -> None:
    content = b'{"id": "first-id", "id": "second-id", "password": "password"}'
    headers = bearer(client_token(client)) | {"Content-Type": "application/json"}
    response = client.post("/api/v2/users", content=content, headers=headers)
    assert (response.status_code, response.json()["id"]) == (201, "second-id")


def test_a_repeated_request_id_header_echoes_the_first(client: httpx.Client) -> None:
    request = client.build_request("GET", "/api/v2/nothing")
    request.headers = httpx.Headers([("X-Request-Id", "first"), ("X-Request-Id", "second")])
    response = client.send(request)
    assert response.headers.get_list("x-request-id") == ["first"]
    assert response.json()["requestId"] == "first"


@pytest.mark.parametrize(("order", "status"), [("valid-first", 200), ("invalid-first", 401)])
def test_a_repeated_authorization_header_is_judged_by_the_first(client: httpx.Client, order: str, status: int) -> None:
    valid = ("Authorization", f"Bearer {client_token(client)}")
    invalid = ("Authorization", "Bearer not-a-token")
    request = client.build_request("GET", "/api/v2/clientConfiguration")
    request.headers = httpx.Headers([valid, invalid] if order == "valid-first" else [invalid, valid])
    response = client.send(request)
    assert response.status_code == status
    if status == 200:
        assert response.json()["userAccessTokensValidityPeriod"] == 3600  # the client's configuration
    else:
        assert response.json()["error"] == "invalid_token"


def live_tokens(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get("/__admin/state/tokens")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["tokens"]
    return found


def test_an_oversized_request_id_on_the_token_endpoint_issues_no_token(client: httpx.Client) -> None:
    user_tokens(client)  # some tokens beforehand: none may be added, none reused
    before = live_tokens(client)
    response = client.post(
        TOKEN_PATH[2], data=CLIENT_CREDENTIALS, headers={b"X-Request-Id": ("é" * 256).encode("latin-1")}
    )
    assert_error(response, 400, "BAD_REQUEST", errors.MSG_REQUEST_ID_TOO_LONG)
    assert "access_token" not in response.text
    assert live_tokens(client) == before


# ---------------------------------------------------------------------------------- JSON on every JSON endpoint
def json_endpoints(client: httpx.Client) -> list[tuple[str, str, dict[str, str]]]:
    ct = bearer(client_token(client))
    ut = bearer(client.post(TOKEN_PATH[2], data=password_grant()).json()["access_token"])
    return [
        ("POST", "/api/v1/processes", {}),
        ("POST", f"/api/v1/processes/{MANDATOR}/link", {}),
        ("PATCH", "/api/v2/users", ut),
        ("PATCH", "/api/v1/users", ut),
        ("POST", "/api/v2/users/requestPasswordChange", ct),
        ("POST", "/api/v2/users/executePasswordChange", ct),
        ("POST", "/__admin/clock", {}),
        ("POST", "/__admin/requests/count", {}),
        ("POST", "/__admin/scenario", {}),
        ("POST", "/__admin/faults", {}),
    ]


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"x": "\xff"}',
        b'{"x": "\\udc00"}',
    ],
    ids=["nested-arrays", "nested-objects", "invalid-UTF-8", "lone-surrogate"],
)
def test_every_json_endpoint_refuses_unusable_json_with_400(client: httpx.Client, content: bytes) -> None:
    for method, path, headers in json_endpoints(client):
        response = client.request(method, path, content=content, headers=headers | {"Content-Type": "application/json"})
        assert response.status_code == 400, (method, path, response.text)
        message = response.json()["errors"][0]["message"]
        assert message == errors.MSG_MALFORMED_JSON, (method, path, message)
    assert client.get("/__admin/health").json()["scenario"] == SUITE_SCENARIO


# ------------------------------------------------------------------ a journal that cannot be poisoned (issue 16)
POISON = [
    (b'{"id": "\\ud800", "password": "pw"}', "application/json"),
    (b'{"\\udc00": "x", "client_id": "\\ud800"}', "application/json"),
    (b'"\\ud800"', "application/json"),
    (b'{"id": "\xed\xa0\x80"}', "application/json"),  # a surrogate in CESU-8
    (b'{"a": ' * 300 + b"1" + b"}" * 300, "application/json"),
    (b'{"password": ' * 1_000 + b'"pw"' + b"}" * 1_000, "application/json"),
    (b"[" * 1_000 + b"]" * 1_000, "application/json"),
    (b'{"a": ' + b"[" * 999 + b"]" * 999 + b"}", "application/json"),
    (b'{"id": "\xff\xfe", "password": "pw"}', "application/json"),
    (b'{"id": "\\u0000", "password": "\x00"}', "application/json"),
    (b"\x00" * 64, "application/json"),
    (b"client_id=\xff\xfe&client_secret=x", "application/x-www-form-urlencoded"),
    (b"client_id=%ED%A0%80&client_secret=%FF", "application/x-www-form-urlencoded"),
    (b"client_id=\x00&password=\x00\x00&grant_type=password", "application/x-www-form-urlencoded"),
    (b"client_id=%00&" + b"a[" * 1_000, "application/x-www-form-urlencoded"),
    (b"\x00\xff" * 64, "text/plain; charset=\xff"),
]
POISON_IDS = [
    "lone-surrogate",
    "lone-surrogate-key",
    "lone-surrogate-document",
    "CESU-8",
    "objects-300",
    "password-objects-1000",
    "arrays-1000",
    "arrays-999-in-an-object",
    "invalid-UTF-8",
    "NUL-in-JSON",
    "NUL-document",
    "invalid-UTF-8-form",
    "surrogate-form",
    "NUL-form",
    "brackets-form",
    "binary-other-type",
]
POISONED_PATHS = [
    ("POST", "/api/v2/oauth/token"),
    ("POST", "/oauth/token"),
    ("POST", "/api/v2/users"),
    ("PATCH", "/api/v2/users"),
    ("POST", "/api/v1/processes"),
    ("PATCH", "/api/v1/clientConfiguration"),
    ("POST", "/api/v2/nothing"),
    ("PUT", "/x/%00/%ff"),
]


def assert_journal_answers(client: httpx.Client, count: int) -> None:
    """Every way to read, count and clear the journal answers 200 over `count` entries."""
    for params in ({}, {"limit": "1"}, {"method": "POST"}, {"path": "/api/*"}):
        response = client.get("/__admin/requests", params=params)
        assert response.status_code == 200, (params, response.text)
    assert len(client.get("/__admin/requests").json()["requests"]) == count
    for matcher in (None, {"path": "*"}, {"status": 400}):
        response = client.post("/__admin/requests/count", json=matcher)
        assert response.status_code == 200, (matcher, response.text)
    assert client.post("/__admin/requests/count").json() == {"count": count}
    assert client.delete("/__admin/requests", params={"path": "/api/v2/*"}).status_code == 200
    deleted = client.delete("/__admin/requests")
    assert deleted.status_code == 200, deleted.text
    assert client.post("/__admin/requests/count").json() == {"count": 0}


def raw_headers(content_type: str, token: str | None = None) -> dict[bytes, bytes]:
    """A Content-Type of any bytes (httpx encodes str values as ASCII), and the bearer token when given."""
    headers = {b"Content-Type": content_type.encode("latin-1")}
    if token is not None:
        headers[b"Authorization"] = b"Bearer " + token.encode()
    return headers


def add_field_rules(client: httpx.Client) -> None:
    """Rules that match on the fields and client of every request (and never fire)."""
    for rule in (
        {"name": "fields", "match": {"fields": {"client_id": "nobody"}}, "respond": {"status": 503}},
        {"name": "client", "match": {"client_id": "nobody"}, "respond": {"status": 503}},
    ):
        assert client.post("/__admin/faults", json=rule).status_code == 201


@pytest.mark.parametrize(("content", "content_type"), POISON, ids=POISON_IDS)
def test_no_body_poisons_the_journal(client: httpx.Client, content: bytes, content_type: str) -> None:
    add_field_rules(client)
    headers = raw_headers(content_type, client_token(client))
    for method, path in POISONED_PATHS:
        response = client.request(method, path, content=content, headers=headers)
        assert response.status_code < 500, (method, path, response.text)
    assert_journal_answers(client, 1 + len(POISONED_PATHS))


def test_no_body_poisons_the_journal_of_a_server_over_a_socket(server: ThreadedServer) -> None:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        add_field_rules(client)
        assert client.delete("/__admin/requests").status_code == 200
        for content, content_type in POISON:
            for method, path in POISONED_PATHS[:3]:
                response = client.request(method, path, content=content, headers=raw_headers(content_type))
                assert response.status_code < 500, (method, path, response.text)
        assert_journal_answers(client, 3 * len(POISON))
        assert client.delete("/__admin/faults").status_code == 200


def test_a_mandator_reset_after_poisoned_requests_answers_200_and_keeps_the_other_mandators() -> None:
    with InProcessClient(create_app(Settings(scenario=TWO_MANDATORS))) as client:
        add_field_rules(client)
        tokens = {}
        for side, (client_id, secret) in CREDENTIALS.items():
            grant = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
            tokens[side] = client.post(TOKEN_PATH[2], data=grant).json()["access_token"]
            for content, content_type in POISON:
                headers = raw_headers(content_type, tokens[side])
                for method, path in POISONED_PATHS:
                    assert client.request(method, path, content=content, headers=headers).status_code < 500
        created = client.post(
            "/api/v2/users", json={"id": "new-b", "password": "password-b"}, headers=bearer(tokens["b"])
        )
        assert created.status_code == 201, created.text
        users_b = client.get("/__admin/state/users", params={"mandator": "mandator-b"}).json()
        tokens_before = client.get("/__admin/state/tokens").json()["tokens"]
        journal_b = client.get("/__admin/requests", params={"mandator": "mandator-b"}).json()
        assert len(journal_b["requests"]) > len(POISON) * len(POISONED_PATHS) / 2
        total = client.post("/__admin/requests/count").json()["count"]
        count_a = client.post("/__admin/requests/count", json={"mandator": "mandator-a"}).json()["count"]
        assert count_a > len(POISON) * len(POISONED_PATHS) / 2

        reset = client.post("/__admin/reset", params={"mandator": "mandator-a"})
        assert (reset.status_code, reset.json()) == (200, {"reset": "mandator-a", "scenario": "two-mandators"})
        assert client.get("/__admin/state/users", params={"mandator": "mandator-b"}).json() == users_b
        assert client.get("/__admin/requests", params={"mandator": "mandator-b"}).json() == journal_b
        assert client.post("/__admin/requests/count", json={"mandator": "mandator-a"}).json() == {"count": 0}
        tokens_after = client.get("/__admin/state/tokens").json()["tokens"]
        assert tokens_after == [t for t in tokens_before if t["mandatorId"] == "mandator-b"]
        config = client.get("/api/v2/clientConfiguration", headers=bearer(tokens["b"]))
        assert config.status_code == 200, config.text
        assert client.get("/api/v2/clientConfiguration", headers=bearer(tokens["a"])).status_code == 401
        assert_journal_answers(client, total - count_a + 2)


# fault rules are bounded (issue 16, points 2 and 4)
RULE_TEXTS = [
    ("name", lambda text: {"name": text}, "name"),
    ("method", lambda text: {"match": {"method": text}}, "match.method"),
    ("path", lambda text: {"match": {"path": "/" + text[1:]}}, "match.path"),
    ("client_id", lambda text: {"match": {"client_id": text}}, "match.client_id"),
    ("field value", lambda text: {"match": {"fields": {"f": text}}}, "match.fields.f"),
    ("field name", lambda text: {"match": {"fields": {text: "v"}}}, "match.fields"),
]


@pytest.mark.parametrize(("rule_of", "key"), [(r, k) for _, r, k in RULE_TEXTS], ids=[i for i, _, _ in RULE_TEXTS])
def test_fault_rule_texts_take_at_most_400_characters(
    client: httpx.Client, rule_of: Callable[[str], dict[str, Any]], key: str
) -> None:
    for length, status in ((400, 201), (401, 400)):
        rule = {"name": f"rule-{length}", "respond": {"status": 503}} | rule_of("x" * length)
        response = client.post("/__admin/faults", json=rule)
        assert response.status_code == status, response.text
    message = response.json()["errors"][0]["message"]
    assert message.startswith(f"{key}: "), message
    assert "at most 400 characters" in message
    assert [rule["name"] for rule in client.get("/__admin/faults").json()["faults"]] == [
        "x" * 400 if key == "name" else "rule-400"
    ]


def nested_yaml(depth: int) -> str:
    """A JSON value `depth` deep, as YAML flow: [{"a": [{"a": … 1 …}]}]."""
    return "[{a: " * (depth // 2) + "[" * (depth % 2) + "1" + "]" * (depth % 2) + "}]" * (depth // 2)


def fault_scenario(depth: int) -> str:
    body = nested_yaml(depth)
    return SCENARIO.format(name="deep") + f"faults:\n  - {{name: deep, respond: {{status: 500, body: {body}}}}}\n"


def test_a_fault_body_as_deep_as_a_json_body_may_be_is_answered(client: httpx.Client) -> None:
    loaded = client.post("/__admin/scenario", json={"yaml": fault_scenario(bodies.MAX_JSON_DEPTH)})
    assert loaded.status_code == 200, loaded.text
    answer = client.get("/api/v2/users")
    assert (answer.status_code, answer.text) == (500, nested_yaml(bodies.MAX_JSON_DEPTH).replace("a: ", '"a":'))
    assert client.get("/__admin/faults").status_code == 200


@pytest.mark.parametrize("depth", [bodies.MAX_JSON_DEPTH + 1, 300])
def test_a_fault_body_nested_deeper_than_a_json_body_may_be_is_refused(client: httpx.Client, depth: int) -> None:
    response = client.post("/__admin/scenario", json={"yaml": fault_scenario(depth)})
    message = f"<admin>:5: faults[0].respond.body: must not nest objects and arrays deeper than {bodies.MAX_JSON_DEPTH}"
    assert_error(response, 400, "BAD_REQUEST", message)
    assert client.get("/__admin/health").json()["scenario"] == SUITE_SCENARIO


# --------------------------------------------------------------------------------------- admin scenario paths
@contextmanager
def emulator(**settings: Any) -> Iterator[InProcessClient]:
    with InProcessClient(create_app(Settings(**settings))) as client:
        yield client


def load_path(client: httpx.Client, value: str) -> httpx.Response:
    return client.post("/__admin/scenario", json={"path": value})


def outside_message(value: str) -> str:
    return f"'{value}' is outside the scenario directories (add one with --scenario-dir)"


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    """An allowed scenario folder and, beside it, an `outside` folder and an `allowed-evil` folder (a name that
    starts like the allowed one), each with a valid scenario."""
    allowed, outside, evil = tmp_path / "allowed", tmp_path / "outside", tmp_path / "allowed-evil"
    for folder in (allowed, outside, evil):
        folder.mkdir()
        (folder / "valid.yaml").write_text(SCENARIO.format(name=folder.name), encoding="utf-8")
    return allowed, outside


def test_paths_that_leave_the_scenario_dir_by_any_spelling_are_refused(dirs: tuple[Path, Path]) -> None:
    allowed, outside = dirs
    (allowed / "sub").symlink_to(outside, target_is_directory=True)
    (allowed / "dev-zero.yaml").symlink_to("/dev/zero")
    refused = [
        "sub/valid.yaml",  # a folder link pointing outside
        "dev-zero.yaml",  # a link to an endless device
        f"{allowed}/../outside/valid.yaml",  # absolute, through the allowed folder
        f"{allowed}-evil/valid.yaml",  # a sibling whose name starts with the allowed folder's
        "../allowed-evil/valid.yaml",
        "./../outside/valid.yaml",
        "sub/../../outside/valid.yaml",
        "//etc/passwd",
        "/proc/self/environ",
    ]
    with emulator(scenario_dirs=(str(allowed),)) as client:
        for value in refused:
            assert_error(load_path(client, value), 400, "BAD_REQUEST", outside_message(value))
        assert client.get("/__admin/health").json()["scenario"] == "default"


def test_a_symlink_loop_in_the_scenario_dir_is_refused_with_400(dirs: tuple[Path, Path]) -> None:
    allowed, _ = dirs
    (allowed / "loop.yaml").symlink_to(allowed / "loop.yaml")
    with emulator(scenario_dirs=(str(allowed),)) as client:
        assert_error(load_path(client, "loop.yaml"), 400, "BAD_REQUEST", "'loop.yaml' is not a usable file path")


def test_outside_paths_are_refused_alike_whether_or_not_the_file_exists(dirs: tuple[Path, Path]) -> None:
    allowed, _ = dirs
    with emulator(scenario_dirs=(str(allowed),)) as client:
        for value in ("../outside/valid.yaml", "../outside/missing.yaml", "/etc/hostname", "/etc/no-such-file"):
            assert_error(load_path(client, value), 400, "BAD_REQUEST", outside_message(value))


@pytest.mark.parametrize(
    "value",
    [
        "..%2Foutside%2Fvalid.yaml",
        "%2E%2E/outside/valid.yaml",
        "..%252Foutside%252Fvalid.yaml",
        "..\\outside\\valid.yaml",
        "~/valid.yaml",
        "file:../outside/valid.yaml",
        "$HOME/valid.yaml",
    ],
)
def test_encoded_or_shell_spelled_paths_are_taken_literally(dirs: tuple[Path, Path], value: str) -> None:
    """No URL decoding, backslash folding, tilde or variable expansion: the name is a (missing) file in the folder."""
    allowed, _ = dirs
    with emulator(scenario_dirs=(str(allowed),)) as client:
        response = load_path(client, value)
        assert_error(response, 404, "UNKNOWN_ENTITY", f"No scenario file '{value}'")
        assert client.get("/__admin/health").json()["scenario"] == "default"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_or_folder_in_the_scenario_dir_is_no_scenario_file_and_blocks_nothing(
    dirs: tuple[Path, Path],
) -> None:
    allowed, _ = dirs
    os.mkfifo(allowed / "pipe.yaml")  # reading it would block the server forever
    (allowed / "folder.yaml").mkdir()
    with emulator(scenario_dirs=(str(allowed),)) as client:
        for value in ("pipe.yaml", "folder.yaml"):
            assert_error(load_path(client, value), 404, "UNKNOWN_ENTITY", f"No scenario file '{value}'")


# ---------------------------------------------------------------------------------------- YAML with Python tags
def python_tag_scenarios(marker: Path) -> list[str]:
    command = f"touch {marker}"
    return [
        f"name: !!python/object/apply:os.system ['{command}']\n",
        f"name: t\ndescription: !!python/object/apply:subprocess.call [['touch', '{marker}']]\n",
        f"name: t\nclients:\n  - !!python/object/new:os.system ['{command}']\n",
        "name: !!python/name:os.system\n",
        "name: !!python/module:os\n",
        f"%TAG !py! tag:yaml.org,2002:python/\n---\nname: !py!object/apply:os.system ['{command}']\n",
        f"name: t\nusers: [!!python/object/apply:os.system ['{command}']]\n",
    ]


def test_yaml_with_python_tags_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder = tmp_path / "scenarios"
    folder.mkdir()
    with emulator(scenario_dirs=(str(folder),)) as client:
        for number, text in enumerate(python_tag_scenarios(marker)):
            response = client.post("/__admin/scenario", json={"yaml": text})
            assert response.status_code == 400, (text, response.text)
            assert response.json()["errors"][0]["message"].startswith("<admin>:"), response.text
            file = folder / f"tagged-{number}.yaml"
            file.write_text(text, encoding="utf-8")
            response = load_path(client, str(file))
            assert response.status_code == 400, (text, response.text)
            assert cli.main(["validate", str(file)]) == 1
        assert client.get("/__admin/health").json()["scenario"] == "default"
    assert not marker.exists()


def test_a_yaml_alias_bomb_is_refused_with_400(client: httpx.Client) -> None:
    bomb = "name: t\nclients: [{client_id: c, client_secret: s}]\n"
    bomb += "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    bomb += "".join(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 10))
    response = client.post("/__admin/scenario", json={"yaml": bomb})
    assert response.status_code == 400, response.text
    assert client.get("/__admin/health").json()["scenario"] == SUITE_SCENARIO


# ----------------------------------------------------------------------------------------- constant-time checks
class Spy:
    """Stands in for hmac.compare_digest: records each comparison and answers `verdict` (or the real answer)."""

    def __init__(self, verdict: bool | None = None) -> None:
        self.calls: list[tuple[bytes, bytes]] = []
        self.verdict = verdict
        self.real: Callable[[bytes, bytes], bool] = hmac.compare_digest

    def __call__(self, a: bytes, b: bytes) -> bool:
        self.calls.append((a, b))
        return self.real(a, b) if self.verdict is None else self.verdict


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool | None], Spy]:
    """Replace compare_digest where the secret checks look it up (tokens, users, admin all call `hmac.compare_digest`
    through the module, so patching the module attribute reaches every one of them)."""

    def install(verdict: bool | None = None) -> Spy:
        found = Spy(verdict)
        monkeypatch.setattr(hmac, "compare_digest", found)
        return found

    return install


def test_the_client_secret_is_compared_in_constant_time(
    client: httpx.Client, spy: Callable[[bool | None], Spy]
) -> None:
    compare = spy(None)
    data = CLIENT_CREDENTIALS | {"client_secret": "wrong-secret"}
    assert client.post(TOKEN_PATH[2], data=data).status_code == 401
    assert (b"wrong-secret", CLIENT_SECRET.encode()) in compare.calls
    unknown = client.post(TOKEN_PATH[2], data=data | {"client_id": "nobody"})
    assert unknown.status_code == 401
    assert compare.calls[-1] == (b"wrong-secret", credentials._NO_SECRET)  # the same work for an unknown client
    spy(True)  # compare_digest alone decides: no `==` beside it
    assert_token_answer(client.post(TOKEN_PATH[2], data=data))


def test_the_client_secret_of_process_creation_is_compared_in_constant_time(
    client: httpx.Client, spy: Callable[[bool | None], Spy]
) -> None:
    compare = spy(None)
    body = {"clientId": CLIENT_ID, "clientSecret": "wrong-secret", "processId": "USER_ONLY"}
    body["clientReferences"] = [{"clientReference": "r"}]  # type: ignore[assignment]
    assert client.post("/api/v1/processes", json=body).status_code == 401
    assert (b"wrong-secret", CLIENT_SECRET.encode()) in compare.calls


def test_the_user_password_is_compared_in_constant_time(
    client: httpx.Client, spy: Callable[[bool | None], Spy]
) -> None:
    compare = spy(None)
    assert client.post(TOKEN_PATH[2], data=password_grant("username", "wrong-password")).status_code == 400
    assert (b"wrong-password", b"password") in compare.calls
    assert client.post(TOKEN_PATH[2], data=password_grant("nobody", "wrong-password")).status_code == 400
    assert compare.calls[-1] == (b"wrong-password", credentials._NO_SECRET)  # the same work for an unknown user
    spy(True)
    assert_token_answer(client.post(TOKEN_PATH[2], data=password_grant("username", "wrong-password")), refresh=True)


def test_the_admin_token_is_compared_in_constant_time(spy: Callable[[bool | None], Spy]) -> None:
    with emulator(admin_token="admin-secret") as client:
        compare = spy(None)
        assert client.get("/__admin/version", headers=bearer("wrong-token")).status_code == 401
        assert compare.calls == [(b"wrong-token", b"admin-secret")]
        spy(True)
        answer = client.get("/__admin/version", headers=bearer("wrong-token"))
        assert (answer.status_code, answer.json()["scenario"]) == (200, "default")


def test_the_password_change_token_is_compared_in_constant_time(
    client: httpx.Client, spy: Callable[[bool | None], Spy]
) -> None:
    ct = bearer(client_token(client))
    requested = client.post("/api/v2/users/requestPasswordChange", json={"userId": "username"}, headers=ct)
    expected = requested.json()["passwordChangeToken"]
    wrong = "00000000-0000-4000-8000-000000000000"
    body = {"userId": "username", "password": "new-password", "passwordChangeToken": wrong}
    compare = spy(None)
    response = client.post("/api/v2/users/executePasswordChange", json=body, headers=ct)
    assert_error(response, 400, "BAD_REQUEST", errors.MSG_BAD_PASSWORD_TOKEN)
    assert (wrong.encode(), expected.encode()) in compare.calls
    spy(True)
    changed = client.post("/api/v2/users/executePasswordChange", json=body, headers=ct)
    assert (changed.status_code, changed.content) == (200, b"")
