"""`create_app()`: the emulator's ASGI application, built fresh for every caller (no module-level state)."""

from __future__ import annotations

from datetime import datetime

from mock_finapi.clock import Clock
from mock_finapi.http import openapi
from mock_finapi.http.middleware import RequestLifecycle
from mock_finapi.http.request_log import RequestLog
from mock_finapi.http.routes import (
    RouteTable,
    admin,
    bank_data,
    client_config,
    mandator_admin,
    not_found,
    oauth,
    processes,
    tests_api,
    users,
    webform_page,
    webforms,
)
from mock_finapi.scenarios import loader
from mock_finapi.scenarios.schema import Scenario
from mock_finapi.services.metrics import RequestCounts
from mock_finapi.settings import Settings
from mock_finapi.snapshots import Loaded
from mock_finapi.world import Sandbox


class Emulator(RequestLifecycle):
    """The emulator as an ASGI app: `RequestLifecycle` around the emulator's routes, with the sandbox of its worlds.
    (No redirects: finAPI answers `/users/` with an error, not a redirect to `/users`.)"""

    def __init__(self, sandbox: Sandbox, request_log: RequestLog | None) -> None:
        counts: RequestCounts = {}
        self.routes = RouteTable(
            [
                *oauth.routes,
                *users.routes,
                *client_config.routes,
                *mandator_admin.routes,
                *processes.routes,
                *bank_data.routes,
                *tests_api.routes,
                *webforms.routes,
                *webform_page.routes,
                *admin.routes(sandbox.settings, counts),
                *openapi.routes,
            ],
            not_found,
        )
        super().__init__(self.routes, sandbox, request_log, counts)

    def stopped(self) -> None:
        """What a server or client calls once the app serves no more: the request log writes the lines it holds."""
        if self.request_log is not None:
            self.request_log.write()


def create_app(
    settings: Settings | None = None,
    *,
    scenario: Scenario | None = None,
    clock: Clock | None = None,
    freeze_at: datetime | None = None,
    snapshot: Loaded | None = None,
) -> Emulator:
    """An emulator serving `scenario` (default: the one `settings.scenario` names; raises ScenarioError), or the
    state of `snapshot` (read by `snapshots.load`); `clock` is the real-time source, `freeze_at` starts the virtual
    clock of a scenario there, frozen."""
    settings = settings or Settings()
    if snapshot is not None:
        sandbox = Sandbox.restored(settings, snapshot, clock=clock)
    else:
        sandbox = Sandbox.start(settings, scenario or loader.load(settings.scenario), clock=clock, freeze_at=freeze_at)
    request_log = RequestLog(settings.request_log) if settings.request_log != "off" else None
    return Emulator(sandbox, request_log)
