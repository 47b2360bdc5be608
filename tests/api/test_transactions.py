"""GET /api/v2/transactions and /api/v2/transactions/{id} (WEBFORM.md §5.3, §6.2; issue 18, point 4): every filter,
the order, paging and its limits, the sums over all pages, the errors, on tests/scenarios/bank-data.yaml (username's
eight transactions are written out there); then a user with 100,000 generated transactions, paged and filtered."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest

from mock_finapi import errors
from mock_finapi.http.app import create_app
from mock_finapi.scenarios import loader
from mock_finapi.testing.inprocess import InProcessClient
from tests.api.bank_helpers import (
    ALICE_ACCOUNTS,
    ALICE_FIRST_TRANSACTION,
    AUTH,
    CHECKING,
    CLIENT_AUTH,
    ERSTATTUNG,
    GEBUEHR,
    GEHALT,
    INT64_TOO_BIG,
    MANDATOR,
    MIETE,
    RID,
    SAVINGS,
    SCENARIO,
    SPARRATE,
    STROM,
    TESTBUCHUNG,
    TRANSACTIONS,
    UPDATING_ACCOUNT,
    ZINSEN,
    admin_client_token,
    client_token,
    get,
    ok,
    user_token,
)
from tests.helpers import CLIENT_ID, CLIENT_SECRET, START, assert_error_message

PATH = "/api/v2/transactions"
ALL = sorted(TRANSACTIONS)
SPENDING = [STROM, MIETE, GEBUEHR]
INCOME = [GEHALT, ERSTATTUNG, SPARRATE, ZINSEN, TESTBUCHUNG]
BY_BOOKING_DATE = [SPARRATE, GEHALT, STROM, GEBUEHR, ERSTATTUNG, ZINSEN, MIETE, TESTBUCHUNG]


@pytest.fixture
def scenario_name() -> str:
    return SCENARIO


@pytest.fixture
def token(client: httpx.Client) -> str:
    return user_token(client)


Params = dict[str, str] | list[tuple[str, str]]


def listing(client: httpx.Client, token: str, params: Params | None = None, view: str = "bankView") -> httpx.Response:
    pairs = list(params.items()) if isinstance(params, dict) else list(params or [])
    return get(client, PATH, token, [("view", view), *pairs])


def cents(transaction_id: int) -> int:
    amount: float = TRANSACTIONS[transaction_id]["amount"]
    return round(amount * 100)


def page(shown: Sequence[int], selected: Sequence[int] | None = None, page: int = 1, per_page: int = 20) -> Any:
    """The PageableTransactionList of `shown` (of username's transactions), a page of `selected` (default: shown):
    paging and sums over all of `selected`."""
    selected = shown if selected is None else selected
    income = sum(cents(i) for i in selected if cents(i) >= 0)
    spending = sum(cents(i) for i in selected if cents(i) < 0)
    return {
        "transactions": [TRANSACTIONS[i] for i in shown],
        "paging": {
            "page": page,
            "perPage": per_page,
            "pageCount": -(-len(selected) // per_page),
            "totalCount": len(selected),
        },
        "income": income / 100,
        "spending": spending / 100,
        "balance": (income + spending) / 100,
    }


def ids_of(response: httpx.Response) -> list[int]:
    return [found["id"] for found in ok(response)["transactions"]]


def assert_bad_request(response: httpx.Response, message: str, code: str = "BAD_REQUEST") -> None:
    type_ = "BUSINESS" if code == "TOO_MANY_IDS" else "TECHNICAL"
    assert_error_message(response, 400, code, type_, message, auth=AUTH, request_id=RID)


# ---------------------------------------------------------------------------------------------------- reading


def test_every_transaction_of_the_user_by_id_with_the_sums(client: httpx.Client, token: str) -> None:
    body = ok(listing(client, token))
    assert body == page(ALL)
    assert (body["income"], body["spending"], body["balance"]) == (2616.75, -1250.0, 1366.75)


def test_the_user_view_is_the_bank_view_without_split_transactions(client: httpx.Client, token: str) -> None:
    assert ok(listing(client, token, view="userView")) == page(ALL)


@pytest.mark.parametrize("transaction_id", sorted(TRANSACTIONS))
def test_get_a_transaction(client: httpx.Client, token: str, transaction_id: int) -> None:
    assert ok(get(client, f"{PATH}/{transaction_id}", token)) == TRANSACTIONS[transaction_id]


def test_money_has_two_decimals_on_the_wire(client: httpx.Client, token: str) -> None:
    text = listing(client, token, {"ids": f"{GEHALT},{ZINSEN}"}).text
    assert '"amount":2500.00,' in text
    assert '"amount":0.25,' in text
    assert text.endswith(',"income":2500.25,"spending":0.00,"balance":2500.25}')


def test_another_users_transactions_are_not_there(client: httpx.Client, token: str) -> None:
    response = get(client, f"{PATH}/{ALICE_FIRST_TRANSACTION}", token)
    message = errors.MSG_UNKNOWN_TRANSACTION.format(id=ALICE_FIRST_TRANSACTION)
    assert_error_message(response, 404, "UNKNOWN_ENTITY", "BUSINESS", message, auth=AUTH, request_id=RID)
    assert ids_of(listing(client, token, {"accountIds": ",".join(map(str, ALICE_ACCOUNTS))})) == []
    alice = user_token(client, "alice", "alice-password")
    assert ok(get(client, f"{PATH}/{ALICE_FIRST_TRANSACTION}", alice))["id"] == ALICE_FIRST_TRANSACTION
    assert ALICE_FIRST_TRANSACTION in ids_of(listing(client, alice))
    assert not set(ids_of(listing(client, alice))) & set(ALL)


def test_a_user_without_bank_data_has_an_empty_page(client: httpx.Client) -> None:
    body = ok(listing(client, user_token(client, "nobody", "nobody-password")))
    assert body == page([])
    assert body["paging"] == {"page": 1, "perPage": 20, "pageCount": 0, "totalCount": 0}


@pytest.mark.parametrize("transaction_id", ["1", "10000000", "99999999999"])
def test_an_unknown_transaction_is_404(client: httpx.Client, token: str, transaction_id: str) -> None:
    message = errors.MSG_UNKNOWN_TRANSACTION.format(id=transaction_id)
    response = get(client, f"{PATH}/{transaction_id}", token)
    assert_error_message(response, 404, "UNKNOWN_ENTITY", "BUSINESS", message, auth=AUTH, request_id=RID)


@pytest.mark.parametrize("value", ["abc", "1e3", INT64_TOO_BIG, "10000001.0"])
def test_a_transaction_id_that_is_no_int64_is_400(client: httpx.Client, token: str, value: str) -> None:
    assert_bad_request(get(client, f"{PATH}/{value}", token), errors.MSG_PATH_ID)


# ---------------------------------------------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"ids": f"{GEHALT},{ZINSEN}"}, [GEHALT, ZINSEN]),
        ([("ids", str(ZINSEN)), ("ids", str(STROM))], [STROM, ZINSEN]),
        ({"ids": f"1,{ALICE_FIRST_TRANSACTION}"}, []),
        ({"accountIds": str(CHECKING)}, [STROM, GEHALT, MIETE, GEBUEHR, ERSTATTUNG]),
        ({"accountIds": f"{SAVINGS},{UPDATING_ACCOUNT}"}, [SPARRATE, ZINSEN, TESTBUCHUNG]),
        ({"search": "gehalt"}, [GEHALT]),
        ({"search": "MUSTER"}, [STROM, GEHALT, SPARRATE]),  # counterpart names
        ({"search": "miete wohnung"}, [MIETE]),  # every term must match
        ({"search": "miete gehalt"}, []),
        ({"search": "DE89370400440532013000"}, [STROM]),  # counterpart IBAN
        ({"search": "cobadeff"}, [STROM]),  # counterpart BIC
        ({"search": "Führung"}, [GEBUEHR]),
        ({"counterpart": "muster"}, [STROM, GEHALT, SPARRATE]),
        ({"counterpart": "dezember"}, []),  # a purpose, not a counterpart
        ({"purpose": "dezember"}, [STROM, GEHALT]),
        ({"purpose": "muster"}, []),
        ({"purpose": "bestellung 4711"}, [ERSTATTUNG]),
        ({"minBankBookingDate": "2025-12-31"}, [MIETE, GEBUEHR, ERSTATTUNG, ZINSEN, TESTBUCHUNG]),
        ({"maxBankBookingDate": "2025-12-29"}, [GEHALT, SPARRATE]),
        ({"minBankBookingDate": "2025-12-30", "maxBankBookingDate": "2025-12-30"}, [STROM]),
        ({"minFinapiBookingDate": "2026-01-01"}, [MIETE, TESTBUCHUNG]),
        ({"maxFinapiBookingDate": "2025-12-01"}, [SPARRATE]),
        ({"minImportDate": "2026-01-01", "maxImportDate": "2026-01-01"}, ALL),
        ({"minImportDate": "2026-01-02"}, []),
        ({"maxImportDate": "2025-12-31"}, []),
        ({"minAmount": "0"}, INCOME),
        ({"maxAmount": "-0.01"}, SPENDING),
        ({"minAmount": "-49.99", "maxAmount": "1"}, [STROM, GEBUEHR, ZINSEN, TESTBUCHUNG]),  # inclusive
        ({"minAmount": "15.5"}, [GEHALT, ERSTATTUNG, SPARRATE]),
        ({"maxAmount": "-1200.00"}, [MIETE]),
        ({"direction": "income"}, INCOME),
        ({"direction": "spending"}, SPENDING),
        ({"direction": "all"}, ALL),
        ({"isNew": "true"}, ALL),
        ({"isNew": "false"}, []),
        ({"isPotentialDuplicate": "false"}, ALL),
        ({"isPotentialDuplicate": "true"}, []),
        ({"isAdjustingEntry": "TRUE"}, []),
        ({"isAdjustingEntry": "False"}, ALL),
        ({"isNew": "1", "isAdjustingEntry": "off"}, ALL),  # booleans as Spring reads them
        ({"labelIds": "1,2"}, []),  # no transaction has a label
        ({"categoryIds": "0"}, ALL),  # 0: uncategorised
        ({"categoryIds": "5", "includeChildCategories": "false"}, []),
        ({"accountIds": str(CHECKING), "direction": "spending", "search": "dezember"}, [STROM]),
        ({"search": "", "ids": "", "minAmount": ""}, ALL),  # empty parameters are absent
    ],
)
def test_each_filter_and_the_sums_of_what_it_selects(
    client: httpx.Client, token: str, params: Params, expected: list[int]
) -> None:
    assert ok(listing(client, token, params)) == page(expected)


@pytest.mark.parametrize(
    "params",
    [
        {"minAmount": "10", "maxAmount": "5"},
        {"minBankBookingDate": "2026-01-01", "maxBankBookingDate": "2025-12-31"},
        {"minFinapiBookingDate": "2026-01-01", "maxFinapiBookingDate": "2025-12-01"},
        {"minImportDate": "2026-01-02", "maxImportDate": "2026-01-01"},
    ],
)
def test_a_min_above_its_max_selects_nothing(client: httpx.Client, token: str, params: dict[str, str]) -> None:
    assert ok(listing(client, token, params)) == page([])


# ---------------------------------------------------------------------------------------------------- order


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (["id,desc"], ALL[::-1]),
        (["id,ASC"], ALL),
        (["amount,desc"], [GEHALT, SPARRATE, ERSTATTUNG, TESTBUCHUNG, ZINSEN, GEBUEHR, STROM, MIETE]),
        (["amount"], [MIETE, STROM, GEBUEHR, ZINSEN, TESTBUCHUNG, ERSTATTUNG, SPARRATE, GEHALT]),
        (["bankBookingDate"], BY_BOOKING_DATE),  # ties by id ascending
        (["bankBookingDate,desc"], [MIETE, TESTBUCHUNG, GEBUEHR, ERSTATTUNG, ZINSEN, STROM, GEHALT, SPARRATE]),
        (
            ["bankBookingDate,desc", "amount,asc"],
            [MIETE, TESTBUCHUNG, GEBUEHR, ZINSEN, ERSTATTUNG, STROM, GEHALT, SPARRATE],
        ),
        (["finapiBookingDate"], BY_BOOKING_DATE),
        (["valueDate"], [SPARRATE, STROM, GEHALT, GEBUEHR, ERSTATTUNG, ZINSEN, MIETE, TESTBUCHUNG]),
        (["accountId,desc"], [TESTBUCHUNG, SPARRATE, ZINSEN, STROM, GEHALT, MIETE, GEBUEHR, ERSTATTUNG]),
        (["purpose"], [GEHALT, GEBUEHR, MIETE, ERSTATTUNG, SPARRATE, STROM, TESTBUCHUNG, ZINSEN]),
        (["counterpartName"], [MIETE, SPARRATE, GEHALT, ERSTATTUNG, STROM, GEBUEHR, ZINSEN, TESTBUCHUNG]),  # none: last
        (["counterpartName,desc"], [GEBUEHR, ZINSEN, TESTBUCHUNG, STROM, ERSTATTUNG, GEHALT, SPARRATE, MIETE]),
        (["type,desc", "id,desc"], [TESTBUCHUNG, STROM, ERSTATTUNG, GEHALT, GEBUEHR, SPARRATE, MIETE, ZINSEN]),
        (["importDate,desc", "isNew", "id,desc"], ALL[::-1]),
    ],
)
def test_order(client: httpx.Client, token: str, order: list[str], expected: list[int]) -> None:
    assert ok(listing(client, token, [("order", value) for value in order])) == page(expected, ALL)


@pytest.mark.parametrize("order", ["amount,down", "category", "counterpart", ",asc", "id,asc,desc", "Amount"])
def test_an_order_of_no_property_or_direction_is_400(client: httpx.Client, token: str, order: str) -> None:
    response = listing(client, token, [("order", "id"), ("order", order)])
    allowed = (
        "id, parentId, accountId, valueDate, bankBookingDate, finapiBookingDate, amount, purpose, counterpartName, "
        "counterpartAccountNumber, counterpartIban, counterpartBlz, counterpartBic, type, primanota, category.id, "
        "category.name, isPotentialDuplicate, isNew, importDate"
    )
    assert_bad_request(response, errors.MSG_QUERY_ORDER.format(allowed=allowed))


# ---------------------------------------------------------------------------------------------------- paging


def test_pages_of_three_and_a_page_beyond_the_last(client: httpx.Client, token: str) -> None:
    assert ok(listing(client, token, {"perPage": "3"})) == page(ALL[:3], ALL, 1, 3)
    assert ok(listing(client, token, {"perPage": "3", "page": "2"})) == page(ALL[3:6], ALL, 2, 3)
    assert ok(listing(client, token, {"perPage": "3", "page": "3"})) == page(ALL[6:], ALL, 3, 3)
    assert ok(listing(client, token, {"perPage": "3", "page": "4"})) == page([], ALL, 4, 3)


def test_an_empty_result_has_no_pages_and_echoes_the_page(client: httpx.Client, token: str) -> None:
    body = ok(listing(client, token, {"ids": "1", "page": "3", "perPage": "7"}))
    assert body == {
        "transactions": [],
        "paging": {"page": 3, "perPage": 7, "pageCount": 0, "totalCount": 0},
        "income": 0.0,
        "spending": 0.0,
        "balance": 0.0,
    }


@pytest.mark.parametrize("per_page", ["1", "500"])
def test_per_page_from_1_to_500(client: httpx.Client, token: str, per_page: str) -> None:
    shown = ALL[: int(per_page)]
    assert ok(listing(client, token, {"perPage": per_page})) == page(shown, ALL, 1, int(per_page))


@pytest.mark.parametrize("per_page", ["0", "501", "-1", "100000"])
def test_per_page_outside_1_to_500_is_illegal_page_size(client: httpx.Client, token: str, per_page: str) -> None:
    response = listing(client, token, {"perPage": per_page})
    assert_bad_request(response, errors.MSG_PAGE_SIZE.format(limit=500), "ILLEGAL_PAGE_SIZE")


@pytest.mark.parametrize("value", ["0", "-3"])
def test_a_page_below_1_is_400(client: httpx.Client, token: str, value: str) -> None:
    assert_bad_request(listing(client, token, {"page": value}), errors.MSG_QUERY_PAGE)


@pytest.mark.parametrize(("name", "value"), [("page", "x"), ("page", "1.0"), ("perPage", "ten"), ("page", "9" * 12)])
def test_paging_that_is_no_integer_is_400(client: httpx.Client, token: str, name: str, value: str) -> None:
    assert_bad_request(listing(client, token, {name: value}), errors.MSG_QUERY_INTEGER.format(name=name))


# ---------------------------------------------------------------------------------------------------- refused


def test_the_view_is_required(client: httpx.Client, token: str) -> None:
    message = errors.MSG_QUERY_ENUM.format(name="view", allowed="bankView, userView")
    assert_bad_request(get(client, PATH, token), message)
    assert_bad_request(listing(client, token, view="bank"), message)


@pytest.mark.parametrize("name", ["ids", "accountIds", "labelIds", "categoryIds"])
def test_more_than_1000_ids_in_a_filter_is_too_many_ids(client: httpx.Client, token: str, name: str) -> None:
    assert ids_of(listing(client, token, {name: ",".join(["1"] * 1000)})) == []
    response = listing(client, token, [(name, ",".join(["1"] * 1000)), (name, "2")])
    assert_bad_request(response, errors.MSG_TOO_MANY_FILTER_IDS.format(name=name, limit=1000), "TOO_MANY_IDS")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ids", "1,two", errors.MSG_QUERY_INTEGERS),
        ("accountIds", INT64_TOO_BIG, errors.MSG_QUERY_INTEGERS),
        ("categoryIds", "0x1", errors.MSG_QUERY_INTEGERS),
        ("minBankBookingDate", "2025-13-01", errors.MSG_QUERY_DATE),
        ("maxBankBookingDate", "01.12.2025", errors.MSG_QUERY_DATE),
        ("minFinapiBookingDate", "2025-12-1", errors.MSG_QUERY_DATE),
        ("maxImportDate", "2025-12-31T00:00:00", errors.MSG_QUERY_DATE),
        ("minAmount", "1.234", errors.MSG_QUERY_AMOUNT),
        ("maxAmount", "1.000", errors.MSG_QUERY_AMOUNT),
        ("minAmount", "abc", errors.MSG_QUERY_AMOUNT),
        ("maxAmount", "1e3", errors.MSG_QUERY_AMOUNT),
        ("minAmount", "--1", errors.MSG_QUERY_AMOUNT),
        ("isNew", "maybe", errors.MSG_QUERY_BOOLEAN),
        ("isPotentialDuplicate", "ja", errors.MSG_QUERY_BOOLEAN),
        ("includeChildCategories", "nein", errors.MSG_QUERY_BOOLEAN),
    ],
)
def test_a_parameter_that_does_not_parse_is_400(
    client: httpx.Client, token: str, name: str, value: str, message: str
) -> None:
    assert_bad_request(listing(client, token, {name: value}), message.format(name=name))


def test_a_direction_other_than_all_income_spending_is_400(client: httpx.Client, token: str) -> None:
    message = errors.MSG_QUERY_ENUM.format(name="direction", allowed="all, income, spending")
    assert_bad_request(listing(client, token, {"direction": "out"}), message)


@pytest.mark.parametrize("path", [PATH, f"{PATH}/{STROM}"])
def test_without_a_token_401(client: httpx.Client, path: str) -> None:
    response = client.get(path, params={"view": "bankView"})
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": errors.MSG_MISSING_TOKEN}


@pytest.mark.parametrize("path", [PATH, f"{PATH}/{STROM}"])
def test_a_client_token_is_403(client: httpx.Client, path: str) -> None:
    for token, auth in ((client_token(client), CLIENT_AUTH), (admin_client_token(client), f"{MANDATOR}/bank-admin")):
        response = get(client, path, token, {"view": "bankView"})
        message = errors.MSG_ROLE_USER
        assert_error_message(response, 403, "UNAUTHORIZED_ACCESS", "BUSINESS", message, auth=auth, request_id=RID)


# ---------------------------------------------------------------------------------------------------- 100,000

LARGE = f"""\
name: bank-data-large
seed: 18
clock: {{start: "2026-01-01T09:00:00+01:00"}}
clients:
  - {{client_id: {CLIENT_ID}, client_secret: {CLIENT_SECRET}, mandator_id: {MANDATOR}}}
users:
  - id: username
    password: password
    bank_connections:
      - bank: 280001
        accounts: [{{type: Checking, transactions: 100000}}]
  - generate: 3
    bank_connections: [{{bank: 280001}}]
"""
"""username with one account of 100,000 generated transactions; three generated users with the test bank's data."""
TOTAL = 100_000


@pytest.fixture(scope="module")
def large() -> Iterator[tuple[InProcessClient, str]]:
    app = create_app(scenario=loader.load_text(LARGE, "bank-data-large"), freeze_at=START)
    with InProcessClient(app) as client:
        yield client, user_token(client)


def large_page(large: tuple[InProcessClient, str], params: Params) -> Any:
    client, token = large
    return ok(listing(client, token, params))


def money_cents(value: float) -> int:
    return round(value * 100)


@pytest.mark.slow
def test_100000_transactions_in_pages_of_500(large: tuple[InProcessClient, str]) -> None:
    first = large_page(large, {"perPage": "500"})
    assert first["paging"] == {"page": 1, "perPage": 500, "pageCount": 200, "totalCount": TOTAL}
    ids = [t["id"] for t in first["transactions"]]
    assert ids == sorted(ids)
    assert len(set(ids)) == 500
    second = large_page(large, {"perPage": "500", "page": "2"})
    assert second["transactions"][0]["id"] > ids[-1]
    last = large_page(large, {"perPage": "500", "page": "200"})
    assert len(last["transactions"]) == 500
    beyond = large_page(large, {"perPage": "500", "page": "201"})
    assert (beyond["transactions"], beyond["paging"]["pageCount"]) == ([], 200)
    for body in (second, last, beyond):
        assert (body["income"], body["spending"], body["balance"]) == (
            first["income"],
            first["spending"],
            first["balance"],
        )
    assert money_cents(first["income"]) + money_cents(first["spending"]) == money_cents(first["balance"])
    client, token = large
    (account,) = ok(get(client, "/api/v2/accounts", token))["accounts"]
    assert account["balance"] == first["balance"]  # the generated balance is the sum of the transactions


@pytest.mark.slow
def test_100000_transactions_split_by_direction_and_amount(large: tuple[InProcessClient, str]) -> None:
    everything = large_page(large, {"perPage": "1"})
    income = large_page(large, {"direction": "income", "perPage": "500"})
    spending = large_page(large, {"direction": "spending", "perPage": "500", "order": "amount,desc"})
    assert income["paging"]["totalCount"] + spending["paging"]["totalCount"] == TOTAL
    assert (income["income"], income["spending"]) == (everything["income"], 0.0)
    assert (spending["income"], spending["spending"]) == (0.0, everything["spending"])
    assert all(t["amount"] >= 0 for t in income["transactions"])
    amounts = [t["amount"] for t in spending["transactions"]]
    assert amounts == sorted(amounts, reverse=True)
    assert all(amount < 0 for amount in amounts)
    small = large_page(large, {"minAmount": "-50", "maxAmount": "50", "perPage": "500", "order": "amount,desc"})
    assert 0 < small["paging"]["totalCount"] < TOTAL
    shown = [t["amount"] for t in small["transactions"]]
    assert shown == sorted(shown, reverse=True)
    assert all(-50 <= amount <= 50 for amount in shown)


@pytest.mark.slow
def test_100000_transactions_by_date_ids_and_purpose(large: tuple[InProcessClient, str]) -> None:
    by_date = large_page(large, {"perPage": "500", "order": "bankBookingDate,desc"})["transactions"]
    keys = [(t["bankBookingDate"], -t["id"]) for t in by_date]
    assert keys == sorted(keys, reverse=True)  # dates descending, ties by id ascending
    latest = by_date[0]["bankBookingDate"]
    on_latest = large_page(large, {"minBankBookingDate": latest, "perPage": "500"})
    assert all(t["bankBookingDate"] == latest for t in on_latest["transactions"])
    ids = [t["id"] for t in large_page(large, {"perPage": "500", "page": "7"})["transactions"]]
    ids += [t["id"] for t in large_page(large, {"perPage": "500", "page": "150"})["transactions"]]
    chosen = large_page(large, {"ids": ",".join(map(str, ids)), "perPage": "500", "page": "2"})
    assert chosen["paging"] == {"page": 2, "perPage": 500, "pageCount": 2, "totalCount": 1000}
    assert [t["id"] for t in chosen["transactions"]] == ids[500:]
    word = next(t["purpose"] for t in by_date if t["purpose"]).split()[0].lower()
    matching = large_page(large, {"purpose": word, "perPage": "500"})
    assert 0 < matching["paging"]["totalCount"] <= TOTAL
    assert all(word in t["purpose"].lower() for t in matching["transactions"])
