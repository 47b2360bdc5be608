"""Bank data in scenarios (issue 18): `banks:`, users' and generated users' `bank_connections:` with accounts and
transactions. The loader names file, line, key path and the exact problem for each mistake, caps what a scenario
makes (counted after YAML aliases), fills in the defaults; `build_state` loads every connection from the seed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from mock_finapi import world as world_module
from mock_finapi.clock import FINAPI_TZ
from mock_finapi.errors import ScenarioError
from mock_finapi.scenarios import loader
from mock_finapi.scenarios.schema import (
    AccountSpec,
    BankSpec,
    ConnectionSpec,
    GenerateUsers,
    Scenario,
    TransactionSpec,
    UpdateSpec,
    UserSpec,
)
from mock_finapi.services import bankgen
from mock_finapi.state.banking import AccountQuery, TransactionQuery
from tests.unit.support import now_of, world_of

pytestmark = pytest.mark.anyio

HEAD = (
    'name: t\nclock: {start: "2026-01-01T09:00:00+01:00"}\n'
    "clients: [{client_id: c, client_secret: s, mandator_id: m}]\n"
)
BANK = "banks:\n  - {id: 12345, name: Sparkasse, blz: '10050000', interfaces: [FINTS_SERVER, XS2A]}\n"
START = datetime(2026, 1, 1, 9, 0, tzinfo=FINAPI_TZ).timestamp()


def alice(*connections: str) -> str:
    """A scenario (with the bank 12345) whose user alice has these connections, one YAML flow mapping each."""
    listed = "".join(f"      - {c}\n" for c in connections)
    return f"{HEAD}{BANK}users:\n  - id: alice\n    password: secret123\n    bank_connections:\n{listed}"


def account(text: str) -> str:
    """A scenario whose user has one connection to bank 12345 with this account (a YAML flow mapping)."""
    return alice(f"{{bank: 12345, accounts: [{text}]}}")


def transaction(text: str) -> str:
    """A scenario whose user's account lists this transaction (a YAML flow mapping)."""
    return account(f"{{transactions: [{text}]}}")


def bank(text: str) -> str:
    return f"{HEAD}banks:\n  - {text}\n"


def refused(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        loader.load_text(text, "bank.yaml")
    return caught.value


def loaded(text: str) -> Scenario:
    return loader.load_text(text, "bank.yaml")


def connections_of(scenario: Scenario, index: int = 0) -> tuple[ConnectionSpec, ...]:
    entry = scenario.users[index]
    return entry.bank_connections


CONNECTION = "users[0].bank_connections[0]"
ACCOUNT = f"{CONNECTION}.accounts[0]"
TRANSACTION = f"{ACCOUNT}.transactions[0]"
LINE = 10
"""The line of alice's first connection in `alice(...)`: its problems and its accounts' and transactions' are there."""

# (case, scenario, line, key path, exact problem)
BROKEN = [
    # banks
    ("banks not a list", f"{HEAD}banks: {{id: 1}}\n", 4, "banks", "must be a list, not a mapping"),
    ("bank not a mapping", bank("5"), 5, "banks[0]", "must be a mapping, not an integer"),
    (
        "unknown bank key",
        bank("{id: 1, name: N, blz: '1', interface: [XS2A]}"),
        5,
        "banks[0].interface",
        "unknown key (did you mean 'interfaces'? "
        "allowed: id, name, blz, bic, city, location, popularity, is_test_bank, interfaces)",
    ),
    ("bank without id", bank("{name: N, blz: '1'}"), 5, "banks[0].id", "is required"),
    ("bank id 0", bank("{id: 0, name: N, blz: '1'}"), 5, "banks[0].id", "must be between 1 and 9223372036854775807"),
    (
        "bank id beyond int64",
        bank("{id: 9223372036854775808, name: N, blz: '1'}"),
        5,
        "banks[0].id",
        "must be between 1 and 9223372036854775807",
    ),
    (
        "a built-in bank id",
        bank("{id: 280002, name: N, blz: '1'}"),
        5,
        "banks[0].id",
        "is a built-in test bank's id (280001, 280002): pick another",
    ),
    ("bank name empty", bank("{id: 1, name: '', blz: '1'}"), 5, "banks[0].name", "must not be empty"),
    ("bank without blz", bank("{id: 1, name: N}"), 5, "banks[0].blz", "is required"),
    (
        "blz as a number",
        bank("{id: 1, name: N, blz: 10050000}"),
        5,
        "banks[0].blz",
        'must be a string: quote it, like blz: "10050000"',
    ),
    ("blz empty", bank("{id: 1, name: N, blz: ''}"), 5, "banks[0].blz", "must not be empty"),
    (
        "bad bic",
        bank("{id: 1, name: N, blz: '1', bic: BELADEBE1}"),
        5,
        "banks[0].bic",
        "must be a BIC like BELADEBEXXX (8 or 11 capital letters and digits)",
    ),
    (
        "bad location",
        bank("{id: 1, name: N, blz: '1', location: Deutschland}"),
        5,
        "banks[0].location",
        "must be an ISO 3166 alpha-2 country code like DE",
    ),
    (
        "negative popularity",
        bank("{id: 1, name: N, blz: '1', popularity: -1}"),
        5,
        "banks[0].popularity",
        "must not be negative",
    ),
    (
        "is_test_bank not a boolean",
        bank("{id: 1, name: N, blz: '1', is_test_bank: 1}"),
        5,
        "banks[0].is_test_bank",
        "must be a boolean, not an integer",
    ),
    *(
        (
            f"interfaces {interfaces}",
            bank(f"{{id: 1, name: N, blz: '1', interfaces: {interfaces}}}"),
            5,
            "banks[0].interfaces",
            "must be a non-empty list of banking interfaces, each once (XS2A, FINTS_SERVER, WEB_SCRAPER)",
        )
        for interfaces in ("[]", "[XS2A, XS2A]", "[HBCI]", "[1]")
    ),
    # connections
    (
        "bank_connections not a list",
        f"{HEAD}users:\n  - {{id: alice, password: secret123, bank_connections: {{bank: 280001}}}}\n",
        5,
        "users[0].bank_connections",
        "must be a list, not a mapping",
    ),
    (
        "unknown connection key",
        alice("{bank: 280001, acounts: []}"),
        LINE,
        f"{CONNECTION}.acounts",
        "unknown key (did you mean 'accounts'? "
        "allowed: bank, name, interface, consent_expires_at, last_update, updating_for, load_owner_data, accounts)",
    ),
    ("connection without bank", alice("{name: Giro}"), LINE, f"{CONNECTION}.bank", "is required"),
    (
        "unknown bank",
        alice("{bank: 999}"),
        LINE,
        f"{CONNECTION}.bank",
        "must be the id of a built-in test bank (280001, 280002) or of a bank under banks",
    ),
    (
        "bank as text",
        alice("{bank: DEMO0001}"),
        LINE,
        f"{CONNECTION}.bank",
        "must be an integer, not a string",
    ),
    (
        "an interface the bank lacks",
        alice("{bank: 280002, interface: FINTS_SERVER}"),
        LINE,
        f"{CONNECTION}.interface",
        "must be one of the bank's interfaces (XS2A)",
    ),
    (
        "an interface the scenario bank lacks",
        alice("{bank: 12345, interface: WEB_SCRAPER}"),
        LINE,
        f"{CONNECTION}.interface",
        "must be one of the bank's interfaces (FINTS_SERVER, XS2A)",
    ),
    (
        "a consent for FinTS",
        alice("{bank: 12345, consent_expires_at: '2026-01-03T09:00:00+01:00'}"),
        LINE,
        f"{CONNECTION}.consent_expires_at",
        "only an XS2A connection has a consent, not a FINTS_SERVER one",
    ),
    (
        "a consent that is no timestamp",
        alice("{bank: 280001, consent_expires_at: soon}"),
        LINE,
        f"{CONNECTION}.consent_expires_at",
        "must be an RFC 3339 timestamp like 2026-01-01T09:00:00+01:00",
    ),
    (
        "a consent without offset",
        alice("{bank: 280001, consent_expires_at: 2026-01-03 09:00:00}"),
        LINE,
        f"{CONNECTION}.consent_expires_at",
        "needs a UTC offset, e.g. 2026-01-01T09:00:00+01:00",
    ),
    (
        "unknown last_update key",
        alice("{bank: 280001, last_update: {result: OK, message: x}}"),
        LINE,
        f"{CONNECTION}.last_update.message",
        "unknown key (did you mean 'error_message'? allowed: result, error_message)",
    ),
    (
        "an unknown update result",
        alice("{bank: 280001, last_update: {result: FAILED}}"),
        LINE,
        f"{CONNECTION}.last_update.result",
        "must be OK, BANK_SERVER_REJECTION or INTERNAL_SERVER_ERROR",
    ),
    (
        "an error message of a good update",
        alice("{bank: 280001, last_update: {error_message: Fehler}}"),
        LINE,
        f"{CONNECTION}.last_update.error_message",
        "only a failed update (result not OK) has an error message",
    ),
    *(
        (
            f"updating_for {seconds}",
            alice(f"{{bank: 280001, updating_for: {seconds}}}"),
            LINE,
            f"{CONNECTION}.updating_for",
            "must be a number of seconds from 0 to 31536000 (a year)",
        )
        for seconds in ("-1", "31536001", ".inf", ".nan")
    ),
    (
        "accounts not a list",
        alice("{bank: 280001, accounts: {type: Checking}}"),
        LINE,
        f"{CONNECTION}.accounts",
        "must be a list, not a mapping",
    ),
    # accounts
    (
        "unknown account key",
        account("{typ: Savings}"),
        LINE,
        f"{ACCOUNT}.typ",
        "unknown key (did you mean 'type'? "
        "allowed: type, name, iban, currency, balance, overdraft_limit, transactions)",
    ),
    (
        "an unknown account type",
        account("{type: CHECKING}"),
        LINE,
        f"{ACCOUNT}.type",
        "must be an account type: Checking, Savings, CreditCard, Security, Loan, Membership, Bausparen",
    ),
    *(
        (
            f"iban {iban}",
            account(f"{{iban: '{iban}'}}"),
            LINE,
            f"{ACCOUNT}.iban",
            "must be an IBAN with valid check digits, in capitals without spaces, like DE89370400440532013000",
        )
        for iban in ("DE88370400440532013000", "de89370400440532013000", "DE89 3704 0044 0532 0130 00", "DE89")
    ),
    (
        "a currency in lower case",
        account("{currency: eur}"),
        LINE,
        f"{ACCOUNT}.currency",
        "must be an ISO 4217 currency code like EUR",
    ),
    (
        "a balance with 3 decimals",
        account("{balance: 1.005}"),
        LINE,
        f"{ACCOUNT}.balance",
        "must have at most 2 decimals, like -49.99",
    ),
    (
        "a balance as text",
        account("{balance: '12,50'}"),
        LINE,
        f"{ACCOUNT}.balance",
        "must be a number, not a string",
    ),
    *(
        (
            f"a balance of {value}",
            account(f"{{balance: {value}}}"),
            LINE,
            f"{ACCOUNT}.balance",
            "must be an amount from -1000000000 to 1000000000",
        )
        for value in ("1000000000.01", "-1000000001", ".inf", ".nan")
    ),
    (
        "a negative overdraft limit",
        account("{overdraft_limit: -0.01}"),
        LINE,
        f"{ACCOUNT}.overdraft_limit",
        "must not be negative",
    ),
    (
        "transactions: -1",
        account("{transactions: -1}"),
        LINE,
        f"{ACCOUNT}.transactions",
        "must not be negative",
    ),
    (
        "transactions: 1000001",
        account("{transactions: 1000001}"),
        6,
        "users",
        "the scenario creates 1000001 transactions in total (each generated user's counted), at most 1000000",
    ),
    (
        "transactions as text",
        account("{transactions: many}"),
        LINE,
        f"{ACCOUNT}.transactions",
        "must be an integer or a list, not a string",
    ),
    # transactions
    (
        "unknown transaction key",
        transaction("{amount: 1, memo: Max}"),
        LINE,
        f"{TRANSACTION}.memo",
        "unknown key (allowed: amount, booking_date, value_date, purpose, counterpart_name, counterpart_iban, "
        "counterpart_bic, type)",
    ),
    (
        "a transaction without amount",
        transaction("{purpose: x}"),
        LINE,
        f"{TRANSACTION}.amount",
        "is required",
    ),
    (
        "an amount with 3 decimals",
        transaction("{amount: -49.999}"),
        LINE,
        f"{TRANSACTION}.amount",
        "must have at most 2 decimals, like -49.99",
    ),
    *(
        (
            f"{key} {value}",
            transaction(f"{{amount: 1, {key}: {value}}}"),
            LINE,
            f"{TRANSACTION}.{key}",
            "must be a date from 1970 to 8999 like 2026-01-02",
        )
        for key, value in (
            ("booking_date", "'2026-02-30'"),
            ("booking_date", "'2.1.2026'"),
            ("booking_date", "1969-12-31"),
            ("value_date", "2026-01-02T10:00:00+01:00"),
        )
    ),
    (
        "a date as a number",
        transaction("{amount: 1, booking_date: 20260102}"),
        LINE,
        f"{TRANSACTION}.booking_date",
        "must be a string or a date, not an integer",
    ),
    *(
        (
            f"{key} of {length}",
            transaction(f"{{amount: 1, {key}: '{'x' * length}'}}"),
            LINE,
            f"{TRANSACTION}.{key}",
            f"must be 1 to {longest} characters long",
        )
        for key, longest in (("purpose", 2000), ("counterpart_name", 80), ("type", 255))
        for length in (0, longest + 1)
    ),
    (
        "a counterpart iban with bad check digits",
        transaction("{amount: 1, counterpart_iban: DE89370400440532013001}"),
        LINE,
        f"{TRANSACTION}.counterpart_iban",
        "must be an IBAN with valid check digits, in capitals without spaces, like DE89370400440532013000",
    ),
    (
        "a bad counterpart bic",
        transaction("{amount: 1, counterpart_bic: cobadeffxxx}"),
        LINE,
        f"{TRANSACTION}.counterpart_bic",
        "must be a BIC like BELADEBEXXX (8 or 11 capital letters and digits)",
    ),
    # generated users
    (
        "an unknown bank of generated users",
        f"{HEAD}users:\n  - generate: 2\n    bank_connections: [{{bank: 999}}]\n",
        6,
        "users[0].bank_connections[0].bank",
        "must be the id of a built-in test bank (280001, 280002) or of a bank under banks",
    ),
    (
        "an unknown key of a generated users' connection",
        f"{HEAD}users:\n  - generate: 2\n    bank_connections: [{{bank: 280001, bnak: 1}}]\n",
        6,
        "users[0].bank_connections[0].bnak",
        "unknown key (did you mean 'bank'? "
        "allowed: bank, name, interface, consent_expires_at, last_update, updating_for, load_owner_data, accounts)",
    ),
]


@pytest.mark.parametrize(("text", "line", "path", "problem"), [case[1:] for case in BROKEN], ids=[c[0] for c in BROKEN])
def test_a_mistake_in_bank_data_names_its_line_key_path_and_problem(
    text: str, line: int, path: str, problem: str
) -> None:
    error = refused(text)
    assert [(error.line, error.path, error.problem)] == [(line, path, problem)]


def test_all_problems_of_bank_data_are_reported_at_once() -> None:
    text = alice(
        "{bank: 280001, interface: WEB_SCRAPER}",
        "{bank: 12345, accounts: [{type: Giro, balance: 0.001}, {transactions: [{amount: x}]}]}",
    )
    error = refused(text)
    assert [(line, path) for line, path, _ in error.problems] == [
        (LINE, "users[0].bank_connections[0].interface"),
        (LINE + 1, "users[0].bank_connections[1].accounts[0].type"),
        (LINE + 1, "users[0].bank_connections[1].accounts[0].balance"),
        (LINE + 1, "users[0].bank_connections[1].accounts[1].transactions[0].amount"),
    ]


def test_a_connections_bank_is_not_checked_while_the_banks_have_problems() -> None:
    """The bank 12345 has a problem: whether a connection's bank exists is not known, so it is not reported."""
    text = f"{HEAD}banks:\n  - {{id: 12345, name: '', blz: '1'}}\n"
    text += "users:\n  - {id: alice, password: secret123, bank_connections: [{bank: 12345, interface: XS2A}]}\n"
    error = refused(text)
    assert [(line, path) for line, path, _ in error.problems] == [(5, "banks[0].name")]


def test_an_unknown_interface_is_still_refused_while_the_banks_have_problems() -> None:
    text = f"{HEAD}banks:\n  - {{id: 12345, name: '', blz: '1'}}\n"
    text += "users:\n  - {id: alice, password: secret123, bank_connections: [{bank: 12345, interface: HBCI}]}\n"
    problems = [(path, problem) for _, path, problem in refused(text).problems]
    assert problems[1] == (f"{CONNECTION}.interface", "must be one of XS2A, FINTS_SERVER, WEB_SCRAPER")


def test_a_duplicate_bank_id_names_the_first() -> None:
    text = f"{HEAD}banks:\n  - {{id: 7, name: A, blz: '1'}}\n  - {{id: 7, name: B, blz: '2'}}\n"
    error = refused(text)
    assert [(error.line, error.path, error.problem)] == [(6, "banks[1].id", "duplicate id '7' (first at banks[0])")]


# defaults


def test_a_bank_takes_its_defaults() -> None:
    [spec] = loaded(bank("{id: 1, name: N, blz: '1'}")).banks
    assert spec == BankSpec(1, "N", "1", None, None, None, 0, False, ("FINTS_SERVER",))


def test_a_bank_keeps_what_it_says() -> None:
    text = bank(
        "{id: 12345, name: Sparkasse, blz: '10050000', bic: BELADEBEXXX, city: Berlin, location: DE, popularity: 3, "
        "is_test_bank: true, interfaces: [XS2A, WEB_SCRAPER]}"
    )
    [spec] = loaded(text).banks
    assert spec == BankSpec(
        12345, "Sparkasse", "10050000", "BELADEBEXXX", "Berlin", "DE", 3, True, ("XS2A", "WEB_SCRAPER")
    )


def test_a_connection_takes_its_defaults() -> None:
    [test_bank, scenario_bank] = connections_of(loaded(alice("{bank: 280001}", "{bank: 12345}")))
    assert test_bank == ConnectionSpec(280001, "XS2A", None, None, UpdateSpec("OK", None), 0, None)
    assert (scenario_bank.interface, scenario_bank.accounts) == ("FINTS_SERVER", None)


def test_a_connection_keeps_what_it_says() -> None:
    text = alice(
        "{bank: 12345, name: Giro, interface: XS2A, consent_expires_at: '2026-01-03T09:00:00+01:00', "
        "last_update: {result: BANK_SERVER_REJECTION, error_message: Zugangsdaten falsch}, updating_for: 30.5, "
        "accounts: []}"
    )
    [spec] = connections_of(loaded(text))
    expires = datetime(2026, 1, 3, 9, 0, tzinfo=FINAPI_TZ)
    update = UpdateSpec("BANK_SERVER_REJECTION", "Zugangsdaten falsch")
    assert spec == ConnectionSpec(12345, "XS2A", "Giro", expires, update, 30.5, ())


def test_an_account_takes_its_defaults() -> None:
    [connection] = connections_of(loaded(account("{}")))
    assert connection.accounts == (
        AccountSpec("Checking", None, None, "EUR", None, None, bankgen.DEFAULT_TRANSACTIONS),
    )


def test_amounts_become_cents_and_dates_stay_text() -> None:
    text = account(
        "{type: Savings, name: Tagesgeld, iban: DE89370400440532013000, currency: USD, balance: -250.00, "
        "overdraft_limit: 1000, transactions: [{amount: -49.99, booking_date: 2026-01-02, value_date: '2026-01-01', "
        "purpose: Miete, counterpart_name: Max, counterpart_iban: DE89370400440532013000, "
        "counterpart_bic: COBADEFFXXX, type: Lastschrift}, {amount: 0.1}, {amount: 1000000000}]}"
    )
    [connection] = connections_of(loaded(text))
    listed = (
        TransactionSpec(
            -4999, "2026-01-02", "2026-01-01", "Miete", "Max", "DE89370400440532013000", "COBADEFFXXX", "Lastschrift"
        ),
        TransactionSpec(10),
        TransactionSpec(100_000_000_000),
    )
    assert connection.accounts == (
        AccountSpec("Savings", "Tagesgeld", "DE89370400440532013000", "USD", -25_000, 100_000, listed),
    )


def test_a_connection_without_accounts_and_an_account_without_transactions() -> None:
    empty, one = connections_of(
        loaded(alice("{bank: 12345, accounts: []}", "{bank: 12345, accounts: [{transactions: []}]}"))
    )
    assert (empty.accounts, one.accounts) == ((), (AccountSpec(transactions=()),))


def test_generated_users_carry_their_connections() -> None:
    text = f"{HEAD}users:\n  - {{generate: 3, bank_connections: [{{bank: 280002}}]}}\n"
    [entry] = loaded(text).users
    assert isinstance(entry, GenerateUsers)
    assert entry.bank_connections == (ConnectionSpec(280002, "XS2A"),)


def test_users_without_bank_connections_have_none() -> None:
    entry = loaded(f"{HEAD}users:\n  - {{id: alice, password: secret123}}\n").users[0]
    assert isinstance(entry, UserSpec)
    assert (entry.bank_connections, loaded(HEAD).banks) == ((), ())


# caps


def test_the_bank_data_caps_have_their_documented_values() -> None:
    assert (loader.MAX_BANKS, loader.MAX_CONNECTIONS, loader.MAX_ACCOUNTS, loader.MAX_TRANSACTIONS) == (
        1_000,
        100_000,
        300_000,
        1_000_000,
    )
    assert (loader.MAX_AMOUNT, loader.MAX_UPDATING_FOR) == (1_000_000_000, 31_536_000)


def test_at_most_1000_banks() -> None:
    banks = "".join(f"  - {{id: {i}, name: B, blz: '1'}}\n" for i in range(1, 1002))
    error = refused(f"{HEAD}banks:\n{banks}")
    assert [(error.line, error.path, error.problem)] == [(4, "banks", "the scenario has 1001 banks, at most 1000")]
    assert len(loaded(f"{HEAD}banks:\n{banks[: banks.index('  - {id: 1001')]}").banks) == 1000


def test_transactions_count_each_generated_users_and_the_test_banks_125() -> None:
    at_cap = f"{HEAD}users:\n  - {{generate: 8000, bank_connections: [{{bank: 280001}}]}}\n"
    assert sum(count for _, _, count in bankgen.TEST_BANK_ACCOUNTS) == 125
    assert loaded(at_cap).users
    error = refused(at_cap.replace("8000", "8001"))
    assert [(error.line, error.path, error.problem)] == [
        (
            4,
            "users",
            "the scenario creates 1000125 transactions in total (each generated user's counted), at most 1000000",
        )
    ]


def test_listed_and_generated_transactions_count_together() -> None:
    listed = account("{transactions: 999999}")
    assert loaded(listed).users
    two = listed + "  - {generate: 2, bank_connections: [{bank: 12345, accounts: [{}]}]}\n"
    assert refused(two).problem == (
        f"the scenario creates {999_999 + 2 * bankgen.DEFAULT_TRANSACTIONS} transactions in total "
        "(each generated user's counted), at most 1000000"
    )


def test_connections_are_capped_counting_generated_users() -> None:
    at_cap = f"{HEAD}users:\n  - {{generate: 100000, bank_connections: [{{bank: 280001, accounts: []}}]}}\n"
    assert loaded(at_cap).users
    error = refused(at_cap.replace("accounts: []}]", "accounts: []}, {bank: 280001, accounts: []}]"))
    assert (error.line, error.path, error.problem) == (
        4,
        "users",
        "the scenario creates 200000 bank connections in total (each generated user's counted), at most 100000",
    )


def test_accounts_are_capped_counting_the_test_banks_three() -> None:
    explicit = "[&a {transactions: 0}, *a, *a]"
    at_cap = f"{HEAD}users:\n  - {{generate: 100000, bank_connections: [{{bank: 280001, accounts: {explicit}}}]}}\n"
    assert loaded(at_cap).users
    error = refused(at_cap.replace("*a, *a]", "*a, *a, *a]"))
    assert (
        error.problem == "the scenario creates 400000 accounts in total (each generated user's counted), at most 300000"
    )
    shaped = f"{HEAD}users:\n  - {{generate: 100000, bank_connections: [{{bank: 280002}}]}}\n"
    assert [problem for _, _, problem in refused(shaped).problems] == [
        "the scenario creates 12500000 transactions in total (each generated user's counted), at most 1000000"
    ]
    one_more = shaped + "  - {id: alice, password: secret123, bank_connections: [{bank: 280001}]}\n"
    assert [problem.split(" in total")[0] for _, _, problem in refused(one_more).problems] == [
        "the scenario creates 100001 bank connections",
        "the scenario creates 300003 accounts",
        "the scenario creates 12500125 transactions",
    ]


def test_aliases_count_what_they_repeat() -> None:
    """A list of 1,000 explicit transactions repeated through aliases: counted per appearance, checked once."""
    listed = ", ".join(["{amount: -1.5}"] * 1000)
    accounts = f"[&x {{transactions: [{listed}]}}, {', '.join(['*x'] * 999)}]"
    connections = f"&c [{{bank: 280001, accounts: {accounts}}}]"
    one = f"{HEAD}users:\n  - {{id: alice, password: secret123, bank_connections: {connections}}}\n"
    [user] = loaded(one).users
    [connection] = user.bank_connections
    assert connection.accounts is not None
    assert sum(len(a.transactions) for a in connection.accounts if not isinstance(a.transactions, int)) == 1_000_000
    error = refused(one + "  - {id: bob, password: secret123, bank_connections: *c}\n")
    assert error.problem == (
        "the scenario creates 2000000 transactions in total (each generated user's counted), at most 1000000"
    )


def test_a_mapping_an_alias_puts_in_places_of_two_kinds_counts_as_each() -> None:
    """`*m` names an account mapping where a connection belongs: there it counts as a connection without accounts."""
    connections = "[{bank: 280001, accounts: [&m {transactions: 5}]}]"
    text = f"{HEAD}users:\n  - {{id: a, password: secret123, bank_connections: {connections}}}\n"
    text += "  - {generate: 100000, bank_connections: [*m]}\n"
    assert [problem.split(" in total")[0] for _, _, problem in refused(text).problems] == [
        "the scenario creates 100001 bank connections",
        "the scenario creates 300001 accounts",
        "the scenario creates 12500005 transactions",
    ]


def test_a_list_repeated_through_aliases_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """What an alias repeats is counted as often as it appears, but checked once: a short file cannot make the
    loader check a million transactions or connections."""
    checked = {"transaction": 0, "connection": 0}
    for name, count in checked.items():
        original = getattr(loader._Validator, name)

        def counting(
            self: loader._Validator, *args: Any, _original: Any = original, _name: str = name, **kw: Any
        ) -> Any:
            checked[_name] += 1
            return _original(self, *args, **kw)

        monkeypatch.setattr(loader._Validator, name, counting)
        assert count == 0
    listed = ", ".join(["{amount: -1.5}"] * 100)
    connections = f"&c [{{bank: 280001, accounts: [&a {{transactions: [{listed}]}}, *a, *a]}}]"
    users = "".join(f"  - {{id: u{i}, password: secret123, bank_connections: *c}}\n" for i in range(1, 50))
    text = f"{HEAD}users:\n  - {{id: u0, password: secret123, bank_connections: {connections}}}\n{users}"
    assert len(loaded(text).users) == 50
    assert checked == {"transaction": 100, "connection": 1}


# building


def bank_data_scenario(seed: int = 3) -> Scenario:
    return loaded(
        alice(
            "{bank: 280001}",
            "{bank: 12345, interface: XS2A, updating_for: 30, accounts: [{balance: -250, transactions: []}]}",
        ).replace("name: t\n", f"name: t\nseed: {seed}\n")
        + "  - {generate: 2, bank_connections: [{bank: 280002}]}\n"
    )


async def test_build_state_loads_every_users_connections_at_the_start() -> None:
    world = world_of(bank_data_scenario())
    now = await now_of(world)
    assert now == START
    first, second = await world.store.connections("m", "alice", None, now)
    assert (first.id, first.bank_id, second.id, second.bank_id) == (1_000_001, 280001, 1_000_002, 12345)
    assert (first.update_status(now), second.update_status(now), second.ready_at) == ("READY", "IN_PROGRESS", now + 30)
    assert second.interfaces[0].consent_expires_at == now + 90 * 86_400
    accounts = await world.store.accounts("m", "alice", AccountQuery(), now)
    assert [(a.account_type, a.balance is not None and a.balance >= 0) for a in accounts] == [
        ("Checking", True),
        ("Checking", True),
        ("Savings", True),
        ("Checking", False),
    ]
    page = await world.store.transactions("m", "alice", TransactionQuery(per_page=500), now)
    assert page.total == 125
    summary = await world.store.bank_summary("m", now)
    generated = [s for s in summary if s.user_id != "alice"]
    assert [(s.connection.bank_id, s.accounts, s.transactions) for s in generated] == [(280002, 3, 125)] * 2
    assert len({s.user_id for s in generated}) == 2


async def test_the_same_seed_gives_the_same_bank_data_and_another_seed_other_data() -> None:
    async def ibans(seed: int) -> list[str | None]:
        world = world_of(bank_data_scenario(), seed=seed)
        return [a.iban for a in await world.store.accounts("m", "alice", AccountQuery(), await now_of(world))]

    assert await ibans(3) == await ibans(3)
    assert set(await ibans(3)).isdisjoint(await ibans(4))


async def test_a_world_serves_its_scenarios_banks_beside_the_test_banks() -> None:
    world = world_of(bank_data_scenario())
    assert [bank.id for bank in world.banks.all()] == [12345, 280001, 280002]


def test_the_collector_is_back_on_after_a_build_even_a_failed_one() -> None:
    import gc

    assert gc.isenabled()
    broken = bank_data_scenario()
    user = broken.users[0]
    assert isinstance(user, UserSpec)
    missing = Scenario(
        broken.name, broken.source, clients=broken.clients, users=(user,), banks=()
    )  # the loader refuses a connection to an unknown bank; a hand-made scenario reaches build_state
    with pytest.raises(LookupError, match="names bank 12345"):
        world_module.build_state(missing, 1, 0.0, journal_size=10)
    assert gc.isenabled()
