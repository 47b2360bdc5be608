"""Error shapes and hostile input (FINAPI.md §6): every failure is a finAPI ErrorMessage, never a traceback."""

from __future__ import annotations

import logging
import re
from typing import Any

import anyio
import httpx
import pytest
from starlette.types import Message

from mock_finapi import errors
from mock_finapi.http.app import Emulator
from mock_finapi.services.users import UserService
from mock_finapi.settings import MAX_BODY_BYTES
from tests.helpers import CLIENT_CREDENTIALS, CLIENT_ID, AdminClock, bearer, client_token

ERROR_KEYS = {"errors", "date", "requestId", "endpoint", "authContext", "bank"}
SELFGEN = re.compile(r"selfgen-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
V1_DATE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}")
V2_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+01:00")
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def assert_error(response: httpx.Response, status: int, code: str, message: str) -> dict[str, Any]:
    """The response is finAPI's ErrorMessage with one error, in the date format of the path's API version."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS
    v1 = response.request.url.path.startswith(("/api/v1/", "/oauth/"))
    expected = {"message": message, "code": code, "type": body["errors"][0]["type"]}
    if v1:
        expected["multiStepAuthentication"] = None
    assert body["errors"] == [expected]
    assert body["errors"][0]["type"] in ("BUSINESS", "TECHNICAL")
    assert (V1_DATE if v1 else V2_DATE).fullmatch(body["date"]), body["date"]
    assert body["requestId"] == response.headers["x-request-id"]
    assert body["endpoint"] == f"{response.request.method} {response.request.url.path}"
    assert body["bank"] is None
    return body


@pytest.fixture
def token(client: httpx.Client) -> str:
    return client_token(client)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v2/nothing"), ("POST", "/api/v1/nothing/here"), ("GET", "/oauth/authorize"), ("DELETE", "/")],
)
def test_unknown_path_answers_404_unknown_entity(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path)
    body = assert_error(response, 404, "UNKNOWN_ENTITY", errors.MSG_NO_ENDPOINT.format(method=method, path=path))
    assert (body["errors"][0]["type"], body["authContext"]) == ("BUSINESS", "-")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/v2/users", "DELETE, GET, HEAD, PATCH, POST"),
        ("OPTIONS", "/api/v1/users", "DELETE, GET, HEAD, PATCH, POST"),
        ("GET", "/api/v2/oauth/token", "POST"),
        ("DELETE", "/oauth/revoke", "POST"),
        ("POST", "/api/v2/clientConfiguration", "GET, HEAD, PATCH"),
        ("POST", "/api/v1/users/verificationStatus", "GET, HEAD"),
        ("GET", "/api/v2/users/verify/someone", "POST"),
        ("PATCH", "/api/v2/users/someone", "DELETE"),
        ("POST", "/__admin/health", "GET, HEAD"),
    ],
)
def test_wrong_method_answers_405_with_the_full_allow_header(
    client: httpx.Client, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    body = assert_error(response, 405, "METHOD_NOT_ALLOWED", errors.MSG_METHOD_NOT_ALLOWED.format(method=method))
    assert response.headers["allow"] == allow
    assert body["errors"][0]["type"] == "TECHNICAL"


@pytest.mark.parametrize("path", ["/api/v2/oauth/token", "/oauth/token"])
def test_json_body_on_token_endpoint_answers_415(client: httpx.Client, path: str) -> None:
    response = client.post(path, json=CLIENT_CREDENTIALS)
    message = errors.MSG_MEDIA_TYPE.format(
        content_type="application/json", expected="application/x-www-form-urlencoded"
    )
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", message)


@pytest.mark.parametrize(("content_type", "shown"), [("text/plain", "text/plain"), (None, "(none)")])
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_non_json_content_type_on_user_creation_answers_415(
    client: httpx.Client, token: str, version: str, content_type: str | None, shown: str
) -> None:
    headers = bearer(token) | ({"Content-Type": content_type} if content_type else {})
    response = client.post(f"/api/{version}/users", content=b'{"id": "alice"}', headers=headers)
    message = errors.MSG_MEDIA_TYPE.format(content_type=shown, expected="application/json")
    body = assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", message)
    assert body["authContext"].endswith(f"/{CLIENT_ID}")


def test_json_content_type_with_charset_is_accepted(client: httpx.Client, token: str) -> None:
    headers = bearer(token) | {"Content-Type": "Application/JSON; charset=UTF-8"}
    response = client.post("/api/v2/users", content=b'{"id": "alice"}', headers=headers)
    assert (response.status_code, response.json()["id"]) == (201, "alice")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"id": "alice"', errors.MSG_MALFORMED_JSON),
        (b"{'id': 'alice'}", errors.MSG_MALFORMED_JSON),
        (b'{"id": "al\xffice"}', errors.MSG_MALFORMED_JSON),
        (b'{"id": "\xed\xa0\x80"}', errors.MSG_MALFORMED_JSON),  # a surrogate in CESU-8: not UTF-8
        ('{"id": "alice"}'.encode("utf-16"), errors.MSG_MALFORMED_JSON),
        (b'{"id": "alice", "password": "' + b"\\ud800" * 8 + b'"}', errors.MSG_MALFORMED_JSON),
        (b"[" * 100_000 + b"]" * 100_000, errors.MSG_MALFORMED_JSON),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, errors.MSG_MALFORMED_JSON),
        (b'{"id": 1' + b"0" * 5000 + b"}", errors.MSG_MALFORMED_JSON),
        (b'[{"id": "alice"}]', errors.MSG_JSON_OBJECT),
        (b'"alice"', errors.MSG_JSON_OBJECT),
        (b"null", errors.MSG_JSON_OBJECT),
        (b"", errors.MSG_BODY_MISSING),
        (b" \r\n", errors.MSG_BODY_MISSING),
    ],
    ids=[
        "truncated",
        "single quotes",
        "invalid UTF-8",
        "CESU-8 surrogate",
        "UTF-16",
        "escaped lone surrogates",
        "100000 nested arrays",
        "100000 nested objects",
        "5000-digit number",
        "array",
        "string",
        "null",
        "empty",
        "blank",
    ],
)
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_unusable_json_body_answers_400_and_creates_nothing(
    client: httpx.Client, token: str, version: str, content: bytes, message: str
) -> None:
    response = client.post(f"/api/{version}/users", content=content, headers=bearer(token) | JSON)
    assert_error(response, 400, "BAD_REQUEST", message)
    assert client.post(f"/api/{version}/users", json={"id": "alice"}, headers=bearer(token)).status_code == 201


@pytest.mark.parametrize(
    "content", [b"id=a&&&", b"client_id=\xff", b"grant_type", b"grant_type=client_credentials&client_secret"]
)
@pytest.mark.parametrize("path", ["/api/v2/oauth/token", "/oauth/token"])
def test_malformed_form_body_answers_400(client: httpx.Client, path: str, content: bytes) -> None:
    response = client.post(path, content=content, headers=FORM)
    assert_error(response, 400, "BAD_REQUEST", errors.MSG_MALFORMED_FORM)


def test_json_with_valid_surrogate_pair_and_bom_is_accepted(client: httpx.Client, token: str) -> None:
    content = b'\xef\xbb\xbf{"id": "alice", "password": "pass\\ud83d\\ude00word"}'
    response = client.post("/api/v2/users", content=content, headers=bearer(token) | JSON)
    assert response.status_code == 201
    assert response.json()["password"] == "pass\U0001f600word"


def oversized(client: httpx.Client, size: int, content_length: str | None) -> httpx.Response:
    content = b"padding=" + b"a" * (size - len(b"padding="))
    request = client.build_request("POST", "/api/v2/oauth/token", content=content, headers=FORM)
    if content_length is None:
        del request.headers["Content-Length"]
    else:
        request.headers["Content-Length"] = content_length
    return client.send(request)


@pytest.mark.parametrize(
    "content_length", [str(MAX_BODY_BYTES + 1), None, "10"], ids=["declared", "undeclared", "understated"]
)
def test_body_over_one_mebibyte_answers_413(client: httpx.Client, content_length: str | None) -> None:
    response = oversized(client, MAX_BODY_BYTES + 1, content_length)
    assert_error(response, 413, "BAD_REQUEST", errors.MSG_BODY_TOO_LARGE.format(limit=MAX_BODY_BYTES))


def test_body_of_exactly_one_mebibyte_is_read(client: httpx.Client) -> None:
    response = oversized(client, MAX_BODY_BYTES, str(MAX_BODY_BYTES))
    assert_error(response, 400, "MISSING_FIELD", errors.MSG_MISSING_FIELD.format(field="grant_type"))


@pytest.mark.parametrize("request_id", ["abc", "r" * 255, "ünïcödé".encode().decode("latin-1")])
def test_request_id_is_echoed_in_header_and_body(client: httpx.Client, request_id: str) -> None:
    response = client.get("/api/v2/nothing", headers={b"X-Request-Id": request_id.encode("latin-1")})
    assert dict(response.headers.raw)[b"x-request-id"] == request_id.encode("latin-1")
    assert response.json()["requestId"] == request_id


@pytest.mark.parametrize("headers", [{}, {"X-Request-Id": ""}])
def test_request_id_is_generated_when_none_is_sent(client: httpx.Client, headers: dict[str, str]) -> None:
    first, second = (client.get("/api/v1/nothing", headers=headers) for _ in range(2))
    assert SELFGEN.fullmatch(first.headers["x-request-id"])
    assert first.json()["requestId"] == first.headers["x-request-id"] != second.headers["x-request-id"]


def test_request_id_longer_than_255_characters_answers_400(client: httpx.Client) -> None:
    response = client.get("/api/v2/users", headers={"X-Request-Id": "r" * 256})
    body = assert_error(response, 400, "BAD_REQUEST", errors.MSG_REQUEST_ID_TOO_LONG)
    assert SELFGEN.fullmatch(body["requestId"])


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/__admin/health", {}),
        ("POST", "/api/v2/oauth/token", {"data": CLIENT_CREDENTIALS}),
        ("POST", "/oauth/token", {"data": {"grant_type": "client_credentials"}}),
        ("GET", "/api/v2/users", {}),
        ("POST", "/api/v2/users", {"json": {"id": "alice"}}),
        ("HEAD", "/api/v2/nothing", {}),
    ],
)
def test_every_response_carries_a_request_id(
    client: httpx.Client, token: str, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    response = client.request(method, path, headers=bearer(token), **kwargs)
    assert SELFGEN.fullmatch(response.headers["x-request-id"])
    echoed = client.request(method, path, headers=bearer(token) | {"X-Request-Id": "mine"}, **kwargs)
    assert echoed.headers["x-request-id"] == "mine"


@pytest.mark.parametrize(
    ("path", "date"),
    [
        ("/api/v1/nothing", "2026-01-02 10:01:01.500"),
        ("/oauth/nothing", "2026-01-02 10:01:01.500"),
        ("/api/v2/nothing", "2026-01-02T10:01:01.500+01:00"),
        ("/nothing", "2026-01-02T10:01:01.500+01:00"),
    ],
)
def test_error_date_follows_the_virtual_clock_in_the_path_versions_format(
    client: httpx.Client, clock: AdminClock, path: str, date: str
) -> None:
    assert client.get(path).json()["date"].startswith("2026-01-01")
    clock.advance(86_400 + 3600 + 61.5)
    response = client.get(path)
    assert (
        assert_error(response, 404, "UNKNOWN_ENTITY", errors.MSG_NO_ENDPOINT.format(method="GET", path=path))["date"]
        == date
    )


def test_v1_errors_carry_multi_step_authentication_null(client: httpx.Client, token: str) -> None:
    response = client.post("/api/v1/users", content=b"[]", headers=bearer(token) | JSON)
    body = assert_error(response, 400, "BAD_REQUEST", errors.MSG_JSON_OBJECT)
    assert body["errors"][0]["multiStepAuthentication"] is None
    assert (
        "multiStepAuthentication"
        not in client.post("/api/v2/users", content=b"[]", headers=bearer(token) | JSON).json()["errors"][0]
    )


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_unexpected_exception_answers_500_unexpected_error_without_traceback(
    client: httpx.Client,
    token: str,
    version: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def explode(*_: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(UserService, "create", explode)  # a bug in a service, whatever the store behind it
    with caplog.at_level(logging.ERROR, logger="mock_finapi"):
        response = client.post(f"/api/{version}/users", json={"id": "alice"}, headers=bearer(token))
    body = assert_error(response, 500, "UNEXPECTED_ERROR", errors.MSG_UNEXPECTED)
    assert body["errors"][0]["type"] == "TECHNICAL"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert [r.exc_info[0] for r in caplog.records if r.exc_info] == [RuntimeError]


def test_www_authenticate_quotes_a_hostile_token(client: httpx.Client) -> None:
    response = client.get("/api/v2/users", headers={"Authorization": 'Bearer a"b\\c'})
    assert response.status_code == 401
    description = errors.MSG_INVALID_TOKEN.format(token='a\\"b\\\\c')
    assert response.headers["www-authenticate"] == f'Bearer error="invalid_token", error_description="{description}"'


def test_client_that_disconnects_mid_body_gets_no_answer_and_logs_no_error(
    app: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v2/oauth/token",
        "raw_path": b"/api/v2/oauth/token",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", FORM["Content-Type"].encode())],
        "client": ("127.0.0.1", 1),
        "server": ("mock-finapi", 80),
    }
    sent: list[Message] = []
    incoming: list[Message] = [
        {"type": "http.request", "body": b"grant_", "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    async def call() -> None:
        try:
            await app(scope, receive, send)
        finally:
            await app.sandbox.store.close()  # a shared state's connections, of this event loop

    with caplog.at_level(logging.ERROR, logger="mock_finapi"):
        anyio.run(call)
    assert sent == []
    assert not caplog.records
