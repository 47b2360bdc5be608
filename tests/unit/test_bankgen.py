"""Generated bank data (services/bankgen.py): German IBANs with valid check digits carrying the bank's code, the test
banks' shape, transactions in the virtual clock's past, balances that are the transactions' sum, and the same data
for the same seed and position."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest

from mock_finapi.clock import FINAPI_TZ
from mock_finapi.randomness import Randomness
from mock_finapi.scenarios.schema import AccountSpec, BankSpec, ConnectionSpec, TransactionSpec, UpdateSpec
from mock_finapi.services import bankgen, banks
from mock_finapi.services.banks import TEST_BANK, TEST_REDIRECT_BANK, iban_valid
from mock_finapi.state.banking import Bank, Connection, NewAccount

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=FINAPI_TZ).timestamp()
TODAY = date(2026, 1, 1)
SPARKASSE = banks.from_spec(
    BankSpec(12345, "Sparkasse Musterstadt", "10050000", "BELADEBEXXX", interfaces=("FINTS_SERVER", "XS2A"))
)
DAY = 86_400


def imported(seed: int = 1, position: int = 0, bank: Bank = TEST_BANK) -> tuple[Connection, list[NewAccount]]:
    return bankgen.imported_connection(bank, Randomness(seed), position, NOW, "m1", "alice")


def made(spec: ConnectionSpec, bank: Bank = SPARKASSE, seed: int = 1) -> tuple[Connection, list[NewAccount]]:
    return bankgen.connection(spec, bank, Randomness(seed), 0, NOW, "m1", "alice")


def one_account(account: AccountSpec, bank: Bank = SPARKASSE) -> NewAccount:
    [new] = made(ConnectionSpec(bank.id, bank.interfaces[0].banking_interface, accounts=(account,)), bank)[1]
    return new


def days_ago(day: str) -> int:
    return (TODAY - date.fromisoformat(day)).days


# shape


def test_a_test_bank_connection_has_two_checking_and_one_savings_account() -> None:
    connection, accounts = imported()
    assert [(new.account.account_type, new.account.name) for new in accounts] == [
        ("Checking", "Girokonto"),
        ("Checking", "Haushaltskonto"),
        ("Savings", "Tagesgeld"),
    ]
    assert (connection.id, connection.bank_id, connection.mandator_id, connection.user_key) == (
        0,
        280001,
        "m1",
        "alice",
    )
    assert [i.banking_interface for i in connection.interfaces] == ["XS2A"]


@pytest.mark.parametrize("bank", [TEST_BANK, TEST_REDIRECT_BANK])
def test_every_test_bank_account_has_at_least_20_transactions_in_the_last_90_days(bank: Bank) -> None:
    for position in range(5):
        for new in imported(position=position, bank=bank)[1]:
            recent = [t for t in new.transactions if days_ago(t.bank_booking_date) < 90]
            assert len(recent) >= 20, new.account.name


def test_the_account_types_filter_keeps_the_accounts_of_those_types_unchanged() -> None:
    everything = imported()[1]
    checking = bankgen.imported_connection(TEST_BANK, Randomness(1), 0, NOW, "m1", "alice", ["Checking"])[1]
    assert checking == everything[:2]
    savings = bankgen.imported_connection(TEST_BANK, Randomness(1), 0, NOW, "m1", "alice", ["Savings"])[1]
    assert savings == everything[2:]


def test_the_test_banks_stored_login_is_demo_and_a_scenario_banks_the_users_id() -> None:
    assert imported()[0].interfaces[0].credentials == (("Onlinebanking-ID", "demo"), ("PIN", "demo"))
    scenario_bank = made(ConnectionSpec(12345, "FINTS_SERVER", accounts=()))[0]
    assert scenario_bank.interfaces[0].credentials == (("Onlinebanking-ID", "alice"), ("PIN", "12345"))


# IBANs


def test_the_reference_iban_is_valid_and_generated_ibans_are_too() -> None:
    assert iban_valid("DE89370400440532013000")
    _, accounts = imported()
    ibans = {new.account.iban for new in accounts} | {t.counterpart_iban for new in accounts for t in new.transactions}
    ibans.discard(None)
    assert len(ibans) > 10
    assert all(iban is not None and iban_valid(iban) and iban.startswith("DE") for iban in ibans)


def test_an_accounts_iban_carries_the_blz_and_its_account_number() -> None:
    for new in made(ConnectionSpec(12345, "FINTS_SERVER", accounts=(AccountSpec(), AccountSpec("Savings"))))[1]:
        iban = new.account.iban
        assert iban is not None
        assert (len(iban), iban[4:12], new.account.account_number) == (22, "10050000", iban[12:])


def test_a_test_bank_accounts_iban_carries_its_iban_code() -> None:
    assert {new.account.iban[4:12] for new in imported()[1] if new.account.iban} == {"00280001"}
    redirect = imported(bank=TEST_REDIRECT_BANK)[1]
    assert {new.account.iban[4:12] for new in redirect if new.account.iban} == {"00280002"}


def test_counterparts_bank_elsewhere_with_their_blz_bic_and_account_number() -> None:
    transactions = [t for new in imported()[1] for t in new.transactions if t.counterpart_iban]
    assert {t.counterpart_iban[4:12] for t in transactions if t.counterpart_iban} - {"00280001"}
    known = {blz: bic for blz, bic, _ in bankgen.COUNTERPART_BANKS}
    for t in transactions:
        assert t.counterpart_iban is not None
        assert (t.counterpart_blz, t.counterpart_account_number) == (t.counterpart_iban[4:12], t.counterpart_iban[12:])
        if t.counterpart_blz != "00280001":
            assert t.counterpart_bic == known[t.counterpart_iban[4:12]]


# determinism


def test_the_same_seed_and_position_give_the_same_data() -> None:
    assert imported(seed=7, position=3) == imported(seed=7, position=3)


def test_another_seed_or_position_gives_other_data() -> None:
    first = imported(seed=7, position=3)
    for other in (imported(seed=8, position=3), imported(seed=7, position=4)):
        assert {new.account.iban for new in other[1]}.isdisjoint({new.account.iban for new in first[1]})
        assert [t.amount for t in other[1][0].transactions] != [t.amount for t in first[1][0].transactions]


# transactions


def test_balances_are_the_sum_of_the_transactions() -> None:
    for new in imported()[1]:
        assert new.account.balance == sum(t.amount for t in new.transactions)


def test_a_generated_account_is_never_overdrawn() -> None:
    for position in range(5):
        for new in imported(position=position)[1]:
            assert min(itertools.accumulate(t.amount for t in new.transactions)) >= 0


def test_booking_dates_lie_in_the_90_days_up_to_now_oldest_first() -> None:
    for new in imported()[1]:
        booked = [t.bank_booking_date for t in new.transactions]
        assert booked == sorted(booked)
        assert days_ago(booked[-1]) >= 0
        assert days_ago(booked[0]) == 89
        for t in new.transactions:
            assert t.finapi_booking_date == t.bank_booking_date
            assert (date.fromisoformat(t.bank_booking_date) - date.fromisoformat(t.value_date)).days in (0, 1)
            assert (t.import_date, t.currency, t.id, t.account_id, t.is_new) == (NOW, "EUR", 0, 0, True)


def test_only_a_card_payments_value_date_may_be_the_day_before_its_booking() -> None:
    transactions = [t for new in imported()[1] for t in new.transactions]
    card = {t.value_date == t.bank_booking_date for t in transactions if t.type == "Kartenzahlung"}
    assert card == {True, False}
    assert all(t.value_date == t.bank_booking_date for t in transactions if t.type != "Kartenzahlung")


def test_many_transactions_spread_over_more_days_up_to_ten_years() -> None:
    spread = one_account(AccountSpec(transactions=10_000)).transactions
    assert len(spread) == 10_000
    assert (days_ago(spread[0].bank_booking_date), days_ago(spread[-1].bank_booking_date)) == (1999, 0)
    dense = one_account(AccountSpec(transactions=20_000)).transactions
    assert (days_ago(dense[0].bank_booking_date), days_ago(dense[-1].bank_booking_date)) == (3649, 0)


@pytest.mark.parametrize("count", [0, 1, 2, 7, 450, 451])
def test_an_account_gets_exactly_the_transactions_it_asks_for(count: int) -> None:
    new = one_account(AccountSpec(transactions=count))
    assert len(new.transactions) == count
    assert new.account.balance == sum(t.amount for t in new.transactions)


def test_transactions_look_like_german_bank_statements() -> None:
    transactions = [t for new in imported()[1] for t in new.transactions]
    kinds = {(t.type, t.type_code_zka) for t in transactions}
    assert {("Kartenzahlung", "106"), ("Lastschrift", "105"), ("Gutschrift", "166"), ("Überweisung", "116")} <= kinds
    salary = [t for t in transactions if t.sepa_purpose_code == "SALA"]
    assert len(salary) == 3
    assert [t.purpose for t in salary] == ["SVWZ+LOHN/GEHALT 10/25", "SVWZ+LOHN/GEHALT 11/25", "SVWZ+LOHN/GEHALT 12/25"]
    assert all(t.amount > 0 for t in salary)
    card = [t for t in transactions if t.type == "Kartenzahlung"]
    assert card
    assert all((t.purpose or "").startswith("GIROCARD ") and t.amount < 0 for t in card)
    debits = [t for t in transactions if t.type == "Lastschrift"]
    for t in debits:
        assert (t.purpose or "").startswith("SVWZ+")
        assert f"EREF+{t.end_to_end_reference}" in (t.purpose or "")
        assert (t.counterpart_creditor_id or "")[4:7] == "ZZZ"
        assert t.counterpart_mandate_reference


# accounts and connections from a spec


def test_an_explicit_account_keeps_its_values_and_a_given_balance() -> None:
    spec = AccountSpec(
        "Checking",
        "Konto",
        "DE89370400440532013000",
        "USD",
        -25_000,
        100_000,
        (TransactionSpec(-4_999, "2025-12-30"),),
    )
    account = one_account(spec).account
    assert (account.name, account.iban, account.account_number, account.currency) == (
        "Konto",
        "DE89370400440532013000",
        "0532013000",
        "USD",
    )
    assert (account.balance, account.overdraft, account.overdraft_limit, account.available_funds) == (
        -25_000,
        25_000,
        100_000,
        75_000,
    )


def test_an_account_without_transactions_has_balance_zero_and_its_types_default_name() -> None:
    new = one_account(AccountSpec("Savings", transactions=()))
    assert (new.transactions, new.account.balance, new.account.name) == ((), 0, "Tagesgeld")
    assert (new.account.overdraft, new.account.overdraft_limit, new.account.available_funds) == (None, None, 0)


def test_explicit_transactions_keep_their_order_and_fill_in_the_rest() -> None:
    listed = (
        TransactionSpec(
            -4_999, "2025-12-30", None, "Miete", "Max", "DE89370400440532013000", "COBADEFFXXX", "Lastschrift"
        ),
        TransactionSpec(100, None, "2025-12-31", type="Sonstiges"),
    )
    first, second = one_account(AccountSpec(transactions=listed)).transactions
    assert (first.value_date, first.bank_booking_date, first.amount, first.purpose, first.counterpart_name) == (
        "2025-12-30",
        "2025-12-30",
        -4_999,
        "Miete",
        "Max",
    )
    assert (first.counterpart_blz, first.counterpart_account_number, first.counterpart_bic) == (
        "37040044",
        "0532013000",
        "COBADEFFXXX",
    )
    assert (first.type_code_zka, first.type_code_swift, first.import_date) == ("105", "NDDT", NOW)
    assert (second.bank_booking_date, second.value_date, second.type, second.type_code_zka) == (
        "2026-01-01",
        "2025-12-31",
        "Sonstiges",
        None,
    )


def test_a_credit_card_account_has_card_payments_and_refunds_only() -> None:
    transactions = one_account(AccountSpec("CreditCard", transactions=200)).transactions
    assert {t.type for t in transactions} == {"Kartenzahlung", "Gutschrift"}
    assert sum(t.amount for t in transactions) < 0


def test_an_xs2a_connections_consent_expires_90_days_after_now_unless_given() -> None:
    connection = made(ConnectionSpec(12345, "XS2A", accounts=()))[0]
    assert connection.interfaces[0].consent_expires_at == NOW + 90 * DAY
    given = datetime(2026, 1, 3, 9, 0, tzinfo=FINAPI_TZ)
    expiring = made(ConnectionSpec(12345, "XS2A", consent_expires_at=given, accounts=()))[0]
    assert expiring.interfaces[0].consent_expires_at == given.timestamp()
    assert made(ConnectionSpec(12345, "FINTS_SERVER", accounts=()))[0].interfaces[0].consent_expires_at is None


def test_a_connection_is_ready_now_unless_it_is_updating_for_a_while() -> None:
    ready = made(ConnectionSpec(12345, "XS2A", name="Giro", accounts=()))[0]
    assert (ready.name, ready.created_at, ready.ready_at, ready.categorized_at) == ("Giro", NOW, NOW, NOW)
    updating = made(ConnectionSpec(12345, "XS2A", updating_for=30, accounts=()))[0]
    assert (updating.ready_at, updating.update_status(NOW), updating.update_status(NOW + 30)) == (
        NOW + 30,
        "IN_PROGRESS",
        "READY",
    )


def test_the_last_update_is_ok_at_now_unless_it_failed_a_day_after_the_import() -> None:
    ok = made(ConnectionSpec(12345, "XS2A"))
    assert ok[0].interfaces[0].last_manual_update == (("OK", NOW, None, None))
    failed = made(ConnectionSpec(12345, "XS2A", last_update=UpdateSpec("BANK_SERVER_REJECTION", "Zugangsdaten falsch")))
    connection, accounts = failed
    assert connection.interfaces[0].last_manual_update == (
        "BANK_SERVER_REJECTION",
        NOW,
        "Zugangsdaten falsch",
        "BUSINESS",
    )
    assert connection.created_at == NOW - DAY
    [state] = accounts[0].account.interfaces
    assert (state.last_successful_update, state.last_update_attempt) == (NOW - DAY, NOW)
    assert {t.import_date for new in accounts for t in new.transactions} == {NOW - DAY}
    technical = made(ConnectionSpec(12345, "XS2A", last_update=UpdateSpec("INTERNAL_SERVER_ERROR")))[0]
    assert technical.interfaces[0].last_manual_update == ("INTERNAL_SERVER_ERROR", NOW, None, "TECHNICAL")


def test_owners_are_loaded_only_when_asked_for_one_owner_the_accounts_holder() -> None:
    assert imported()[0].owners is None
    connection, accounts = bankgen.imported_connection(TEST_BANK, Randomness(1), 0, NOW, "m1", "alice", None, True)
    [owner] = connection.owners or ()
    assert {new.account.holder_name for new in accounts} == {f"{owner.first_name} {owner.last_name}"}


def test_the_window_follows_now() -> None:
    later = bankgen.imported_connection(TEST_BANK, Randomness(1), 0, NOW + 10 * DAY, "m1", "alice")[1]
    assert later[0].transactions[-1].bank_booking_date <= (TODAY + timedelta(days=10)).isoformat()
    assert later[0].transactions[0].bank_booking_date == (TODAY + timedelta(days=10 - 89)).isoformat()
