"""The indexed router (http/routes/Router) answers exactly as Starlette's own router does, for every route of the
app, every method and paths that hit no route, while trying only the routes that can match."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from starlette.exceptions import HTTPException
from starlette.routing import Route
from starlette.routing import Router as StarletteRouter
from starlette.types import Receive, Scope, Send

from mock_finapi.http.app import create_app
from mock_finapi.http.routes import Router
from mock_finapi.settings import Settings

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class Recorder:
    """Stands in for a route's app: tells which route took the request, with which path parameters."""

    def __init__(self, path: str) -> None:
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["taken_by"] = (self.path, scope.get("path_params", {}))


def recording(routes: list[Any]) -> list[Route]:
    return [Route(r.path, Recorder(r.path), methods=sorted(r.methods - {"HEAD"})) for r in routes]


def outcome(router: StarletteRouter, method: str, path: str) -> tuple[Any, ...]:
    scope: dict[str, Any] = {"type": "http", "method": method, "path": path, "root_path": "", "app": object()}
    try:
        asyncio.run(router(scope, receive=None, send=None))  # type: ignore[arg-type]  # never called
    except HTTPException as exc:
        return ("error", exc.status_code, (exc.headers or {}).get("Allow"))
    return ("taken", scope["taken_by"])


ROUTES = recording(create_app(Settings()).routes)
PATHS = sorted(
    {r.path.replace("{", "").replace("}", "") for r in ROUTES}  # every route, its parameters filled in
    | {"/api/v2/users/verificationStatus", "/api/v2/users/someone", "/api/v1/processes/a/link"}
    | {"/", "/api/v2/users/", "/api/v2/nothing", "/api/v1/processes/a/b/c", "/__admin/tokens//expire"}
)


@pytest.mark.parametrize(("method", "path"), list(itertools.product(METHODS, PATHS)))
def test_the_indexed_router_answers_as_starlettes_router(method: str, path: str) -> None:
    ours = outcome(Router(ROUTES), method, path)
    assert ours == outcome(StarletteRouter(ROUTES, redirect_slashes=False), method, path)


def test_the_comparison_sees_every_outcome() -> None:
    """The table above covers requests taken by routes with and without parameters, 404 and 405."""
    outcomes = [outcome(Router(ROUTES), m, p) for m, p in itertools.product(METHODS, PATHS)]
    assert {o[0] for o in outcomes} == {"taken", "error"}
    assert {o[1] for o in outcomes if o[0] == "error"} == {404, 405}
    assert any(o[0] == "taken" and o[1][1] for o in outcomes)  # with path parameters
