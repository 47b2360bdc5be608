"""`RequestLifecycle`: the ASGI middleware around every request, in named steps.

- `prepare`: the request's context (`http/context.py`): its headers, its request id (the client's own, ≤ 255
  characters, else `selfgen-<uuid>`; every answer carries it in `X-Request-Id`), `X-HTTP-Method-Override`.
- `serve`: the body is read whole (fault rules match on its fields, the journal keeps it), then the served world is
  taken and the store's prelude (clock, fault rules) read, so a request whose body arrives after a swap is served by
  the new world and recorded in its journal. A `Host` the settings do not allow, and a state-changing admin request
  from another site's page (`Origin`), are refused 403 (`hosts.py`). `pick_fault` decides whether a rule delays,
  answers or breaks the connection; otherwise the app answers.
- `render_failure`: every error a handler or the route table raised, in finAPI's shape (`render.failure`); anything
  else is logged and answered with a finAPI `UNEXPECTED_ERROR` 500, never a traceback.
- `record`: each request is counted (`services/metrics.py`), each outside /__admin goes to the journal, and each gets
  a request log line when enabled.
Cancellation is not swallowed: on shutdown the sandbox ends delayed requests itself (`Sandbox.stopping`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_finapi import bodies, errors, hosts, randomness
from mock_finapi.credentials import parse_authorization, secrets_equal
from mock_finapi.http import faults, render
from mock_finapi.http.auth import bearer_value
from mock_finapi.http.context import SCOPE_KEY, RequestContext
from mock_finapi.http.request_log import RequestLog
from mock_finapi.services import journal
from mock_finapi.services.faults import FaultRequest, pick
from mock_finapi.services.metrics import RequestCounts
from mock_finapi.state.models import Entry, FaultRule
from mock_finapi.world import Sandbox

log = logging.getLogger("mock_finapi")
MAX_REQUEST_ID = 255
JOURNAL_BODY_BYTES = 16 * 1024
"""What a journal entry keeps of a body at most (its view says when there was more)."""
OVERRIDABLE = {b"PATCH": "PATCH", b"DELETE": "DELETE"}
ADMIN_PREFIX = "/__admin"
SNAPSHOT_PATH = "/__admin/snapshot"
READ_ONLY = frozenset({"/__admin/health", "/__admin/metrics"})
"""Paths whose requests never change the state (any method: the others answer 405)."""
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MSG_HOST_REFUSED = (
    "Host '{host}' is not allowed: a server listening on loopback answers loopback names only "
    "(add others with --allow-host)"
)
MSG_ORIGIN_REFUSED = "Origin '{origin}' is not this server's: the admin API refuses changes from other sites' pages"
KNOWN_HOSTS = 64
"""`Host` values remembered as allowed (so that the usual one or two are checked by one set lookup)."""


class RequestLifecycle:
    def __init__(
        self, app: ASGIApp, sandbox: Sandbox, request_log: RequestLog | None, counts: RequestCounts | None = None
    ) -> None:
        self.app, self.sandbox, self.request_log = app, sandbox, request_log
        self.counts: RequestCounts = counts if counts is not None else {}
        """Requests answered by (method, endpoint, status): `GET /__admin/metrics`."""
        allowed = sandbox.settings.allowed_hosts
        self.allowed_hosts = frozenset(allowed) if allowed is not None else None
        self.known_hosts: set[bytes] = set()
        self.admin = sandbox.settings.admin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ctx = scope[SCOPE_KEY] = self.prepare(scope)
        try:
            await self.serve(ctx, scope, receive, send)
        except ClientDisconnect:
            pass  # the client left while sending its body: nobody to answer, nothing went wrong here
        except faults.NetworkFault:
            raise  # in-process clients see network faults as exceptions
        except Exception as exc:
            await self.render_failure(ctx, scope, receive, send, exc)
        finally:
            try:
                await self.record(ctx, scope)
            except errors.StoreUnavailable:  # the shared state went away: the answer stands, its entry is lost
                log.warning("journal entry of %s %s lost: the shared state is not reachable", *_line(scope))

    def prepare(self, scope: Scope) -> RequestContext:
        sandbox = self.sandbox
        headers: dict[bytes, bytes] = dict(reversed(scope["headers"]))  # the first of repeated headers wins
        given = headers.get(b"x-request-id")
        request_id = given.decode("latin-1") if given and len(given) <= MAX_REQUEST_ID else randomness.request_id()
        world = sandbox.world
        answer_headers = [(b"x-request-id", request_id.encode("latin-1"))]
        ctx = RequestContext(sandbox, headers, request_id, world.clock.real(), world, answer_headers)
        if scope["method"] == "POST" and b"x-http-method-override" in headers:
            override = headers[b"x-http-method-override"].strip().upper()
            scope["method"] = OVERRIDABLE.get(override, "POST")
        return ctx

    async def serve(self, ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        ctx.body = await read_body(receive, ctx.headers, self.body_limit(ctx, scope))
        prelude = await self.sandbox.store.prepare()
        ctx.world = world = self.sandbox.world  # after `prepare`: another process may have loaded another scenario
        ctx.clock = prelude.clock
        ctx.now = prelude.clock.time(world.clock.real())
        if self.allowed_hosts is not None:
            self.check_host(ctx.headers.get(b"host"))
        if b"origin" in ctx.headers and scope["method"] in STATE_CHANGING and scope["path"].startswith(ADMIN_PREFIX):
            origin = ctx.headers[b"origin"]
            if self.admin and not hosts.same_origin(origin, ctx.headers.get(b"host")):
                raise errors.UnauthorizedAccess(MSG_ORIGIN_REFUSED.format(origin=_shown(origin)))
        given = ctx.headers.get(b"x-request-id")
        if given is not None and len(given) > MAX_REQUEST_ID:
            raise errors.BadRequest(errors.MSG_REQUEST_ID_TOO_LONG)
        if prelude.faults and not scope["path"].startswith(ADMIN_PREFIX):
            rule = await self.pick_fault(ctx, scope, prelude.faults)
            if rule is not None:
                ctx.fault = rule
                ctx.response_headers.append((b"x-mock-fault", rule.name.encode("latin-1", "replace")))
                if rule.delay_ms and not await self.sandbox.delay(rule.delay_ms / 1000):
                    await faults.break_connection("empty_response", scope, receive)  # the server stops
                    return
                if rule.network is not None or rule.status is not None:
                    await faults.act(rule, ctx, scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def body_limit(self, ctx: RequestContext, scope: Scope) -> int:
        """The body size limit; a snapshot to load may be larger, when it comes from the admin (its token given)."""
        settings = self.sandbox.settings
        if scope["path"] == SNAPSHOT_PATH and scope["method"] == "POST" and self.admin:
            token = settings.admin_token
            given = parse_authorization(ctx.header(b"authorization")).bearer
            if token is None or (given is not None and secrets_equal(given, token)):
                return settings.max_snapshot_bytes
        return settings.max_body_bytes

    def check_host(self, host: bytes | None) -> None:
        """Refuse a `Host` that is not allowed (against DNS rebinding); a request without one is let through."""
        if host is None or host in self.known_hosts:
            return
        name = hosts.host_name(host)
        if self.allowed_hosts is not None and name not in self.allowed_hosts:
            raise errors.UnauthorizedAccess(MSG_HOST_REFUSED.format(host=_shown(name.encode("latin-1"))))
        if len(self.known_hosts) < KNOWN_HOSTS:
            self.known_hosts.add(host)

    async def pick_fault(self, ctx: RequestContext, scope: Scope, rules: tuple[FaultRule, ...]) -> FaultRule | None:
        """The rule that fires for this request; fields and client are only worked out when a rule matches on them."""
        fields: dict[str, Any] = {}
        client_id = None
        if any(rule.needs_body for rule in rules):
            fields = {
                **bodies.query(scope["query_string"]),
                **(bodies.fields(ctx.header(b"content-type"), ctx.body) or {}),
            }
            client_id = await self.speaking_client(ctx, scope, fields)
        request = FaultRequest(scope["method"], scope["path"], fields, client_id)
        return await pick(ctx.world.store, rules, request)

    @staticmethod
    async def speaking_client(ctx: RequestContext, scope: Scope, fields: Mapping[str, Any]) -> str | None:
        """The client a request speaks for: credentials in its fields, HTTP Basic, or its access token's client (the
        bearer token, or Access v1's `access_token` query parameter)."""
        authorization = ctx.header(b"authorization")
        named = journal.named_client(fields, authorization)
        if named is not None:
            return named
        token = bearer_value(authorization, scope["path"], scope["query_string"])
        bearer = await ctx.world.store.resolve(token, ctx.now) if token else None
        return bearer.client.client_id if bearer is not None else None

    async def render_failure(
        self, ctx: RequestContext, scope: Scope, receive: Receive, send: Send, exc: Exception
    ) -> None:
        response = render.failure(ctx, scope["method"], scope["path"], exc)
        if response is None:
            log.exception("unexpected error in %s %s", scope["method"], scope["path"])
            error = errors.UnexpectedError(errors.MSG_UNEXPECTED)
            response = render.error_message(ctx, scope["method"], scope["path"], error)
        if not ctx.status:  # nothing sent yet
            await ctx.answer(response, scope, receive, send)

    async def record(self, ctx: RequestContext, scope: Scope) -> None:
        if scope["path"] not in READ_ONLY:  # health checks and metrics scrapes do not make the state file rewritten
            self.sandbox.changes += 1
        counts, key = self.counts, (scope["method"], ctx.endpoint, ctx.status)
        counts[key] = counts.get(key, 0) + 1
        journaled = self.sandbox.settings.journal_size > 0 and not scope["path"].startswith(ADMIN_PREFIX)
        if not journaled and self.request_log is None:
            return
        if journaled and ctx.mandator_id is None:
            await self.identify_client(ctx, scope)
        ended = ctx.world.clock.real()
        body = ctx.body
        # Built as the tuple it is: NamedTuple's generated __new__ made the journal cost half as much again (bench/).
        entry: Entry = tuple.__new__(
            Entry,
            (
                ctx.clock.time(ended),
                ended - ctx.started,
                scope["method"],
                scope["path"],
                scope["query_string"],
                ctx.status,
                ctx.request_id,
                ctx.client_id,
                ctx.mandator_id,
                ctx.fault.name if ctx.fault else None,
                ctx.headers.get(b"authorization"),
                ctx.headers.get(b"content-type"),
                body[:JOURNAL_BODY_BYTES] if body else body,
                body is not None and len(body) > JOURNAL_BODY_BYTES,
            ),
        )
        if journaled:
            await ctx.world.store.record(entry)
        if self.request_log is not None:
            self.request_log.add(entry)

    async def identify_client(self, ctx: RequestContext, scope: Scope) -> None:
        """Client and mandator of a request no handler authenticated (a fault answered, or it failed first): the
        client it names, or its bearer token's, when that client exists."""
        store = ctx.world.store
        client_id = ctx.client_id
        if client_id is None:
            fields = bodies.fields(ctx.header(b"content-type"), ctx.body) or {}
            client_id = await self.speaking_client(ctx, scope, fields)
        client = await store.client(client_id) if client_id is not None else None
        ctx.client_id = client.client_id if client else None
        ctx.mandator_id = client.mandator_id if client else None


def _line(scope: Scope) -> tuple[str, str]:
    return scope["method"], scope["path"]


def _shown(value: bytes, limit: int = 100) -> str:
    """A header value as an error message names it: at most `limit` characters."""
    text = value.decode("latin-1")
    return text if len(text) <= limit else text[:limit] + "…"


async def read_body(receive: Receive, headers: dict[bytes, bytes], limit: int) -> bytes | None:
    """The whole request body, or None when it exceeds `limit`: then reading stops as soon as that is known (the
    endpoints answer 413)."""
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
