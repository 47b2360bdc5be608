"""Route tables, one module per surface, and the router that serves them.

Handlers are plain `async (Request) -> Response` functions. `route()` wraps them as bare ASGI apps: an exception a
handler raises goes straight to the middleware (`http/middleware.py`), which renders every error, instead of through
Starlette's per-route exception-handler lookup. `Router` is Starlette's router with an index by path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette import routing
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from mock_finapi.http import render

Endpoint = Callable[[Request], Awaitable[Response]]


class Handlers:
    """The ASGI app of one path: the handler of the request's method (HEAD is served by GET)."""

    def __init__(self, handlers: dict[str, Endpoint]) -> None:
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        response = await self.handlers[method](Request(scope, receive, send))
        await render.respond(response, scope, send)


def route(path: str, **handlers: Endpoint) -> Route:
    """One route for all methods of a path, so a wrong method gets 405 with the complete `Allow` header."""
    return Route(path, Handlers(handlers), methods=list(handlers))


class Router(routing.Router):
    """Starlette's router, except that a request only tries the routes that can match its path: the one with exactly
    that path (most requests: one dict lookup) and those with path parameters, in their order. Same answer as
    Starlette's, without testing every route's pattern on every request."""

    def __init__(self, routes: Sequence[Route]) -> None:
        super().__init__(list(routes), redirect_slashes=False)  # finAPI answers /users/ with an error
        self._patterned = [r for r in routes if r.param_convertors]
        self._by_path: dict[str, list[Route]] = {}
        self._fixed: dict[str, Route] = {}
        for index, fixed in enumerate(routes):
            if fixed.param_convertors:
                continue
            self._by_path[fixed.path] = [r for r in routes if r is fixed or r.param_convertors]
            if not any(r.param_convertors and r.path_regex.match(fixed.path) for r in routes[:index]):
                self._fixed[fixed.path] = fixed  # no earlier route could take its requests

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("root_path"):
            await super().app(scope, receive, send)
            return
        fixed = self._fixed.get(scope["path"])
        if fixed is not None and scope["method"] in fixed.methods:  # type: ignore[operator]  # Route sets methods
            scope["route"] = fixed
            await fixed.app(scope, receive, send)
            return
        partial: tuple[Route, Scope] | None = None
        for candidate in self._by_path.get(scope["path"], self._patterned):
            match, child_scope = candidate.matches(scope)
            if match is Match.FULL:
                scope["route"] = candidate
                scope.update(child_scope)
                await candidate.app(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial = candidate, child_scope
        if partial is None:
            await self.not_found(scope, receive, send)
            return
        scope["route"] = partial[0]
        scope.update(partial[1])
        await partial[0].handle(scope, receive, send)  # 405 with `Allow`
