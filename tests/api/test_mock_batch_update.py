"""`POST /api/v2/tests/mockBatchUpdate` (WEBFORM.md §5.5): 200 at once, the results land on the virtual clock
`BATCH_UPDATE_SECONDS` later (IN_PROGRESS until then); DEPRECATED accounts, the skip rules at their boundary days,
duplicates, adjusting entries, the simulated login error, and every 400/403/404/422 with its exact body.

The scenario (tests/scenarios/mock-batch-update.yaml) is served with the clock frozen at 2026-01-01 09:00 (+01:00);
alice's Girokonto holds 40.00 booked 2025-12-20 and 60.00 booked 2025-12-28 (balance 100.00) and was last updated
at the scenario's start, so its update window starts on 2025-12-22.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_finapi import errors
from mock_finapi.services.batch_update import BATCH_UPDATE_SECONDS
from tests.api import bank_helpers
from tests.helpers import (
    CLIENT_ID,
    AdminClock,
    assert_error_message,
    bearer,
    client_token,
    password_grant,
)

SCENARIO = str(Path(__file__).resolve().parent.parent / "scenarios" / "mock-batch-update.yaml")
PATH = "/api/v2/tests/mockBatchUpdate"
MANDATOR = "2c6b8f0e-7d42-4f1a-9a43-1f0c2d3e4a5b"
RID = "mock-batch-update-test"
PASSWORDS = {"alice": "alice-password", "bob": "bob-password", "carol": "carol-password"}
# Numbered in the scenario's order (connections from 1_000_001, accounts from 2_000_001, transactions from 10_000_001)
MAIN, SECOND, IMPORTING, EMPTY, BOBS, CAROLS = range(1_000_001, 1_000_007)
GIRO, TAGESGELD, DEPOT, ZWEITKONTO, NEUKONTO, BOBS_ACCOUNT, CAROLS_ACCOUNT = range(2_000_001, 2_000_008)
OLD, SALARY = 10_000_001, 10_000_002
FIRST_NEW = 10_000_003
START = "2026-01-01T09:00:00.000+01:00"
LANDED = "2026-01-01T09:00:05.000+01:00"
"""When an update asked for at the start lands."""


@pytest.fixture
def scenario_name() -> str:
    return SCENARIO


@pytest.fixture
def alice(client: httpx.Client) -> str:
    return token(client, "alice")


def token(client: httpx.Client, user: str) -> str:
    response = client.post("/api/v2/oauth/token", data=password_grant(user, PASSWORDS[user]))
    assert response.status_code == 200, response.text
    value: str = response.json()["access_token"]
    return value


# ---------------------------------------------------------------------------------------------------- requests


def body(*updates: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"mockBankConnectionUpdates": list(updates), **extra}


def update(connection: Any, *accounts: dict[str, Any], interface: str = "FINTS_SERVER", **extra: Any) -> dict[str, Any]:
    """A MockBankConnectionUpdate naming `accounts` (none: `mockAccountsData` left out)."""
    given: dict[str, Any] = {"bankConnectionId": connection, "bankingInterface": interface, **extra}
    if accounts:
        given["mockAccountsData"] = list(accounts)
    return given


def account(account_id: int, balance: float, *transactions: dict[str, Any]) -> dict[str, Any]:
    return {"accountId": account_id, "accountBalance": balance, "newTransactions": list(transactions)}


def tx(amount: float, booking: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"amount": amount, **({"bookingDate": booking} if booking else {}), **fields}


def mock(client: httpx.Client, user_token: str, payload: Any) -> httpx.Response:
    return client.post(PATH, json=payload, headers={**bearer(user_token), "X-Request-Id": RID})


def accepted(client: httpx.Client, user_token: str, payload: Any) -> None:
    response = mock(client, user_token, payload)
    assert response.status_code == 200, response.text
    assert response.content == b""
    assert response.headers["X-Request-Id"] == RID


def assert_error(
    response: httpx.Response, status: int, code: str, type_: str, message: str, user: str = "alice"
) -> None:
    auth = f"{MANDATOR}/{CLIENT_ID}/{user}"
    assert_error_message(response, status, code, type_, message, auth=auth, request_id=RID)


def assert_bad(response: httpx.Response, code: str, message: str) -> None:
    assert_error(response, 400, code, "TECHNICAL", message)


def assert_state_error(response: httpx.Response, message: str, user: str = "alice") -> None:
    assert_error(response, 422, "ILLEGAL_ENTITY_STATE", "BUSINESS", message, user)


def assert_unknown(response: httpx.Response, message: str) -> None:
    assert_error(response, 404, "UNKNOWN_ENTITY", "BUSINESS", message)


# ---------------------------------------------------------------------------------------------------- reading back


def get(client: httpx.Client, user_token: str, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers=bearer(user_token))
    assert response.status_code == 200, response.text
    return response.json()


def connection(client: httpx.Client, user_token: str, connection_id: int) -> dict[str, Any]:
    found: dict[str, Any] = get(client, user_token, f"/api/v2/bankConnections/{connection_id}")
    return found


def auto_update(client: httpx.Client, user_token: str, connection_id: int) -> Any:
    [interface] = connection(client, user_token, connection_id)["interfaces"]
    return interface["lastAutoUpdate"]


def status(client: httpx.Client, user_token: str, account_id: int) -> tuple[float, str]:
    """The account's balance and its interface's status."""
    found = get(client, user_token, f"/api/v2/accounts/{account_id}")
    [interface] = found["interfaces"]
    return found["balance"], interface["status"]


def transactions(client: httpx.Client, user_token: str, account_id: int, **filters: Any) -> list[dict[str, Any]]:
    page = get(
        client, user_token, "/api/v2/transactions", view="bankView", accountIds=account_id, perPage=500, **filters
    )
    found: list[dict[str, Any]] = page["transactions"]
    return found


def booked(client: httpx.Client, user_token: str, account_id: int) -> list[tuple[str, float]]:
    """(bankBookingDate, amount) of the account's transactions, by id."""
    return [(t["bankBookingDate"], t["amount"]) for t in transactions(client, user_token, account_id)]


def transaction(transaction_id: int, account_id: int, amount: float, booking: str, **fields: Any) -> dict[str, Any]:
    """A transaction as `GET /api/v2/transactions` shows one a mock update added (every field; `fields` override):
    a scenario transaction of that booking date without its optional fields, imported when the update landed."""
    return {**bank_helpers.transaction(transaction_id, account_id, amount, booking), "importDate": LANDED, **fields}


def land(clock: AdminClock) -> None:
    clock.advance(BATCH_UPDATE_SECONDS)


# ---------------------------------------------------------------------------------------------------- the scenario


def test_the_scenario_numbers_connections_and_accounts_in_its_order(client: httpx.Client, alice: str) -> None:
    listed = get(client, alice, "/api/v2/bankConnections")["connections"]
    assert [(c["id"], c["name"], c["accountIds"]) for c in listed] == [
        (MAIN, "Hauptbank", [GIRO, TAGESGELD, DEPOT]),
        (SECOND, "Zweitbank", [ZWEITKONTO]),
        (IMPORTING, "Importiert gerade", [NEUKONTO]),
        (EMPTY, "Ohne Konten", []),
    ]
    assert booked(client, alice, GIRO) == [("2025-12-20", 40.0), ("2025-12-28", 60.0)]
    assert [t["id"] for t in transactions(client, alice, GIRO)] == [OLD, SALARY]
    found = get(client, alice, f"/api/v2/accounts/{GIRO}")
    assert (found["balance"], found["interfaces"][0]["lastSuccessfulUpdate"]) == (100.0, START)
    assert get(client, token(client, "carol"), "/api/v2/bankConnections")["connections"][0]["accountIds"] == [
        CAROLS_ACCOUNT
    ]


# ---------------------------------------------------------------------------------------------------- timing


def test_answers_200_at_once_and_the_update_lands_only_after_the_delay(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    before = connection(client, alice, MAIN)
    assert before["updateStatus"] == "READY"

    accepted(
        client, alice, body(update(MAIN, account(GIRO, 74.5, tx(-25.5, purpose="Kaffee")), account(TAGESGELD, 500)))
    )

    running = connection(client, alice, MAIN)
    assert running["updateStatus"] == "IN_PROGRESS"
    assert running["interfaces"] == before["interfaces"]  # no lastAutoUpdate yet
    assert status(client, alice, GIRO) == (100.0, "UPDATED")
    assert [t["id"] for t in transactions(client, alice, GIRO)] == [OLD, SALARY]

    clock.advance(BATCH_UPDATE_SECONDS - 0.001)
    assert connection(client, alice, MAIN)["updateStatus"] == "IN_PROGRESS"
    assert [t["id"] for t in transactions(client, alice, GIRO)] == [OLD, SALARY]

    clock.advance(0.001)
    landed = connection(client, alice, MAIN)
    assert landed["updateStatus"] == "READY"
    [interface] = landed["interfaces"]
    assert interface["lastAutoUpdate"] == {"result": "OK", "errorMessage": None, "errorType": None, "timestamp": LANDED}
    assert interface["lastManualUpdate"] == before["interfaces"][0]["lastManualUpdate"]
    assert status(client, alice, GIRO) == (74.5, "UPDATED")
    assert transactions(client, alice, GIRO)[2:] == [
        transaction(FIRST_NEW, GIRO, -25.5, "2026-01-01", purpose="Kaffee")
    ]
    assert get(client, alice, f"/api/v2/accounts/{GIRO}")["interfaces"][0]["lastSuccessfulUpdate"] == LANDED


def test_a_new_transaction_shows_every_field_it_was_given(client: httpx.Client, clock: AdminClock, alice: str) -> None:
    given = {
        "amount": -99.99,
        "currency": "EUR",
        "originalAmount": -120.5,
        "originalCurrency": "USD",
        "purpose": "Restaurantbesuch",
        "counterpart": "Bar Centrale",
        "counterpartIban": "DE13700800000061110500",
        "counterpartBlz": "70080000",
        "counterpartBic": "DRESDEFF700",
        "counterpartAccountNumber": "61110500",
        "bookingDate": "2025-12-30",
        "valueDate": "2025-12-29",
        "typeId": 106,
        "counterpartMandateReference": "MR123",
        "counterpartCreditorId": "DE02ABC01234567890",
        "counterpartCustomerReference": "CUR123",
        "counterpartDebitorId": "CRI098",
        "type": "Überweisungsauftrag",
        "typeCodeSwift": "RAPRDE51",
        "sepaPurposeCode": "OTHR",
        "unknownField": "ignored",
    }
    accepted(client, alice, body(update(MAIN, account(GIRO, 0.01, given))))
    land(clock)

    shown = transaction(
        FIRST_NEW,
        GIRO,
        -99.99,
        "2025-12-30",
        valueDate="2025-12-29",
        originalAmount=-120.5,
        originalCurrency="USD",
        purpose="Restaurantbesuch",
        counterpartName="Bar Centrale",
        counterpartIban="DE13700800000061110500",
        counterpartBlz="70080000",
        counterpartBic="DRESDEFF700",
        counterpartAccountNumber="61110500",
        typeCodeZka="106",
        counterpartMandateReference="MR123",
        counterpartCreditorId="DE02ABC01234567890",
        counterpartCustomerReference="CUR123",
        counterpartDebitorId="CRI098",
        type="Überweisungsauftrag",
        typeCodeSwift="RAPRDE51",
        sepaPurposeCode="OTHR",
    )
    assert transactions(client, alice, GIRO)[2:] == [shown]
    assert get(client, alice, f"/api/v2/transactions/{FIRST_NEW}") == shown


def test_dates_default_to_today_and_the_value_date_to_the_booking_date(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    new = [tx(1), tx(2, "2025-12-31"), tx(3, "2025-12-31", valueDate="2026-01-02"), tx(4, valueDate="2025-12-24")]
    accepted(client, alice, body(update(MAIN, account(GIRO, 110, *new))))
    land(clock)

    assert [
        (t["amount"], t["bankBookingDate"], t["valueDate"], t["finapiBookingDate"])
        for t in transactions(client, alice, GIRO)[2:]
    ] == [
        (1.0, "2026-01-01", "2026-01-01", "2026-01-01"),
        (2.0, "2025-12-31", "2025-12-31", "2025-12-31"),
        (3.0, "2025-12-31", "2026-01-02", "2025-12-31"),
        (4.0, "2026-01-01", "2025-12-24", "2026-01-01"),
    ]


def test_a_future_booking_is_booked_by_finapi_on_its_import_day(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    accepted(client, alice, body(update(MAIN, account(GIRO, 90, tx(-10, "2026-01-05")))))
    land(clock)

    [new] = transactions(client, alice, GIRO)[2:]
    assert (new["bankBookingDate"], new["valueDate"], new["finapiBookingDate"]) == (
        "2026-01-05",
        "2026-01-05",
        "2026-01-01",
    )


def test_the_currency_of_a_new_transaction_defaults_to_the_accounts(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    accepted(client, alice, body(update(MAIN, account(GIRO, 102, tx(1), tx(1, "2025-12-31", currency="CHF")))))
    land(clock)

    assert [t["currency"] for t in transactions(client, alice, GIRO)[2:]] == ["EUR", "CHF"]


def test_several_connections_update_in_one_request(client: httpx.Client, clock: AdminClock, alice: str) -> None:
    accepted(client, alice, body(update(MAIN, account(GIRO, 100)), update(SECOND, account(ZWEITKONTO, 7, tx(7)))))
    assert [connection(client, alice, c)["updateStatus"] for c in (MAIN, SECOND)] == ["IN_PROGRESS", "IN_PROGRESS"]

    land(clock)

    assert [auto_update(client, alice, c)["result"] for c in (MAIN, SECOND)] == ["OK", "OK"]
    assert status(client, alice, ZWEITKONTO) == (7.0, "UPDATED")
    assert booked(client, alice, ZWEITKONTO) == [("2026-01-01", 7.0)]


def test_a_connection_without_accounts_updates_without_account_data(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    accepted(client, alice, body(update(EMPTY)))
    land(clock)

    assert auto_update(client, alice, EMPTY) == {
        "result": "OK",
        "errorMessage": None,
        "errorType": None,
        "timestamp": LANDED,
    }


def test_an_empty_list_of_updates_is_accepted_and_changes_nothing(client: httpx.Client, alice: str) -> None:
    accepted(client, alice, body())

    assert [c["updateStatus"] for c in get(client, alice, "/api/v2/bankConnections")["connections"]] == [
        "READY",
        "READY",
        "IN_PROGRESS",  # the scenario's import, still running
        "READY",
    ]


def test_trigger_notifications_is_accepted_and_changes_nothing_else(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    accepted(client, alice, body(update(MAIN, account(GIRO, 101, tx(1))), triggerNotifications=True))
    land(clock)

    assert status(client, alice, GIRO) == (101.0, "UPDATED")


# ---------------------------------------------------------------------------------------------------- DEPRECATED


def test_accounts_left_out_of_the_account_data_become_deprecated(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    before = get(client, alice, f"/api/v2/accounts/{GIRO}")["interfaces"][0]
    accepted(client, alice, body(update(MAIN, account(TAGESGELD, 500))))
    land(clock)

    assert status(client, alice, TAGESGELD) == (500.0, "UPDATED")
    assert status(client, alice, GIRO) == (100.0, "DEPRECATED")
    after = get(client, alice, f"/api/v2/accounts/{GIRO}")["interfaces"][0]
    assert after["lastSuccessfulUpdate"] == before["lastSuccessfulUpdate"]  # no data came for it
    assert (
        after["lastUpdateAttempt"]
        == get(client, alice, f"/api/v2/accounts/{TAGESGELD}")["interfaces"][0]["lastSuccessfulUpdate"]
    )
    assert status(client, alice, DEPOT) == (0.0, "DEPRECATED")
    assert [t["id"] for t in transactions(client, alice, GIRO)] == [OLD, SALARY]


def test_without_account_data_every_account_of_the_connection_becomes_deprecated(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    accepted(client, alice, body(update(MAIN)))
    assert status(client, alice, GIRO) == (100.0, "UPDATED")  # not before it lands
    land(clock)

    assert [status(client, alice, a) for a in (GIRO, TAGESGELD, DEPOT)] == [
        (100.0, "DEPRECATED"),
        (500.0, "DEPRECATED"),
        (0.0, "DEPRECATED"),
    ]
    assert status(client, alice, ZWEITKONTO) == (0.0, "UPDATED")  # another connection's: untouched
    assert auto_update(client, alice, MAIN)["result"] == "OK"


def test_null_account_data_counts_as_none(client: httpx.Client, clock: AdminClock, alice: str) -> None:
    accepted(client, alice, body(update(MAIN, mockAccountsData=None)))
    land(clock)

    assert status(client, alice, TAGESGELD) == (500.0, "DEPRECATED")


# ---------------------------------------------------------------------------------------------------- adjusting entries


def test_a_balance_the_new_transactions_do_not_explain_gets_an_adjusting_entry(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    accepted(client, alice, body(update(MAIN, account(GIRO, 80.01, tx(-30, purpose="Tanken")))))
    land(clock)

    assert status(client, alice, GIRO) == (80.01, "UPDATED_FIXED")
    assert transactions(client, alice, GIRO)[2:] == [
        transaction(FIRST_NEW, GIRO, -30.0, "2026-01-01", purpose="Tanken"),
        transaction(FIRST_NEW + 1, GIRO, 10.01, "2026-01-01", purpose="Zwischensaldo", isAdjustingEntry=True),
    ]
    assert [t["id"] for t in transactions(client, alice, GIRO, isAdjustingEntry="true")] == [FIRST_NEW + 1]


def test_a_balance_change_without_transactions_is_one_adjusting_entry(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    accepted(client, alice, body(update(MAIN, account(TAGESGELD, 450.5))))
    land(clock)

    assert status(client, alice, TAGESGELD) == (450.5, "UPDATED_FIXED")
    assert booked(client, alice, TAGESGELD) == [("2026-01-01", -49.5)]


def test_a_balance_the_transactions_explain_gets_no_adjusting_entry(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    accepted(client, alice, body(update(MAIN, account(GIRO, 100.1, tx(0.05), tx(0.05, "2025-12-31")))))
    land(clock)

    assert status(client, alice, GIRO) == (100.1, "UPDATED")
    assert transactions(client, alice, GIRO, isAdjustingEntry="true") == []


# ---------------------------------------------------------------------------------------------------- skip rules


def test_a_booking_before_the_update_window_is_skipped(client: httpx.Client, clock: AdminClock, alice: str) -> None:
    """Last successful update 2026-01-01: the window starts 10 days before, on 2025-12-22."""
    new = [tx(1, "2025-12-22"), tx(2, "2025-12-21"), tx(4, "2025-10-01")]
    accepted(client, alice, body(update(MAIN, account(GIRO, 101, *new))))
    land(clock)

    assert booked(client, alice, GIRO)[2:] == [("2025-12-22", 1.0)]
    assert status(client, alice, GIRO) == (101.0, "UPDATED")  # the skipped ones are not missed by the balance


def test_a_booking_more_than_89_days_back_is_skipped(client: httpx.Client, clock: AdminClock) -> None:
    """80 days on (2026-03-22) the last successful update is still 2026-01-01 (window from 2025-12-22), but 89 days
    back from today is 2025-12-23."""
    clock.advance(80 * 86_400)
    user_token = token(client, "alice")
    accepted(client, user_token, body(update(MAIN, account(GIRO, 101, tx(1, "2025-12-23"), tx(2, "2025-12-22")))))
    clock.advance(BATCH_UPDATE_SECONDS)

    assert booked(client, user_token, GIRO)[2:] == [("2025-12-23", 1.0)]


def test_the_window_follows_the_last_successful_update(client: httpx.Client, clock: AdminClock) -> None:
    clock.advance(20 * 86_400)  # 2026-01-21
    user_token = token(client, "alice")
    accepted(client, user_token, body(update(MAIN, account(GIRO, 100))))
    clock.advance(BATCH_UPDATE_SECONDS)  # now last updated 2026-01-21: the window starts 2026-01-11

    accepted(client, user_token, body(update(MAIN, account(GIRO, 101, tx(1, "2026-01-11"), tx(2, "2026-01-10")))))
    clock.advance(BATCH_UPDATE_SECONDS)

    assert booked(client, user_token, GIRO)[2:] == [("2026-01-11", 1.0)]


def test_a_transaction_like_one_booked_in_the_window_is_a_duplicate(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    """The account holds 60.00 on 2025-12-28: the same date and amount again is skipped, another amount or date not."""
    new = [tx(60, "2025-12-28"), tx(60.01, "2025-12-28"), tx(60, "2025-12-29")]
    accepted(client, alice, body(update(MAIN, account(GIRO, 220.01, *new))))
    land(clock)

    assert booked(client, alice, GIRO)[2:] == [("2025-12-28", 60.01), ("2025-12-29", 60.0)]
    assert status(client, alice, GIRO) == (220.01, "UPDATED")


def test_a_transaction_repeated_in_one_request_is_added_once(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    new = [tx(-5, "2025-12-30", purpose="erste"), tx(-5, "2025-12-30", purpose="zweite"), tx(-5, "2025-12-31")]
    accepted(client, alice, body(update(MAIN, account(GIRO, 90, *new))))
    land(clock)

    assert [(t["bankBookingDate"], t["purpose"]) for t in transactions(client, alice, GIRO)[2:]] == [
        ("2025-12-30", "erste"),
        ("2025-12-31", None),
    ]


def test_duplicates_are_per_account(client: httpx.Client, clock: AdminClock, alice: str) -> None:
    accepted(client, alice, body(update(MAIN, account(GIRO, 100), account(TAGESGELD, 560, tx(60, "2025-12-28")))))
    land(clock)

    assert booked(client, alice, TAGESGELD) == [("2025-12-28", 60.0)]
    assert status(client, alice, TAGESGELD) == (560.0, "UPDATED")


# ---------------------------------------------------------------------------------------------------- login error


def test_a_simulated_login_error_lands_as_bank_server_rejection_without_account_changes(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    accepted(client, alice, body(update(MAIN, account(GIRO, 50, tx(-50)), simulateBankLoginError=True)))
    assert connection(client, alice, MAIN)["updateStatus"] == "IN_PROGRESS"
    assert auto_update(client, alice, MAIN) is None
    land(clock)

    assert connection(client, alice, MAIN)["updateStatus"] == "READY"
    assert auto_update(client, alice, MAIN) == {
        "result": "BANK_SERVER_REJECTION",
        "errorMessage": errors.MSG_MOCK_LOGIN_ERROR,
        "errorType": "BUSINESS",
        "timestamp": LANDED,
    }
    assert [status(client, alice, a) for a in (GIRO, TAGESGELD)] == [(100.0, "UPDATED"), (500.0, "UPDATED")]
    assert [t["id"] for t in transactions(client, alice, GIRO)] == [OLD, SALARY]
    assert get(client, alice, f"/api/v2/accounts/{GIRO}")["interfaces"][0]["lastSuccessfulUpdate"] == START


def test_simulate_bank_login_error_false_updates_normally(client: httpx.Client, clock: AdminClock, alice: str) -> None:
    accepted(client, alice, body(update(MAIN, account(GIRO, 50, tx(-50)), simulateBankLoginError=False)))
    land(clock)

    assert auto_update(client, alice, MAIN)["result"] == "OK"
    assert status(client, alice, GIRO) == (50.0, "UPDATED")


# ---------------------------------------------------------------------------------------------------- busy


def test_a_connection_being_updated_refuses_another_update_and_a_delete(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    accepted(client, alice, body(update(MAIN, account(GIRO, 100))))

    assert_state_error(
        mock(client, alice, body(update(MAIN, account(GIRO, 100)))), errors.MSG_CONNECTION_LOCKED.format(id=MAIN)
    )
    deleted = client.delete(f"/api/v2/bankConnections/{MAIN}", headers={**bearer(alice), "X-Request-Id": RID})
    assert_error(deleted, 423, "LOCKED", "BUSINESS", errors.MSG_CONNECTION_LOCKED.format(id=MAIN))

    land(clock)
    accepted(client, alice, body(update(MAIN, account(GIRO, 100))))


def test_a_connection_still_importing_is_locked(client: httpx.Client, clock: AdminClock, alice: str) -> None:
    payload = body(update(IMPORTING, account(NEUKONTO, 0)))

    assert_state_error(mock(client, alice, payload), errors.MSG_CONNECTION_LOCKED.format(id=IMPORTING))

    clock.advance(30)
    accepted(client, token(client, "alice"), payload)


def test_a_connection_named_twice_is_locked_by_its_first_update(client: httpx.Client, alice: str) -> None:
    response = mock(client, alice, body(update(MAIN, account(GIRO, 100)), update(MAIN, account(GIRO, 100))))

    assert_state_error(response, errors.MSG_CONNECTION_LOCKED.format(id=MAIN))
    assert connection(client, alice, MAIN)["updateStatus"] == "READY"


# ---------------------------------------------------------------------------------------------------- 404


def test_an_unknown_connection_is_404(client: httpx.Client, alice: str) -> None:
    assert_unknown(mock(client, alice, body(update(999))), errors.MSG_UNKNOWN_CONNECTION.format(id=999))


def test_another_users_connection_is_404(client: httpx.Client, alice: str) -> None:
    response = mock(client, alice, body(update(CAROLS, account(CAROLS_ACCOUNT, 0))))

    assert_unknown(response, errors.MSG_UNKNOWN_CONNECTION.format(id=CAROLS))
    assert auto_update(client, token(client, "carol"), CAROLS) is None


def test_an_unknown_account_is_404(client: httpx.Client, alice: str) -> None:
    response = mock(client, alice, body(update(MAIN, account(GIRO, 100), account(2_999_999, 0))))
    assert_unknown(response, errors.MSG_UNKNOWN_ACCOUNT.format(id=2_999_999))


def test_another_users_account_is_404_as_unknown(client: httpx.Client, alice: str) -> None:
    response = mock(client, alice, body(update(MAIN, account(CAROLS_ACCOUNT, 0))))
    assert_unknown(response, errors.MSG_UNKNOWN_ACCOUNT.format(id=CAROLS_ACCOUNT))


def test_an_account_of_another_connection_is_404(client: httpx.Client, alice: str) -> None:
    response = mock(client, alice, body(update(MAIN, account(ZWEITKONTO, 0))))
    assert_unknown(response, errors.MSG_MOCK_FOREIGN_ACCOUNT.format(account=ZWEITKONTO, connection=MAIN))


def test_a_refused_request_schedules_none_of_its_updates(client: httpx.Client, clock: AdminClock, alice: str) -> None:
    response = mock(client, alice, body(update(SECOND, account(ZWEITKONTO, 5)), update(999)))
    assert_unknown(response, errors.MSG_UNKNOWN_CONNECTION.format(id=999))

    assert connection(client, alice, SECOND)["updateStatus"] == "READY"
    land(clock)
    assert auto_update(client, alice, SECOND) is None
    assert status(client, alice, ZWEITKONTO) == (0.0, "UPDATED")


# ---------------------------------------------------------------------------------------------------- 422


def test_a_user_with_automatic_updates_enabled_is_refused(client: httpx.Client) -> None:
    bob = token(client, "bob")
    response = mock(client, bob, body(update(BOBS, account(BOBS_ACCOUNT, 1))))

    assert_state_error(response, errors.MSG_MOCK_AUTO_UPDATE, user="bob")
    patched = client.patch("/api/v2/users", json={"isAutoUpdateEnabled": False}, headers=bearer(bob))
    assert patched.status_code == 200, patched.text
    accepted(client, bob, body(update(BOBS, account(BOBS_ACCOUNT, 1))))


def test_a_security_account_is_refused(client: httpx.Client, alice: str) -> None:
    response = mock(client, alice, body(update(MAIN, account(GIRO, 100), account(DEPOT, 10))))
    assert_state_error(response, errors.MSG_MOCK_SECURITY_ACCOUNT.format(account=DEPOT))


def test_an_interface_the_connection_does_not_have_is_refused(client: httpx.Client, alice: str) -> None:
    response = mock(client, alice, body(update(MAIN, account(GIRO, 100), interface="XS2A")))
    assert_state_error(response, errors.MSG_MOCK_NO_INTERFACE.format(connection=MAIN, interface="XS2A"))


def test_more_than_1000_new_transactions_for_an_account_are_refused(
    client: httpx.Client, clock: AdminClock, alice: str
) -> None:
    many = [tx(0.01, "2025-12-31", purpose=str(n)) for n in range(1001)]
    response = mock(client, alice, body(update(MAIN, account(GIRO, 100, *many))))
    message = errors.MSG_MOCK_TOO_MANY.format(limit=1000, count=1001, account=GIRO)
    assert_state_error(response, message)

    accepted(client, alice, body(update(MAIN, account(GIRO, 100, *many[:1000]))))


@pytest.mark.parametrize("type_id", [0, 1000, -5])
def test_a_type_id_outside_1_to_999_is_refused(client: httpx.Client, alice: str, type_id: int) -> None:
    response = mock(client, alice, body(update(MAIN, account(GIRO, 101, tx(1, typeId=type_id)))))
    field = "mockBankConnectionUpdates[0].mockAccountsData[0].newTransactions[0].typeId"
    assert_error(response, 422, "ILLEGAL_FIELD_VALUE", "TECHNICAL", errors.MSG_MOCK_TYPE_ID.format(field=field))


def test_type_ids_1_and_999_are_accepted(client: httpx.Client, clock: AdminClock, alice: str) -> None:
    accepted(client, alice, body(update(MAIN, account(GIRO, 103, tx(1, typeId=1), tx(2, "2025-12-31", typeId=999)))))
    land(clock)

    assert [t["typeCodeZka"] for t in transactions(client, alice, GIRO)[2:]] == ["1", "999"]


# ---------------------------------------------------------------------------------------------------- 400


ACCOUNT_0 = "mockBankConnectionUpdates[0].mockAccountsData[0]"
TX_0 = f"{ACCOUNT_0}.newTransactions[0]"


def with_account(**fields: Any) -> dict[str, Any]:
    return body(update(MAIN, {"accountId": GIRO, "accountBalance": 100, **fields}))


def with_transaction(**fields: Any) -> dict[str, Any]:
    return with_account(newTransactions=[{"amount": 1, **fields}])


MISSING = [
    ({}, "mockBankConnectionUpdates"),
    ({"mockBankConnectionUpdates": None}, "mockBankConnectionUpdates"),
    (body({"bankingInterface": "FINTS_SERVER"}), "mockBankConnectionUpdates[0].bankConnectionId"),
    (body({"bankConnectionId": MAIN}), "mockBankConnectionUpdates[0].bankingInterface"),
    (body(update(MAIN, {"accountBalance": 1})), f"{ACCOUNT_0}.accountId"),
    (body(update(MAIN, {"accountId": GIRO})), f"{ACCOUNT_0}.accountBalance"),
    (with_account(newTransactions=[{"purpose": "no amount"}]), f"{TX_0}.amount"),
    (with_transaction(amount=None), f"{TX_0}.amount"),
]


@pytest.mark.parametrize(("payload", "field"), MISSING, ids=[field for _, field in MISSING])
def test_a_missing_required_field_is_400_missing_field(
    client: httpx.Client, alice: str, payload: dict[str, Any], field: str
) -> None:
    assert_bad(mock(client, alice, payload), "MISSING_FIELD", errors.MSG_MISSING_FIELD.format(field=field))


ILLEGAL = [
    ({"mockBankConnectionUpdates": {}}, "'mockBankConnectionUpdates' must be an array"),
    ({"mockBankConnectionUpdates": [1]}, "'mockBankConnectionUpdates[0]' must be an object"),
    (body(update(MAIN), triggerNotifications="yes"), "'triggerNotifications' must be a boolean"),
    (body(update(str(MAIN))), "'mockBankConnectionUpdates[0].bankConnectionId' must be an integer"),
    (body(update(True)), "'mockBankConnectionUpdates[0].bankConnectionId' must be an integer"),
    (body(update(1.5)), "'mockBankConnectionUpdates[0].bankConnectionId' must be an integer"),
    (
        body(update(MAIN, interface="HBCI")),
        "'mockBankConnectionUpdates[0].bankingInterface' must be one of WEB_SCRAPER, FINTS_SERVER, XS2A",
    ),
    (
        body(update(MAIN, simulateBankLoginError="true")),
        "'mockBankConnectionUpdates[0].simulateBankLoginError' must be a boolean",
    ),
    (
        body(update(MAIN, mockAccountsData={"accountId": GIRO})),
        "'mockBankConnectionUpdates[0].mockAccountsData' must be an array",
    ),
    (body(update(MAIN, mockAccountsData=["x"])), f"'{ACCOUNT_0}' must be an object"),
    (with_account(accountId="2000001"), f"'{ACCOUNT_0}.accountId' must be an integer"),
    (with_account(accountBalance="100"), f"'{ACCOUNT_0}.accountBalance' must be a number with at most 2 decimals"),
    (with_account(accountBalance=100.001), f"'{ACCOUNT_0}.accountBalance' must be a number with at most 2 decimals"),
    (with_account(accountBalance=1e16), f"'{ACCOUNT_0}.accountBalance' must be a number with at most 2 decimals"),
    (with_account(newTransactions={}), f"'{ACCOUNT_0}.newTransactions' must be an array"),
    (with_account(newTransactions=[None]), f"'{TX_0}' must be an object"),
    (with_transaction(amount=0.001), f"'{TX_0}.amount' must be a number with at most 2 decimals"),
    (with_transaction(amount=True), f"'{TX_0}.amount' must be a number with at most 2 decimals"),
    (with_transaction(originalAmount=1.005), f"'{TX_0}.originalAmount' must be a number with at most 2 decimals"),
    (with_transaction(bookingDate="2025-13-01"), f"'{TX_0}.bookingDate' must be a date YYYY-MM-DD"),
    (with_transaction(bookingDate="01.12.2025"), f"'{TX_0}.bookingDate' must be a date YYYY-MM-DD"),
    (with_transaction(valueDate=20251201), f"'{TX_0}.valueDate' must be a date YYYY-MM-DD"),
    (with_transaction(currency="eur"), f"'{TX_0}.currency' must be an ISO 4217 currency code"),
    (with_transaction(originalCurrency="EURO"), f"'{TX_0}.originalCurrency' must be an ISO 4217 currency code"),
    (with_transaction(typeId="106"), f"'{TX_0}.typeId' must be an integer"),
    (with_transaction(purpose=""), f"'{TX_0}.purpose' must be a string of 1 to 2000 characters"),
    (with_transaction(purpose="x" * 2001), f"'{TX_0}.purpose' must be a string of 1 to 2000 characters"),
    (with_transaction(counterpart="x" * 81), f"'{TX_0}.counterpart' must be a string of 1 to 80 characters"),
    (
        with_transaction(counterpartAccountNumber="1" * 35),
        f"'{TX_0}.counterpartAccountNumber' must be a string of 0 to 34 characters",
    ),
    (
        with_transaction(counterpartDebitorId="x" * 101),
        f"'{TX_0}.counterpartDebitorId' must be a string of 1 to 100 characters",
    ),
    (with_transaction(type="x" * 271), f"'{TX_0}.type' must be a string of 1 to 270 characters"),
    (with_transaction(counterpartIban=123), f"'{TX_0}.counterpartIban' must be a string"),
    (
        body(update(MAIN, account(GIRO, 100), account(GIRO, 100))),
        f"'mockBankConnectionUpdates[0].mockAccountsData[1].accountId' names account {GIRO} a second time",
    ),
]


@pytest.mark.parametrize(("payload", "message"), ILLEGAL, ids=[message for _, message in ILLEGAL])
def test_an_illegal_field_value_is_400_naming_the_field(
    client: httpx.Client, alice: str, payload: dict[str, Any], message: str
) -> None:
    assert_bad(mock(client, alice, payload), "ILLEGAL_FIELD_VALUE", message)


def test_the_body_is_checked_before_the_users_state(client: httpx.Client) -> None:
    """bob's automatic updates are on (422), but a broken body is answered first."""
    response = mock(client, token(client, "bob"), {})
    missing = errors.MSG_MISSING_FIELD.format(field="mockBankConnectionUpdates")
    assert_error(response, 400, "MISSING_FIELD", "TECHNICAL", missing, user="bob")


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", errors.MSG_BODY_MISSING), (b"{", errors.MSG_MALFORMED_JSON), (b"[]", errors.MSG_JSON_OBJECT)],
    ids=["empty", "malformed", "array"],
)
def test_a_body_that_is_not_a_json_object_is_400(
    client: httpx.Client, alice: str, content: bytes, message: str
) -> None:
    headers = {**bearer(alice), "X-Request-Id": RID, "Content-Type": "application/json"}
    assert_bad(client.post(PATH, content=content, headers=headers), "BAD_REQUEST", message)


# ---------------------------------------------------------------------------------------------------- auth


def test_a_client_token_is_403(client: httpx.Client) -> None:
    response = client.post(PATH, json=body(), headers={**bearer(client_token(client)), "X-Request-Id": RID})
    auth = f"{MANDATOR}/{CLIENT_ID}"
    assert_error_message(
        response, 403, "UNAUTHORIZED_ACCESS", "BUSINESS", errors.MSG_ROLE_USER, auth=auth, request_id=RID
    )


def test_no_token_is_401(client: httpx.Client) -> None:
    response = client.post(PATH, json=body())
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": errors.MSG_MISSING_TOKEN}


def test_get_is_405(client: httpx.Client, alice: str) -> None:
    response = client.get(PATH, headers=bearer(alice))
    assert (response.status_code, response.headers["Allow"]) == (405, "POST")
