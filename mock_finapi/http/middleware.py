"""The one ASGI middleware: request ids, X-HTTP-Method-Override, and the last line of defence.

- Every response carries `X-Request-Id`: the request's own (≤ 255 characters, else 400) or `selfgen-<uuid>`.
- A POST with `X-HTTP-Method-Override: PATCH|DELETE` is routed as that method (finAPI's convention).
- Anything that escapes the handlers is logged and answered with a finAPI `UNEXPECTED_ERROR` 500, never a traceback.
"""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_finapi import errors
from mock_finapi.http import render

log = logging.getLogger("mock_finapi")
MAX_REQUEST_ID = 255
OVERRIDABLE = {b"PATCH": "PATCH", b"DELETE": "DELETE"}


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = override = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value.decode("latin-1")
            elif name == b"x-http-method-override":
                override = value.strip().upper()
        world = scope["app"].state.world
        request_id = given if given and len(given) <= MAX_REQUEST_ID else world.rng.request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        if override in OVERRIDABLE and scope["method"] == "POST":
            scope["method"] = OVERRIDABLE[override]
        id_header = (b"x-request-id", request_id.encode("latin-1"))
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        if given is not None and len(given) > MAX_REQUEST_ID:
            await self._answer(errors.BadRequest(errors.MSG_REQUEST_ID_TOO_LONG), scope, receive, send_with_id)
            return
        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            return  # the client left while sending its body: nobody to answer, nothing went wrong here
        except Exception:
            log.exception("unexpected error in %s %s", scope["method"], scope["path"])
            if not started:
                await self._answer(errors.UnexpectedError(errors.MSG_UNEXPECTED), scope, receive, send_with_id)

    @staticmethod
    async def _answer(error: errors.ApiError, scope: Scope, receive: Receive, send: Send) -> None:
        response = render.error_message(Request(scope, receive), error)
        await response(scope, receive, send)
