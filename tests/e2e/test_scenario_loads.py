"""Scenarios are bounded and never block serving (issue 16, point 5), with real processes and sockets.

A scenario over a cap is refused by `validate`, `serve` and the admin API alike, before anything is built. A large
valid one (20,000 Faker users take seconds to build) is built off the event loop by every way of loading it (admin
scenario load, reset, `--reload`), so requests on other connections are answered by the old world meanwhile, and
the new world is swapped in whole.
"""

from __future__ import annotations

import json
import select
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from mock_finapi.testing import ThreadedServer
from tests.e2e.server import WAIT_TIMEOUT, poll, read_answer, run, serving
from tests.helpers import CLIENT_CREDENTIALS, CLIENT_ID, CLIENT_SECRET, TOKEN_PATH, bearer, password_grant

BOMB = "name: bomb\nclients: [{client_id: c, client_secret: s}]\nusers: [&g {generate: 100000}, *g, *g]\n"
BOMB_PROBLEM = "users: the scenario creates 300000 users in total (listed and generated), at most 100000"
BIG = f"""\
name: big
seed: 7
clients: [{{client_id: {CLIENT_ID}, client_secret: {CLIENT_SECRET}}}]
users: [{{generate: 20000}}]
"""
SMALL = f"name: small\nseed: 7\nclients: [{{client_id: {CLIENT_ID}, client_secret: {CLIENT_SECRET}}}]\n"
SETTLE = 0.3
"""Time for the server to take the load request in and start building (the test only needs it to be building
while the probes go out; it asserts the order of answers, never a duration)."""
LOAD_TIMEOUT = 120.0
MARKER = ("marker", "marker-password")
"""A user created in the old world only: logging in answers 200 there and 400 once the new world is served."""


def test_validate_reports_a_scenario_over_a_cap(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB, encoding="utf-8")
    result = run("validate", str(bomb))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"{bomb}:3: {BOMB_PROBLEM}\n"


def test_serve_refuses_a_scenario_over_a_cap_with_exit_1(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB, encoding="utf-8")
    url_file = tmp_path / "url.txt"
    result = run("serve", "--port", "0", "--url-file", str(url_file), "--scenario", str(bomb))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"mock-finapi: {bomb}:3: {BOMB_PROBLEM}\n"
    assert not url_file.exists()


def create_marker(http: httpx.Client) -> None:
    token = http.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS).json()["access_token"]
    created = http.post("/api/v2/users", json={"id": MARKER[0], "password": MARKER[1]}, headers=bearer(token))
    assert created.status_code == 201, created.text


def probe(http: httpx.Client) -> int:
    """A password login of the marker, on a connection of its own: 200 from the old world, 400 from the new."""
    return http.post(TOKEN_PATH[2], data=password_grant(*MARKER)).status_code


def send(url: str, path: str, payload: dict[str, str] | None) -> socket.socket:
    """A POST sent whole on a fresh connection; its answer is read later (`arrived`, `read_answer`)."""
    parts = urlsplit(url)
    body = json.dumps(payload).encode() if payload is not None else b""
    head = b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (
        path.encode(),
        len(body),
    )
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=LOAD_TIMEOUT)
    sock.sendall(head + body)
    return sock


def arrived(sock: socket.socket) -> bool:
    """Whether the answer has begun to arrive."""
    return bool(select.select([sock], [], [], 0)[0])


def probes_until_answered(http: httpx.Client, sock: socket.socket) -> list[tuple[int, bool]]:
    """Probe until the load's answer arrives: (probe status, whether the load had answered when the probe did)."""
    time.sleep(SETTLE)
    seen: list[tuple[int, bool]] = []
    deadline = time.monotonic() + LOAD_TIMEOUT
    while not (seen and seen[-1][1]) and time.monotonic() < deadline:
        status = probe(http)
        seen.append((status, arrived(sock)))
    return seen


LOADS = {
    "yaml": ("/__admin/scenario", {"yaml": BIG}, {"status": "ok", "scenario": "big"}),
    "path": ("/__admin/scenario", {"path": "big.yaml"}, {"status": "ok", "scenario": "big"}),
    "reset": ("/__admin/reset", None, {"reset": "all", "scenario": "big"}),
}


@pytest.mark.slow
@pytest.mark.parametrize("how", list(LOADS))
def test_requests_are_answered_by_the_old_world_while_a_large_scenario_loads(tmp_path: Path, how: str) -> None:
    (tmp_path / "big.yaml").write_text(BIG, encoding="utf-8")
    settings = {"scenario": str(tmp_path / "big.yaml")} if how == "reset" else {"scenario_dirs": (str(tmp_path),)}
    path, payload, answer = LOADS[how]
    with ThreadedServer(**settings) as server, httpx.Client(base_url=server.url, timeout=LOAD_TIMEOUT) as http:
        create_marker(http)
        with send(server.url, path, payload) as sock:
            seen = probes_until_answered(http, sock)
            status, body = read_answer(sock)
        assert (status, json.loads(body)) == (200, answer)
        assert (200, False) in seen, f"no probe was answered before the load request: {seen}"
        assert probe(http) == 400
        health = http.get("/__admin/health").json()
        assert health == {"status": "ok", "scenario": "big"}


@pytest.mark.slow
def test_requests_are_answered_by_the_old_world_while_a_reload_builds_a_large_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SMALL, encoding="utf-8")
    with (
        serving(tmp_path / "serve", "--scenario", str(scenario), "--reload") as served,
        httpx.Client(base_url=served.url, timeout=LOAD_TIMEOUT) as http,
    ):
        create_marker(http)
        scenario.write_text(BIG, encoding="utf-8")
        time.sleep(SETTLE)
        seen: list[tuple[int, bool]] = []
        deadline = time.monotonic() + LOAD_TIMEOUT
        while not (seen and seen[-1][1]) and time.monotonic() < deadline:
            status = probe(http)
            seen.append((status, any("scenario reloaded" in line for line in served.stderr_lines())))
        assert (200, False) in seen, f"no probe was answered before the reload: {seen}"
        poll(lambda: probe(http) == 400, WAIT_TIMEOUT, "the reloaded world")
        assert http.get("/__admin/health").json() == {"status": "ok", "scenario": "big"}
        [line] = served.wait_for_stderr("scenario reloaded")
        assert line.endswith("name small→big; generated users 0→20000")
