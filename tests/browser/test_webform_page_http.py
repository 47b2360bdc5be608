"""The hosted web form page over plain HTTP (no browser needed): what a browser relies on but does not show, the
one-time URL's cookie, HEAD, escaping, unusable redirect URLs, the journal's masking of PIN and TAN, and bodies no
browser would send. The emulator runs on a real socket (the page is HTML, outside finAPI's JSON contract)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from mock_finapi.testing import ThreadedServer
from tests.browser.conftest import Api

pytestmark = pytest.mark.slow


@pytest.fixture
def browser_like(emulator: ThreadedServer) -> Iterator[httpx.Client]:
    """A client with a cookie jar that does not follow redirects (the tests look at each answer)."""
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        yield client


def path_of(form: dict[str, Any], step: str = "", **params: str) -> str:
    """The page's path (of a step's POST endpoint) with page parameters."""
    path = "/wf/" + form["id"] + (f"/{step}" if step else "")
    return f"{path}?{urlencode(params)}" if params else path


def test_the_first_open_sets_the_session_cookie_and_secures_the_page(api: Api, browser_like: httpx.Client) -> None:
    form = api.create(bank={"id": 280001})
    response = browser_like.get(path_of(form))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-security-policy"].startswith("default-src 'none'; style-src 'unsafe-inline'")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("wf_session=")
    assert f"Path=/wf/{form['id']}; HttpOnly; SameSite=Lax" in cookie
    assert "<script" not in response.text
    assert "http://" not in response.text  # nothing loaded from elsewhere
    assert api.form(form["id"])["status"] == "IN_PROGRESS"

    again = browser_like.get(path_of(form))  # the same browser: its step again
    assert again.status_code == 200
    assert "set-cookie" not in again.headers


def test_a_second_open_without_the_cookie_is_410_and_changes_nothing(api: Api, emulator: ThreadedServer) -> None:
    form = api.create()
    with httpx.Client(base_url=emulator.url) as first, httpx.Client(base_url=emulator.url) as second:
        assert first.get(path_of(form)).status_code == 200
        used = second.get(path_of(form, lang="de"))
        assert used.status_code == 410
        assert "Dieser Link wurde bereits verwendet" in used.text
        step = second.post(path_of(form, "cancel"))  # a step without the cookie: refused the same way
        assert step.status_code == 410
    assert api.form(form["id"])["status"] == "IN_PROGRESS"


def test_head_does_not_use_up_the_one_time_url(api: Api, browser_like: httpx.Client, emulator: ThreadedServer) -> None:
    form = api.create()
    assert browser_like.head(path_of(form)).status_code == 200
    assert api.form(form["id"])["status"] == "NOT_YET_OPENED"
    assert browser_like.head("/wf/unknown").status_code == 404
    browser_like.get(path_of(form))
    assert browser_like.head(path_of(form)).status_code == 200  # this browser may reload it
    emulator.admin.advance(20 * 60)
    assert browser_like.head(path_of(form)).status_code == 410


def test_what_the_integrator_and_the_user_type_is_escaped(api: Api, browser_like: httpx.Client) -> None:
    form = api.create()
    hostile = 'https://app.example.com/"><script>alert(1)</script>'
    response = browser_like.get(path_of(form, customerSupportUrl=hostile, q="<img src=x onerror=alert(1)>"))
    assert response.status_code == 200
    assert "<script>" not in response.text
    assert "<img" not in response.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text  # the search term, shown escaped
    assert "customerSupportUrl=https%3A%2F%2Fapp.example.com%2F%22%3E%3Cscript%3E" in response.text  # carried on


def test_urls_that_are_not_http_are_never_offered(api: Api, browser_like: httpx.Client) -> None:
    form = api.create(bank={"id": 280001})
    params = {"errorRedirectUrl": "javascript:alert(1)", "customerSupportUrl": "data:text/html,hi"}
    browser_like.get(path_of(form, **params))
    failed = browser_like.post(path_of(form, "login", **params), data={"login": "demo", "password": "wrong"})
    assert failed.status_code == 303
    page = browser_like.get(failed.headers["location"])
    assert page.status_code == 200
    assert "BANK_SERVER_REJECTION" in page.text
    assert "javascript:" not in page.text
    assert "data:text" not in page.text
    assert "Back to the app" not in page.text


def test_redirect_urls_are_answered_with_303_to_exactly_the_given_url(api: Api, browser_like: httpx.Client) -> None:
    form = api.create(bank={"id": 280001})
    target = "https://app.example.com/done?state=%C3%A4&x=1#top"
    browser_like.get(path_of(form, redirectUrl=target))
    login = {"login": "demo_no_msa", "password": "demo_no_msa"}
    assert browser_like.post(path_of(form, "login", redirectUrl=target), data=login).status_code == 303
    chosen = {"accountType": ["CHECKING", "SAVINGS"]}
    done = browser_like.post(path_of(form, "accounts", redirectUrl=target), data=chosen)
    assert done.status_code == 303
    assert done.headers["location"] == target
    assert api.form(form["id"])["status"] == "COMPLETED"


def test_the_journal_masks_the_pin_and_the_tan(api: Api, browser_like: httpx.Client, emulator: ThreadedServer) -> None:
    form = api.create(bank={"id": 280001})
    browser_like.get(path_of(form))
    browser_like.post(path_of(form, "login"), data={"login": "demo", "password": "demo"})
    browser_like.post(path_of(form, "procedure"), data={"procedure": "942"})
    browser_like.post(path_of(form, "tan"), data={"tan_secret": "123456"})
    bodies = {entry["path"]: entry["body"] for entry in emulator.admin.requests(method="POST")}
    assert bodies[f"/wf/{form['id']}/login"] == {"login": "demo", "password": "***"}
    assert bodies[f"/wf/{form['id']}/tan"] == {"tan_secret": "***"}
    [opened] = emulator.admin.requests(method="GET", path=f"/wf/{form['id']}")
    assert (opened["status"], opened["mandatorId"]) == (200, "2c6b8f0e-7d42-4f1a-9a43-1f0c2d3e4a5b")


def test_accept_language_picks_german_or_english_and_lang_wins(api: Api, emulator: ThreadedServer) -> None:
    cases = [
        ({"Accept-Language": "fr-FR, de;q=0.5, en;q=0.4"}, "", "Wählen Sie Ihre Bank"),
        ({"Accept-Language": "de-DE,de;q=0.9"}, "?lang=en", "Choose your bank"),
        ({"Accept-Language": "fr, it"}, "?lang=xx", "Choose your bank"),
    ]
    for headers, query, heading in cases:
        form = api.create()
        with httpx.Client(base_url=emulator.url, headers=headers) as client:
            response = client.get(path_of(form) + query)
        assert response.status_code == 200
        assert f"<h1>{heading}</h1>" in response.text


AT_STEP = {
    "bank": ({}, []),
    "login": ({"bank": {"id": 280001}}, []),
    "procedure": ({"bank": {"id": 280001}}, [("login", {"login": "demo", "password": "demo"})]),
    "accounts": ({"bank": {"id": 280001}}, [("login", {"login": "demo_no_msa", "password": "demo_no_msa"})]),
}
"""How to get a form to a step: the import body and the steps to POST first."""


@pytest.mark.parametrize(
    ("step", "body"),
    [
        ("login", b"\xff\xfe%%%=&&="),
        ("login", b"login=" + b"x" * 5000 + b"&password="),
        ("bank", b"bank=99999999999999999999999"),
        ("bank", b"bank=-1&bank=280001"),
        ("accounts", b"accountType=NOPE&accountType="),
        ("procedure", b"procedure=%00"),
    ],
)
def test_bodies_no_browser_sends_never_break_the_page(
    api: Api, browser_like: httpx.Client, step: str, body: bytes
) -> None:
    """Refused (422, the step again) or sent back to the step (303); the form goes on."""
    create, before = AT_STEP[step]
    form = api.create(**create)
    browser_like.get(path_of(form))
    for name, fields in before:
        assert browser_like.post(path_of(form, name), data=fields).status_code == 303
    response = browser_like.post(path_of(form, step), content=body)
    assert response.status_code in (303, 422), response.text
    assert browser_like.get(path_of(form)).status_code == 200
    assert api.form(form["id"])["status"] == "IN_PROGRESS"
