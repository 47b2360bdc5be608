"""The typed per-request context: what the middleware learns of a request and the handlers add to it.

The middleware (`http/middleware.py`) makes one `RequestContext` per request and puts it in the ASGI scope; handlers
and renderers reach it through `context(request)` and the accessors below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mock_finapi.clock import ClockState
from mock_finapi.state.models import Client, FaultRule

if TYPE_CHECKING:
    from mock_finapi.world import Sandbox, World

SCOPE_KEY = "mock_finapi.context"
STOPPED = ClockState(0.0, 0.0)
"""The clock of a request before the store was read (its errors are dated 1970)."""


@dataclass(slots=True, eq=False)
class RequestContext:
    sandbox: Sandbox
    headers: dict[bytes, bytes]
    """The request's headers, lower-case names; the first of repeated headers wins."""
    request_id: str
    started: float
    """Real time (the clock's source) when the request came in."""
    world: World
    """The world the request is served by: taken once its body is in (a swap meanwhile is seen)."""
    response_headers: list[tuple[bytes, bytes]]
    """Added to every answer (`X-Request-Id`, `X-Mock-Fault`)."""
    clock: ClockState = STOPPED
    now: float = 0.0
    """Virtual time the request is served at."""
    body: bytes | None = None
    """The whole body (None when it exceeded the limit)."""
    status: int = 0
    """Of the answer, once sent (0: none)."""
    client_id: str | None = None
    """The client that authenticated (or that the request names)."""
    mandator_id: str | None = None
    user_id: str | None = None
    """The user of an authenticated user token."""
    fault: FaultRule | None = None
    endpoint: str | None = None
    """The path template of the route that took the request (None: no route did)."""

    def authenticated(self, client: Client, user_id: str | None = None) -> None:
        self.client_id, self.mandator_id, self.user_id = client.client_id, client.mandator_id, user_id

    @property
    def auth_context(self) -> str:
        """finAPI's `authContext` of error bodies: `mandator/client[/user]` once authenticated, else `-`."""
        if self.mandator_id is None or self.client_id is None:
            return "-"
        return f"{self.mandator_id}/{self.client_id}" + (f"/{self.user_id}" if self.user_id else "")

    async def answer(self, response: Response, scope: Scope, receive: Receive, send: Send) -> None:
        """Send `response` with the headers every answer carries, noting its status."""
        self.status = response.status_code
        response.raw_headers.extend(self.response_headers)
        await response(scope, receive, send)

    def header(self, name: bytes) -> str:
        """The first value of a request header (`name` in lower case), or ""."""
        return self.headers.get(name, b"").decode("latin-1")


def context(request: Request) -> RequestContext:
    ctx: RequestContext = request.scope[SCOPE_KEY]
    return ctx


def world(request: Request) -> World:
    """The world serving this request."""
    return context(request).world


def header(request: Request, name: bytes) -> str:
    return context(request).header(name)


def api_version(request: Request) -> int:
    """1 for Access v1 paths (/api/v1/..., /oauth/...), else 2: decides date formats and model shapes."""
    path: str = request.scope["path"]
    return 1 if path.startswith(("/api/v1/", "/oauth/")) else 2
