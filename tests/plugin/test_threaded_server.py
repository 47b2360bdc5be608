"""ThreadedServer and AdminClient outside pytest fixtures, as unittest users and scripts use them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from mock_finapi.errors import ScenarioError
from mock_finapi.http import request_log
from mock_finapi.settings import Settings
from mock_finapi.snapshots import SnapshotError
from mock_finapi.testing import AdminClient, ThreadedServer
from tests.helpers import CLIENT_CREDENTIALS, TOKEN_PATH, bearer

JOIN_TIMEOUT = 15.0


def server_threads() -> set[threading.Thread]:
    """ThreadedServer threads alive now (a session server of the plugin, if any test used one, stays)."""
    return {t for t in threading.enumerate() if t.name.startswith("mock-finapi ")}


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    before = server_threads()
    yield
    assert server_threads() == before


def test_context_managers_start_serve_and_stop_with_the_thread_gone() -> None:
    before = server_threads()

    with ThreadedServer(scenario="expiring-tokens", seed=3) as server:
        [thread] = server_threads() - before
        assert thread.name == f"mock-finapi {server.url}"
        assert server.running
        with AdminClient(server.url) as admin:
            assert admin.health() == {"status": "ok", "scenario": "expiring-tokens"}
            assert admin.version()["seed"] == 3
            issued = httpx.post(server.url + TOKEN_PATH[2], data=CLIENT_CREDENTIALS).json()
            admin.advance(61)
            assert admin.count(path=TOKEN_PATH[2], status=200) == 1
        expired = httpx.get(server.url + "/api/v2/users", headers={"Authorization": f"Bearer {issued['access_token']}"})
        assert expired.status_code == 401  # 60-second tokens, a minute later on the virtual clock
        url = server.url

    assert not thread.is_alive()
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/__admin/health", timeout=2)
    with pytest.raises(RuntimeError):
        admin.health()  # a closed AdminClient


def test_admin_client_raises_with_the_servers_answer() -> None:
    with ThreadedServer() as server, pytest.raises(httpx.HTTPStatusError) as raised:
        server.admin.reset(mandator="no-such-mandator")

    assert raised.value.response.status_code == 404
    assert "POST /__admin/reset answered 404" in str(raised.value)
    assert "No mandator with id 'no-such-mandator'" in str(raised.value)


def test_admin_client_sends_the_admin_token() -> None:
    with ThreadedServer(Settings(admin_token="let-me-in")) as server:
        assert server.admin.clock()["now"]  # the server's own AdminClient carries the token
        with AdminClient(server.url) as anonymous, pytest.raises(httpx.HTTPStatusError) as raised:
            anonymous.clock()

    assert raised.value.response.status_code == 401


def test_reset_serves_the_starting_scenario_again() -> None:
    with ThreadedServer(scenario="expiring-tokens") as server:
        server.admin.load_scenario(name="giroident")
        server.admin.add_fault({"match": {"path": "/api/v2/users"}, "respond": {"status": 418}})
        assert server.admin.health()["scenario"] == "giroident"

        world = server.reset()

        assert world is server.world
        assert server.admin.health()["scenario"] == "expiring-tokens"
        assert server.admin.faults() == []


def test_snapshot_and_restore_without_http() -> None:
    with ThreadedServer(scenario="default-with-user") as server:
        token = httpx.post(server.url + "/api/v2/oauth/token", data=CLIENT_CREDENTIALS).json()["access_token"]
        saved = server.snapshot()
        assert saved == {**server.admin.snapshot(), "taken_at": saved["taken_at"]}
        server.reset()
        assert httpx.get(server.url + "/api/v2/clientConfiguration", headers=bearer(token)).status_code == 401

        world = server.restore(saved)

        assert world is server.world
        assert (world.scenario.name, world.seed) == ("default-with-user", 1)
        assert httpx.get(server.url + "/api/v2/clientConfiguration", headers=bearer(token)).status_code == 200
        with pytest.raises(SnapshotError, match="not a mock-finapi snapshot"):
            server.restore(b"{}")
        assert server.world is world


def test_a_bad_scenario_fails_before_any_thread_starts() -> None:
    with pytest.raises(ScenarioError):
        ThreadedServer(scenario="no-such-scenario")


def test_admin_before_start_and_a_second_start_are_errors() -> None:
    server = ThreadedServer()
    with pytest.raises(RuntimeError, match="not started"):
        server.admin  # noqa: B018
    with server, pytest.raises(RuntimeError, match="already started"):
        server.start()
    server.stop()  # stopping twice is harmless


@pytest.mark.slow
def test_stop_cuts_off_a_request_still_in_flight() -> None:
    """A test that leaves a slow request behind must not hang the suite's teardown (nor leave the thread)."""
    answers: list[object] = []
    with ThreadedServer() as server:
        server.admin.add_fault({"match": {"path": "/api/v2/users"}, "delay_ms": 600_000})

        def slow_call() -> None:
            try:
                answers.append(httpx.get(server.url + "/api/v2/users", timeout=60).status_code)
            except httpx.HTTPError as exc:
                answers.append(type(exc))

        caller = threading.Thread(target=slow_call)
        caller.start()
        deadline = time.monotonic() + JOIN_TIMEOUT
        while server.admin.faults()[0]["fired"] == 0:  # the request is being answered (slowly)
            assert time.monotonic() < deadline, "the slow request never arrived"
            time.sleep(0.01)

    caller.join(JOIN_TIMEOUT)
    assert not caller.is_alive()
    assert answers == [httpx.RemoteProtocolError]  # closed without an answer, as `mock-finapi serve` does


def test_stop_writes_the_request_log_lines_still_waiting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(request_log, "INTERVAL", 3600.0)  # only the first line goes out on its own
    with ThreadedServer(request_log="text") as server:
        ids = [httpx.get(server.url + "/__admin/health", headers={"X-Request-Id": f"rid-{n}"}) for n in range(3)]
    assert [line.rsplit("rid=", 1)[1] for line in capsys.readouterr().out.splitlines()] == [
        response.headers["x-request-id"] for response in ids
    ]
