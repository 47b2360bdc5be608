"""`serve --state-file`, `serve --snapshot` and `mock-finapi snapshot URL` as real processes.

A sandbox that keeps its state across restarts: written on a graceful stop and every `--state-interval` seconds
while it changes, loaded at start; a file that cannot be loaded stops `serve` and is left as it was.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import CLI, START_TIMEOUT, STOP_TIMEOUT, WAIT_TIMEOUT, clean_env, poll, run, serving
from tests.helpers import CLIENT_CREDENTIALS, bearer, password_grant

pytestmark = pytest.mark.slow

SCENARIO = ("--scenario", "default-with-user")
NEW_USER = {"id": "kept-user", "password": "kept-secret", "email": "kept@localhost.de"}


def _make_state(url: str) -> str:
    """A new user and a client token on the server at `url`; answers the token."""
    token = httpx.post(f"{url}/api/v2/oauth/token", data=CLIENT_CREDENTIALS, timeout=5).json()["access_token"]
    created = httpx.post(f"{url}/api/v2/users", json=NEW_USER, headers=bearer(token), timeout=5)
    assert created.status_code == 201, created.text
    return str(token)


def _assert_state_kept(url: str, token: str) -> None:
    """The client token still authenticates and the new user can log in with its password."""
    config = httpx.get(f"{url}/api/v2/clientConfiguration", headers=bearer(token), timeout=5)
    assert config.status_code == 200, config.text
    grant = password_grant(NEW_USER["id"], NEW_USER["password"])
    login = httpx.post(f"{url}/api/v2/oauth/token", data=grant, timeout=5)
    assert login.status_code == 200, login.text


def _users_in(path: Path) -> list[str]:
    """The user ids the state file holds (the second field of a user row)."""
    return [row[1] for row in json.loads(path.read_bytes())["state"]["users"]]


def test_a_graceful_stop_writes_the_state_file_and_the_next_start_serves_it(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with serving(tmp_path / "first", *SCENARIO, "--state-file", str(state)) as served:
        token = _make_state(served.url)
        assert served.stop() == 0, served.stderr.read_text(encoding="utf-8")
    assert NEW_USER["id"] in _users_in(state)
    assert not list(tmp_path.glob(".state.json.*")), "no temporary file is left behind"
    with serving(tmp_path / "second", "--scenario", "default", "--state-file", str(state)) as served:
        _assert_state_kept(served.url, token)
        health = httpx.get(f"{served.url}/__admin/health", timeout=5).json()
        assert health["scenario"] == "default-with-user", "the state file's scenario, not --scenario's"
        assert served.wait_for_stderr(f"serving the state of {state}")


def test_while_it_changes_the_state_is_written_in_the_background_so_sigkill_loses_at_most_the_interval(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.json"
    args = (*SCENARIO, "--state-file", str(state), "--state-interval", "0.2")
    with serving(tmp_path / "first", *args) as served:
        token = _make_state(served.url)
        poll(lambda: state.exists() and NEW_USER["id"] in _users_in(state), WAIT_TIMEOUT, "the background write")
        served.process.send_signal(signal.SIGKILL)
        served.process.wait(timeout=STOP_TIMEOUT)
    with serving(tmp_path / "second", *args) as served:
        _assert_state_kept(served.url, token)


def test_health_checks_and_metrics_scrapes_alone_do_not_make_the_state_file_written_again(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with serving(tmp_path, *SCENARIO, "--state-file", str(state), "--state-interval", "0.1") as served:
        _make_state(served.url)
        poll(lambda: state.exists() and NEW_USER["id"] in _users_in(state), WAIT_TIMEOUT, "the background write")
        written = state.stat().st_mtime_ns

        def health_then_written() -> bool:
            assert httpx.get(f"{served.url}/__admin/health", timeout=5).status_code == 200
            assert httpx.get(f"{served.url}/__admin/metrics", timeout=5).status_code == 200
            return state.stat().st_mtime_ns != written

        with pytest.raises(AssertionError, match="timed out"):  # five intervals of health checks only: no write
            poll(health_then_written, 0.5, "a write")


def test_the_state_file_variable_is_the_flag(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    env = clean_env(MOCK_FINAPI_STATE_FILE=str(state), MOCK_FINAPI_SCENARIO="default-with-user")
    with serving(tmp_path, env=env) as served:
        _make_state(served.url)
        assert served.stop() == 0
    assert NEW_USER["id"] in _users_in(state)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "not a JSON document"),
        (b'{"kind": "mock-finapi snapshot", "format": 99}', "snapshot format 99 is not the format this server reads"),
        (b'{"kind": "something else"}', "not a mock-finapi snapshot"),
    ],
    ids=["corrupt", "foreign-format", "foreign-kind"],
)
def test_a_state_file_that_cannot_be_loaded_stops_serve_with_exit_1_and_is_left_as_it_was(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(content)
    result = run("serve", "--port", "0", "--state-file", str(state))
    assert result.returncode == 1
    assert f"mock-finapi: cannot load the state file {state}: {problem}" in result.stderr
    assert "move it away to start from the scenario" in result.stderr
    assert state.read_bytes() == content


def test_a_state_file_in_a_missing_folder_stops_serve_before_it_serves(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "state.json"
    result = run("serve", "--port", "0", "--state-file", str(missing))
    assert result.returncode == 1
    assert result.stderr.strip() == f"mock-finapi: the folder of the state file {missing} does not exist"


def test_snapshot_command_writes_the_document_and_serve_snapshot_starts_from_it(tmp_path: Path) -> None:
    document = tmp_path / "bug.json"
    with serving(tmp_path / "first", *SCENARIO) as served:
        token = _make_state(served.url)
        with document.open("wb") as out:
            fetched = subprocess.run([*CLI, "snapshot", served.url], stdout=out, env=clean_env(), timeout=START_TIMEOUT)
        assert fetched.returncode == 0
        saved = json.loads(document.read_bytes())
        assert saved["kind"] == "mock-finapi snapshot"
        assert saved["state"]["journal"], "the journal is in by default"
        without = run("snapshot", served.url + "/", "--no-journal")
        assert without.returncode == 0
        assert "journal" not in json.loads(without.stdout)["state"]
    with serving(tmp_path / "second", "--snapshot", str(document)) as served:
        _assert_state_kept(served.url, token)
        assert served.wait_for_stderr(f"serving the snapshot {document}")


def test_an_existing_state_file_wins_over_snapshot_and_a_missing_one_starts_from_it(tmp_path: Path) -> None:
    document, state = tmp_path / "bug.json", tmp_path / "state.json"
    with serving(tmp_path / "first", *SCENARIO) as served:
        token = _make_state(served.url)
        document.write_text(run("snapshot", served.url).stdout, encoding="utf-8")
    args = ("--snapshot", str(document), "--state-file", str(state))
    with serving(tmp_path / "second", *args) as served:  # no state file yet: the snapshot
        _assert_state_kept(served.url, token)
        httpx.post(f"{served.url}/__admin/reset", timeout=5)  # back to the scenario: the user is gone
        assert served.stop() == 0
    with serving(tmp_path / "third", *args) as served:  # the state file now: what the reset left
        gone = httpx.post(f"{served.url}/api/v2/oauth/token", data=password_grant(NEW_USER["id"], "kept-secret"))
        assert gone.status_code == 400, gone.text


def test_snapshot_command_sends_the_admin_token_and_reports_refusals(tmp_path: Path) -> None:
    with serving(tmp_path, "--admin-token", "s3cret") as served:
        refused = run("snapshot", served.url)
        assert refused.returncode == 1
        assert refused.stdout == ""
        expected = f"mock-finapi: {served.url} answered 401: The admin API needs 'Authorization: Bearer <admin token>'"
        assert refused.stderr.strip() == expected
        by_flag = run("snapshot", served.url, "--admin-token", "s3cret")
        by_env = run("snapshot", served.url, env=clean_env(MOCK_FINAPI_ADMIN_TOKEN="s3cret"))
        assert by_flag.returncode == by_env.returncode == 0
        assert json.loads(by_flag.stdout)["kind"] == json.loads(by_env.stdout)["kind"] == "mock-finapi snapshot"


def test_snapshot_command_without_a_server_exits_1_naming_the_url() -> None:
    result = run("snapshot", "http://127.0.0.1:9")
    assert result.returncode == 1
    assert result.stderr.startswith("mock-finapi: cannot get a snapshot from http://127.0.0.1:9: ")
    assert run("snapshot", "localhost:8080").returncode == 2
