"""The one ASGI middleware: request ids, method override, fault rules, journal, request log, last line of defence.

- Every response carries `X-Request-Id`: the request's own (≤ 255 characters, else 400) or `selfgen-<uuid>`.
- A POST with `X-HTTP-Method-Override: PATCH|DELETE` is routed as that method (finAPI's convention).
- Fault rules of the world decide, before the handler runs, whether to delay, answer or break the connection.
- Each request outside /__admin is recorded in the journal (masked when read); each gets a log line when enabled.
- Errors the handlers and the router raise are rendered here (`render.failure`); anything else is logged and
  answered with a finAPI `UNEXPECTED_ERROR` 500, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_finapi import errors
from mock_finapi.http import faults, render
from mock_finapi.http.protocol import DISCONNECT
from mock_finapi.http.request_log import RequestLog
from mock_finapi.services.faults import FaultRule
from mock_finapi.services.journal import Entry, body_fields, client_of
from mock_finapi.world import World

log = logging.getLogger("mock_finapi")
MAX_REQUEST_ID = 255
OVERRIDABLE = {b"PATCH": "PATCH", b"DELETE": "DELETE"}
ADMIN_PREFIX = "/__admin"


class RequestContext:
    def __init__(self, app: ASGIApp, request_log: RequestLog | None, max_body_bytes: int) -> None:
        self.app = app
        self.request_log = request_log
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        world: World = scope["app"].state.world
        started = world.clock.monotonic()
        headers: dict[bytes, bytes] = dict(reversed(scope["headers"]))  # the first of repeated headers wins
        given = headers.get(b"x-request-id")
        request_id = given.decode("latin-1") if given and len(given) <= MAX_REQUEST_ID else world.rng.request_id()
        response_headers = [(b"x-request-id", request_id.encode("latin-1"))]
        state: dict[str, Any]
        scope["state"] = state = {  # what handlers and renderers read of the request (Starlette's `request.state`)
            "world": world,
            "headers": headers,
            "request_id": request_id,
            "response_headers": response_headers,  # added to every answer (`render.respond`)
            "status": 0,  # of the answer, once sent
            "client_id": None,  # once a handler authenticated the client
            "body": None,
        }
        if scope["method"] == "POST" and b"x-http-method-override" in headers:
            override = headers[b"x-http-method-override"].strip().upper()
            scope["method"] = OVERRIDABLE.get(override, "POST")
        admin = scope["path"].startswith(ADMIN_PREFIX)
        journaled = world.journal.size > 0 and not admin  # the journal leaves out the admin API; the log does not
        request_log = self.request_log
        recorded = journaled or request_log is not None
        rule: FaultRule | None = None
        body: bytes | None = None
        try:
            if given is not None and len(given) > MAX_REQUEST_ID:
                error = errors.BadRequest(errors.MSG_REQUEST_ID_TOO_LONG)
                await render.respond(render.error_message(Request(scope, receive), error), scope, send)
                return
            state["body"] = body = await _read_body(receive, headers, self.max_body_bytes)
            if world.faults.active and not admin:
                fields: dict[str, Any] = {}
                client_id = None
                if world.faults.needs_body:
                    fields = _fields(scope, headers, body)
                    client_id = _client_id(world, headers, fields)
                rule = world.faults.pick(scope["method"], scope["path"], fields, client_id)
            if rule is not None:
                response_headers.append((b"x-mock-fault", rule.name.encode("latin-1", "replace")))
                if rule.delay_ms:
                    await asyncio.sleep(rule.delay_ms / 1000)
                if rule.network is not None or rule.status is not None:
                    await faults.answer(rule, scope, receive, send)
                    return
            await self.app(scope, receive, send)
        except ClientDisconnect:
            return  # the client left while sending its body: nobody to answer, nothing went wrong here
        except asyncio.CancelledError:
            # The server stops and its grace period ran out: end the connection without an answer, as a stopped
            # server does, instead of uvicorn's plain-text 500 and traceback (in-process: nothing to end, re-raise).
            disconnect = scope.get("extensions", {}).get(DISCONNECT)
            if disconnect is None:
                raise
            disconnect(reset=False)
        except faults.NetworkFault:
            raise  # in-process clients see network faults as exceptions
        except Exception as exc:
            request = Request(scope, receive)
            response = render.failure(request, exc)
            if response is None:
                log.exception("unexpected error in %s %s", scope["method"], scope["path"])
                response = render.error_message(request, errors.UnexpectedError(errors.MSG_UNEXPECTED))
            if not state["status"]:  # nothing sent yet
                await render.respond(response, scope, send)
        finally:  # also after a network fault: breaking the connection does not wait, nothing runs before this
            if recorded:  # journal (outside the admin API) and log: the entry (`Entry`) takes what the request carried
                # as it is (masked when read), computing only the client of a bearer token no handler authenticated (a
                # fault answered first) while that token exists; inline: a call was a sixth of the journal's cost
                authorization = headers.get(b"authorization")
                clock = world.clock
                entry: Entry = (
                    clock.state,
                    started,
                    clock.monotonic(),
                    scope["method"],
                    scope["path"],
                    scope["query_string"],
                    state["status"],
                    request_id,
                    state["client_id"] or (_bearer_client(world, authorization) if authorization else None),
                    rule.name if rule else None,
                    authorization,
                    headers.get(b"content-type"),
                    body,
                )
                if journaled:
                    world.journal.record(entry)
                if request_log is not None:
                    if not request_log.ended:
                        request_log.flush_soon()
                    request_log.ended.append(entry)


async def _read_body(receive: Receive, headers: dict[bytes, bytes], limit: int) -> bytes | None:
    """The whole request body, read before the handler runs (fault rules match on its fields, the journal records
    them), or None when it exceeds `limit`: then reading stops as soon as that is known (`body.read` answers 413)."""
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        if not message.get("more_body", False):
            return b"".join([*chunks, chunk]) if chunks else chunk  # most bodies come in one message
        chunks.append(chunk)


def _fields(scope: Scope, headers: dict[bytes, bytes], body: bytes | None) -> dict[str, Any]:
    request = Request(scope)
    fields: dict[str, Any] = dict(request.query_params)
    fields.update(body_fields(headers.get(b"content-type", b"").decode("latin-1"), body) or {})
    return fields


def _client_id(world: World, headers: dict[bytes, bytes], fields: dict[str, Any]) -> str | None:
    """The client a request speaks for: credentials in the body, HTTP Basic, or the client of its bearer token."""
    authorization = headers.get(b"authorization", b"")
    return client_of(fields, authorization.decode("latin-1")) or _bearer_client(world, authorization)


def _bearer_client(world: World, authorization: bytes) -> str | None:
    """The client of the bearer token in an `Authorization` header, while that token exists."""
    scheme, _, credentials = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = world.store.tokens.get(credentials.strip())
    return token.grant.client.client_id if token is not None else None
