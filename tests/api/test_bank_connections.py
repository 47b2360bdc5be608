"""/api/v2/bankConnections (WEBFORM.md §5.1, §6.2; issue 18, point 2): list, get, delete one and all with their
accounts and transactions, 423 while an update runs, the direct import/update/connectInterface refused with 422, on
tests/scenarios/bank-data.yaml (username's four connections are written out there)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_finapi import errors
from tests.api.bank_helpers import (
    ALICE_CONNECTION,
    AUTH,
    CHECKING,
    CLIENT_AUTH,
    CREDIT_CARD,
    GIRO,
    INT64_TOO_BIG,
    MANDATOR,
    PROCEDURES,
    REDIRECT,
    REDIRECT_ACCOUNT,
    REDIRECT_BANK,
    RID,
    SAVINGS,
    SCENARIO,
    SPARKASSE,
    SPARKASSE_BANK,
    START,
    TEST_BANK,
    TESTBUCHUNG,
    TRANSACTIONS,
    UPDATING,
    UPDATING_ACCOUNT,
    admin_client_token,
    assert_error,
    client_token,
    get,
    headers,
    ok,
    user_token,
)
from tests.helpers import AdminClock, assert_error_message

PATH = "/api/v2/bankConnections"
CONSENT_EXPIRES = "2026-04-01T09:00:00.000+01:00"
"""90 days after the scenario's start: a connection's consent unless the scenario says otherwise (decided)."""
REDIRECT_CONSENT_EXPIRES = "2026-01-01T10:00:00.000+01:00"
PROCEDURES_JSON = [
    {"procedureId": pid, "procedureName": name, "procedureChallengeType": kind, "implicitExecute": False}
    for pid, name, kind in PROCEDURES
]


@pytest.fixture
def scenario_name() -> str:
    return SCENARIO


@pytest.fixture
def token(client: httpx.Client) -> str:
    return user_token(client)


def update(result: str = "OK", message: str | None = None, error_type: str | None = None) -> dict[str, Any]:
    return {"result": result, "errorMessage": message, "errorType": error_type, "timestamp": START}


def connection(
    connection_id: int,
    name: str | None,
    bank: dict[str, Any],
    interface: str,
    account_ids: list[int],
    *,
    consent: str | None = None,
    procedures: list[dict[str, Any]] | None = None,
    last_update: dict[str, Any] | None = None,
    status: tuple[str, str] = ("READY", "READY"),
    owners: str | None = None,
) -> dict[str, Any]:
    """A connection of the scenario: one interface with the stored login (shown XXXXX), its last manual update at
    the scenario's start, the bank's two-step procedures for it; owners null, or GENERATED (`load_owner_data`: filled
    in from the answer by `owned`)."""
    return {
        "id": connection_id,
        "name": name,
        "updateStatus": status[0],
        "categorizationStatus": status[1],
        "interfaces": [
            {
                "bankingInterface": interface,
                "loginCredentials": [
                    {"label": "Onlinebanking-ID", "value": "XXXXX"},
                    {"label": "PIN", "value": "XXXXX"},
                ],
                "defaultTwoStepProcedureId": None,
                "twoStepProcedures": procedures or [],
                "aisConsent": None
                if interface != "XS2A"
                else {"status": "PRESENT", "expiresAt": consent or CONSENT_EXPIRES, "supportsImportNewAccounts": False},
                "lastManualUpdate": last_update or update(),
                "lastAutoUpdate": None,
                "userActionRequired": False,
                "maxDaysForDownload": 0,
            }
        ],
        "accountIds": account_ids,
        "owners": owners,
        "bank": bank,
    }


GENERATED = "generated"
"""`owners` of a connection with `load_owner_data: true`: one owner, the holder of its accounts."""
CONNECTIONS = {
    GIRO: connection(
        GIRO,
        "Girokonto",
        TEST_BANK,
        "XS2A",
        [CHECKING, SAVINGS, CREDIT_CARD],
        procedures=PROCEDURES_JSON,
        owners=GENERATED,
    ),
    SPARKASSE: connection(
        SPARKASSE,
        None,
        SPARKASSE_BANK,
        "FINTS_SERVER",
        [],
        last_update=update("BANK_SERVER_REJECTION", "Zugangsdaten falsch", "BUSINESS"),
    ),
    REDIRECT: connection(
        REDIRECT, "Redirect", REDIRECT_BANK, "XS2A", [REDIRECT_ACCOUNT], consent=REDIRECT_CONSENT_EXPIRES
    ),
    UPDATING: connection(
        UPDATING,
        "Aktualisierung läuft",
        TEST_BANK,
        "FINTS_SERVER",
        [UPDATING_ACCOUNT],
        procedures=PROCEDURES_JSON,
        status=("IN_PROGRESS", "PENDING"),
    ),
}
ALL = sorted(CONNECTIONS)


def owned(body: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """`expected` with the generated owners of `body` where it expects them (GENERATED): one owner, a German city,
    first and last name non-empty."""
    if expected["owners"] != GENERATED:
        return expected
    (owner,) = body["owners"]
    assert all(isinstance(owner[key], str) and owner[key] for key in ("firstName", "lastName", "city"))
    assert owner == {
        "firstName": owner["firstName"],
        "lastName": owner["lastName"],
        "salutation": None,
        "title": None,
        "email": None,
        "dateOfBirth": None,
        "postCode": None,
        "country": "DE",
        "city": owner["city"],
        "street": None,
        "houseNumber": None,
    }
    return {**expected, "owners": body["owners"]}


def assert_connections(response: httpx.Response, expected: list[dict[str, Any]]) -> None:
    shown = ok(response)["connections"]
    assert [c["id"] for c in shown] == [c["id"] for c in expected]
    assert shown == [owned(body, wanted) for body, wanted in zip(shown, expected, strict=True)]


def ids_of(response: httpx.Response, key: str) -> list[int]:
    return [found["id"] for found in ok(response)[key]]


# ---------------------------------------------------------------------------------------------------- reading


def test_every_connection_of_the_user_by_id(client: httpx.Client, token: str) -> None:
    assert_connections(get(client, PATH, token), [CONNECTIONS[i] for i in ALL])


@pytest.mark.parametrize("connection_id", ALL)
def test_get_a_connection(client: httpx.Client, token: str, connection_id: int) -> None:
    body = ok(get(client, f"{PATH}/{connection_id}", token))
    assert body == owned(body, CONNECTIONS[connection_id])


def test_the_owner_is_the_holder_of_the_accounts(client: httpx.Client, token: str) -> None:
    (owner,) = ok(get(client, f"{PATH}/{GIRO}", token))["owners"]
    holders = {ok(get(client, f"/api/v2/accounts/{i}", token))["accountHolderName"] for i in (CHECKING, SAVINGS)}
    assert holders == {f"{owner['firstName']} {owner['lastName']}"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"ids": f"{UPDATING},{GIRO}"}, [GIRO, UPDATING]),
        ([("ids", str(REDIRECT)), ("ids", str(SPARKASSE))], [SPARKASSE, REDIRECT]),
        ({"ids": f"{ALICE_CONNECTION},1,{GIRO}"}, [GIRO]),  # unknown and other users' ids are skipped
        ({"ids": ""}, ALL),
    ],
)
def test_the_ids_filter(client: httpx.Client, token: str, params: Any, expected: list[int]) -> None:
    assert ids_of(get(client, PATH, token, params), "connections") == expected


def test_a_user_without_bank_data_has_no_connections(client: httpx.Client) -> None:
    assert ok(get(client, PATH, user_token(client, "nobody", "nobody-password"))) == {"connections": []}


def test_the_consent_is_not_present_once_it_expired(client: httpx.Client, token: str, clock: AdminClock) -> None:
    consent = {"status": "PRESENT", "expiresAt": REDIRECT_CONSENT_EXPIRES, "supportsImportNewAccounts": False}
    assert ok(get(client, f"{PATH}/{REDIRECT}", token))["interfaces"][0]["aisConsent"] == consent
    clock.advance(3599.999)
    assert ok(get(client, f"{PATH}/{REDIRECT}", token))["interfaces"][0]["aisConsent"] == consent
    clock.advance(0.001)
    token = user_token(client)  # the first one expired with the consent, an hour after the start
    expired = {"status": "NOT_PRESENT", "expiresAt": None, "supportsImportNewAccounts": False}
    assert ok(get(client, f"{PATH}/{REDIRECT}", token))["interfaces"][0]["aisConsent"] == expired
    assert ok(get(client, f"{PATH}/{GIRO}", token))["interfaces"][0]["aisConsent"]["status"] == "PRESENT"


def test_an_update_runs_until_its_time_is_up(client: httpx.Client, token: str, clock: AdminClock) -> None:
    def statuses() -> tuple[str, str]:
        body = ok(get(client, f"{PATH}/{UPDATING}", token))
        return body["updateStatus"], body["categorizationStatus"]

    assert statuses() == ("IN_PROGRESS", "PENDING")
    clock.advance(29.9)
    assert statuses() == ("IN_PROGRESS", "PENDING")
    clock.advance(0.1)
    assert statuses() == ("READY", "READY")


@pytest.mark.parametrize("value", ["x", INT64_TOO_BIG, "1000001.5"])
def test_a_connection_id_that_is_no_int64_is_400(client: httpx.Client, token: str, value: str) -> None:
    for response in (get(client, f"{PATH}/{value}", token), client.delete(f"{PATH}/{value}", headers=headers(token))):
        assert_error_message(response, 400, "BAD_REQUEST", "TECHNICAL", errors.MSG_PATH_ID, auth=AUTH, request_id=RID)


@pytest.mark.parametrize("value", ["x", INT64_TOO_BIG])
def test_bad_ids_are_400(client: httpx.Client, token: str, value: str) -> None:
    message = errors.MSG_QUERY_INTEGERS.format(name="ids")
    response = get(client, PATH, token, {"ids": value})
    assert_error_message(response, 400, "BAD_REQUEST", "TECHNICAL", message, auth=AUTH, request_id=RID)
    response = get(client, PATH, token, {"ids": ",".join(["1"] * 1001)})
    message = errors.MSG_TOO_MANY_FILTER_IDS.format(name="ids", limit=1000)
    assert_error_message(response, 400, "TOO_MANY_IDS", "BUSINESS", message, auth=AUTH, request_id=RID)


@pytest.mark.parametrize("connection_id", [ALICE_CONNECTION, 1, -1])
def test_an_unknown_or_another_users_connection_is_404(client: httpx.Client, token: str, connection_id: int) -> None:
    message = errors.MSG_UNKNOWN_CONNECTION.format(id=connection_id)
    for response in (
        get(client, f"{PATH}/{connection_id}", token),
        client.delete(f"{PATH}/{connection_id}", headers=headers(token)),
    ):
        assert_error_message(response, 404, "UNKNOWN_ENTITY", "BUSINESS", message, auth=AUTH, request_id=RID)
    alice = user_token(client, "alice", "alice-password")
    assert ids_of(get(client, PATH, alice), "connections") == [ALICE_CONNECTION]


# ---------------------------------------------------------------------------------------------------- deleting


def assert_gone(client: httpx.Client, token: str, gone: tuple[int, list[int], list[int]], date: str = START) -> None:
    """The connection, its accounts and its transactions (`gone`) answer 404 and are in no list (nor in the sums)."""
    connection_id, accounts, transactions = gone
    for path, message in (
        (f"{PATH}/{connection_id}", errors.MSG_UNKNOWN_CONNECTION.format(id=connection_id)),
        *((f"/api/v2/accounts/{i}", errors.MSG_UNKNOWN_ACCOUNT.format(id=i)) for i in accounts),
        *((f"/api/v2/transactions/{i}", errors.MSG_UNKNOWN_TRANSACTION.format(id=i)) for i in transactions),
    ):
        assert_error(get(client, path, token), 404, "UNKNOWN_ENTITY", "BUSINESS", message, date=date)
    assert connection_id not in ids_of(get(client, PATH, token), "connections")
    assert not set(accounts) & set(ids_of(get(client, "/api/v2/accounts", token), "accounts"))
    shown = ids_of(get(client, "/api/v2/transactions", token, {"view": "bankView", "perPage": "500"}), "transactions")
    assert not set(transactions) & set(shown)


def remaining_transactions(client: httpx.Client, token: str) -> Any:
    return ok(get(client, "/api/v2/transactions", token, {"view": "bankView"}))


def test_deleting_a_connection_deletes_its_accounts_and_transactions(client: httpx.Client, token: str) -> None:
    response = client.delete(f"{PATH}/{GIRO}", headers=headers(token))
    assert (response.status_code, response.content) == (200, b"")
    giro_transactions = [i for i, t in TRANSACTIONS.items() if t["accountId"] in (CHECKING, SAVINGS)]
    assert_gone(client, token, (GIRO, [CHECKING, SAVINGS, CREDIT_CARD], giro_transactions))
    assert ids_of(get(client, PATH, token), "connections") == [SPARKASSE, REDIRECT, UPDATING]
    assert ids_of(get(client, "/api/v2/accounts", token), "accounts") == [REDIRECT_ACCOUNT, UPDATING_ACCOUNT]
    left = remaining_transactions(client, token)
    assert [t["id"] for t in left["transactions"]] == [TESTBUCHUNG]
    assert (left["income"], left["spending"], left["balance"]) == (1.0, 0.0, 1.0)
    response = client.delete(f"{PATH}/{GIRO}", headers=headers(token))
    message = errors.MSG_UNKNOWN_CONNECTION.format(id=GIRO)
    assert_error_message(response, 404, "UNKNOWN_ENTITY", "BUSINESS", message, auth=AUTH, request_id=RID)


def test_delete_by_method_override(client: httpx.Client, token: str) -> None:
    override = {**headers(token), "X-HTTP-Method-Override": "DELETE"}
    response = client.post(f"{PATH}/{REDIRECT}", headers=override)
    assert (response.status_code, response.content) == (200, b"")
    assert_gone(client, token, (REDIRECT, [REDIRECT_ACCOUNT], []))
    response = client.post(PATH, headers=override)
    assert response.status_code == 423  # the updating connection: nothing deleted
    assert ids_of(get(client, PATH, token), "connections") == [GIRO, SPARKASSE, UPDATING]


def test_a_connection_being_updated_is_locked(client: httpx.Client, token: str, clock: AdminClock) -> None:
    response = client.delete(f"{PATH}/{UPDATING}", headers=headers(token))
    message = errors.MSG_CONNECTION_LOCKED.format(id=UPDATING)
    assert_error_message(response, 423, "LOCKED", "BUSINESS", message, auth=AUTH, request_id=RID)
    assert ok(get(client, f"/api/v2/accounts/{UPDATING_ACCOUNT}", token))["id"] == UPDATING_ACCOUNT
    clock.advance(30)
    response = client.delete(f"{PATH}/{UPDATING}", headers=headers(token))
    assert (response.status_code, response.content) == (200, b"")
    assert_gone(client, token, (UPDATING, [UPDATING_ACCOUNT], [TESTBUCHUNG]), "2026-01-01T09:00:30.000+01:00")


def test_deleting_all_is_refused_while_one_is_updated_then_deletes_all(
    client: httpx.Client, token: str, clock: AdminClock
) -> None:
    response = client.delete(PATH, headers=headers(token))
    assert_error_message(response, 423, "LOCKED", "BUSINESS", errors.MSG_CONNECTIONS_LOCKED, auth=AUTH, request_id=RID)
    assert ids_of(get(client, PATH, token), "connections") == ALL
    assert len(remaining_transactions(client, token)["transactions"]) == len(TRANSACTIONS)
    clock.advance(30)
    assert ok(client.delete(PATH, headers=headers(token))) == {"identifiers": ALL}
    assert ok(get(client, PATH, token)) == {"connections": []}
    assert ok(get(client, "/api/v2/accounts", token)) == {"accounts": []}
    left = remaining_transactions(client, token)
    assert (left["transactions"], left["paging"]["totalCount"], left["balance"]) == ([], 0, 0.0)
    for connection_id in ALL:
        assert get(client, f"{PATH}/{connection_id}", token).status_code == 404
    assert ok(client.delete(PATH, headers=headers(token))) == {"identifiers": []}
    alice = user_token(client, "alice", "alice-password")
    assert ids_of(get(client, PATH, alice), "connections") == [ALICE_CONNECTION]
    assert len(ids_of(get(client, "/api/v2/accounts", alice), "accounts")) == 3


def test_deleting_the_user_deletes_its_bank_data(client: httpx.Client, token: str, clock: AdminClock) -> None:
    clock.advance(30)
    response = client.delete("/api/v2/users", headers=headers(token))
    assert response.status_code == 200
    alice = user_token(client, "alice", "alice-password")
    for path in (f"{PATH}/{GIRO}", f"/api/v2/accounts/{CHECKING}", f"/api/v2/transactions/{TESTBUCHUNG}"):
        assert get(client, path, alice).status_code == 404
    assert ids_of(get(client, PATH, alice), "connections") == [ALICE_CONNECTION]


# ---------------------------------------------------------------------------------------------------- refused

DIRECT = ["import", "update", "connectInterface"]


@pytest.mark.parametrize("name", DIRECT)
def test_direct_import_and_update_are_refused_for_web_form_mandators(
    client: httpx.Client, token: str, name: str
) -> None:
    body = {"bankId": 280001, "bankConnectionId": GIRO, "bankingInterface": "XS2A"}
    for content in (body, None):  # the body is not even read
        response = client.post(f"{PATH}/{name}", headers=headers(token), json=content)
        message = errors.MSG_WEB_FORM_MANDATOR
        assert_error_message(response, 422, "ILLEGAL_ENTITY_STATE", "BUSINESS", message, auth=AUTH, request_id=RID)
    assert ids_of(get(client, PATH, token), "connections") == ALL


@pytest.mark.parametrize("name", DIRECT)
def test_direct_import_needs_a_user_token(client: httpx.Client, name: str) -> None:
    response = client.post(f"{PATH}/{name}", json={})
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": errors.MSG_MISSING_TOKEN}
    response = client.post(f"{PATH}/{name}", json={}, headers=headers(client_token(client)))
    message = errors.MSG_ROLE_USER
    assert_error_message(response, 403, "UNAUTHORIZED_ACCESS", "BUSINESS", message, auth=CLIENT_AUTH, request_id=RID)


@pytest.mark.parametrize(("method", "path"), [("GET", PATH), ("DELETE", PATH), ("GET", f"{PATH}/{GIRO}")])
def test_client_tokens_are_403(client: httpx.Client, method: str, path: str) -> None:
    for token, auth in ((client_token(client), CLIENT_AUTH), (admin_client_token(client), f"{MANDATOR}/bank-admin")):
        response = client.request(method, path, headers=headers(token))
        message = errors.MSG_ROLE_USER
        assert_error_message(response, 403, "UNAUTHORIZED_ACCESS", "BUSINESS", message, auth=auth, request_id=RID)
    assert client.request(method, path).status_code == 401


# ---------------------------------------------------------------------------------------------------- mandator admin


def test_the_mandator_admins_user_list_counts_the_users_bank_connections(client: httpx.Client, token: str) -> None:
    """getUserList: each live user's connections now and the day the newest was imported (the scenario's start);
    a deleted connection no longer counts."""
    admin = admin_client_token(client)

    def infos() -> dict[str, tuple[int, str | None]]:
        users = ok(get(client, "/api/v2/mandatorAdmin/getUserList", admin))["users"]
        return {u["userId"]: (u["bankConnectionCount"], u["latestBankConnectionImportDate"]) for u in users}

    assert infos() == {"alice": (1, "2026-01-01"), "nobody": (0, None), "username": (4, "2026-01-01")}
    assert client.delete(f"{PATH}/{GIRO}", headers=headers(token)).status_code == 200
    assert infos()["username"] == (3, "2026-01-01")
