"""Fixtures of the browser tests: the emulator on a real socket (`ThreadedServer`, the `webform-page.yaml` scenario),
Debian's Chromium driven by Playwright's sync API (never a downloaded browser), and the Web Form API over HTTP.

Without Playwright or Chromium the browser tests skip, saying how to get them; with MOCK_FINAPI_CI=1 (CI) they fail
instead. MOCK_FINAPI_SCREENSHOTS=<dir> saves a screenshot of every step the tests pass through (`shot`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx
import pytest

from mock_finapi.testing import ThreadedServer
from tests.helpers import bearer, user_tokens

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route

CHROMIUM = "/usr/bin/chromium"
SCENARIO = str(Path(__file__).resolve().parent / "webform-page.yaml")
APP = "https://app.example.com"
"""The integrator's app: the browser's requests to it are answered by the test (offline), so redirects land."""
HOW_TO = (
    "get them with `apt-get install chromium` (Debian's Chromium at /usr/bin/chromium; Playwright's own browser "
    "downloads are not used) and `pip install playwright` (in mock-finapi's `test` extra)"
)


def unavailable(what: str) -> None:
    """Skip (fail in CI, MOCK_FINAPI_CI=1) because `what` is missing."""
    message = f"{what}: the browser tests need Playwright and Chromium; {HOW_TO}"
    if os.environ.get("MOCK_FINAPI_CI") == "1":
        pytest.fail(f"{message} (MOCK_FINAPI_CI=1: browser tests must run in CI)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    """Playwright's driver (named so as not to clash with the pytest-playwright plugin's fixtures). Module-scoped:
    the sync API keeps an asyncio loop running in this thread while it lives, so it must end before tests of other
    modules (asyncio, anyio) run in the same process."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed")
        raise  # not reached: unavailable() skips or fails
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer(scenario=SCENARIO) as running:
        yield running


@pytest.fixture
def emulator(server: ThreadedServer) -> ThreadedServer:
    """The module's server with a fresh world (no web forms, no connections, the clock at the start)."""
    server.reset()
    return server


class Api:
    """The integrator's backend: the user's token, the Web Form API and Access v2 over HTTP."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=10)
        self.auth = bearer(user_tokens(self.http)["access_token"])

    def create(self, **body: Any) -> dict[str, Any]:
        response = self.http.post("/api/webForms/bankConnectionImport", json=body, headers=self.auth)
        assert response.status_code == 201, response.text
        form: dict[str, Any] = response.json()
        return form

    def form(self, web_form_id: str) -> dict[str, Any]:
        response = self.http.get(f"/api/webForms/{web_form_id}", headers=self.auth)
        assert response.status_code == 200, response.text
        form: dict[str, Any] = response.json()
        return form

    def connections(self) -> list[dict[str, Any]]:
        response = self.http.get("/api/v2/bankConnections", headers=self.auth)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["connections"]
        return found

    def account_types(self, connection_id: int) -> list[str]:
        response = self.http.get("/api/v2/accounts", params={"bankConnectionIds": connection_id}, headers=self.auth)
        assert response.status_code == 200, response.text
        return sorted(account["accountType"] for account in response.json()["accounts"])


@pytest.fixture
def api(emulator: ThreadedServer) -> Iterator[Api]:
    client = Api(emulator.url)
    yield client
    client.http.close()


def page_url(form: dict[str, Any], **params: str) -> str:
    """The form's URL with the page parameters an integrator appends (WEBFORM.md §3)."""
    url: str = form["url"]
    return f"{url}?{urlencode(params)}" if params else url


def _app_page(route: Route) -> None:
    route.fulfill(
        status=200, content_type="text/html", body="<!doctype html><title>App</title><h1>Back in the app</h1>"
    )


def new_context(browser: Browser, locale: str = "en-US") -> BrowserContext:
    """A fresh browser profile (no cookies) speaking `locale` (its Accept-Language); the integrator's app answers."""
    created = browser.new_context(locale=locale, viewport={"width": 1024, "height": 900})
    created.route(f"{APP}/**", _app_page)
    return created


@pytest.fixture
def context(browser: Browser, emulator: ThreadedServer) -> Iterator[BrowserContext]:
    created = new_context(browser)
    yield created
    created.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def shot(page: Page, name: str) -> None:
    """A screenshot of the whole page into $MOCK_FINAPI_SCREENSHOTS/<name>.png, when that is set."""
    folder = os.environ.get("MOCK_FINAPI_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
