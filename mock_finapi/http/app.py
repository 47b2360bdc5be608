"""`create_app()`: the Starlette application, built fresh for every caller (no module-level state)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from mock_finapi import errors
from mock_finapi.clock import Clock
from mock_finapi.http import openapi, render
from mock_finapi.http.middleware import RequestContext
from mock_finapi.http.routes import admin, client_config, oauth, processes, users
from mock_finapi.scenarios import loader
from mock_finapi.scenarios.schema import Scenario
from mock_finapi.settings import Settings
from mock_finapi.world import World


def create_app(
    settings: Settings | None = None, *, scenario: Scenario | None = None, clock: Clock | None = None
) -> Starlette:
    """An emulator serving `scenario` (default: the one `settings.scenario` names; raises ScenarioError)."""
    settings = settings or Settings()
    scenario = scenario or loader.load(settings.scenario)
    app = Starlette(
        routes=[
            *oauth.routes,
            *users.routes,
            *client_config.routes,
            *processes.routes,
            *admin.routes(settings),
            *openapi.routes,
        ],
        middleware=[Middleware(RequestContext)],
        exception_handlers={
            errors.ApiError: render.api_error,
            errors.OAuthError: render.oauth_error,
            HTTPException: render.http_error,
        },
    )
    app.router.redirect_slashes = False  # finAPI answers /users/ with an error, not a redirect
    app.state.settings = settings
    app.state.world = World(scenario, seed=settings.seed, clock=clock, journal_size=settings.journal_size)
    return app
