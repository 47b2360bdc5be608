"""The control plane over bank data: `GET /__admin/state/bankConnections`, a reset of one mandator, a user's deletion,
the journal and fault rules on the bank-data endpoints (tests/scenarios/bank-admin.yaml: alice in mandator-a with
two connections and 3 transactions, Bob in mandator-b with one connection and 25 generated transactions)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_finapi import errors
from mock_finapi.http.routes.admin import MSG_ADMIN_TOKEN
from mock_finapi.services.batch_update import BATCH_UPDATE_SECONDS
from tests.api.admin_helpers import (
    NOW,
    assert_unknown,
    emulator,
    journal,
    login,
    masked,
    move_clock,
    ok,
    rid,
)
from tests.helpers import bearer

BANK_ADMIN = str(Path(__file__).resolve().parent.parent / "scenarios" / "bank-admin.yaml")
VIEW = "/__admin/state/bankConnections"
MOCK = "/api/v2/tests/mockBatchUpdate"
ALICE_MAIN, ALICE_EMPTY, BOBS = 1_000_001, 1_000_002, 1_000_003
GIRO, TAGESGELD, BOBS_ACCOUNT = 2_000_001, 2_000_002, 2_000_003


def connection_view(
    connection_id: int,
    mandator: str,
    user: str,
    bank: int,
    name: str,
    account_ids: list[int],
    transactions: int,
    update_status: str = "READY",
    categorization_status: str = "READY",
) -> dict[str, Any]:
    return {
        "id": connection_id,
        "mandatorId": mandator,
        "userId": user,
        "bankId": bank,
        "name": name,
        "updateStatus": update_status,
        "categorizationStatus": categorization_status,
        "accountIds": account_ids,
        "accounts": len(account_ids),
        "transactions": transactions,
    }


ALICE_VIEWS = [
    connection_view(ALICE_MAIN, "mandator-a", "alice", 280001, "Hauptbank", [GIRO, TAGESGELD], 3),
    connection_view(ALICE_EMPTY, "mandator-a", "alice", 280002, "Ohne Konten", [], 0),
]
BOB_VIEWS = [connection_view(BOBS, "mandator-b", "Bob", 280001, "Bobs Bank", [BOBS_ACCOUNT], 25)]


def listing(views: list[dict[str, Any]]) -> dict[str, Any]:
    """The view's whole answer: the connections and their totals."""
    totals = {
        "bankConnections": len(views),
        "accounts": sum(v["accounts"] for v in views),
        "transactions": sum(v["transactions"] for v in views),
    }
    return {"bankConnections": views, "totals": totals}


@pytest.fixture
def bank() -> Iterator[httpx.Client]:
    with emulator(scenario=BANK_ADMIN) as client:
        yield client


def user_token(client: httpx.Client, side: str) -> str:
    user = "alice" if side == "a" else "bob"
    value: str = ok(login(client, side, user, f"{user}-password"))["access_token"]
    return value


def view(client: httpx.Client, **params: str) -> Any:
    return ok(client.get(VIEW, params=params))


def mock_update(
    client: httpx.Client, token: str, connection: int, account: int, balance: float, **headers: str
) -> None:
    payload = {
        "mockBankConnectionUpdates": [
            {
                "bankConnectionId": connection,
                "bankingInterface": "FINTS_SERVER",
                "mockAccountsData": [{"accountId": account, "accountBalance": balance}],
            }
        ]
    }
    response = client.post(MOCK, json=payload, headers={**bearer(token), **headers})
    assert response.status_code == 200, response.text


def transaction_ids(client: httpx.Client, token: str) -> list[int]:
    params: dict[str, str | int] = {"view": "bankView", "perPage": 500}
    page = ok(client.get("/api/v2/transactions", params=params, headers=bearer(token)))
    return [t["id"] for t in page["transactions"]]


# ---------------------------------------------------------------------------------------------------- the view


def test_the_view_lists_every_connection_with_its_owner_statuses_counts_and_totals(bank: httpx.Client) -> None:
    assert view(bank) == listing([*ALICE_VIEWS, *BOB_VIEWS])


def test_the_view_of_one_mandator_lists_and_totals_its_connections_only(bank: httpx.Client) -> None:
    assert view(bank, mandator="mandator-b") == listing(BOB_VIEWS)
    assert view(bank, mandator="mandator-a") == listing(ALICE_VIEWS)


def test_the_view_of_an_unknown_mandator_is_empty(bank: httpx.Client) -> None:
    assert view(bank, mandator="mandator-z") == listing([])


def test_the_view_follows_an_update_on_the_virtual_clock(bank: httpx.Client) -> None:
    mock_update(bank, user_token(bank, "a"), ALICE_MAIN, GIRO, 0)  # 790.00 → 0.00: one adjusting entry

    [running, _] = view(bank, mandator="mandator-a")["bankConnections"]
    assert (running["updateStatus"], running["categorizationStatus"], running["transactions"]) == (
        "IN_PROGRESS",
        "PENDING",
        3,
    )

    move_clock(bank, advance=BATCH_UPDATE_SECONDS)

    [landed, _] = view(bank, mandator="mandator-a")["bankConnections"]
    assert (landed["updateStatus"], landed["categorizationStatus"], landed["transactions"]) == (
        "READY",
        "IN_PROGRESS",
        4,
    )
    assert view(bank)["totals"] == {"bankConnections": 3, "accounts": 3, "transactions": 29}
    move_clock(bank, advance=60)
    assert view(bank, mandator="mandator-a")["bankConnections"][0]["categorizationStatus"] == "READY"


def test_the_view_is_guarded_like_the_other_admin_endpoints() -> None:
    with emulator(scenario=BANK_ADMIN, admin=False) as client:
        assert_unknown(client.get(VIEW), errors.MSG_NO_ENDPOINT.format(method="GET", path=VIEW))
    with emulator(scenario=BANK_ADMIN, admin_token="admin-secret") as client:
        for refused in (client.get(VIEW), client.get(VIEW, headers=bearer("wrong"))):
            assert refused.status_code == 401
            assert refused.json() == {"error": "invalid_token", "error_description": MSG_ADMIN_TOKEN}
        assert ok(client.get(VIEW, headers=bearer("admin-secret"))) == listing([*ALICE_VIEWS, *BOB_VIEWS])


# ---------------------------------------------------------------------------------------------------- reset, deletion


def test_a_reset_of_one_mandator_restores_its_bank_data_and_leaves_the_others(bank: httpx.Client) -> None:
    alice, bob = user_token(bank, "a"), user_token(bank, "b")
    alice_before = transaction_ids(bank, alice)
    mock_update(bank, alice, ALICE_MAIN, GIRO, 0)
    mock_update(bank, bob, BOBS, BOBS_ACCOUNT, 0)
    move_clock(bank, advance=BATCH_UPDATE_SECONDS)
    deleted = bank.delete(f"/api/v2/bankConnections/{ALICE_EMPTY}", headers=bearer(alice))
    assert deleted.status_code == 200, deleted.text
    bobs_now = view(bank, mandator="mandator-b")
    assert bobs_now["totals"]["transactions"] == 26
    assert view(bank, mandator="mandator-a")["totals"] == {"bankConnections": 1, "accounts": 2, "transactions": 4}

    assert ok(bank.post("/__admin/reset", params={"mandator": "mandator-a"}))["reset"] == "mandator-a"

    assert view(bank) == {
        "bankConnections": [*ALICE_VIEWS, *bobs_now["bankConnections"]],
        "totals": {"bankConnections": 3, "accounts": 3, "transactions": 29},
    }
    alice = user_token(bank, "a")  # the reset revoked alice's tokens
    assert transaction_ids(bank, alice) == alice_before
    giro = ok(bank.get(f"/api/v2/accounts/{GIRO}", headers=bearer(alice)))
    assert (giro["balance"], giro["interfaces"][0]["status"]) == (790.0, "UPDATED")
    assert len(transaction_ids(bank, bob)) == 26


def test_after_a_reset_of_one_mandator_new_ids_do_not_repeat_the_others(bank: httpx.Client) -> None:
    bob = user_token(bank, "b")
    mock_update(bank, bob, BOBS, BOBS_ACCOUNT, 0)
    move_clock(bank, advance=BATCH_UPDATE_SECONDS)
    ok(bank.post("/__admin/reset", params={"mandator": "mandator-a"}))

    alice = user_token(bank, "a")
    mock_update(bank, alice, ALICE_MAIN, GIRO, 0)
    move_clock(bank, advance=BATCH_UPDATE_SECONDS)

    alices, bobs = transaction_ids(bank, alice), transaction_ids(bank, bob)
    assert (len(alices), len(bobs)) == (4, 26)
    assert set(alices).isdisjoint(bobs)


def test_a_full_reset_brings_every_mandators_bank_data_back(bank: httpx.Client) -> None:
    mock_update(bank, user_token(bank, "b"), BOBS, BOBS_ACCOUNT, 0)
    move_clock(bank, advance=BATCH_UPDATE_SECONDS)

    ok(bank.post("/__admin/reset"))

    assert view(bank) == listing([*ALICE_VIEWS, *BOB_VIEWS])


def test_deleting_a_user_removes_its_bank_data(bank: httpx.Client) -> None:
    alice = user_token(bank, "a")

    deleted = bank.delete("/api/v2/users", headers=bearer(alice))
    assert deleted.status_code == 200, deleted.text

    assert view(bank) == listing(BOB_VIEWS)
    assert view(bank, mandator="mandator-a") == listing([])


# ---------------------------------------------------------------------------------------------------- journal, faults


def test_the_journal_records_mock_updates_and_bank_data_reads(bank: httpx.Client) -> None:
    alice = user_token(bank, "a")
    mock_update(bank, alice, ALICE_MAIN, GIRO, 12.5, **rid("mock-1"))
    bank.get("/api/v2/transactions", params={"view": "bankView"}, headers={**bearer(alice), **rid("read-1")})

    [read, mocked] = journal(bank, path="/api/v2/t*")
    assert mocked == {
        "time": NOW,
        "method": "POST",
        "path": MOCK,
        "query": {},
        "status": 200,
        "requestId": "mock-1",
        "clientId": "client-a",
        "mandatorId": "mandator-a",
        "fault": None,
        "authorization": f"Bearer {masked(alice)}",
        "body": {
            "mockBankConnectionUpdates": [
                {
                    "bankConnectionId": ALICE_MAIN,
                    "bankingInterface": "FINTS_SERVER",
                    "mockAccountsData": [{"accountId": GIRO, "accountBalance": 12.5}],
                }
            ]
        },
    }
    assert (read["path"], read["query"], read["status"], read["requestId"]) == (
        "/api/v2/transactions",
        {"view": "bankView"},
        200,
        "read-1",
    )


def test_a_fault_rule_answers_a_mock_update_and_nothing_is_scheduled(bank: httpx.Client) -> None:
    rule = {"name": "mock-down", "match": {"method": "POST", "path": MOCK}, "respond": {"status": 503}}
    ok(bank.post("/__admin/faults", json=rule), 201)
    alice = user_token(bank, "a")
    payload = {"mockBankConnectionUpdates": [{"bankConnectionId": ALICE_MAIN, "bankingInterface": "FINTS_SERVER"}]}

    response = bank.post(MOCK, json=payload, headers=bearer(alice))

    assert (response.status_code, response.headers["X-Mock-Fault"]) == (503, "mock-down")
    assert response.json()["errors"][0]["code"] == "UNEXPECTED_ERROR"
    assert view(bank, mandator="mandator-a") == listing(ALICE_VIEWS)
    [counts] = ok(bank.get("/__admin/faults"))["faults"]
    assert (counts["matched"], counts["fired"]) == (1, 1)
    assert journal(bank, path=MOCK)[0]["fault"] == "mock-down"


def test_a_fault_rule_matches_bank_data_paths_by_glob(bank: httpx.Client) -> None:
    rule = {"name": "slow-bank", "match": {"path": "/api/v2/bankConnections/*"}, "times": 1, "respond": {"status": 500}}
    ok(bank.post("/__admin/faults", json=rule), 201)
    alice = user_token(bank, "a")

    assert bank.get("/api/v2/bankConnections", headers=bearer(alice)).status_code == 200  # not the glob's path
    faulted = bank.get(f"/api/v2/bankConnections/{ALICE_MAIN}", headers=bearer(alice))
    assert (faulted.status_code, faulted.headers["X-Mock-Fault"]) == (500, "slow-bank")
    assert bank.get(f"/api/v2/bankConnections/{ALICE_MAIN}", headers=bearer(alice)).status_code == 200  # times: 1
    [counts] = ok(bank.get("/__admin/faults"))["faults"]
    assert (counts["matched"], counts["fired"]) == (2, 1)
