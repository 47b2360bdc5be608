"""The hosted web form page's rules (services/webform_flow.py): languages, page parameters, the banks a form offers,
logins, SCA and the accounts offered. Pure functions; the page itself is tested in a browser (tests/browser)."""

from __future__ import annotations

import pytest

from mock_finapi.scenarios.schema import BankSpec
from mock_finapi.services import webform_flow as flow
from mock_finapi.services.banks import TEST_BANK, TEST_REDIRECT_BANK, BankCatalog, from_spec
from mock_finapi.state.webforms import ImportRequest

SPARKASSE = from_spec(BankSpec(10050000, "Sparkasse Musterstadt", "10050000", interfaces=("XS2A", "FINTS_SERVER")))
CATALOG = BankCatalog([TEST_BANK, TEST_REDIRECT_BANK, SPARKASSE])


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("en-GB, de;q=0.5", "en"),
        ("fr-FR, de;q=0.3, en;q=0.7", "en"),
        ("DE", "de"),
        ("de;q=0.8, en;q=0.8", "de"),
        ("de;q=0, en;q=0.1", "en"),
        ("de;q=abc", None),
        ("fr, it", None),
        ("", None),
    ],
)
def test_accept_language_gives_the_page_language_with_the_highest_weight(header: str, language: str | None) -> None:
    assert flow.accepted_language(header) == language


@pytest.mark.parametrize(
    ("url", "usable"),
    [
        ("https://app.example.com/done?state=7", True),
        ("http://127.0.0.1:8080/cb", True),
        ("HTTPS://APP.EXAMPLE.COM", True),
        ("javascript:alert(1)", False),
        ("data:text/html,hi", False),
        ("//app.example.com/done", False),
        ("/relative", False),
        ("https://app.example.com/a b", False),
        ("https://app.example.com/\r\nSet-Cookie:x", False),
        ("https://[::1", False),
        ("https://app.example.com/" + "x" * 2048, False),
        ("", False),
    ],
)
def test_only_absolute_http_urls_are_usable(url: str, usable: bool) -> None:
    assert flow.usable_url(url) is usable


def test_page_params_keep_the_first_usable_of_each_and_a_known_language() -> None:
    params = flow.page_params(
        [
            ("redirectUrl", "https://a.example.com/1"),
            ("redirectUrl", "https://a.example.com/2"),
            ("abortRedirectUrl", "javascript:x"),
            ("lang", "fr"),
            ("lang", "de"),
            ("other", "x"),
        ]
    )
    assert params.urls == {"redirectUrl": "https://a.example.com/1"}
    assert params.lang == "de"
    assert params.query() == "?redirectUrl=https%3A%2F%2Fa.example.com%2F1&lang=de"
    assert params.query("en", resumed="1") == "?redirectUrl=https%3A%2F%2Fa.example.com%2F1&lang=en&resumed=1"
    assert flow.page_params([]).query() == ""


def test_the_session_key_belongs_to_one_form_of_one_seed() -> None:
    key = flow.session_key(1, "form-a")
    assert key == flow.session_key(1, "form-a")
    assert len(key) == 32
    assert key not in (flow.session_key(2, "form-a"), flow.session_key(1, "form-b"))
    assert flow.same_key(key, key)
    assert not flow.same_key(None, key)
    assert not flow.same_key(key[:-1] + "x", key)


@pytest.mark.parametrize(
    ("request_", "search", "names"),
    [
        (ImportRequest(), "", ["finAPI Test Bank", "finAPI Test Redirect Bank", "Sparkasse Musterstadt"]),
        (ImportRequest(), "demo0002", ["finAPI Test Redirect Bank"]),
        (ImportRequest(), "münchen test", ["finAPI Test Bank", "finAPI Test Redirect Bank"]),
        (ImportRequest(), "DE02100500000000000000 nope", []),
        (ImportRequest(allow_test_bank=False), "", ["Sparkasse Musterstadt"]),
        (ImportRequest(allowed_interfaces=("FINTS_SERVER",)), "", ["finAPI Test Bank", "Sparkasse Musterstadt"]),
        (ImportRequest(allowed_interfaces=("WEB_SCRAPER",)), "", []),
    ],
)
def test_the_search_offers_the_banks_the_form_allows(request_: ImportRequest, search: str, names: list[str]) -> None:
    found, more = flow.search_banks(CATALOG, request_, search)
    assert [bank.name for bank in found] == names
    assert more is False


def test_the_search_shows_at_most_twenty_banks() -> None:
    many = BankCatalog(
        [from_spec(BankSpec(10_000_000 + i, f"Bank {i}", f"{10_000_000 + i}", interfaces=("XS2A",))) for i in range(25)]
    )
    found, more = flow.search_banks(many, ImportRequest(), "bank")
    assert (len(found), more) == (flow.MAX_RESULTS, True)


def test_test_banks_take_their_documented_logins_and_other_banks_any() -> None:
    assert flow.login_accepted(TEST_BANK, "demo", "demo")
    assert flow.login_accepted(TEST_REDIRECT_BANK, "demo_no_msa", "demo_no_msa")
    assert not flow.login_accepted(TEST_BANK, "demo", "demo_no_msa")
    assert not flow.login_accepted(TEST_BANK, "demo\0", "demo")
    assert flow.login_accepted(SPARKASSE, "anyone", "any")
    assert not flow.login_accepted(SPARKASSE, "anyone", "")


def test_the_sca_follows_the_first_interface_the_form_allows() -> None:
    assert flow.sca(TEST_BANK, ImportRequest()) == "embedded"
    assert [p.procedure_name for p in flow.procedures(TEST_BANK, ImportRequest())][-1] == flow.DECOUPLED
    assert flow.sca(TEST_REDIRECT_BANK, ImportRequest()) == "redirect"
    assert flow.sca(SPARKASSE, ImportRequest()) == "none"
    assert flow.sca(TEST_REDIRECT_BANK, ImportRequest(allowed_interfaces=("FINTS_SERVER",))) == "none"
    assert flow.needs_sca(TEST_BANK, ImportRequest(), "demo")
    assert not flow.needs_sca(TEST_BANK, ImportRequest(), "demo_no_msa")
    assert flow.procedure(TEST_BANK, ImportRequest(), "942") == TEST_BANK.interfaces[0].two_step_procedures[0]
    assert flow.procedure(TEST_BANK, ImportRequest(), "nope") is None


@pytest.mark.parametrize(
    ("types", "offered"),
    [
        (None, [("CHECKING", ("Girokonto", "Haushaltskonto")), ("SAVINGS", ("Tagesgeld",))]),
        (("SAVINGS", "LOAN"), [("SAVINGS", ("Tagesgeld",))]),
        (("CREDIT_CARD",), []),
    ],
)
def test_the_accounts_offered_are_the_imports_of_the_form_s_account_types(
    types: tuple[str, ...] | None, offered: list[tuple[str, tuple[str, ...]]]
) -> None:
    assert flow.offered_accounts(ImportRequest(account_types=types)) == offered
