"""One renderer per wire shape: finAPI's ErrorMessage, the OAuth error, tokens, users, empty answers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope, Send

from mock_finapi import errors
from mock_finapi.clock import format_v1, format_v2
from mock_finapi.http.protocol import ONE_WRITE
from mock_finapi.services.tokens import IssuedToken
from mock_finapi.state.models import User
from mock_finapi.world import World

NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
MASKED_PASSWORD = "XXXXX"


class JSON(Response):
    """Starlette's JSONResponse (compact UTF-8 JSON), encoded by orjson and with its headers built directly."""

    media_type = "application/json"

    def __init__(self, content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> None:
        self.status_code = status_code
        self.background = None
        self.body = dumps(content)
        self.raw_headers = [(b"content-length", b"%d" % len(self.body)), (b"content-type", b"application/json")]
        if headers:
            self.raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def dumps(content: Any) -> bytes:
    try:
        return orjson.dumps(content)
    except orjson.JSONEncodeError:  # what orjson refuses and json takes: integers beyond 64 bits (echoed input)
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def respond(response: Response, scope: Scope, send: Send) -> None:
    """Send an answer with the headers every answer carries (`X-Request-Id`, `X-Mock-Fault`), noting its status for
    the journal and the request log (the middleware puts both in the request's state). Answers are whole `Response`s
    (no streaming, no background tasks), so this sends them itself: one coroutine less per request."""
    state = scope["state"]
    state["status"] = response.status_code
    headers = response.raw_headers + state["response_headers"]
    if scope["method"] != "HEAD" and (one_write := scope.get("extensions", {}).get(ONE_WRITE)):
        one_write()  # the head waits for the body (a HEAD answer has none)
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


def world(request: Request) -> World:
    """The world serving this request (the middleware takes it from the app once per request)."""
    found: World = request.scope["state"]["world"]
    return found


def header(request: Request, name: bytes) -> str:
    """The first value of a request header (`name` in lower case), or ""; from the middleware's header table."""
    value: bytes = request.scope["state"]["headers"].get(name, b"")
    return value.decode("latin-1")


def api_version(request: Request) -> int:
    """1 for Access v1 paths (/api/v1/..., /oauth/...), else 2: decides date formats and model shapes."""
    path: str = request.scope["path"]
    return 1 if path.startswith(("/api/v1/", "/oauth/")) else 2


def request_id(request: Request) -> str:
    rid: str = request.scope["state"]["request_id"]
    return rid


def error_message(request: Request, exc: errors.ApiError) -> Response:
    v1 = api_version(request) == 1
    now = world(request).clock.now()
    detail: dict[str, Any] = {"message": exc.message, "code": exc.code, "type": exc.type}
    if v1:
        detail["multiStepAuthentication"] = None
    body = {
        "errors": [detail],
        "date": format_v1(now) if v1 else format_v2(now),
        "requestId": request_id(request),
        "endpoint": f"{request.scope['method']} {request.scope['path']}",
        "authContext": request.scope["state"].get("auth_context", "-"),
        "bank": None,
    }
    return JSON(body, status_code=exc.http_status, headers=exc.headers)


def failure(request: Request, exc: Exception) -> Response | None:
    """The answer to an exception a handler (or the router) raised, or None when it is not one of ours."""
    if isinstance(exc, errors.ApiError):
        return error_message(request, exc)
    if isinstance(exc, errors.OAuthError):
        return oauth_error(exc)
    if isinstance(exc, HTTPException):
        return http_error(request, exc)
    return None


def oauth_error(exc: errors.OAuthError) -> Response:
    headers = {}
    if isinstance(exc, errors.InvalidToken):
        quoted = exc.description.replace("\\", "\\\\").replace('"', '\\"')  # RFC 9110 quoted-string
        headers["WWW-Authenticate"] = f'Bearer error="invalid_token", error_description="{quoted}"'
    body = {"error": exc.error, "error_description": exc.description}
    return JSON(body, status_code=exc.status, headers=headers)


def http_error(request: Request, exc: HTTPException) -> Response:
    """Starlette's own 404/405 (no route, wrong method) in finAPI's shape."""
    method, path = request.scope["method"], request.scope["path"]
    if exc.status_code == 405:
        error: errors.ApiError = errors.MethodNotAllowed(errors.MSG_METHOD_NOT_ALLOWED.format(method=method))
        headers = dict(exc.headers or {})
        if "Allow" in headers:  # Starlette joins a set: sort it, so the header is the same on every run
            headers["Allow"] = ", ".join(sorted(m.strip() for m in headers["Allow"].split(",")))
        error.headers = headers
    elif exc.status_code == 404:
        error = errors.UnknownEntity(errors.MSG_NO_ENDPOINT.format(method=method, path=path))
    else:
        error = errors.BadRequest(str(exc.detail), status=exc.status_code)
    return error_message(request, error)


def token(issued: IssuedToken) -> Response:
    body: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
        "scope": "all",
    }
    if issued.refresh_token is not None:
        body["refresh_token"] = issued.refresh_token
    response = JSON(body)
    response.raw_headers += NO_STORE
    return response


def user(user: User, *, status: int = 200, masked: bool = True) -> Response:
    body = {
        "id": user.id,
        "password": MASKED_PASSWORD if masked else user.password,
        "email": user.email,
        "phone": user.phone,
        "isAutoUpdateEnabled": user.is_auto_update_enabled,
    }
    return JSON(body, status_code=status)


def empty() -> Response:
    """finAPI answers 200 with an empty body to deletes, verifications and revocations."""
    return Response(status_code=200)
