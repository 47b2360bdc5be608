"""Tests of examples/finapi_client.py against mock-finapi's pytest plugin: no conftest, no setup code.

The fixtures come with the installed package: `finapi` is a real server on a free port, reset before each test;
`finapi_client` is an httpx client bound to an emulator in-process. `@pytest.mark.finapi(...)` picks the scenario,
seed and clock of one test. Run them with `pytest examples`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from finapi_client import TOKEN_PATH, FinapiClient, FinapiError

from mock_finapi.testing import ThreadedServer

# The client of finAPI's documentation, which the built-in scenarios contain.
CLIENT_ID = "8f92e604-b9b9-11ec-8422-0242ac120002"
CLIENT_SECRET = "8f92ea14-b9b9-11ec-8422-0242ac120002"
SHORT_ACCESS_TOKENS = str(Path(__file__).with_name("short-access-tokens.yaml"))


@pytest.fixture
def sleeps() -> list[float]:
    """The waits the client asked for: recorded, not slept, so retry tests take no time."""
    return []


@pytest.fixture
def client(finapi: ThreadedServer, sleeps: list[float]) -> Iterator[FinapiClient]:
    with FinapiClient(finapi.url, CLIENT_ID, CLIENT_SECRET, sleep=sleeps.append) as client:
        yield client


def grants(finapi: ThreadedServer) -> list[tuple[str, int]]:
    """(grant_type, status) of every token request the server saw, oldest first."""
    entries = finapi.admin.requests(method="POST", path=TOKEN_PATH)
    return [(entry["body"]["grant_type"], entry["status"]) for entry in reversed(entries)]


def test_new_user_logs_in_and_reads_its_profile(client: FinapiClient, finapi: ThreadedServer) -> None:
    client.create_user("alice", "secret123", email="alice@example.com")

    session = client.login("alice", "secret123")

    assert client.get_user(session)["email"] == "alice@example.com"
    assert [u["id"] for u in finapi.admin.users() if u["id"] == "alice"] == ["alice"]


def test_client_token_is_fetched_once_for_many_calls(client: FinapiClient, finapi: ThreadedServer) -> None:
    for name in ("bob", "carol", "dave"):
        client.create_user(name, "secret123")

    assert grants(finapi) == [("client_credentials", 200)]


@pytest.mark.finapi(scenario="expiring-tokens")  # every token lives 60 seconds
def test_expired_client_token_is_renewed(client: FinapiClient, finapi: ThreadedServer) -> None:
    client.create_user("alice", "secret123")
    finapi.admin.advance(61)  # a minute later, without waiting a minute

    client.create_user("bob", "secret123")

    assert grants(finapi) == [("client_credentials", 200), ("client_credentials", 200)]
    assert finapi.admin.count(method="POST", path="/api/v2/users", status=401) == 1


@pytest.mark.finapi(scenario=SHORT_ACCESS_TOKENS)  # a project's own YAML: access 60 s, refresh 1 h
def test_expired_access_token_is_refreshed(client: FinapiClient, finapi: ThreadedServer) -> None:
    client.create_user("alice", "secret123")
    session = client.login("alice", "secret123")
    first_token = session.access_token
    finapi.admin.advance(61)

    assert client.get_user(session)["id"] == "alice"

    assert session.access_token != first_token
    assert grants(finapi)[-2:] == [("password", 200), ("refresh_token", 200)]


@pytest.mark.finapi(scenario="expiring-tokens")
def test_client_logs_in_again_once_the_refresh_token_expired_too(client: FinapiClient, finapi: ThreadedServer) -> None:
    client.create_user("alice", "secret123")
    session = client.login("alice", "secret123")
    finapi.admin.advance(61)

    assert client.get_user(session)["id"] == "alice"

    assert grants(finapi)[-3:] == [("password", 200), ("refresh_token", 400), ("password", 200)]


@pytest.mark.finapi(scenario="flaky-token-endpoint")  # the token endpoint answers 503 twice, Retry-After: 1
def test_token_endpoint_503_is_retried_after_retry_after(
    client: FinapiClient, finapi: ThreadedServer, sleeps: list[float]
) -> None:
    assert client.client_token()

    assert sleeps == [1.0, 1.0]
    assert finapi.admin.count(path=TOKEN_PATH, fault="token-endpoint-unavailable", status=503) == 2
    assert finapi.admin.count(path=TOKEN_PATH, status=200) == 1


def test_fault_rule_on_the_password_grant_is_retried(
    client: FinapiClient, finapi: ThreadedServer, sleeps: list[float]
) -> None:
    client.create_user("alice", "secret123")
    finapi.admin.add_fault(
        {
            "name": "login-hiccup",
            "match": {"method": "POST", "path": TOKEN_PATH, "fields": {"grant_type": "password"}},
            "times": 1,
            "respond": {"status": 503, "headers": {"Retry-After": "2"}},
        }
    )

    session = client.login("alice", "secret123")

    assert session.access_token
    assert sleeps == [2.0]
    assert finapi.admin.count(fault="login-hiccup") == 1


def test_client_gives_up_after_its_retries(client: FinapiClient, finapi: ThreadedServer, sleeps: list[float]) -> None:
    finapi.admin.add_fault({"match": {"path": TOKEN_PATH}, "respond": {"status": 503}})  # down for good

    with pytest.raises(FinapiError) as raised:
        client.client_token()

    assert raised.value.status == 503
    assert len(sleeps) == 3  # max_retries
    assert finapi.admin.count(path=TOKEN_PATH, status=503) == 4


def test_process_token_is_exchanged_once_for_the_hidden_user(client: FinapiClient, finapi: ThreadedServer) -> None:
    process_token = client.create_process("customer-4711")

    user = client.process_user(process_token)  # exchanges with invalidate=true

    assert user["id"]
    [process] = finapi.admin.processes()
    assert process["clientReference"] == "customer-4711"
    assert process["invalidated"] is True
    with pytest.raises(FinapiError) as raised:
        client.exchange_process(process_token)
    assert raised.value.status == 410


@pytest.mark.finapi(now="2030-06-01T12:00:00+02:00")
def test_in_process_client_needs_no_server(finapi_client: httpx.Client) -> None:
    """The same client code over `finapi_client`: no socket, no port (its base URL resolves nowhere)."""
    client = FinapiClient("unused", CLIENT_ID, CLIENT_SECRET, http=finapi_client)
    client.create_user("alice", "secret123")

    session = client.login("alice", "secret123")

    assert client.get_user(session)["id"] == "alice"
    clock = finapi_client.get("/__admin/clock").json()
    assert clock == {"now": "2030-06-01T11:00:00.000+01:00", "frozen": True}
