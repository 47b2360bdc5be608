"""The rules of the hosted web form page (`/wf/{id}`, WEBFORM.md §3, §5.4): which banks the end user may pick, which
logins a bank accepts, which strong customer authentication (SCA) follows, which accounts are offered, and the page
parameters an integrator appends to the URL. Pure functions: no HTTP, no store (the page's handlers are
`http/routes/webform_page.py`, its HTML `http/webform_html.py`).

What finAPI does not publish is **(decided)** here:
- A bank is offered when it has an interface the form allows (`allowedInterfaces`, all when absent) and, with
  `allowTestBank: false`, is no test bank. Its SCA follows its first allowed interface: `REDIRECT_APPROACH` → the
  redirect pages (DEMO0002), two-step procedures → choose one, then a TAN (`123456`) or, for `Demo Decoupled Auth`,
  a confirmation button (DEMO0001); neither (a scenario's bank) → no SCA. `demo_no_msa` skips SCA at any bank.
- A test bank accepts its documented logins (`demo`/`demo`, `demo_no_msa`/`demo_no_msa`), a scenario's bank any
  non-empty login (`Bank.logins` empty). One wrong login ends the form COMPLETED_WITH_ERROR/BANK_SERVER_REJECTION.
- The accounts offered are the ones a web-form import generates (`bankgen.TEST_BANK_ACCOUNTS`: Girokonto and
  Haushaltskonto (Checking), Tagesgeld (Savings)) of the form's `accountTypes`; the user keeps or drops them by
  type (the import takes account types). None left → COMPLETED_WITH_ERROR/NO_ACCOUNTS_FOR_TYPE_LIST.
- Page parameters (`redirectUrl`, `errorRedirectUrl`, `abortRedirectUrl`, `customerSupportUrl`) count only as
  absolute `http(s)` URLs of at most 2048 characters without spaces or control characters; anything else is ignored
  (a `javascript:` URL never becomes a link).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Literal, NamedTuple
from urllib.parse import urlencode, urlsplit

from mock_finapi.services.bankgen import TEST_BANK_ACCOUNTS
from mock_finapi.services.banks import BankCatalog
from mock_finapi.state.banking import Bank, BankInterface, TwoStepProcedure
from mock_finapi.state.webforms import ImportRequest

TAN = "123456"
"""The one TAN the sandbox accepts (WEBFORM.md §5.4)."""
NO_SCA_LOGIN = "demo_no_msa"
"""The test login that skips the strong customer authentication."""
DECOUPLED = "Demo Decoupled Auth"
"""The name of DEMO0001's decoupled procedure: confirmed in an app, no TAN typed."""
PAGE_PARAMS = ("redirectUrl", "errorRedirectUrl", "abortRedirectUrl", "customerSupportUrl")
"""The query parameters an integrator may append to a web form's URL (WEBFORM.md §3), kept on every step."""
LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"
"""Without `?lang=` and without an `Accept-Language` naming en or de (decided)."""
MAX_URL = 2048
MAX_SEARCH = 200
"""Characters of a bank search that are looked at."""
MAX_RESULTS = 20
"""Banks a search shows at most (more: the user is asked to narrow it down)."""
ACCESS_TO_WEB_FORM = {
    "Checking": "CHECKING",
    "Savings": "SAVINGS",
    "CreditCard": "CREDIT_CARD",
    "Security": "SECURITY",
    "Loan": "LOAN",
    "Membership": "MEMBERSHIP",
    "Bausparen": "BAUSPAREN",
}
"""Access's account type names and the Web Form API's (WEBFORM.md §1: the same meaning, mapped 1:1)."""
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")

Sca = Literal["none", "redirect", "embedded"]


class PageParams(NamedTuple):
    """The integrator's page parameters (only the usable ones) and the language asked for by `?lang=`."""

    urls: Mapping[str, str]
    lang: str | None

    def query(self, lang: str | None = None, **extra: str) -> str:
        """The query string that carries these parameters to the next step (`?...`, or "" when there are none);
        `lang` replaces the one asked for."""
        pairs = [*self.urls.items()]
        chosen = lang or self.lang
        if chosen:
            pairs.append(("lang", chosen))
        pairs += extra.items()
        return "?" + urlencode(pairs) if pairs else ""


def page_params(pairs: Iterable[tuple[str, str]]) -> PageParams:
    """The page parameters of a request's query (the first of repeated ones; unusable URLs dropped)."""
    urls: dict[str, str] = {}
    lang = None
    for key, value in pairs:
        if key in PAGE_PARAMS and key not in urls:
            if usable_url(value):
                urls[key] = value
        elif key == "lang" and lang is None and value in LANGUAGES:
            lang = value
    return PageParams(urls, lang)


def usable_url(value: str) -> bool:
    """An absolute http(s) URL a page may link or redirect to."""
    if not value or len(value) > MAX_URL or _UNSAFE.search(value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def accepted_language(header: str) -> str | None:
    """The language of `Accept-Language` the page speaks (en or de) with the highest weight, None when it names
    neither (`de-DE,de;q=0.9,en;q=0.8` → de)."""
    best, best_q = None, 0.0
    for index, item in enumerate(header.split(",")[:32]):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        q -= index * 1e-6  # equal weights: the first named wins
        if q > best_q:
            best, best_q = primary, q
    return best


def session_key(seed: int, web_form_id: str) -> str:
    """The value of the cookie that tells the browser which opened a web form from any other (which sees the
    one-time error page): derived from the world's seed and the form's id, so it survives nothing but that world."""
    key = f"mock-finapi/web-form-page/{seed}".encode()
    return hmac.new(key, web_form_id.encode(), hashlib.sha256).hexdigest()[:32]


def same_key(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


# ---------------------------------------------------------------------------------------------------- banks


def allowed_interfaces(bank: Bank, request: ImportRequest) -> list[BankInterface]:
    allowed = request.allowed_interfaces
    return [i for i in bank.interfaces if allowed is None or i.banking_interface in allowed]


def offered(bank: Bank, request: ImportRequest) -> bool:
    """Whether the form lets the user pick `bank`."""
    if bank.is_test_bank and not request.allow_test_bank:
        return False
    return bool(allowed_interfaces(bank, request))


def search_banks(catalog: BankCatalog, request: ImportRequest, search: str) -> tuple[list[Bank], bool]:
    """The offered banks matching every term of `search` (as Access's bank search: name, BLZ, BIC, city or an IBAN),
    by id, at most MAX_RESULTS, and whether there were more."""
    found = [bank for bank in catalog.find(search[:MAX_SEARCH]) if offered(bank, request)]
    return found[:MAX_RESULTS], len(found) > MAX_RESULTS


def sca(bank: Bank, request: ImportRequest) -> Sca:
    interfaces = allowed_interfaces(bank, request)
    if not interfaces:
        return "none"
    first = interfaces[0]
    if "REDIRECT_APPROACH" in first.properties:
        return "redirect"
    return "embedded" if first.two_step_procedures else "none"


def procedures(bank: Bank, request: ImportRequest) -> tuple[TwoStepProcedure, ...]:
    interfaces = allowed_interfaces(bank, request)
    return interfaces[0].two_step_procedures if interfaces else ()


def procedure(bank: Bank, request: ImportRequest, procedure_id: str) -> TwoStepProcedure | None:
    return next((p for p in procedures(bank, request) if p.procedure_id == procedure_id), None)


def login_accepted(bank: Bank, login: str, pin: str) -> bool:
    """A test bank's documented pairs; a bank without listed logins takes any non-empty one."""
    if not bank.logins:
        return bool(login and pin)
    return any(hmac.compare_digest(f"{login}\0{pin}".encode(), f"{a}\0{b}".encode()) for a, b in bank.logins)


def needs_sca(bank: Bank, request: ImportRequest, login: str | None) -> bool:
    return login != NO_SCA_LOGIN and sca(bank, request) != "none"


# ---------------------------------------------------------------------------------------------------- accounts


class OfferedAccounts(NamedTuple):
    """The accounts of one Web Form account type that the import would bring (names as generated)."""

    account_type: str
    """Web Form name: CHECKING, SAVINGS."""
    names: tuple[str, ...]


def offered_accounts(request: ImportRequest) -> list[OfferedAccounts]:
    """What an import of this form would bring, by type in the generator's order, limited to `accountTypes`."""
    grouped: dict[str, list[str]] = {}
    for access_type, name, _count in TEST_BANK_ACCOUNTS:
        web_form_type = ACCESS_TO_WEB_FORM[access_type]
        if request.account_types is None or web_form_type in request.account_types:
            grouped.setdefault(web_form_type, []).append(name)
    return [OfferedAccounts(kind, tuple(names)) for kind, names in grouped.items()]
