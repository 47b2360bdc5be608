"""The admin API's health, version and reset (of everything and of one mandator)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from mock_finapi import __version__, errors
from tests.api import admin_helpers
from tests.api.admin_helpers import (
    CREDENTIALS,
    INLINE_SCENARIO,
    NOW,
    assert_invalid_token,
    assert_unknown,
    create_process,
    emulator,
    journal,
    login,
    move_clock,
    ok,
    request_ids,
    rid,
    side_token,
    state,
)
from tests.helpers import (
    CLIENT_CREDENTIALS,
    SCENARIO,
    TOKEN_PATH,
    bearer,
    client_token,
    password_grant,
    user_tokens,
)

two = admin_helpers.two  # the two-mandators fixture, served to the tests here


# health and version
def test_health_answers_ok_with_the_served_scenario(client: httpx.Client) -> None:
    assert ok(client.get("/__admin/health")) == {"status": "ok", "scenario": SCENARIO}


def test_version_answers_package_version_scenario_and_seed(client: httpx.Client) -> None:
    assert ok(client.get("/__admin/version")) == {"version": __version__, "scenario": SCENARIO, "seed": 1}


def test_version_reports_the_seed_given_in_the_settings() -> None:
    with emulator(seed=99) as client:
        assert ok(client.get("/__admin/version"))["seed"] == 99


# reset
def test_reset_answers_what_it_reset(client: httpx.Client) -> None:
    assert ok(client.post("/__admin/reset")) == {"reset": "all", "scenario": SCENARIO}


def test_reset_removes_users_created_through_the_api(client: httpx.Client) -> None:
    ok(
        client.post(
            "/api/v2/users", json={"id": "alice", "password": "alice-pw"}, headers=bearer(client_token(client))
        ),
        201,
    )
    assert ok(client.post(TOKEN_PATH[2], data=password_grant("alice", "alice-pw")))["access_token"]

    ok(client.post("/__admin/reset"))

    gone = client.post(TOKEN_PATH[2], data=password_grant("alice", "alice-pw"))
    assert (gone.status_code, gone.json()["errors"][0]["message"]) == (400, errors.MSG_BAD_USER)
    assert "alice" not in [user["id"] for user in state(client, "users")]
    assert "username" in [user["id"] for user in state(client, "users")]


def test_reset_makes_every_token_invalid(client: httpx.Client) -> None:
    client_access = client_token(client)
    tokens = user_tokens(client)

    ok(client.post("/__admin/reset"))

    assert state(client, "tokens") == []
    assert_invalid_token(client.get("/api/v2/clientConfiguration", headers=bearer(client_access)), client_access)
    assert_invalid_token(client.get("/api/v2/users", headers=bearer(tokens["access_token"])), tokens["access_token"])
    refresh = {**CLIENT_CREDENTIALS, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refused = client.post(TOKEN_PATH[2], data=refresh)
    assert (refused.status_code, refused.json()["errors"][0]["message"]) == (400, errors.MSG_BAD_REFRESH)


def test_reset_puts_the_clock_back_to_the_scenario_start_and_frozen_state(two: httpx.Client) -> None:
    move_clock(two, advance=86_400, frozen=False)

    ok(two.post("/__admin/reset"))

    assert ok(two.get("/__admin/clock")) == {"now": NOW, "frozen": True}


def test_reset_of_a_real_time_scenario_puts_the_clock_back_to_the_real_time(client: httpx.Client) -> None:
    real_time = INLINE_SCENARIO.replace('  start: "2030-05-05T12:00:00+02:00"\n  frozen: true\n', "  frozen: true\n")
    ok(client.post("/__admin/scenario", json={"yaml": real_time}))
    move_clock(client, advance=10 * 86_400)

    ok(client.post("/__admin/reset"))

    now = datetime.fromisoformat(ok(client.get("/__admin/clock"))["now"])
    assert abs((now - datetime.now(UTC)).total_seconds()) < 60


def test_reset_clears_runtime_faults(client: httpx.Client) -> None:
    ok(client.post("/__admin/faults", json={"match": {"path": "/api/v2/users"}, "respond": {"status": 503}}), 201)

    ok(client.post("/__admin/reset"))

    assert ok(client.get("/__admin/faults")) == {"faults": []}
    assert client.get("/api/v2/users").status_code == 401


def test_reset_brings_the_scenario_faults_back_with_fresh_counters() -> None:
    with emulator(scenario="flaky-token-endpoint") as client:
        statuses = [client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS).status_code for _ in range(3)]
        ok(client.post("/__admin/reset"))
        again = [client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS).status_code for _ in range(3)]
    assert statuses == again == [503, 503, 200]


def test_reset_empties_the_journal(client: httpx.Client) -> None:
    client_token(client)
    assert len(journal(client)) == 1

    ok(client.post("/__admin/reset"))

    assert journal(client) == []


def test_generated_request_ids_never_repeat_across_resets_and_scenario_loads(client: httpx.Client) -> None:
    """Seeded ids repeat after a reset by design; request ids are for log correlation, so they must not."""
    seen: list[str] = []
    for change in (
        None,
        ("/__admin/reset", None),
        ("/__admin/scenario", {"name": "default"}),
        ("/__admin/reset", None),
    ):
        if change is not None:
            assert client.post(change[0], json=change[1]).status_code == 200
        seen += [client.get("/api/v2/users").headers["x-request-id"] for _ in range(3)]
    assert all(rid.startswith("selfgen-") for rid in seen)
    assert len(set(seen)) == len(seen) == 12


def test_reset_keeps_the_journal_size() -> None:
    with emulator(journal_size=2) as client:
        ok(client.post("/__admin/reset"))
        for n in range(3):
            client.get("/api/v2/nothing", headers=rid(f"r{n}"))
        assert request_ids(client) == ["r2", "r1"]


def test_reset_keeps_a_scenario_loaded_at_run_time(client: httpx.Client) -> None:
    ok(client.post("/__admin/scenario", json={"yaml": INLINE_SCENARIO}))

    assert ok(client.post("/__admin/reset")) == {"reset": "all", "scenario": "inline"}
    assert ok(client.get("/__admin/clock")) == {"now": "2030-05-05T11:00:00.000+01:00", "frozen": True}


# reset of one mandator
def test_reset_of_one_mandator_resets_only_its_users_tokens_processes_and_journal(two: httpx.Client) -> None:
    made: dict[str, dict[str, str]] = {}
    for side, (client_id, secret) in CREDENTIALS.items():
        token = side_token(two, side)
        ok(
            two.post("/api/v2/users", json={"id": f"new-{side}", "password": f"new-{side}-pw"}, headers=bearer(token)),
            201,
        )
        user = "alice" if side == "a" else "bob"
        access = ok(login(two, side, user, f"{user}-password"))["access_token"]
        process = create_process(two, client_id, secret, f"ref-{side}")
        ok(two.post("/__admin/users/shared/lock", params={"mandator": f"mandator-{side}"}))
        made[side] = {"client": token, "access": access, "process": process}
    journal_b = journal(two, mandator="mandator-b")
    assert journal_b
    assert journal(two, mandator="mandator-a")

    assert ok(two.post("/__admin/reset", params={"mandator": "mandator-a"})) == {
        "reset": "mandator-a",
        "scenario": "two-mandators",
    }

    # mandator-a: back to the scenario
    assert journal(two, mandator="mandator-a") == []
    assert journal(two, mandator="mandator-b") == journal_b
    assert [p["clientId"] for p in state(two, "processes")] == ["client-b"]
    assert {t["mandatorId"] for t in state(two, "tokens")} == {"mandator-b"}
    assert [u["id"] for u in state(two, "users", mandator="mandator-a")] == ["alice", "shared"]
    assert_invalid_token(two.get("/api/v2/users", headers=bearer(made["a"]["access"])), made["a"]["access"])
    assert login(two, "a", "new-a", "new-a-pw").status_code == 400
    assert login(two, "a", "shared", "shared-password-a").status_code == 200
    assert two.get(f"/api/v1/processes/{made['a']['process']}").status_code == 404
    # mandator-b: untouched
    assert ok(two.get("/api/v2/users", headers=bearer(made["b"]["access"])))["id"] == "bob"
    assert login(two, "b", "new-b", "new-b-pw").status_code == 200
    assert login(two, "b", "shared", "shared-password-b").status_code == 423
    assert two.get(f"/api/v1/processes/{made['b']['process']}").status_code == 200
    assert ok(two.get("/api/v2/clientConfiguration", headers=bearer(made["b"]["client"])))


def test_reset_of_one_mandator_leaves_the_clock_alone(two: httpx.Client) -> None:
    move_clock(two, advance=60)

    ok(two.post("/__admin/reset", params={"mandator": "mandator-a"}))

    assert ok(two.get("/__admin/clock")) == {"now": "2026-01-01T09:01:00.000+01:00", "frozen": True}


def test_reset_of_an_unknown_mandator_is_404_and_changes_nothing(two: httpx.Client) -> None:
    access = ok(login(two, "a", "alice", "alice-password"))["access_token"]

    assert_unknown(two.post("/__admin/reset", params={"mandator": "mandator-z"}), "No mandator with id 'mandator-z'")

    assert ok(two.get("/api/v2/users", headers=bearer(access)))["id"] == "alice"
