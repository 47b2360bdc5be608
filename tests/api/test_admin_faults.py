"""`/__admin/faults`: adding, listing and deleting fault rules at run time."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_finapi import errors
from tests.api.admin_helpers import assert_bad_request, assert_illegal, emulator, ok
from tests.helpers import CLIENT_CREDENTIALS, TOKEN_PATH

RULE = {
    "name": "users-down",
    "match": {"method": "get", "path": "/api/v2/users"},
    "times": 1,
    "respond": {"status": 503, "headers": {"Retry-After": "2"}},
}
RULE_VIEW = {
    "name": "users-down",
    "match": {"method": "GET", "path": "/api/v2/users"},
    "after": 0,
    "times": 1,
    "probability": 1.0,
    "delay_ms": 0,
    "respond": {"status": 503, "headers": {"Retry-After": "2"}, "body": None},
}


def test_add_fault_answers_201_with_the_rule_and_the_rule_fires(client: httpx.Client) -> None:
    assert ok(client.post("/__admin/faults", json=RULE), 201) == RULE_VIEW

    faulted = client.get("/api/v2/users")
    assert (faulted.status_code, faulted.headers["X-Mock-Fault"], faulted.headers["Retry-After"]) == (
        503,
        "users-down",
        "2",
    )
    assert client.get("/api/v2/users").status_code == 401  # times: 1

    assert ok(client.get("/__admin/faults")) == {"faults": [{**RULE_VIEW, "matched": 2, "fired": 1}]}


def test_list_faults_shows_the_scenario_rules() -> None:
    with emulator(scenario="flaky-token-endpoint") as client:
        client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS)
        assert ok(client.get("/__admin/faults")) == {
            "faults": [
                {
                    "name": "token-endpoint-unavailable",
                    "match": {"method": "POST", "path": "*/oauth/token"},
                    "after": 0,
                    "times": 2,
                    "probability": 1.0,
                    "delay_ms": 0,
                    "respond": {"status": 503, "headers": {"Retry-After": "1"}, "body": None},
                    "matched": 1,
                    "fired": 1,
                }
            ]
        }


def test_delete_faults_removes_every_rule_and_requests_heal(client: httpx.Client) -> None:
    ok(client.post("/__admin/faults", json={**RULE, "times": None}), 201)
    ok(client.post("/__admin/faults", json={"name": "slow", "delay_ms": 1}), 201)
    assert client.get("/api/v2/users").status_code == 503

    assert ok(client.delete("/__admin/faults")) == {"deleted": 2}

    assert ok(client.get("/__admin/faults")) == {"faults": []}
    healed = client.get("/api/v2/users")
    assert (healed.status_code, "X-Mock-Fault" in healed.headers) == (401, False)


def test_rules_without_a_name_get_the_first_free_admin_name(client: httpx.Client) -> None:
    action = {"delay_ms": 1}
    assert ok(client.post("/__admin/faults", json=action), 201)["name"] == "admin-1"
    assert ok(client.post("/__admin/faults", json={**action, "name": "admin-3"}), 201)["name"] == "admin-3"
    assert ok(client.post("/__admin/faults", json=action), 201)["name"] == "admin-4"
    assert ok(client.post("/__admin/faults", json={**action, "name": "admin-6"}), 201)["name"] == "admin-6"
    assert ok(client.post("/__admin/faults", json=action), 201)["name"] == "admin-5"
    assert ok(client.post("/__admin/faults", json=action), 201)["name"] == "admin-7"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"match": {"method": 5}, "delay_ms": 1}, "match.method: must be a string, not an integer"),
        (
            {"match": {"host": "x"}, "delay_ms": 1},
            "match.host: unknown key (allowed: method, path, fields, client_id, callback)",
        ),
        ({"respond": {"status": 99}}, "respond.status: must be an HTTP status between 200 and 599"),
        ({"network": "meteor"}, "network: must be one of connection_reset, empty_response, malformed_json"),
        ({"delay_ms": -1}, "delay_ms: must be between 0 and 600000"),
        ({"probability": 2, "delay_ms": 1}, "probability: must be between 0 and 1"),
        ({"times": "twice", "delay_ms": 1}, "times: must be an integer, not a string"),
        (
            {"bogus": 1},
            "bogus: unknown key (allowed: name, match, after, times, probability, respond, delay_ms, network)",
        ),
        ({"name": "idle"}, "a rule needs an action: respond, delay_ms or network"),
    ],
    ids=["type", "unknown-match-key", "status", "network", "delay", "probability", "times", "unknown-key", "no-action"],
)
def test_add_fault_refuses_an_invalid_rule_with_400_naming_the_key(
    client: httpx.Client, rule: dict[str, Any], message: str
) -> None:
    assert_illegal(client.post("/__admin/faults", json=rule), message)
    assert ok(client.get("/__admin/faults")) == {"faults": []}


def test_add_fault_refuses_a_duplicate_name_with_400(client: httpx.Client) -> None:
    ok(client.post("/__admin/faults", json=RULE), 201)

    assert_illegal(client.post("/__admin/faults", json=RULE), "name: a rule named 'users-down' exists already")

    assert len(ok(client.get("/__admin/faults"))["faults"]) == 1


def test_add_fault_refuses_a_body_that_is_no_json_object(client: httpx.Client) -> None:
    assert_bad_request(client.post("/__admin/faults", json=[RULE]), errors.MSG_JSON_OBJECT)
