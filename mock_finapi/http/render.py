"""One renderer per wire shape: finAPI's ErrorMessage, the OAuth error, tokens, users, empty answers."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response

from mock_finapi import errors
from mock_finapi.clock import format_v1, format_v2, to_datetime
from mock_finapi.http.context import RequestContext
from mock_finapi.services.tokens import IssuedToken
from mock_finapi.state.models import User
from mock_finapi.validation import Invalid

NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
_NOT_IN_HEADERS = re.compile(r"[^\t\x20-\x7e\x80-\xff]")
"""What an RFC 9110 quoted-string cannot carry: control characters and anything beyond latin-1 (a token from Access
v1's `access_token` query parameter may hold them)."""
MASKED_PASSWORD = "XXXXX"


class JSON(Response):
    """Compact UTF-8 JSON (as Starlette's JSONResponse), encoded by orjson, with its few headers built directly (a
    third of an answer's cost in Starlette's generic `init_headers`)."""

    media_type = "application/json"

    def __init__(self, content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> None:
        self.status_code, self.background = status_code, None
        self.body = self.render(content)
        self.raw_headers = [(b"content-length", b"%d" % len(self.body)), (b"content-type", b"application/json")]
        if headers:
            self.raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except orjson.JSONEncodeError:  # what orjson refuses and json takes: integers beyond 64 bits (echoed input)
            return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error_message(ctx: RequestContext, method: str, path: str, exc: errors.ApiError) -> Response:
    """finAPI's ErrorMessage; Access v1 paths get v1's date format and `multiStepAuthentication`; the Web Form 2.0
    API's paths its own shapes (`web_form_error`)."""
    if web_form_api(path):
        return web_form_error(ctx, method, path, exc)
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
        shown = _NOT_IN_HEADERS.sub("?", exc.description)
        quoted = shown.replace("\\", "\\\\").replace('"', '\\"')  # RFC 9110 quoted-string
        headers["WWW-Authenticate"] = f'Bearer error="invalid_token", error_description="{quoted}"'
    body = {"error": exc.error, "error_description": exc.description}
    return JSON(body, status_code=exc.status, headers=headers)


def failure(ctx: RequestContext, method: str, path: str, exc: Exception) -> Response | None:
    """The answer to an exception a handler or the router raised, or None when it is not one of ours."""
    if isinstance(exc, errors.ApiError):
        return error_message(ctx, method, path, exc)
    if isinstance(exc, errors.OAuthError):
        return web_form_error(ctx, method, path, exc) if web_form_api(path) else oauth_error(exc)
    if isinstance(exc, Invalid):  # admin input: names the key
        return error_message(ctx, method, path, errors.IllegalFieldValue(str(exc)))
    return None


# ---------------------------------------------------------------------------------------------------- Web Form 2.0

WEB_FORM_PREFIXES = ("/api/webForms", "/api/tasks")
_WEB_FORM_CODES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "NOT_ALLOWED", 423: "LOCKED"}
"""The Web Form API's `Error.code` of an error that has none of its own, by status (WEBFORM.md §6.1); 5xx:
INTERNAL_SERVER_ERROR, other 4xx: NOT_SUPPORTED."""


def web_form_api(path: str) -> bool:
    """A path of the Web Form 2.0 API (`/api/webForms...`, `/api/tasks...`), whose errors have its own shapes."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in WEB_FORM_PREFIXES)


def web_form_timestamp(seconds: float) -> str:
    """The Web Form API's `yyyy-MM-dd'T'HH:mm:ss.SSSZ` in UTC: 2026-01-05T08:00:00.000+0000."""
    when = datetime.fromtimestamp(seconds, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def web_form_error(ctx: RequestContext, method: str, path: str, exc: errors.ApiError | errors.OAuthError) -> Response:
    """The Web Form API's `ValidationError` (400) or `Error` (every other status; 401 instead of the OAuth body)."""
    stamp = {"timestamp": web_form_timestamp(ctx.now), "endpoint": f"{method} {path}"}
    if isinstance(exc, errors.OAuthError):
        body: dict[str, Any] = {"code": "UNAUTHORIZED", "description": exc.description, **stamp}
        return JSON(body, status_code=401)
    status = exc.http_status
    if isinstance(exc, errors.InvalidFields) or status in (400, 413, 415):
        problems = exc.problems if isinstance(exc, errors.InvalidFields) else ((_field_of(exc), exc.message),)
        body = {"errors": [{"field": field, "message": message} for field, message in problems], **stamp}
        return JSON(body, status_code=status, headers=exc.headers)
    if isinstance(exc, errors.WebFormError):
        code = exc.web_form_code
    else:
        code = _WEB_FORM_CODES.get(status, "INTERNAL_SERVER_ERROR" if status >= 500 else "NOT_SUPPORTED")
    body = {"code": code, "description": exc.message, **stamp}
    return JSON(body, status_code=status, headers=exc.headers)


def _field_of(exc: errors.ApiError) -> str:
    """The `field` of a 400 that is not about the body's fields: the header or the body."""
    return "X-Request-Id" if exc.message == errors.MSG_REQUEST_ID_TOO_LONG else "body"


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
