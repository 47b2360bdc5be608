"""`POST /__admin/scenario`: swapping the served scenario by name, path or inline YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.admin_helpers import INLINE_SCENARIO, TWO_MANDATORS, assert_bad_request, assert_unknown, emulator, ok
from tests.helpers import CLIENT_CREDENTIALS, SCENARIO, TOKEN_PATH, bearer, client_token, password_grant

GIVE_SCENARIO = "Give exactly one of 'name', 'path' or 'yaml' (a string)"


def test_scenario_by_name_is_served_from_the_next_request_on(client: httpx.Client) -> None:
    ok(
        client.post(
            "/api/v2/users", json={"id": "alice", "password": "alice-pw"}, headers=bearer(client_token(client))
        ),
        201,
    )

    assert ok(client.post("/__admin/scenario", json={"name": "expiring-tokens"})) == {
        "status": "ok",
        "scenario": "expiring-tokens",
    }

    assert ok(client.get("/__admin/health")) == {"status": "ok", "scenario": "expiring-tokens"}
    assert ok(client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS))["expires_in"] == 59
    assert client.post(TOKEN_PATH[2], data=password_grant("alice", "alice-pw")).status_code == 400


def test_scenario_from_yaml_is_served_with_its_clients_users_and_clock(client: httpx.Client) -> None:
    assert ok(client.post("/__admin/scenario", json={"yaml": INLINE_SCENARIO})) == {
        "status": "ok",
        "scenario": "inline",
    }

    data = {"grant_type": "password", "client_id": "inline-client", "client_secret": "inline-secret"}
    assert (
        client.post(TOKEN_PATH[2], data={**data, "username": "carol", "password": "carol-password"}).status_code == 200
    )
    assert client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS).status_code == 401
    assert ok(client.get("/__admin/clock")) == {"now": "2030-05-05T11:00:00.000+01:00", "frozen": True}


@pytest.mark.parametrize("absolute", [False, True], ids=["relative", "absolute"])
def test_scenario_from_a_path_in_a_scenario_dir_is_served(tmp_path: Path, absolute: bool) -> None:
    (tmp_path / "custom.yaml").write_text(INLINE_SCENARIO, encoding="utf-8")
    path = str(tmp_path / "custom.yaml") if absolute else "custom.yaml"
    with emulator(scenario_dirs=(str(tmp_path),)) as client:
        assert ok(client.post("/__admin/scenario", json={"path": path})) == {"status": "ok", "scenario": "inline"}
        assert ok(client.get("/__admin/health"))["scenario"] == "inline"


def test_scenario_from_a_path_next_to_the_served_scenario_is_allowed(client: httpx.Client) -> None:
    two_mandators = Path(TWO_MANDATORS)
    with emulator(scenario=str(two_mandators.parent / "manual_verification.yaml")) as other:
        response = other.post("/__admin/scenario", json={"path": str(two_mandators)})
        assert ok(response) == {"status": "ok", "scenario": "two-mandators"}


def test_a_bad_scenario_is_refused_with_file_and_line_and_the_old_one_keeps_serving(client: httpx.Client) -> None:
    ct = client_token(client)
    broken = INLINE_SCENARIO.replace("    client_secret: inline-secret", "    client_secrett: inline-secret")

    response = client.post("/__admin/scenario", json={"yaml": broken})

    assert_bad_request(
        response,
        "<admin>:8: clients[0].client_secrett: unknown key (did you mean 'client_secret'? "
        "allowed: client_id, client_secret, role, mandator_id, config)",
    )
    assert ok(client.get("/__admin/health")) == {"status": "ok", "scenario": SCENARIO}
    assert client.get("/api/v2/clientConfiguration", headers=bearer(ct)).status_code == 200


def test_a_scenario_with_several_problems_is_refused_naming_them_all_in_one_message(client: httpx.Client) -> None:
    broken = INLINE_SCENARIO.replace("  frozen: true", "  frozen: maybe").replace("carol-password", "abc")
    broken += "  - {id: dave, password: dave-password, email: 'a<b>@c.de'}\n"
    served = ok(client.get("/__admin/health"))

    response = client.post("/__admin/scenario", json={"yaml": broken})

    assert_bad_request(
        response,
        "<admin>:5: clock.frozen: must be a boolean, not a string; "
        "<admin>:10: users[0].password: must be a string of 6 to 128 characters; "
        "<admin>:11: users[1].email: contains characters finAPI does not allow",
    )
    assert ok(client.get("/__admin/health")) == served


def test_a_bad_yaml_syntax_is_refused_with_its_line(client: httpx.Client) -> None:
    response = client.post("/__admin/scenario", json={"yaml": "name: x\nclients: [\n"})

    message = response.json()["errors"][0]["message"]
    assert message.startswith("<admin>:3: ")
    assert_bad_request(response, message)
    assert ok(client.get("/__admin/health"))["scenario"] == SCENARIO


@pytest.mark.parametrize("value", ["a\u0000b.yaml", "x" * 5000], ids=["nul-byte", "name-too-long"])
def test_scenario_paths_the_file_system_cannot_take_are_refused_with_400(tmp_path: Path, value: str) -> None:
    with emulator(scenario_dirs=(str(tmp_path),)) as client:
        response = client.post("/__admin/scenario", json={"path": value})
        assert_bad_request(response, f"'{value}' is not a usable file path")


def test_a_bad_scenario_file_is_refused_naming_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(INLINE_SCENARIO.replace("seed: 5", "seed: five"), encoding="utf-8")
    with emulator(scenario_dirs=(str(tmp_path),)) as client:
        response = client.post("/__admin/scenario", json={"path": str(bad)})
        assert_bad_request(response, f"{bad}:2: seed: must be an integer, not a string")
        assert ok(client.get("/__admin/health"))["scenario"] == SCENARIO


def test_scenario_paths_outside_the_scenario_dirs_are_refused(tmp_path: Path) -> None:
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (outside / "valid.yaml").write_text(INLINE_SCENARIO, encoding="utf-8")
    (allowed / "link.yaml").symlink_to(outside / "valid.yaml")
    refused = ["../../etc/passwd", "/etc/passwd", "../outside/valid.yaml", str(outside / "valid.yaml"), "link.yaml", ""]
    with emulator(scenario_dirs=(str(allowed),)) as client:
        for value in refused:
            response = client.post("/__admin/scenario", json={"path": value})
            message = f"'{value}' is outside the scenario directories (add one with --scenario-dir)"
            assert_bad_request(response, message)
        assert ok(client.get("/__admin/health"))["scenario"] == SCENARIO


def test_scenario_of_an_unknown_name_is_404(client: httpx.Client) -> None:
    assert_unknown(client.post("/__admin/scenario", json={"name": "nope"}), "No built-in scenario 'nope'")


def test_scenario_name_is_a_built_in_name_not_a_path(client: httpx.Client) -> None:
    assert_unknown(
        client.post("/__admin/scenario", json={"name": TWO_MANDATORS}), f"No built-in scenario '{TWO_MANDATORS}'"
    )


def test_scenario_of_a_missing_file_in_a_scenario_dir_is_404(tmp_path: Path) -> None:
    with emulator(scenario_dirs=(str(tmp_path),)) as client:
        assert_unknown(
            client.post("/__admin/scenario", json={"path": "missing.yaml"}), "No scenario file 'missing.yaml'"
        )


@pytest.mark.parametrize(
    "body",
    [{}, {"name": "default", "yaml": INLINE_SCENARIO}, {"name": 5}, {"file": "default"}],
    ids=["nothing", "two-sources", "not-a-string", "unknown-key"],
)
def test_scenario_needs_exactly_one_source(client: httpx.Client, body: dict[str, Any]) -> None:
    assert_bad_request(client.post("/__admin/scenario", json=body), GIVE_SCENARIO)
