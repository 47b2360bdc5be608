"""Route tables, one module per surface, and the table that dispatches to them.

Handlers are plain `async (Request) -> Response` functions: parse, call a service, render. `route()` serves all
methods of one path from one Starlette `Route`: a method the path has no handler for is 405 with the complete
`Allow` header; a path no route has is 404 (`not_found`). Both in finAPI's shape, raised to `RequestLifecycle`,
which renders every error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from mock_finapi import errors
from mock_finapi.http.context import SCOPE_KEY, RequestContext

Endpoint = Callable[[Request], Awaitable[Response]]


class Handlers:
    """The ASGI app of one path: the handler of the request's method (HEAD is served by GET)."""

    def __init__(self, handlers: dict[str, Endpoint]) -> None:
        self.handlers = handlers
        methods = {*handlers, *(["HEAD"] if "GET" in handlers else [])}
        self.allow = ", ".join(sorted(methods))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.handlers.get("GET" if scope["method"] == "HEAD" else scope["method"])
        if handler is None:
            message = errors.MSG_METHOD_NOT_ALLOWED.format(method=scope["method"])
            raise errors.MethodNotAllowed(message, headers={"Allow": self.allow})
        response = await handler(Request(scope, receive, send))
        ctx: RequestContext = scope[SCOPE_KEY]
        await ctx.answer(response, scope, receive, send)


def route(path: str, **handlers: Endpoint) -> Route:
    return Route(path, Handlers(handlers))


async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
    raise errors.UnknownEntity(errors.MSG_NO_ENDPOINT.format(method=scope["method"], path=scope["path"]))


class RouteTable:
    """Routes tried in order, as Starlette's `Router` tries them, but only those that can match the request's path:
    a fixed path that no earlier route takes is one dict lookup (its match, made once, is the same for every request
    of that path), any other path tries the routes with parameters whose literal start it has. Matching is Starlette's
    (`Route.matches`: about 1.4 µs a route tried)."""

    def __init__(self, routes: list[Route], default: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.routes, self.default = routes, default
        self.fixed: dict[str, tuple[Route, Scope]] = {}
        for index, route in enumerate(routes):
            if "{" not in route.path and not any(_match(earlier, route.path) for earlier in routes[:index]):
                self.fixed[route.path] = (route, _match(route, route.path) or {})
        self.shadowed = {r.path for r in routes if "{" not in r.path} - self.fixed.keys()
        self.patterned = [(r.path.partition("{")[0], r) for r in routes if "{" in r.path]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        fixed = self.fixed.get(path)
        ctx: RequestContext = scope[SCOPE_KEY]
        if fixed is not None:
            route, child_scope = fixed
            scope.update(child_scope, path_params={})
            ctx.endpoint = route.path
            await route.handle(scope, receive, send)
            return
        if path in self.shadowed:  # a fixed path an earlier route with parameters may take: all, in order
            candidates = self.routes
        else:
            candidates = [r for start, r in self.patterned if path.startswith(start)]
        for candidate in candidates:
            match, child_scope = candidate.matches(scope)
            if match is Match.FULL:
                scope.update(child_scope)
                ctx.endpoint = candidate.path
                await candidate.handle(scope, receive, send)
                return
        await self.default(scope, receive, send)


def _match(route: Route, path: str) -> Scope | None:
    """The child scope of `route` for a request of `path`, None when it does not match."""
    match, child_scope = route.matches({"type": "http", "path": path, "root_path": "", "method": "GET"})
    return child_scope if match is Match.FULL else None
