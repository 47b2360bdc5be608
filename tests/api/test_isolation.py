"""Parallel isolation in one shared emulator (issue 5, point 3): `clients: {auto_register: true}`.

Every new client id/secret pair is accepted on first use as an app client of a mandator of its own, so tests (or CI
jobs sharing one container) that each pick a fresh client id never see each other's users, tokens or processes.
`POST /__admin/reset?mandator=` and the journal filter `mandator` work on the same key.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_finapi.http.app import Emulator, create_app
from mock_finapi.scenarios import loader
from mock_finapi.settings import Settings
from mock_finapi.testing import InProcessClient, ThreadedServer
from tests.helpers import START, bearer

SHARED = """\
name: shared-ci
seed: 21
clock: {start: "2026-01-01T09:00:00+01:00"}
clients:
  auto_register: true
  registered:
    - {client_id: fixed-client, client_secret: fixed-secret}
"""
TOKEN = "/api/v2/oauth/token"
USERS = "/api/v2/users"
PROCESSES = "/api/v1/processes"


@dataclass(frozen=True)
class Pair:
    """One test's (or CI job's) own client credentials."""

    client_id: str
    secret: str

    def grant(self, grant_type: str = "client_credentials", **fields: str) -> dict[str, str]:
        return {"grant_type": grant_type, "client_id": self.client_id, "client_secret": self.secret, **fields}


A = Pair("job-a-client", "job-a-secret")
B = Pair("job-b-client", "job-b-secret")


@pytest.fixture
def app() -> Emulator:
    return create_app(scenario=loader.load_text(SHARED, "shared-ci.yaml"), freeze_at=START)


@pytest.fixture
def client(app: Emulator) -> Iterator[InProcessClient]:
    with InProcessClient(app) as c:
        yield c


def token(http: httpx.Client, pair: Pair, grant_type: str = "client_credentials", **fields: str) -> dict[str, Any]:
    response = http.post(TOKEN, data=pair.grant(grant_type, **fields))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def client_token(http: httpx.Client, pair: Pair) -> str:
    return str(token(http, pair)["access_token"])


def create_user(http: httpx.Client, pair: Pair, user_id: str, password: str, email: str) -> None:
    user = {"id": user_id, "password": password, "email": email}
    response = http.post(USERS, json=user, headers=bearer(client_token(http, pair)))
    assert response.status_code == 201, response.text


def user_token(http: httpx.Client, pair: Pair, user_id: str, password: str) -> str:
    return str(token(http, pair, "password", username=user_id, password=password)["access_token"])


def admin(http: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    response = http.request(method, "/__admin" + path, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def mandator_of(http: httpx.Client, pair: Pair) -> str:
    """The mandator the emulator filed the pair under (from the admin token view)."""
    mandators = {
        t["mandatorId"] for t in admin(http, "GET", "/state/tokens")["tokens"] if t["clientId"] == pair.client_id
    }
    assert len(mandators) == 1, mandators
    return str(mandators.pop())


def user_ids(http: httpx.Client, mandator: str) -> list[str]:
    return sorted(u["id"] for u in admin(http, "GET", "/state/users", params={"mandator": mandator})["users"])


def test_each_new_client_pair_gets_a_mandator_of_its_own(client: InProcessClient) -> None:
    client_token(client, A)
    client_token(client, B)
    client_token(client, Pair("fixed-client", "fixed-secret"))

    mandators = {mandator_of(client, p) for p in (A, B, Pair("fixed-client", "fixed-secret"))}

    assert len(mandators) == 3
    assert client_token(client, A) != client_token(client, B)


def test_the_same_user_id_is_a_different_user_for_each_client(client: InProcessClient) -> None:
    create_user(client, A, "alice", "password-a", "alice@a.example")
    create_user(client, B, "alice", "password-b", "alice@b.example")  # no ENTITY_EXISTS: A's alice is elsewhere

    emails = {
        pair: client.get(USERS, headers=bearer(user_token(client, pair, "alice", password))).json()["email"]
        for pair, password in ((A, "password-a"), (B, "password-b"))
    }

    assert emails == {A: "alice@a.example", B: "alice@b.example"}
    wrong = client.post(TOKEN, data=B.grant("password", username="alice", password="password-a"))
    assert wrong.status_code == 400  # A's password is not the password of B's alice


def test_a_client_cannot_find_the_users_of_another(client: InProcessClient) -> None:
    create_user(client, A, "only-a", "password-a", "only-a@a.example")
    status_path = f"{USERS}/verificationStatus"

    seen_by_a = client.get(status_path, params={"userId": "only-a"}, headers=bearer(client_token(client, A)))
    seen_by_b = client.get(status_path, params={"userId": "only-a"}, headers=bearer(client_token(client, B)))
    login_by_b = client.post(TOKEN, data=B.grant("password", username="only-a", password="password-a"))

    assert seen_by_a.status_code == 200
    assert seen_by_b.status_code == 404
    assert login_by_b.status_code == 400
    assert user_ids(client, mandator_of(client, A)) == ["only-a"]
    assert user_ids(client, mandator_of(client, B)) == []


def test_a_client_cannot_revoke_the_tokens_of_another(client: InProcessClient) -> None:
    create_user(client, A, "alice", "password-a", "alice@a.example")
    a_token = user_token(client, A, "alice", "password-a")

    revoked = client.post("/api/v2/oauth/revoke", data={"token": a_token}, headers=bearer(client_token(client, B)))

    assert (revoked.status_code, revoked.content) == (200, b"")  # finAPI answers 200 to tokens it ignores
    me = client.get(USERS, headers=bearer(a_token))
    assert (me.status_code, me.json()["email"]) == (200, "alice@a.example")


def test_processes_belong_to_the_mandator_of_their_client(client: InProcessClient) -> None:
    body = {
        "clientId": A.client_id,
        "clientSecret": A.secret,
        "clientReferences": [{"clientReference": "customer-1"}],
        "processId": "USER_ONLY",
    }
    created = client.post(PROCESSES, json=body)
    assert created.status_code == 201, created.text
    process_token = created.json()["processes"][0]["processToken"]
    access = client.get(f"{PROCESSES}/{process_token}").json()["accessToken"]
    hidden_user = client.get(USERS, headers=bearer(access)).json()["id"]
    client_token(client, B)
    status_path = f"{USERS}/verificationStatus"

    seen_by_a = client.get(status_path, params={"userId": hidden_user}, headers=bearer(client_token(client, A)))
    seen_by_b = client.get(status_path, params={"userId": hidden_user}, headers=bearer(client_token(client, B)))

    assert (seen_by_a.status_code, seen_by_b.status_code) == (200, 404)
    [process] = admin(client, "GET", "/state/processes")["processes"]
    assert process["mandatorId"] == mandator_of(client, A) != mandator_of(client, B)
    assert user_ids(client, mandator_of(client, B)) == []


@pytest.mark.parametrize("pair", [A, Pair("fixed-client", "fixed-secret")], ids=["auto-registered", "scenario"])
def test_a_wrong_secret_for_a_known_client_id_is_401(client: InProcessClient, pair: Pair) -> None:
    client_token(client, pair)  # registers A; the scenario's client exists from the start
    impostor = Pair(pair.client_id, "another-secret")

    token_answer = client.post(TOKEN, data=impostor.grant())
    process_answer = client.post(
        PROCESSES,
        json={
            "clientId": impostor.client_id,
            "clientSecret": impostor.secret,
            "clientReferences": [{"clientReference": "x"}],
        },
    )

    assert token_answer.status_code == 401
    assert token_answer.json() == {"error": "invalid_client", "error_description": "Bad client credentials"}
    assert process_answer.status_code == 401
    assert client_token(client, pair)  # the first secret still works


def test_reset_of_one_mandator_leaves_the_other_alone(client: InProcessClient) -> None:
    create_user(client, A, "alice", "password-a", "alice@a.example")
    create_user(client, B, "bob", "password-b", "bob@b.example")
    a_user_token, b_user_token = (
        user_token(client, A, "alice", "password-a"),
        user_token(client, B, "bob", "password-b"),
    )
    mandator_a, mandator_b = mandator_of(client, A), mandator_of(client, B)

    answer = admin(client, "POST", "/reset", params={"mandator": mandator_a})

    assert answer["reset"] == mandator_a
    assert user_ids(client, mandator_a) == []
    assert client.get(USERS, headers=bearer(a_user_token)).status_code == 401
    assert user_ids(client, mandator_b) == ["bob"]
    assert client.get(USERS, headers=bearer(b_user_token)).json()["id"] == "bob"
    assert client_token(client, A)  # A may start over with the same credentials
    assert client.post("/__admin/reset", params={"mandator": "no-such-mandator"}).status_code == 404


def test_journal_filter_by_mandator_shows_only_that_mandators_requests(client: InProcessClient) -> None:
    create_user(client, A, "alice", "password-a", "alice@a.example")  # 2 requests: token, create
    user_token(client, A, "alice", "password-a")  # 1
    client_token(client, B)  # 1 (token reuse: still a request)
    client.post(TOKEN, data=Pair(A.client_id, "wrong").grant())  # 1, A's id with a wrong secret
    mandator_a, mandator_b = mandator_of(client, A), mandator_of(client, B)

    a_entries = admin(client, "GET", "/requests", params={"mandator": mandator_a})["requests"]
    b_entries = admin(client, "GET", "/requests", params={"mandator": mandator_b})["requests"]

    assert {e["mandatorId"] for e in a_entries} == {mandator_a}
    assert [e["status"] for e in reversed(a_entries)] == [200, 201, 200, 401]
    assert [(e["clientId"], e["status"]) for e in b_entries] == [(B.client_id, 200)]
    assert admin(client, "POST", "/requests/count", json={"mandator": mandator_b}) == {"count": 1}


def test_parallel_jobs_on_one_server_never_see_each_other(tmp_path: Path) -> None:
    """Eight concurrent "CI jobs", each with a fresh client id, on one real server, all using user id `same`."""
    scenario = tmp_path / "shared-ci.yaml"
    scenario.write_text(SHARED)
    jobs = [Pair(f"parallel-job-{n}", f"secret-{n}") for n in range(8)]
    start = threading.Barrier(len(jobs), timeout=30)

    def job(pair: Pair) -> tuple[str, str]:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            start.wait()  # all jobs at once
            create_user(http, pair, "same", f"pw-{pair.secret}", f"{pair.client_id}@jobs.example")
            me = http.get(USERS, headers=bearer(user_token(http, pair, "same", f"pw-{pair.secret}"))).json()
            return pair.client_id, me["email"]

    with ThreadedServer(Settings(scenario=str(scenario))) as server, ThreadPoolExecutor(len(jobs)) as pool:
        results = dict(pool.map(job, jobs, timeout=60))
        users = server.admin.users()

    assert results == {p.client_id: f"{p.client_id}@jobs.example" for p in jobs}
    same = [u for u in users if u["id"] == "same"]
    assert len(same) == len(jobs)
    assert len({u["mandatorId"] for u in same}) == len(jobs)
