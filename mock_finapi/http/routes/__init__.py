"""Route tables, one module per surface.

Handlers are plain `async (Request) -> Response` functions: parse, call a service, render. `route()` serves all
methods of one path from one Starlette `Route`, so a wrong method gets 405 with the complete `Allow` header.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]


class Handlers:
    """The ASGI app of one path: the handler of the request's method (HEAD is served by GET)."""

    def __init__(self, handlers: dict[str, Endpoint]) -> None:
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        response = await self.handlers[method](Request(scope, receive, send))
        await response(scope, receive, send)


def route(path: str, **handlers: Endpoint) -> Route:
    return Route(path, Handlers(handlers), methods=list(handlers))
