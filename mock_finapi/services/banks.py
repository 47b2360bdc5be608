"""The banks a world serves: finAPI's two sandbox test banks (WEBFORM.md §5.4) plus a scenario's, and the bank codes
IBANs carry.

The test banks are documented down to their ids, BLZ, names, interfaces, login fields, logins and two-step
procedures; what finAPI does not publish is **(decided)** here: BIC `DEMODE01XXX`/`DEMODE02XXX`, city München, no
location (finAPI's own error texts show `location: none`), popularity 0, health 100, the procedures' ids, and the
8 digits their IBANs carry as bank code (`00280001`, `00280002`: the BLZ `DEMO0001` is not numeric).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import MappingProxyType

from mock_finapi.scenarios.schema import BankSpec
from mock_finapi.state.banking import Bank, BankInterface, LoginField, TwoStepProcedure

LOGIN_FIELDS = (LoginField("Onlinebanking-ID", is_secret=False), LoginField("PIN", is_secret=True))
"""The login fields of every bank here: the test banks' (documented) and a scenario bank's (decided)."""
TEST_LOGINS = (("demo", "demo"), ("demo_no_msa", "demo_no_msa"))
"""(Onlinebanking-ID, PIN) pairs the test banks accept; `demo_no_msa` skips the strong customer authentication."""
TWO_STEP_PROCEDURES = (
    TwoStepProcedure("942", "smsTan", "TEXT"),
    TwoStepProcedure("921", "pushTan", "TEXT"),
    TwoStepProcedure("911", "chipTan optical", "FLICKER_CODE"),
    TwoStepProcedure("913", "chipTan QR", "PHOTO"),
    TwoStepProcedure("940", "Demo Decoupled Auth", "TEXT"),
)
"""DEMO0001's procedures (names documented; ids, decided, after the FinTS security functions they imitate)."""
INTERFACES = ("XS2A", "FINTS_SERVER", "WEB_SCRAPER")
TEST_BANK = Bank(
    280001,
    "finAPI Test Bank",
    "DEMO0001",
    bic="DEMODE01XXX",
    city="München",
    is_test_bank=True,
    interfaces=tuple(
        BankInterface(name, LOGIN_FIELDS, ("DECOUPLED_APPROACH",), TWO_STEP_PROCEDURES)
        for name in ("XS2A", "FINTS_SERVER")
    ),
    logins=TEST_LOGINS,
    iban_code="00280001",
)
TEST_REDIRECT_BANK = Bank(
    280002,
    "finAPI Test Redirect Bank",
    "DEMO0002",
    bic="DEMODE02XXX",
    city="München",
    is_test_bank=True,
    interfaces=(BankInterface("XS2A", LOGIN_FIELDS, ("REDIRECT_APPROACH",)),),
    logins=TEST_LOGINS,
    iban_code="00280002",
)
BUILT_IN = (TEST_BANK, TEST_REDIRECT_BANK)

IBAN_PATTERN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
GERMAN_IBAN = re.compile(r"DE[0-9]{20}")
BIC_PATTERN = re.compile(r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
BLZ_PATTERN = re.compile(r"[0-9]{8}")


def bank_code(bank: Bank) -> str:
    """The 8 digits this bank's IBANs carry: its BLZ when that is 8 digits, else its `iban_code`."""
    if BLZ_PATTERN.fullmatch(bank.blz) or bank.iban_code is None:
        return bank.blz
    return bank.iban_code


def from_spec(spec: BankSpec) -> Bank:
    """A scenario's bank: its interfaces with the login fields Onlinebanking-ID and PIN, any login accepted; IBANs
    carry its BLZ, or its id's last 8 digits when the BLZ is not 8 digits (decided)."""
    return Bank(
        spec.id,
        spec.name,
        spec.blz,
        bic=spec.bic,
        city=spec.city,
        location=spec.location,
        is_test_bank=spec.is_test_bank,
        popularity=spec.popularity,
        interfaces=tuple(BankInterface(name, LOGIN_FIELDS) for name in spec.interfaces),
        iban_code=None if BLZ_PATTERN.fullmatch(spec.blz) else f"{spec.id % 10**8:08d}",
    )


# IBANs (ISO 13616): the check digits make the whole number, read with A=10 ... Z=35 and its first four characters
# moved to the end, leave 1 modulo 97.
_LETTERS = str.maketrans({chr(c): str(c - 55) for c in range(ord("A"), ord("Z") + 1)})


def _number(text: str) -> int:
    return int(text.translate(_LETTERS))


def iban_check_digits(country: str, bban: str) -> str:
    """The two check digits of the IBAN of `country` and `bban` (the national account number)."""
    return f"{98 - _number(bban + country + '00') % 97:02d}"


def german_iban(code: str, account: int) -> str:
    """The German IBAN of bank code `code` (8 digits) and account number `account` (up to 10 digits)."""
    bban = f"{code}{account:010d}"
    return f"DE{iban_check_digits('DE', bban)}{bban}"


def iban_valid(text: str) -> bool:
    """An IBAN's shape (upper case, no spaces) with valid check digits."""
    return IBAN_PATTERN.fullmatch(text) is not None and _number(text[4:] + text[:4]) % 97 == 1


class BankCatalog:
    """The banks of a world, by id (immutable)."""

    def __init__(self, banks: Iterable[Bank]) -> None:
        ordered = sorted(banks, key=lambda bank: bank.id)
        self._banks = tuple(ordered)
        self._by_id = MappingProxyType({bank.id: bank for bank in ordered})
        if len(self._by_id) != len(ordered):
            raise ValueError("bank ids must be unique")

    @classmethod
    def with_scenario(cls, specs: Iterable[BankSpec]) -> BankCatalog:
        """The built-in test banks and a scenario's banks (whose ids the loader keeps apart from the built-ins)."""
        return cls([*BUILT_IN, *(from_spec(spec) for spec in specs)])

    def get(self, bank_id: int) -> Bank | None:
        return self._by_id.get(bank_id)

    def all(self) -> tuple[Bank, ...]:
        """Every bank, by id."""
        return self._banks

    def find(self, search: str) -> list[Bank]:
        """The banks matching every whitespace-separated term of `search`, by id: a term that is an IBAN (without
        spaces) selects the banks whose IBANs carry its bank code (a German IBAN's; banks here are German, decided);
        any other term is a case-insensitive part of the name, BLZ, BIC or city. No terms: every bank."""
        terms = search.split()
        return [bank for bank in self._banks if all(_matches(bank, term) for term in terms)]


def _matches(bank: Bank, term: str) -> bool:
    upper = term.upper()
    if iban_valid(upper):
        return GERMAN_IBAN.fullmatch(upper) is not None and upper[4:12] == bank_code(bank)
    lower = term.lower()
    return any(lower in field.lower() for field in (bank.name, bank.blz, bank.bic, bank.city) if field)
