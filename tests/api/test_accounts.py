"""GET /api/v2/accounts and /api/v2/accounts/{id} (WEBFORM.md §5.2; issue 18, point 3): the full Account model,
every filter, the errors, on tests/scenarios/bank-data.yaml (username's five accounts are written out there)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_finapi import errors
from tests.api.bank_helpers import (
    ACCOUNTS,
    ALICE_ACCOUNTS,
    AUTH,
    CHECKING,
    CLIENT_AUTH,
    CREDIT_CARD,
    GIRO,
    INT64_TOO_BIG,
    REDIRECT,
    REDIRECT_ACCOUNT,
    RID,
    SAVINGS,
    SCENARIO,
    SPARKASSE,
    UPDATING,
    UPDATING_ACCOUNT,
    client_token,
    get,
    ok,
    user_token,
)
from tests.helpers import assert_error_message

PATH = "/api/v2/accounts"
ALL = sorted(ACCOUNTS)


@pytest.fixture
def scenario_name() -> str:
    return SCENARIO


@pytest.fixture
def token(client: httpx.Client) -> str:
    return user_token(client)


def holders(client: httpx.Client, token: str) -> dict[int, str]:
    """The generated holder name of each of the user's accounts: one per connection, a non-empty text."""
    shown = {found["id"]: found["accountHolderName"] for found in ok(get(client, PATH, token))["accounts"]}
    assert all(isinstance(name, str) and name for name in shown.values())
    assert shown[CHECKING] == shown[SAVINGS] == shown[CREDIT_CARD]
    return shown


def expected(client: httpx.Client, token: str, ids: list[int]) -> list[dict[str, Any]]:
    names = holders(client, token)
    return [{**ACCOUNTS[account_id], "accountHolderName": names[account_id]} for account_id in ids]


def listing(client: httpx.Client, token: str, params: Any = None) -> httpx.Response:
    return get(client, PATH, token, params)


def ids_of(response: httpx.Response) -> list[int]:
    return [found["id"] for found in ok(response)["accounts"]]


def test_every_account_of_the_user_by_id(client: httpx.Client, token: str) -> None:
    assert ok(listing(client, token)) == {"accounts": expected(client, token, ALL)}


@pytest.mark.parametrize("account_id", ALL)
def test_get_an_account(client: httpx.Client, token: str, account_id: int) -> None:
    assert ok(get(client, f"{PATH}/{account_id}", token)) == expected(client, token, [account_id])[0]


def test_money_has_two_decimals_on_the_wire(client: httpx.Client, token: str) -> None:
    text = get(client, f"{PATH}/{CHECKING}", token).text
    assert '"balance":-250.00,"overdraft":250.00,"overdraftLimit":1000.00,"availableFunds":750.00,' in text


def test_another_users_accounts_are_not_there(client: httpx.Client, token: str) -> None:
    response = get(client, f"{PATH}/{ALICE_ACCOUNTS[0]}", token)
    message = errors.MSG_UNKNOWN_ACCOUNT.format(id=ALICE_ACCOUNTS[0])
    assert_error_message(response, 404, "UNKNOWN_ENTITY", "BUSINESS", message, auth=AUTH, request_id=RID)
    assert ids_of(listing(client, token, {"ids": ",".join(map(str, ALICE_ACCOUNTS))})) == []
    alice = user_token(client, "alice", "alice-password")
    assert ids_of(listing(client, alice)) == list(ALICE_ACCOUNTS)
    names = [found["accountName"] for found in ok(listing(client, alice))["accounts"]]
    assert names == ["Girokonto", "Haushaltskonto", "Tagesgeld"]  # the test banks' accounts (decided)


def test_a_user_without_bank_data_has_no_accounts(client: httpx.Client) -> None:
    assert ok(listing(client, user_token(client, "nobody", "nobody-password"))) == {"accounts": []}


@pytest.mark.parametrize(
    ("params", "selected"),
    [
        ({"ids": f"{SAVINGS},{UPDATING_ACCOUNT}"}, [SAVINGS, UPDATING_ACCOUNT]),
        ([("ids", str(CREDIT_CARD)), ("ids", "1")], [CREDIT_CARD]),
        ({"search": "giro"}, [CHECKING, UPDATING_ACCOUNT]),  # account names
        ({"search": "GIRO 0000004"}, [UPDATING_ACCOUNT]),  # every term: name and account number
        ({"search": "DE62002800011000000002"}, [SAVINGS]),  # IBAN
        ({"search": "1000000003"}, [CREDIT_CARD]),  # account number
        ({"search": "00280002"}, [REDIRECT_ACCOUNT]),  # part of the IBAN
        ({"search": "sparkasse"}, []),  # not a bank name
        ({"accountTypes": "Checking"}, [CHECKING, REDIRECT_ACCOUNT, UPDATING_ACCOUNT]),
        ({"accountTypes": "Savings,CreditCard"}, [SAVINGS, CREDIT_CARD]),
        ([("accountTypes", "Loan"), ("accountTypes", "Bausparen")], []),
        ({"bankConnectionIds": str(GIRO)}, [CHECKING, SAVINGS, CREDIT_CARD]),
        ({"bankConnectionIds": f"{SPARKASSE},{REDIRECT},{UPDATING}"}, [REDIRECT_ACCOUNT, UPDATING_ACCOUNT]),
        ({"minLastSuccessfulUpdate": "2026-01-01", "maxLastSuccessfulUpdate": "2026-01-01"}, ALL),
        ({"minLastSuccessfulUpdate": "2026-01-02"}, []),
        ({"maxLastSuccessfulUpdate": "2025-12-31"}, []),
        ({"minBalance": "0"}, [SAVINGS, CREDIT_CARD, UPDATING_ACCOUNT]),
        ({"maxBalance": "-10"}, [CHECKING, REDIRECT_ACCOUNT]),  # inclusive
        ({"minBalance": "-10.00", "maxBalance": "1.00"}, [CREDIT_CARD, REDIRECT_ACCOUNT, UPDATING_ACCOUNT]),
        ({"minBalance": "100.25"}, [SAVINGS]),
        ({"minBalance": "100.26"}, []),
        ({"minBalance": "5", "maxBalance": "-5"}, []),  # min above max: nothing
        ({"accountTypes": "Checking", "minBalance": "-100", "bankConnectionIds": str(UPDATING)}, [UPDATING_ACCOUNT]),
        ({"search": "", "accountTypes": ""}, ALL),  # empty parameters are absent
    ],
)
def test_each_filter(client: httpx.Client, token: str, params: Any, selected: list[int]) -> None:
    assert ok(listing(client, token, params)) == {"accounts": expected(client, token, selected)}


def assert_bad_request(response: httpx.Response, message: str, code: str = "BAD_REQUEST") -> None:
    type_ = "BUSINESS" if code == "TOO_MANY_IDS" else "TECHNICAL"
    assert_error_message(response, 400, code, type_, message, auth=AUTH, request_id=RID)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ids", "x", errors.MSG_QUERY_INTEGERS),
        ("bankConnectionIds", INT64_TOO_BIG, errors.MSG_QUERY_INTEGERS),
        ("minLastSuccessfulUpdate", "2026-02-30", errors.MSG_QUERY_DATE),
        ("maxLastSuccessfulUpdate", "yesterday", errors.MSG_QUERY_DATE),
        ("minBalance", "0.001", errors.MSG_QUERY_AMOUNT),
        ("maxBalance", "1,5", errors.MSG_QUERY_AMOUNT),
        ("minBalance", "NaN", errors.MSG_QUERY_AMOUNT),
    ],
)
def test_a_parameter_that_does_not_parse_is_400(
    client: httpx.Client, token: str, name: str, value: str, message: str
) -> None:
    assert_bad_request(listing(client, token, {name: value}), message.format(name=name))


def test_an_account_type_not_in_the_access_enum_is_400(client: httpx.Client, token: str) -> None:
    allowed = "Checking, Savings, CreditCard, Security, Loan, Membership, Bausparen"
    message = errors.MSG_QUERY_ENUM.format(name="accountTypes", allowed=allowed)
    assert_bad_request(listing(client, token, {"accountTypes": "Checking,CHECKING"}), message)


@pytest.mark.parametrize("name", ["ids", "bankConnectionIds"])
def test_more_than_1000_ids_is_too_many_ids(client: httpx.Client, token: str, name: str) -> None:
    assert ids_of(listing(client, token, {name: ",".join(["7"] * 1000)})) == []
    response = listing(client, token, {name: ",".join(["7"] * 1001)})
    assert_bad_request(response, errors.MSG_TOO_MANY_FILTER_IDS.format(name=name, limit=1000), "TOO_MANY_IDS")


@pytest.mark.parametrize("account_id", ["1", "2000000", "-2000001"])
def test_an_unknown_account_is_404(client: httpx.Client, token: str, account_id: str) -> None:
    message = errors.MSG_UNKNOWN_ACCOUNT.format(id=account_id)
    response = get(client, f"{PATH}/{account_id}", token)
    assert_error_message(response, 404, "UNKNOWN_ENTITY", "BUSINESS", message, auth=AUTH, request_id=RID)


@pytest.mark.parametrize("value", ["x", "2000001x", INT64_TOO_BIG, "+"])
def test_an_account_id_that_is_no_int64_is_400(client: httpx.Client, token: str, value: str) -> None:
    assert_bad_request(get(client, f"{PATH}/{value}", token), errors.MSG_PATH_ID)


@pytest.mark.parametrize("path", [PATH, f"{PATH}/{CHECKING}"])
def test_without_a_token_401_and_with_a_client_token_403(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": errors.MSG_MISSING_TOKEN}
    response = get(client, path, client_token(client))
    message = errors.MSG_ROLE_USER
    assert_error_message(response, 403, "UNAUTHORIZED_ACCESS", "BUSINESS", message, auth=CLIENT_AUTH, request_id=RID)
