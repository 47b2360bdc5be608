"""What the snapshot tests (tests/api/test_admin_snapshot.py) share: a scenario with a bit of every kind of state, the
requests that build a rich state on it, and the recorded sequence of further requests that a server and the server a
snapshot of it was loaded into must answer identically.

A step is a request spec; `{name}` in its path, headers, params or bodies stands for a value an earlier answer gave
(`save`), so the same sequence runs against any server and each run fills in its own server's values. Every step sends
a fixed `X-Request-Id`, so even the request ids match.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from mock_finapi.clock import Clock
from mock_finapi.http.app import Emulator, create_app
from mock_finapi.scenarios.loader import load_text
from mock_finapi.settings import Settings
from mock_finapi.testing.inprocess import InProcessClient
from tests.helpers import CLIENT_ID, CLIENT_SECRET, START

MANDATOR = "2c6b8f0e-7d42-4f1a-9a43-1f0c2d3e4a5b"
OTHER_MANDATOR = "other-mandator"
ADMIN_ID, ADMIN_SECRET = "mandator-admin", "mandator-admin-secret"
REAL = 1_750_000_000.0
"""The real time the servers of these tests read, standing still: every request takes 0 ms (`durationMs`)."""
SEED = 20
EXHAUSTED = "0b4e7c1a-2f3d-4e5a-8b6c-7d8e9f0a1b2c"
"""A seeded process with one exchange left."""
RICH = f"""\
name: snapshot-rich
description: A bit of every kind of state, for the snapshot tests.
seed: {SEED}
clock: {{start: "2026-01-01T09:00:00+01:00", frozen: true}}
tokens: {{format: uuid, reuse: true}}
clients:
  auto_register: true
  registered:
    - client_id: {CLIENT_ID}
      client_secret: {CLIENT_SECRET}
      mandator_id: {MANDATOR}
      config:
        userAccessTokensValidityPeriod: 3600
        clientAccessTokensValidityPeriod: 3600
        refreshTokensValidityPeriod: 7200
        maxUserLoginAttempts: 3
        isAutomaticBatchUpdateEnabled: true
    - {{client_id: {ADMIN_ID}, client_secret: {ADMIN_SECRET}, role: mandator_admin, mandator_id: {MANDATOR}}}
    - {{client_id: other-app, client_secret: other-secret, mandator_id: {OTHER_MANDATOR}}}
users:
  - id: username
    password: password
    email: email@localhost.de
    bank_connections:
      - {{bank: 280001, name: Generated}}
      - bank: 280001
        name: Hauptbank
        interface: FINTS_SERVER
        accounts:
          - type: Checking
            name: Girokonto
            transactions:
              - {{amount: 40.00, booking_date: "2025-12-20", purpose: Altbestand}}
              - {{amount: 60.00, booking_date: "2025-12-28", purpose: Gehalt}}
  - {{id: alice, password: alice-password}}
  - {{id: victim, password: victim-password}}
  - {{id: wobbly, password: wobbly-password}}
  - {{id: doomed, password: doomed-password}}
  - {{id: goner, password: goner-password}}
  - {{id: stranger, password: stranger-password, mandator_id: {OTHER_MANDATOR}}}
  - {{generate: 2, mandator_id: {OTHER_MANDATOR}}}
processes:
  max_exchanges: 3
  seeded:
    - {{process_token: {EXHAUSTED}, client: {CLIENT_ID}, client_reference: seeded, exchanges: 2}}
webforms:
  outcomes:
    - {{status: COMPLETED, after: 300, user: alice}}
faults:
  - name: counted
    match: {{method: GET, path: /api/v2/accounts}}
    after: 1
    times: 3
    respond: {{status: 503, headers: {{Retry-After: "7"}}}}
  - name: coin
    match: {{method: GET, path: /api/v2/bankConnections}}
    probability: 0.5
    respond: {{status: 502}}
"""
"""`username` with a generated connection and a hand-made one (FINTS_SERVER: mock batch updates), `alice` (web forms
finish 300 s after creation), `victim` (locked by wrong passwords), `wobbly` (two wrong passwords), `doomed` and
`goner` (deleted), a second mandator with generated users; processes with at most 3 exchanges; two fault rules."""


def rich_app(real: float = REAL, **settings: Any) -> Emulator:
    """An emulator serving RICH with the clock frozen at its start, reading the real time `real` (standing still)."""
    scenario = load_text(RICH, "/somewhere/on/this/host/snapshot-rich.yaml")
    return create_app(Settings(**settings), scenario=scenario, clock=Clock(lambda: real), freeze_at=START)


@contextmanager
def rich_client(real: float = REAL, **settings: Any) -> Iterator[InProcessClient]:
    with InProcessClient(rich_app(real, **settings)) as client:
        yield client


@contextmanager
def other_client(scenario: str = "default", **settings: Any) -> Iterator[InProcessClient]:
    """A server of another scenario and seed, reading the same standing real time."""
    app = create_app(Settings(scenario=scenario, seed=99, **settings), clock=Clock(lambda: REAL))
    with InProcessClient(app) as client:
        yield client


# ---------------------------------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class Step:
    """One request and the status it must get: `{name}` placeholders in its strings are filled from the run's
    values; `save` names values of its JSON answer to keep (`{"token": "access_token"}`, dotted paths and list
    indexes: `processes.0.processToken`; `set-cookie`: the cookie it sets)."""

    method: str
    path: str
    expect: int = 200
    token: str | None = None
    """A value's name: sent as `Authorization: Bearer <value>`."""
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    data: Mapping[str, str] | None = None
    save: Mapping[str, str] = field(default_factory=dict)
    cookie: str | None = None
    """A value's name: sent as the `Cookie` header (a run keeps no cookies of its own)."""


@dataclass(frozen=True)
class Answer:
    """What a server answered to a step, all of it."""

    step: int
    request: str
    status: int
    headers: list[tuple[str, str]]
    body: Any


def _fill(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return value.format_map(values) if "{" in value else value
    if isinstance(value, Mapping):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value


def _dig(body: Any, path: str) -> Any:
    for part in path.split("."):
        body = body[int(part)] if isinstance(body, list) else body[part]
    return body


def run(client: httpx.Client, steps: list[Step], values: dict[str, str], rid: str = "step") -> list[Answer]:
    """Send `steps` in order (request ids `<rid>-<n>`), filling `values` in; answers every response whole."""
    answers = []
    for number, step in enumerate(steps):
        headers = {"X-Request-Id": f"{rid}-{number}"}
        if step.token is not None:
            headers["Authorization"] = f"Bearer {values[step.token]}"
        if step.cookie is not None:
            headers["Cookie"] = values[step.cookie]
        client.cookies.clear()  # both servers get the same requests, whatever cookies earlier answers set
        path = _fill(step.path, values)
        response = client.request(
            step.method,
            path,
            params=_fill(dict(step.params), values) or None,
            json=_fill(step.json, values),
            data=_fill(dict(step.data), values) if step.data is not None else None,
            headers=headers,
        )
        assert response.status_code == step.expect, f"{rid}-{number} {step.method} {path}: {response.text[:500]}"
        json = response.headers.get("content-type", "").startswith("application/json") and response.content
        body = response.json() if json else response.text
        for name, where in step.save.items():
            if where == "set-cookie":  # the cookie's name=value
                values[name] = response.headers["set-cookie"].split(";")[0]
            else:
                values[name] = str(_dig(body, where))
        answer = Answer(number, f"{step.method} {path}", response.status_code, list(response.headers.items()), body)
        answers.append(answer)
    return answers


def token_data(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET, **fields: str) -> dict[str, str]:
    grant = "password" if "username" in fields else "refresh_token" if "refresh_token" in fields else None
    return {"grant_type": grant or "client_credentials", "client_id": client_id, "client_secret": secret, **fields}


def token_step(save: str | None = None, refresh: str | None = None, expect: int = 200, **fields: str) -> Step:
    """A token request (client credentials, or `username`/`password`, or `refresh_token` given as fields)."""
    saved = {save: "access_token"} if save else {}
    if refresh:
        saved[refresh] = "refresh_token"
    return Step("POST", "/api/v2/oauth/token", expect, data=token_data(**fields), save=saved)


def snapshot_bytes(client: httpx.Client, journal: bool = True) -> bytes:
    response = client.get("/__admin/snapshot", params={"journal": "true" if journal else "false"})
    assert response.status_code == 200, response.text
    return response.content


def snapshot(client: httpx.Client, journal: bool = True) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(snapshot_bytes(client, journal))
    return document


def restore(client: httpx.Client, document: bytes | dict[str, Any]) -> httpx.Response:
    content = document if isinstance(document, bytes) else orjson.dumps(document)
    return client.post("/__admin/snapshot", content=content, headers={"Content-Type": "application/json"})


# ---------------------------------------------------------------------------------------------------- the state

HAUPTBANK, GIROKONTO = 1_000_002, 2_000_004
"""username's hand-made connection and its account (the generated connection and its three accounts come first)."""
PROCESS_BODY = {
    "clientId": CLIENT_ID,
    "clientSecret": CLIENT_SECRET,
    "processId": "USER_ONLY",
    "clientReferences": [{"clientReference": "first"}, {"clientReference": "second"}, {"clientReference": "third"}],
}
MOCK_UPDATE = {
    "mockBankConnectionUpdates": [
        {
            "bankConnectionId": HAUPTBANK,
            "bankingInterface": "FINTS_SERVER",
            "mockAccountsData": [
                {"accountId": GIROKONTO, "accountBalance": 150.0, "newTransactions": [{"amount": 50.0}]}
            ],
        }
    ]
}
RUNTIME_RULE = {
    "name": "runtime",
    "match": {"method": "GET", "path": "/api/v2/users"},
    "after": 2,
    "times": 1,
    "respond": {"status": 500},
}
TRANSACTIONS = "/api/v2/transactions"
BUILD = [
    Step("POST", "/__admin/clock", json={"advance": 60}),
    token_step("client"),
    token_step("user", "refresh", username="username", password="password"),
    token_step("user2", refresh_token="{refresh}"),
    token_step("alice", username="alice", password="alice-password"),
    *[token_step(username="victim", password="wrong-password", expect=400) for _ in range(3)],  # locked
    *[token_step(username="wobbly", password="wrong-password", expect=400) for _ in range(2)],  # one try left
    token_step("doomed", username="doomed", password="doomed-password"),
    Step("DELETE", "/api/v2/users", token="doomed"),
    token_step("admin", client_id=ADMIN_ID, secret=ADMIN_SECRET),
    Step("POST", "/api/v2/mandatorAdmin/deleteUsers", token="admin", json={"userIds": ["goner"]}),
    Step("POST", "/api/v2/users", 201, "client", json={"id": "newbie", "password": "newbie-password"}),
    Step("POST", "/api/v2/users", 201, "client", json={}, save={"made": "id", "made_password": "password"}),
    Step(
        "POST",
        "/api/v2/users/requestPasswordChange",
        token="client",
        json={"userId": "newbie"},
        save={"change": "passwordChangeToken"},
    ),
    Step("PATCH", "/api/v2/clientConfiguration", token="client", json={"userAccessTokensValidityPeriod": 1800}),
    token_step("newcomer", client_id="newcomer", secret="newcomer-secret"),  # registers itself
    Step(
        "POST",
        "/api/v1/processes",
        201,
        json=PROCESS_BODY,
        save={"p0": "processes.0.processToken", "p1": "processes.1.processToken", "p2": "processes.2.processToken"},
    ),
    Step("GET", "/api/v1/processes/{p0}"),
    Step("GET", "/api/v1/processes/{p0}", save={"p0_token": "accessToken"}),
    Step("GET", "/api/v1/processes/{p1}", params={"invalidate": "true"}),
    Step("GET", "/api/v2/accounts", token="user2"),  # `counted`: let through (after: 1)
    Step("GET", "/api/v2/accounts", 503, "user2"),  # `counted`: fired once of three
    Step("GET", "/api/v2/bankConnections", 502, "user2"),  # `coin`: drawn from the seeded source
    Step("GET", "/api/v2/bankConnections", token="user2"),
    Step("GET", "/api/v2/bankConnections", 502, "user2"),
    Step("POST", "/api/v2/tests/mockBatchUpdate", token="user2", json=MOCK_UPDATE),  # lands 5 s later
    Step("POST", "/api/webForms/bankConnectionImport", 201, "alice", json={}, save={"form_alice": "id"}),
    Step("POST", "/api/webForms/bankConnectionImport", 201, "user2", json={}, save={"form_open": "id"}),
    Step("GET", "/wf/{form_open}", save={"session": "set-cookie"}),
    Step("POST", "/api/webForms/bankConnectionImport", 201, "user2", json={"bankId": 280001}, save={"closed": "id"}),
    Step(
        "POST", "/api/tasks/backgroundUpdate", 201, "user2", json={"bankConnectionId": 1_000_001}, save={"task": "id"}
    ),
    Step("POST", "/__admin/faults", 201, json=RUNTIME_RULE),
    Step("GET", "/api/v2/users", token="user2"),
    Step("GET", "/api/v2/users", 401, "nothing"),
    Step("POST", "/__admin/clock", json={"advance": 1}),
]
"""Requests that build a rich state on RICH (`nothing` must be given as a value: a token nobody issued)."""
AFTER = [
    Step("GET", "/__admin/clock"),
    Step("GET", "/__admin/version"),
    token_step("client_b"),  # reused
    token_step("user_b", "refresh_b", username="username", password="password"),  # reused
    token_step("user3", refresh_token="{refresh}"),  # minted
    Step("GET", "/api/v2/users", 500, "user3"),  # `runtime` fires (after: 2)
    Step("GET", "/api/v1/users", 401, "user"),  # revoked by the refresh
    Step("GET", "/api/v2/users", 401, "user2"),
    token_step(username="victim", password="victim-password", expect=423),
    token_step(username="wobbly", password="wrong-password", expect=400),
    token_step(username="wobbly", password="wobbly-password", expect=423),
    token_step("made_token", username="{made}", password="{made_password}"),
    Step("POST", "/api/v2/users", 201, "client", json={}, save={"made2": "id"}),
    Step("POST", "/api/v2/users", 422, "client", json={"id": "newbie", "password": "other-password"}),
    Step(
        "POST",
        "/api/v2/users/executePasswordChange",
        token="client",
        json={"userId": "newbie", "password": "changed-password", "passwordChangeToken": "{change}"},
    ),
    token_step("newbie", username="newbie", password="changed-password"),
    token_step(username="doomed", password="doomed-password", expect=400),
    token_step(client_id="newcomer", secret="newcomer-secret"),
    Step("GET", "/api/v2/clientConfiguration", token="newcomer"),
    Step("GET", "/api/v2/clientConfiguration", token="client_b"),
    Step("GET", "/api/v2/accounts", 503, "user3"),
    Step("GET", "/api/v2/accounts", 503, "user3"),
    Step("GET", "/api/v2/accounts", token="user3"),  # `counted` is spent
    Step("GET", "/api/v2/bankConnections", 502, "user3"),
    Step("GET", "/api/v2/bankConnections", 502, "user3"),
    *[Step("GET", "/api/v2/bankConnections", token="user3") for _ in range(4)],
    *[Step("GET", "/api/v2/users", token="user3") for _ in range(2)],
    Step("GET", "/__admin/faults"),
    Step("GET", "/api/v1/processes/{p0}"),
    Step("GET", "/api/v1/processes/{p0}", 410),  # exhausted
    Step("GET", "/api/v1/processes/{p1}", 410),  # invalidated
    Step("GET", "/api/v1/processes/{p2}", params={"invalidate": "true"}),
    Step("GET", f"/api/v1/processes/{EXHAUSTED}"),
    Step("GET", f"/api/v1/processes/{EXHAUSTED}", 410),
    Step("POST", "/api/v1/processes", 201, json=PROCESS_BODY, save={"p3": "processes.0.processToken"}),
    Step("GET", "/api/v1/processes/{p3}"),
    Step("GET", "/api/v2/users", token="p0_token"),
    Step("GET", TRANSACTIONS, token="user3", params={"accountIds": GIROKONTO, "view": "bankView"}),
    Step("GET", f"/api/v2/bankConnections/{HAUPTBANK}", token="user3"),
    Step("GET", "/api/webForms", token="alice"),
    Step("GET", "/api/webForms", token="user3"),
    Step("GET", "/wf/{form_open}", 410),  # used, for a browser without its cookie
    Step("GET", "/wf/{form_open}", cookie="session"),
    Step("GET", "/wf/{closed}"),
    Step("GET", "/api/tasks/{task}", token="user3"),
    Step("POST", "/__admin/clock", json={"advance": 10}),  # the mock update lands, the task ends
    Step("GET", TRANSACTIONS, token="user3", params={"accountIds": GIROKONTO, "view": "bankView"}),
    Step("GET", f"/api/v2/accounts/{GIROKONTO}", token="user3"),
    Step("GET", "/api/tasks/{task}", token="user3"),
    Step("POST", "/api/webForms/bankConnectionImport", 201, "user3", json={}, save={"form_new": "id"}),
    Step("POST", "/api/tasks/backgroundUpdate", 201, "user3", json={"bankConnectionId": HAUPTBANK}),
    Step("POST", "/__admin/clock", json={"advance": 300}),  # alice's form completes
    Step("GET", "/api/webForms/{form_alice}", token="alice"),
    Step("GET", "/api/v2/accounts", token="alice"),
    Step("GET", TRANSACTIONS, token="alice", params={"view": "userView", "perPage": 5, "page": 2}),
    Step("POST", "/__admin/clock", json={"advance": 1200}),  # the other forms expire
    Step("GET", "/api/webForms", token="user3"),
    Step("GET", "/api/webForms/{form_new}", token="user3"),
    Step("GET", "/api/tasks", token="user3"),
    Step("GET", TRANSACTIONS, token="user3", params={"view": "bankView", "perPage": 3, "order": "amount,desc"}),
    Step("GET", "/api/v2/mandatorAdmin/getUserList", token="admin"),
    Step("POST", "/api/v2/mandatorAdmin/deleteUsers", token="admin", json={"userIds": ["{made}", "nobody"]}),
    Step("DELETE", "/api/v2/users", token="alice"),
    Step("GET", "/api/v2/mandatorAdmin/getUserList", token="admin", params={"perPage": 20}),
    Step("GET", "/api/v1/mandatorAdmin/getUserList", token="admin", params={"isDeleted": "true"}),
    Step("GET", "/__admin/state/users"),
    Step("GET", "/__admin/state/tokens"),
    Step("GET", "/__admin/state/processes"),
    Step("GET", "/__admin/state/bankConnections"),
    Step("GET", "/__admin/state/webForms"),
    Step("GET", "/__admin/state/tasks"),
    Step("GET", "/__admin/callbacks"),
    Step("GET", "/__admin/faults"),
    Step("POST", "/__admin/requests/count", json={"status": 503}),
    Step("GET", "/__admin/requests", params={"limit": 500}),
    Step("POST", "/__admin/clock", json={"advance": 4 * 86_400}),  # tokens expire, process users go
    Step("GET", "/api/v2/users", 401, "user3"),
    token_step(username="username", password="password"),
    Step("GET", "/__admin/state/tokens"),
    Step("GET", "/__admin/state/users"),
    token_step("admin2", client_id=ADMIN_ID, secret=ADMIN_SECRET),
    Step("GET", "/api/v2/mandatorAdmin/getUserList", token="admin2", params={"perPage": 50}),
    Step("GET", "/__admin/requests", params={"limit": 10}),
    Step("GET", "/__admin/clock"),
]
"""The recorded sequence: new tokens and ids, refreshes, locked users, exhausted processes, the fault counters'
rest, the clock expiring tokens, web forms and process users and landing updates and outcomes, every state view and
the journal."""
START_VALUES = {"nothing": "no-such-token"}


def build(client: httpx.Client) -> dict[str, str]:
    """Send BUILD; answers the values the sequence needs."""
    values = dict(START_VALUES)
    run(client, BUILD, values, "build")
    return values
