"""The hosted web form page at /wf/{id} in a real headless Chromium (issue 19 point 3, WEBFORM.md §3, §5.4): the end
user's part of the flow, created by the integrator's backend over the Web Form API on a real socket, checked through
what the user sees (headings, labels, buttons, links), where the browser lands, and what the Web Form API and Access
answer afterwards.

MOCK_FINAPI_SCREENSHOTS=<dir> saves a screenshot of every step (`test_every_step_in_english_and_german`).
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from mock_finapi.testing import ThreadedServer
from tests.browser.conftest import APP, Api, new_context, page_url, shot

try:
    from playwright.sync_api import Browser, BrowserContext, Page, expect
except ImportError:  # the fixtures say how to get it; CI (MOCK_FINAPI_CI=1) fails on the import instead
    if os.environ.get("MOCK_FINAPI_CI") == "1":
        raise
    pytest.skip(
        "playwright is not installed: the browser tests need Playwright and Chromium; get them with "
        "`apt-get install chromium` and `pip install playwright` (in mock-finapi's `test` extra)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.slow

TEST_BANK, REDIRECT_BANK, SPARKASSE = 280001, 280002, 10050000
UNLABELLED = """() => [
  ...[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
     .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => 'input ' + e.name),
  ...[...document.querySelectorAll('button')].filter(b => {
     const by = b.getAttribute('aria-labelledby');
     const named = by ? by.split(' ').map(id => document.getElementById(id)?.textContent || '').join('') : '';
     return !(b.textContent.trim() || b.getAttribute('aria-label') || named.trim());
  }).map(b => 'button ' + b.name),
]"""


def accessible(page: Page) -> None:
    """Every input of the step has a label, every button a name."""
    assert page.evaluate(UNLABELLED) == []


def heading(page: Page, name: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    accessible(page)


def log_in(page: Page, login: str = "demo", pin: str = "demo", button: str = "Log in") -> None:
    page.get_by_label("Onlinebanking-ID").fill(login)
    page.get_by_label("PIN").fill(pin)
    page.get_by_role("button", name=button).click()


def connect(page: Page, button: str = "Connect accounts") -> None:
    page.get_by_role("button", name=button).click()


def completed(api: Api, form: dict[str, Any], bank_id: int) -> dict[str, Any]:
    """The form is COMPLETED and names the connection Access now has (of `bank_id`); answers that connection."""
    found = api.form(form["id"])
    assert found["status"] == "COMPLETED"
    [connection] = api.connections()
    assert found["payload"] == {"bankConnectionId": connection["id"]}
    assert connection["bank"]["id"] == bank_id
    return connection


def failed(api: Api, form: dict[str, Any], code: str) -> None:
    """The form ended COMPLETED_WITH_ERROR with `code`, and Access has no connection."""
    found = api.form(form["id"])
    assert found["status"] == "COMPLETED_WITH_ERROR"
    assert found["payload"]["errorCode"] == code
    assert found["payload"]["bankConnectionId"] is None
    assert isinstance(found["payload"]["errorMessage"], str)
    assert api.connections() == []


# ---------------------------------------------------------------------------------------------------- the flows


def test_the_test_bank_with_an_embedded_tan_completes_and_access_has_the_connection(api: Api, page: Page) -> None:
    form = api.create(bank={"id": TEST_BANK})
    response = page.goto(form["url"])
    assert response is not None
    assert response.status == 200
    heading(page, "Log in to your online banking")
    expect(page.get_by_text("finAPI Test Bank", exact=True)).to_be_visible()
    expect(page.get_by_text("BLZ DEMO0001 · BIC DEMODE01XXX · München")).to_be_visible()
    expect(page.get_by_role("note")).to_have_text("finAPI sandbox emulator — no real bank")
    assert api.form(form["id"])["status"] == "IN_PROGRESS"

    log_in(page)
    heading(page, "Confirm your login")
    procedures = page.get_by_role("radio")
    expect(procedures).to_have_count(5)
    expect(page.get_by_label("smsTan")).to_be_checked()
    page.get_by_role("button", name="Continue").click()
    heading(page, "Enter your TAN")
    expect(page.get_by_text("smsTan: enter the TAN your bank sent you.")).to_be_visible()

    page.get_by_label("TAN").fill("654321")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("alert")).to_have_text("This TAN is not correct. Please try again.")
    heading(page, "Enter your TAN")
    assert api.form(form["id"])["status"] == "IN_PROGRESS"  # a wrong TAN may be tried again

    page.get_by_label("TAN").fill("123456")
    page.get_by_role("button", name="Confirm").click()
    heading(page, "Choose your accounts")
    expect(page.get_by_role("checkbox", name="Checking accounts")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Savings accounts")).to_be_checked()
    connect(page)

    heading(page, "Your bank account is connected")
    expect(page.get_by_text("You can close this window.")).to_be_visible()
    connection = completed(api, form, TEST_BANK)
    assert api.account_types(connection["id"]) == ["Checking", "Checking", "Savings"]


def test_the_decoupled_procedure_is_confirmed_with_a_button(api: Api, page: Page) -> None:
    form = api.create(bank={"id": TEST_BANK})
    page.goto(form["url"])
    log_in(page)
    page.get_by_label("Demo Decoupled Auth").check()
    page.get_by_role("button", name="Continue").click()
    heading(page, "Confirm in your banking app")
    expect(page.get_by_label("TAN")).to_have_count(0)
    page.get_by_role("button", name="I confirmed in my app").click()
    heading(page, "Choose your accounts")
    connect(page)
    heading(page, "Your bank account is connected")
    completed(api, form, TEST_BANK)


def test_the_redirect_bank_sends_the_user_to_its_consent_page_and_back(api: Api, page: Page) -> None:
    form = api.create(bank={"id": REDIRECT_BANK})
    page.goto(form["url"])
    expect(page.get_by_text("finAPI Test Redirect Bank", exact=True)).to_be_visible()
    log_in(page)
    heading(page, "Confirm at your bank")
    page.get_by_role("button", name="Continue at your bank").click()
    heading(page, "Allow access to your accounts")
    expect(page.get_by_text("Your bank's website (played by the sandbox)")).to_be_visible()
    page.get_by_role("button", name="Allow access").click()
    heading(page, "Choose your accounts")
    connect(page)
    heading(page, "Your bank account is connected")
    completed(api, form, REDIRECT_BANK)


def test_cancelling_at_the_redirect_bank_comes_back_and_then_fails(api: Api, page: Page) -> None:
    form = api.create(bank={"id": REDIRECT_BANK})
    page.goto(page_url(form, errorRedirectUrl=f"{APP}/failed"))
    log_in(page)
    page.get_by_role("button", name="Continue at your bank").click()
    page.get_by_role("button", name="Cancel at bank").click()
    heading(page, "The connection failed")
    expect(page.get_by_text("Access to your accounts was not allowed at your bank.")).to_be_visible()
    expect(page.get_by_text("Error code: BANK_SERVER_REJECTION")).to_be_visible()
    assert page.url.startswith(form["url"])  # no automatic redirect after an error
    failed(api, form, "BANK_SERVER_REJECTION")


def test_demo_no_msa_skips_the_strong_customer_authentication(api: Api, page: Page) -> None:
    form = api.create(bank={"id": TEST_BANK})
    page.goto(form["url"])
    log_in(page, "demo_no_msa", "demo_no_msa")
    heading(page, "Choose your accounts")
    connect(page)
    heading(page, "Your bank account is connected")
    completed(api, form, TEST_BANK)


def test_wrong_credentials_end_the_form_with_bank_server_rejection_and_offer_the_links(api: Api, page: Page) -> None:
    form = api.create(bank={"id": TEST_BANK})
    back, support = f"{APP}/webform/error?state=7", f"{APP}/support"
    page.goto(page_url(form, errorRedirectUrl=back, customerSupportUrl=support))
    log_in(page, "demo", "wrong-pin")

    heading(page, "The connection failed")
    expect(page.get_by_text("Your bank rejected the login.", exact=False)).to_be_visible()
    expect(page.get_by_text("Error code: BANK_SERVER_REJECTION")).to_be_visible()
    assert page.url.startswith(form["url"])  # the error redirect is offered, not automatic
    expect(page.get_by_role("link", name="Back to the app")).to_have_attribute("href", back)
    expect(page.get_by_role("link", name="Contact support")).to_have_attribute("href", support)
    failed(api, form, "BANK_SERVER_REJECTION")

    page.get_by_role("link", name="Back to the app").click()
    page.wait_for_url(back)
    expect(page.get_by_role("heading")).to_have_text("Back in the app")


def test_cancel_ends_the_form_aborted_and_goes_to_the_abort_redirect_url(api: Api, page: Page) -> None:
    form = api.create(bank={"id": TEST_BANK})
    target = f"{APP}/webform/aborted?state=7&reason=user"
    page.goto(page_url(form, abortRedirectUrl=target, redirectUrl=f"{APP}/done"))
    log_in(page)
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(target)
    expect(page.get_by_role("heading")).to_have_text("Back in the app")
    found = api.form(form["id"])
    assert (found["status"], found["payload"]) == ("ABORTED", {"bankConnectionId": None})
    assert api.connections() == []


def test_cancel_without_an_abort_redirect_url_shows_the_cancelled_page(api: Api, page: Page) -> None:
    form = api.create()
    page.goto(page_url(form, customerSupportUrl=f"{APP}/support"))
    page.get_by_role("button", name="Cancel").click()  # on the bank search already
    heading(page, "Connection cancelled")
    expect(page.get_by_role("link", name="Contact support")).to_have_attribute("href", f"{APP}/support")
    assert api.form(form["id"])["status"] == "ABORTED"


def test_success_goes_to_the_redirect_url_with_its_own_query(api: Api, page: Page) -> None:
    form = api.create(bank={"id": TEST_BANK})
    target = f"{APP}/webform/done?state=a%20b&x=1"
    page.goto(page_url(form, redirectUrl=target, lang="en"))
    log_in(page, "demo_no_msa", "demo_no_msa")
    connect(page)
    page.wait_for_url(target)
    expect(page.get_by_role("heading")).to_have_text("Back in the app")
    completed(api, form, TEST_BANK)


def test_the_update_form_of_a_task_logs_in_again_and_completes(api: Api, page: Page, emulator: ThreadedServer) -> None:
    """A background update that needs the user (`manageSavedSettings`) hands out a BANK_CONNECTION_UPDATE form:
    the page asks for the login and the SCA of the connection's bank, then the update is done (no account step)."""
    form = api.create(bank={"id": TEST_BANK})
    page.goto(form["url"])
    log_in(page, "demo_no_msa", "demo_no_msa")
    connect(page)
    connection = completed(api, form, TEST_BANK)
    emulator.admin.advance(60)  # the import is done (the connection is READY)
    body = {"bankConnectionId": connection["id"], "manageSavedSettings": ["CREDENTIALS"]}
    created = api.http.post("/api/tasks/backgroundUpdate", json=body, headers=api.auth)
    assert created.status_code == 201, created.text
    emulator.admin.advance(60)
    task = api.http.get(f"/api/tasks/{created.json()['id']}", headers=api.auth).json()
    assert task["status"] == "WEB_FORM_REQUIRED"

    page.goto(task["payload"]["webForm"]["url"])
    expect(page).to_have_title(re.compile("^Update your bank connection"))
    heading(page, "Log in to your online banking")
    expect(page.get_by_role("button", name="Choose another bank")).to_have_count(0)
    log_in(page)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("TAN").fill("123456")
    page.get_by_role("button", name="Confirm").click()
    heading(page, "Your bank connection is up to date")
    update = api.form(task["payload"]["webForm"]["id"])
    assert (update["status"], update["payload"]) == ("COMPLETED", {"bankConnectionId": connection["id"]})
    assert len(api.connections()) == 1


# ---------------------------------------------------------------------------------------------------- banks, accounts


def test_a_form_without_bank_lets_the_user_search_and_pick_one(api: Api, page: Page) -> None:
    form = api.create()
    page.goto(form["url"])
    heading(page, "Choose your bank")
    banks = page.locator(".banks").get_by_role("button")
    expect(banks).to_have_count(3)  # every bank the form offers, before any search

    page.get_by_label("Search for your bank").fill("zzz-no-such-bank")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text("No bank matches “zzz-no-such-bank”", exact=False)).to_be_visible()

    page.get_by_label("Search for your bank").fill("DEMO0002")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(banks).to_have_count(1)
    page.get_by_role("button", name="finAPI Test Redirect Bank").click()
    heading(page, "Log in to your online banking")
    expect(page.get_by_text("finAPI Test Redirect Bank", exact=True)).to_be_visible()

    page.get_by_role("button", name="Choose another bank").click()
    heading(page, "Choose your bank")
    page.get_by_label("Search for your bank").fill("musterstadt")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("button", name="Sparkasse Musterstadt").click()
    expect(page.get_by_text("This sandbox bank accepts any Onlinebanking-ID and PIN.")).to_be_visible()
    log_in(page, "anna.meyer", "any-pin")  # a scenario's bank: any login, no SCA
    heading(page, "Choose your accounts")
    connect(page)
    heading(page, "Your bank account is connected")
    completed(api, form, SPARKASSE)


@pytest.mark.parametrize(
    ("body", "offered"),
    [
        ({"allowTestBank": False}, ["Sparkasse Musterstadt"]),
        ({"allowedInterfaces": ["FINTS_SERVER"]}, ["finAPI Test Bank", "Sparkasse Musterstadt"]),
        ({"allowedInterfaces": ["WEB_SCRAPER"]}, []),
    ],
)
def test_the_bank_search_offers_only_the_banks_the_form_allows(
    api: Api, page: Page, body: dict[str, Any], offered: list[str]
) -> None:
    form = api.create(**body)
    page.goto(form["url"])
    names = page.locator(".banks .bankname")
    expect(names).to_have_count(len(offered))
    assert names.all_text_contents() == offered


def test_account_types_of_the_form_limit_the_accounts_offered_and_imported(api: Api, page: Page) -> None:
    form = api.create(bank={"id": TEST_BANK}, accountTypes=["CHECKING"])
    page.goto(form["url"])
    log_in(page, "demo_no_msa", "demo_no_msa")
    expect(page.get_by_role("checkbox")).to_have_count(1)
    expect(page.get_by_role("checkbox", name="Checking accounts")).to_be_checked()
    connect(page)
    connection = completed(api, form, TEST_BANK)
    assert api.account_types(connection["id"]) == ["Checking", "Checking"]


def test_the_user_keeps_only_the_account_types_left_checked(api: Api, page: Page) -> None:
    form = api.create(bank={"id": TEST_BANK})
    page.goto(form["url"])
    log_in(page, "demo_no_msa", "demo_no_msa")
    page.get_by_role("checkbox", name="Checking accounts").uncheck()
    page.get_by_role("checkbox", name="Savings accounts").uncheck()
    connect(page)
    expect(page.get_by_role("alert")).to_have_text("Please choose at least one account.")
    assert api.form(form["id"])["status"] == "IN_PROGRESS"
    page.get_by_role("checkbox", name="Savings accounts").check()
    connect(page)
    connection = completed(api, form, TEST_BANK)
    assert api.account_types(connection["id"]) == ["Savings"]


def test_a_bank_without_accounts_of_the_requested_types_ends_no_accounts_for_type_list(api: Api, page: Page) -> None:
    form = api.create(bank={"id": TEST_BANK}, accountTypes=["CREDIT_CARD", "LOAN"])
    page.goto(form["url"])
    log_in(page, "demo_no_msa", "demo_no_msa")
    heading(page, "The connection failed")
    expect(page.get_by_text("Error code: NO_ACCOUNTS_FOR_TYPE_LIST")).to_be_visible()
    failed(api, form, "NO_ACCOUNTS_FOR_TYPE_LIST")


# ---------------------------------------------------------------------------------------------------- one-time URL


def test_the_url_works_once_reloads_resume_and_another_browser_gets_the_one_time_page(
    api: Api, browser: Browser, context: BrowserContext, emulator: ThreadedServer
) -> None:
    form = api.create(bank={"id": TEST_BANK})
    page = context.new_page()
    page.goto(form["url"])
    log_in(page)
    heading(page, "Confirm your login")
    page.reload()  # the same browser: the flow resumes where it is
    heading(page, "Confirm your login")

    other = new_context(browser)
    try:
        second = other.new_page()
        response = second.goto(form["url"])
        assert response is not None
        assert response.status == 410
        heading(second, "This link was already used")
    finally:
        other.close()
    assert api.form(form["id"])["status"] == "IN_PROGRESS"  # opening again changes nothing

    page.get_by_role("button", name="Continue").click()  # the first browser goes on
    heading(page, "Enter your TAN")
    emulator.admin.advance(20 * 60)
    page.get_by_label("TAN").fill("123456")
    page.get_by_role("button", name="Confirm").click()
    heading(page, "This link has expired")
    assert api.form(form["id"])["status"] == "EXPIRED"


def test_an_unknown_form_gets_a_404_page(emulator: ThreadedServer, page: Page) -> None:
    response = page.goto(f"{emulator.url}/wf/00000000-0000-4000-8000-000000000000")
    assert response is not None
    assert response.status == 404
    heading(page, "Web form not found")


def test_a_step_sent_out_of_order_changes_nothing_and_shows_the_current_step(api: Api, page: Page) -> None:
    form = api.create(bank={"id": TEST_BANK})
    page.goto(form["url"])
    log_in(page)
    heading(page, "Confirm your login")
    # a second tab (sharing the cookie) sends the login again
    response = page.request.post(f"{form['url']}/login", form={"login": "demo", "password": "wrong"})
    assert response.status == 200
    assert "resumed=1" in response.url
    assert "That step is already done: please continue here." in response.text()
    assert "Confirm your login" in response.text()
    assert api.form(form["id"])["status"] == "IN_PROGRESS"


# ---------------------------------------------------------------------------------------------------- languages


def test_accept_language_german_and_the_language_switch(api: Api, browser: Browser) -> None:
    form = api.create(bank={"id": TEST_BANK})
    context = new_context(browser, locale="de-DE")
    try:
        page = context.new_page()
        page.goto(form["url"])
        expect(page).to_have_title(re.compile("^Bankkonto verbinden"))
        heading(page, "Im Onlinebanking anmelden")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.get_by_role("note")).to_have_text("finAPI-Sandbox-Emulator — keine echte Bank")

        page.get_by_role("link", name="English").click()
        heading(page, "Log in to your online banking")
        page.get_by_role("link", name="Deutsch").click()
        heading(page, "Im Onlinebanking anmelden")

        log_in(page, button="Anmelden")
        heading(page, "Anmeldung freigeben")
        page.get_by_role("button", name="Weiter").click()
        heading(page, "TAN eingeben")
        page.get_by_label("TAN").fill("123456")
        page.get_by_role("button", name="Bestätigen").click()
        heading(page, "Konten auswählen")
        expect(page.get_by_role("checkbox", name="Girokonten")).to_be_checked()
        connect(page, "Konten verbinden")
        heading(page, "Ihr Bankkonto ist verbunden")
        expect(page.get_by_text("Sie können dieses Fenster jetzt schließen.")).to_be_visible()
    finally:
        context.close()
    completed(api, form, TEST_BANK)


# ---------------------------------------------------------------------------------------------------- every step


HEADINGS = {
    "en": {
        "bank": "Choose your bank",
        "login": "Log in to your online banking",
        "sca": "Confirm your login",
        "tan": "Enter your TAN",
        "accounts": "Choose your accounts",
        "done": "Your bank account is connected",
        "decoupled": "Confirm in your banking app",
        "cancelled": "Connection cancelled",
        "redirect": "Confirm at your bank",
        "bank_site": "Allow access to your accounts",
        "failed": "The connection failed",
        "used": "This link was already used",
        "unknown": "Web form not found",
        "expired": "This link has expired",
    },
    "de": {
        "bank": "Wählen Sie Ihre Bank",
        "login": "Im Onlinebanking anmelden",
        "sca": "Anmeldung freigeben",
        "tan": "TAN eingeben",
        "accounts": "Konten auswählen",
        "done": "Ihr Bankkonto ist verbunden",
        "decoupled": "In Ihrer Banking-App bestätigen",
        "cancelled": "Vorgang abgebrochen",
        "redirect": "Bei Ihrer Bank bestätigen",
        "bank_site": "Zugriff auf Ihre Konten erlauben",
        "failed": "Die Verbindung ist fehlgeschlagen",
        "used": "Dieser Link wurde bereits verwendet",
        "unknown": "Webformular nicht gefunden",
        "expired": "Dieser Link ist abgelaufen",
    },
}
BUTTONS = {
    "en": {
        "search": "Search",
        "login": "Log in",
        "continue": "Continue",
        "confirm": "Confirm",
        "connect": "Connect accounts",
        "decoupled": "I confirmed in my app",
        "cancel": "Cancel",
        "to_bank": "Continue at your bank",
        "cancel_at_bank": "Cancel at bank",
    },
    "de": {
        "search": "Suchen",
        "login": "Anmelden",
        "continue": "Weiter",
        "confirm": "Bestätigen",
        "connect": "Konten verbinden",
        "decoupled": "Ich habe in der App bestätigt",
        "cancel": "Abbrechen",
        "to_bank": "Weiter zu Ihrer Bank",
        "cancel_at_bank": "Bei der Bank abbrechen",
    },
}


@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_step_in_english_and_german(api: Api, browser: Browser, emulator: ThreadedServer, lang: str) -> None:
    """Every page of the flow in the language asked for by `?lang=` (screenshots with MOCK_FINAPI_SCREENSHOTS)."""
    h, b = HEADINGS[lang], BUTTONS[lang]
    context = new_context(browser, locale="en-US" if lang == "de" else "de-DE")  # ?lang= wins over Accept-Language
    links = {"lang": lang, "errorRedirectUrl": f"{APP}/error", "customerSupportUrl": f"{APP}/support"}
    try:
        page = context.new_page()

        def step(name: str, number: int, key: str | None = None) -> None:
            heading(page, h[key or name])
            shot(page, f"{number:02d}-{name}-{lang}")

        page.goto(page_url(api.create(), **links))
        step("bank", 1)
        page.get_by_role("searchbox").fill("DEMO")
        page.get_by_role("button", name=b["search"], exact=True).click()
        expect(page.locator(".banks .bankname")).to_have_count(2)
        step("search", 2, "bank")
        page.get_by_role("button", name="finAPI Test Bank", exact=True).click()
        step("login", 3)
        log_in(page, button=b["login"])
        step("sca", 4)
        page.get_by_role("button", name=b["continue"]).click()
        step("tan", 5)
        page.get_by_label("TAN").fill("000000")
        page.get_by_role("button", name=b["confirm"]).click()
        expect(page.get_by_role("alert")).to_be_visible()
        step("tan-wrong", 6, "tan")
        page.get_by_label("TAN").fill("123456")
        page.get_by_role("button", name=b["confirm"]).click()
        step("accounts", 7)
        connect(page, b["connect"])
        step("done", 8)

        page.goto(page_url(api.create(bank={"id": TEST_BANK}), **links))
        log_in(page, button=b["login"])
        page.get_by_label("Demo Decoupled Auth").check()
        page.get_by_role("button", name=b["continue"]).click()
        step("decoupled", 9)
        page.get_by_role("button", name=b["cancel"]).click()
        step("cancelled", 10)

        page.goto(page_url(api.create(bank={"id": REDIRECT_BANK}), **links))
        log_in(page, button=b["login"])
        step("redirect", 11)
        page.get_by_role("button", name=b["to_bank"]).click()
        step("bank_site", 12)
        page.get_by_role("button", name=b["cancel_at_bank"]).click()
        step("failed-at-bank", 13, "failed")

        page.goto(page_url(api.create(bank={"id": TEST_BANK}), **links))
        log_in(page, "demo", "nope", button=b["login"])
        step("failed-login", 14, "failed")

        used = api.create(bank={"id": TEST_BANK})
        page.goto(page_url(used, **links))
        page.context.clear_cookies()  # as another browser would
        page.goto(page_url(used, **links))
        step("used", 15)
        page.goto(f"{emulator.url}/wf/00000000-0000-4000-8000-000000000000?lang={lang}")
        step("unknown", 16)

        mobile = context.new_page()
        mobile.set_viewport_size({"width": 390, "height": 844})
        mobile.goto(page_url(api.create(bank={"id": TEST_BANK}), **links))
        heading(mobile, h["login"])
        shot(mobile, f"17-login-mobile-{lang}")

        expiring = api.create(bank={"id": TEST_BANK})
        emulator.admin.advance(20 * 60 + 1)
        page.goto(page_url(expiring, **links))
        step("expired", 18)
    finally:
        context.close()
