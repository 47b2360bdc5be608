"""One renderer per wire shape: finAPI's ErrorMessage, the OAuth error, tokens, users, empty answers."""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mock_finapi import errors
from mock_finapi.clock import format_v1, format_v2, to_datetime
from mock_finapi.http.context import RequestContext, context
from mock_finapi.services.tokens import IssuedToken
from mock_finapi.state.models import User
from mock_finapi.validation import Invalid

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MASKED_PASSWORD = "XXXXX"


class JSON(Response):
    """Compact UTF-8 JSON (as Starlette's JSONResponse), encoded by orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except orjson.JSONEncodeError:  # what orjson refuses and json takes: integers beyond 64 bits (echoed input)
            return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error_message(ctx: RequestContext, method: str, path: str, exc: errors.ApiError) -> Response:
    """finAPI's ErrorMessage; Access v1 paths get v1's date format and `multiStepAuthentication`."""
    v1 = path.startswith(("/api/v1/", "/oauth/"))
    now = to_datetime(ctx.now)
    detail: dict[str, Any] = {"message": exc.message, "code": exc.code, "type": exc.type}
    if v1:
        detail["multiStepAuthentication"] = None
    body = {
        "errors": [detail],
        "date": format_v1(now) if v1 else format_v2(now),
        "requestId": ctx.request_id,
        "endpoint": f"{method} {path}",
        "authContext": ctx.auth_context,
        "bank": None,
    }
    return JSON(body, status_code=exc.http_status, headers=exc.headers)


def oauth_error(exc: errors.OAuthError) -> Response:
    headers = {}
    if isinstance(exc, errors.InvalidToken):
        quoted = exc.description.replace("\\", "\\\\").replace('"', '\\"')  # RFC 9110 quoted-string
        headers["WWW-Authenticate"] = f'Bearer error="invalid_token", error_description="{quoted}"'
    body = {"error": exc.error, "error_description": exc.description}
    return JSON(body, status_code=exc.status, headers=headers)


def failure(ctx: RequestContext, method: str, path: str, exc: Exception) -> Response | None:
    """The answer to an exception a handler or the router raised, or None when it is not one of ours."""
    if isinstance(exc, errors.ApiError):
        return error_message(ctx, method, path, exc)
    if isinstance(exc, errors.OAuthError):
        return oauth_error(exc)
    if isinstance(exc, HTTPException):
        return error_message(ctx, method, path, _http_error(method, path, exc))
    if isinstance(exc, Invalid):  # admin input: names the key
        return error_message(ctx, method, path, errors.IllegalFieldValue(str(exc)))
    return None


async def handle(request: Request, exc: Exception) -> Response:
    """Starlette's exception handler for our errors and its own 404/405."""
    response = failure(context(request), request.scope["method"], request.scope["path"], exc)
    if response is None:
        raise exc
    return response


def _http_error(method: str, path: str, exc: HTTPException) -> errors.ApiError:
    """Starlette's own 404/405 (no route, wrong method) as finAPI errors."""
    if exc.status_code == 405:
        headers = dict(exc.headers or {})
        if "Allow" in headers:  # Starlette joins a set: sort it, so the header is the same on every run
            headers["Allow"] = ", ".join(sorted(m.strip() for m in headers["Allow"].split(",")))
        return errors.MethodNotAllowed(errors.MSG_METHOD_NOT_ALLOWED.format(method=method), headers=headers)
    if exc.status_code == 404:
        return errors.UnknownEntity(errors.MSG_NO_ENDPOINT.format(method=method, path=path))
    return errors.BadRequest(str(exc.detail), status=exc.status_code)


def token(issued: IssuedToken) -> Response:
    body: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
        "scope": "all",
    }
    if issued.refresh_token is not None:
        body["refresh_token"] = issued.refresh_token
    return JSON(body, headers=NO_STORE)


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
