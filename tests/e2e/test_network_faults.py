"""Fault rules over a real socket: `mock-finapi serve` processes with scenario files written here.

Network faults only exist on a real connection, and seed reproducibility is about whole runs. Every process is killed
in a `finally`, every wait is bounded, readiness is polled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CLI = [sys.executable, "-m", "mock_finapi.cli"]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
HTTP_TIMEOUT = 5.0
TOKEN = "/api/v2/oauth/token"
BROKEN_CLIENTS = ("reset", "empty", "garbled")
NETWORK_FAULTS_SCENARIO = """\
name: network-faults
seed: 1
clients:
  - {client_id: healthy, client_secret: s}
  - {client_id: reset, client_secret: s}
  - {client_id: empty, client_secret: s}
  - {client_id: garbled, client_secret: s}
faults:
  - name: reset-connection
    match: {path: /api/v2/oauth/token, client_id: reset}
    network: connection_reset
  - name: no-answer
    match: {path: /api/v2/oauth/token, client_id: empty}
    network: empty_response
  - name: cut-json
    match: {path: /api/v2/oauth/token, client_id: garbled}
    network: malformed_json
  - name: no-content
    match: {path: /api/v2/oauth/revoke}
    respond: {status: 204, headers: {X-Why: testing}}
"""
COIN_FLIP_SCENARIO = """\
name: coin-flips
tokens: {reuse: false}
clients:
  - {client_id: c, client_secret: s}
faults:
  - name: coin
    match: {method: POST, path: /api/v2/oauth/token}
    probability: 0.5
    respond: {status: 503}
"""
TRANSPORT_ERRORS = (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
pytestmark = pytest.mark.slow  # every test needs a `mock-finapi serve` process (a second or so each to start)


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    stderr: Path


@contextmanager
def serving(directory: Path, scenario: str, *args: str) -> Iterator[Server]:
    """`mock-finapi serve --port 0` on a scenario file in `directory`; ready once the URL file exists."""
    directory.mkdir(parents=True, exist_ok=True)
    scenario_file, url_file = directory / "scenario.yaml", directory / "url.txt"
    stdout, stderr = directory / "stdout.txt", directory / "stderr.txt"
    scenario_file.write_text(scenario, encoding="utf-8")
    argv = [*CLI, "serve", "--port", "0", "--url-file", str(url_file), "--scenario", str(scenario_file), *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_FINAPI_")}
    with stdout.open("wb") as out, stderr.open("wb") as err:  # files, not pipes: a full pipe would stall the server
        process = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not url_file.exists() and process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"no URL file after {START_TIMEOUT} s: {stderr.read_text(encoding='utf-8')}")
            time.sleep(0.02)
        assert process.poll() is None, stderr.read_text(encoding="utf-8")
        yield Server(url_file.read_text(encoding="utf-8").strip(), process, stderr)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=STOP_TIMEOUT)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("network-faults"), NETWORK_FAULTS_SCENARIO) as served:
        yield served


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT) as client:
        yield client


def token_of(http: httpx.Client, client_id: str) -> httpx.Response:
    return http.post(TOKEN, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "s"})


def assert_still_serving(server: Server, http: httpx.Client) -> None:
    """The same client (its pool dropped the broken connection) gets normal answers; nothing was logged as broken."""
    assert server.process.poll() is None
    healthy = token_of(http, "healthy")
    assert healthy.status_code == 200, healthy.text
    assert "X-Mock-Fault" not in healthy.headers
    assert http.get("/__admin/health").json()["status"] == "ok"
    stderr = server.stderr.read_text(encoding="utf-8")
    assert "Traceback" not in stderr
    assert "ERROR" not in stderr


def last_entry(http: httpx.Client, fault: str) -> dict[str, object]:
    entries = http.get("/__admin/requests", params={"fault": fault, "limit": "1"}).json()["requests"]
    assert entries, f"no journal entry for {fault}"
    entry: dict[str, object] = entries[0]
    return entry


def test_connection_reset_makes_the_client_raise_a_transport_error(server: Server, http: httpx.Client) -> None:
    with pytest.raises(TRANSPORT_ERRORS):
        token_of(http, "reset")
    entry = last_entry(http, "reset-connection")
    assert (entry["path"], entry["status"], entry["clientId"]) == (TOKEN, 0, "reset")
    assert_still_serving(server, http)


def test_empty_response_closes_the_connection_without_an_answer(server: Server, http: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected without sending a response"):
        token_of(http, "empty")
    assert last_entry(http, "no-answer")["status"] == 0
    assert_still_serving(server, http)


def test_malformed_json_answers_200_with_json_that_does_not_parse(server: Server, http: httpx.Client) -> None:
    response = token_of(http, "garbled")
    assert response.status_code == 200
    assert response.headers["X-Mock-Fault"] == "cut-json"
    assert response.headers["content-type"] == "application/json"
    assert response.content.startswith(b"{")
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert last_entry(http, "cut-json")["status"] == 200
    assert_still_serving(server, http)


def test_injected_204_goes_over_the_wire_without_a_body(server: Server, http: httpx.Client) -> None:
    response = http.post("/api/v2/oauth/revoke", data={"token": "whatever"})
    assert (response.status_code, response.content) == (204, b"")
    assert (response.headers["X-Why"], response.headers["X-Mock-Fault"]) == ("testing", "no-content")
    assert_still_serving(server, http)


@pytest.mark.parametrize("client_id", BROKEN_CLIENTS)
def test_every_network_fault_breaks_every_time_on_fresh_connections(server: Server, client_id: str) -> None:
    """The rules have no schedule: each new connection breaks again, and each time the server survives."""
    for _ in range(3):
        with httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT) as fresh:
            if client_id == "garbled":
                with pytest.raises(json.JSONDecodeError):
                    token_of(fresh, client_id).json()
            else:
                with pytest.raises(TRANSPORT_ERRORS):
                    token_of(fresh, client_id)
    with httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT) as fresh:
        assert_still_serving(server, fresh)


def test_network_fault_added_through_the_admin_api_breaks_the_next_request_once(
    server: Server, http: httpx.Client
) -> None:
    rule = {"name": "admin-reset", "match": {"path": "/api/v2/users"}, "times": 1, "network": "connection_reset"}
    added = http.post("/__admin/faults", json=rule)
    assert added.status_code == 201, added.text
    try:
        with pytest.raises(TRANSPORT_ERRORS):
            http.get("/api/v2/users")
        assert http.get("/api/v2/users").status_code == 401
    finally:
        http.delete("/__admin/faults")
    assert_still_serving(server, http)


def test_delayed_connection_reset_waits_before_breaking(tmp_path: Path) -> None:
    scenario = NETWORK_FAULTS_SCENARIO.replace(
        "network: connection_reset", "network: connection_reset\n    delay_ms: 200"
    )
    with serving(tmp_path, scenario) as served, httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as http:
        started = time.perf_counter()
        with pytest.raises(TRANSPORT_ERRORS):
            token_of(http, "reset")
        assert time.perf_counter() - started >= 0.18
        assert_still_serving(served, http)


# seed reproducibility: whole runs
def run_sequence(server: Server, requests: int = 16) -> list[tuple[int, str | None]]:
    """Status and access token (None when faulted) of each token request of a fresh run."""
    sequence: list[tuple[int, str | None]] = []
    with httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT) as http:
        for _ in range(requests):
            response = http.post(
                TOKEN, data={"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}
            )
            assert response.status_code in (200, 503), response.text
            faulted = response.headers.get("X-Mock-Fault")
            assert (faulted == "coin") is (response.status_code == 503)
            sequence.append((response.status_code, response.json().get("access_token")))
    return sequence


def test_two_runs_with_the_same_seed_fail_on_the_same_requests_and_hand_out_the_same_tokens(tmp_path: Path) -> None:
    with ExitStack() as stack:
        first, second, other = (
            stack.enter_context(serving(tmp_path / name, COIN_FLIP_SCENARIO, "--seed", seed))
            for name, seed in (("first", "42"), ("second", "42"), ("other", "43"))
        )
        sequence = run_sequence(first)
        assert run_sequence(second) == sequence
        other_sequence = run_sequence(other)
    statuses = [status for status, _ in sequence]
    assert {200, 503} <= set(statuses), statuses  # the rule really is a coin flip
    assert len({token for _, token in sequence if token}) == statuses.count(200)  # fresh token on each success
    assert [status for status, _ in other_sequence] != statuses
