"""`create_app()`: the Starlette application, built fresh for every caller (no module-level state)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.types import ASGIApp

from mock_finapi.clock import Clock
from mock_finapi.http import openapi
from mock_finapi.http.middleware import RequestContext
from mock_finapi.http.request_log import RequestLog
from mock_finapi.http.routes import Router, admin, client_config, oauth, processes, users
from mock_finapi.scenarios import loader
from mock_finapi.scenarios.schema import Scenario
from mock_finapi.settings import Settings
from mock_finapi.world import World


class Emulator(Starlette):
    """Starlette with one middleware and nothing else around the router: the middleware renders every error
    (Starlette's ServerErrorMiddleware and ExceptionMiddleware would only add two layers to each request)."""

    def build_middleware_stack(self) -> ASGIApp:
        settings: Settings = self.state.settings
        # the router has no middleware of its own to pass
        return RequestContext(self.router.app, self.state.request_log, settings.max_body_bytes)


def create_app(
    settings: Settings | None = None, *, scenario: Scenario | None = None, clock: Clock | None = None
) -> Starlette:
    """An emulator serving `scenario` (default: the one `settings.scenario` names; raises ScenarioError)."""
    settings = settings or Settings()
    scenario = scenario or loader.load(settings.scenario)
    app = Emulator()
    app.router = Router(
        [
            *oauth.routes,
            *users.routes,
            *client_config.routes,
            *processes.routes,
            *admin.routes(settings),
            *openapi.routes,
        ]
    )
    app.state.settings = settings
    app.state.request_log = RequestLog(settings.request_log) if settings.request_log != "off" else None
    app.state.world = World(scenario, seed=settings.seed, clock=clock, journal_size=settings.journal_size)
    return app


def stopped(app: ASGIApp) -> None:
    """What a host calls once `app` (of `create_app`) serves no more: the request log writes the lines it holds."""
    request_log: RequestLog | None = getattr(getattr(app, "state", None), "request_log", None)
    if request_log is not None:
        request_log.write()
