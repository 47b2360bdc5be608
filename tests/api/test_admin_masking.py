"""No password, client secret or full token leaves the journal, the state views or the request log."""

from __future__ import annotations

import base64

import httpx
import pytest

from mock_finapi.http import request_log
from mock_finapi.randomness import Randomness
from mock_finapi.scenarios import loader
from mock_finapi.scenarios.schema import UserSpec
from tests.api.admin_helpers import MANDATOR, create_process, emulator, journal, masked, ok, state
from tests.helpers import CLIENT_CREDENTIALS, CLIENT_ID, CLIENT_SECRET, TOKEN_PATH, bearer, client_token, password_grant

ALICE_PASSWORD = "Alice-Pa55word!"
NEW_PASSWORD = "Brand-New-Pa55word?"
SEEDED = 100
"""Positions of the seeded streams the masking test looks at (a test draws a few dozen at most)."""


def test_journal_and_state_views_hold_no_password_client_secret_or_full_token(client: httpx.Client) -> None:
    secrets = {"client secret": CLIENT_SECRET, "password": ALICE_PASSWORD, "new password": NEW_PASSWORD}
    # client credentials, then a user created with a password
    ct = client_token(client)
    secrets["client token"] = ct
    body = {"id": "alice", "password": ALICE_PASSWORD, "email": "alice@example.de"}
    ok(client.post("/api/v2/users", json=body, headers=bearer(ct)), 201)
    # password change: the token comes back in a response and goes out in the next request
    requested = ok(client.post("/api/v2/users/requestPasswordChange", json={"userId": "alice"}, headers=bearer(ct)))
    secrets["password change token"] = requested["passwordChangeToken"]
    change = {"userId": "alice", "password": NEW_PASSWORD, "passwordChangeToken": requested["passwordChangeToken"]}
    assert client.post("/api/v2/users/executePasswordChange", json=change, headers=bearer(ct)).status_code == 200
    # password grant, refresh, a v1 password grant in the query string and client credentials over HTTP Basic
    grant = ok(client.post(TOKEN_PATH[2], data=password_grant("alice", NEW_PASSWORD)))
    secrets |= {"access token": grant["access_token"], "refresh token": grant["refresh_token"]}
    refresh = {**CLIENT_CREDENTIALS, "grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
    secrets["refreshed access token"] = ok(client.post(TOKEN_PATH[2], data=refresh))["access_token"]
    v1 = ok(client.post(TOKEN_PATH[1], params=password_grant("alice", NEW_PASSWORD)))
    secrets |= {"v1 access token": v1["access_token"], "v1 refresh token": v1["refresh_token"]}
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    secrets["basic credentials"] = basic
    ok(
        client.post(
            TOKEN_PATH[2], data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
        )
    )
    assert ok(client.get("/api/v2/users", headers=bearer(secrets["refreshed access token"])))["id"] == "alice"
    # a process and its exchange (the token is in the path), and the exchanged token in use
    process_token = create_process(client, CLIENT_ID, CLIENT_SECRET, "ref-1")
    secrets["process token"] = process_token
    secrets["exchanged token"] = ok(client.get(f"/api/v1/processes/{process_token}"))["accessToken"]
    assert client.get("/api/v2/users", headers=bearer(secrets["exchanged token"])).status_code == 200
    # what the state holds besides: every password and token the seed makes (the values are a pure function of the
    # seed and a position: the hidden process user's password, every live token), read without looking into the
    # store, so that this holds for any backend; and the scenario's passwords (but finAPI's "password" user, whose
    # password is also a field name)
    rng = Randomness(ok(client.get("/__admin/version"))["seed"])
    secrets |= {f"seeded password {n}": rng.password(n) for n in range(SEEDED)}
    secrets |= {f"seeded token {n}": rng.token("uuid", n) for n in range(SEEDED)}
    scenario_users = [u for u in loader.load("default").users if isinstance(u, UserSpec) and u.id != "username"]
    secrets |= {f"password of {u.id}": u.password for u in scenario_users}
    views = {view: client.get(f"/__admin/state/{view}").text for view in ("users", "tokens", "processes")}
    live = state(client, "tokens")
    assert len(live) == 4  # client, refreshed user access and its refresh, exchanged
    assert {t["token"] for t in live} <= {masked(rng.token("uuid", n)) for n in range(SEEDED)}  # the seed made them
    # revocation: the token to revoke in the form body (v2) and in the query string (v1)
    assert (
        client.post("/api/v2/oauth/revoke", data={"token": grant["refresh_token"]}, headers=bearer(ct)).status_code
        == 200
    )
    revoke_query = {"token": secrets["exchanged token"], "token_type_hint": "access_token"}
    assert (
        client.post(TOKEN_PATH[1].replace("token", "revoke"), params=revoke_query, headers=bearer(ct)).status_code
        == 200
    )
    views["requests"] = client.get("/__admin/requests").text

    for view, text in views.items():
        leaked = [name for name, secret in secrets.items() if secret in text]
        assert leaked == [], f"{view} shows {leaked}"
    # … while the journal still tells QA what was sent
    by_path = {entry["path"]: entry for entry in reversed(journal(client))}  # the newest of each path
    assert by_path["/api/v2/users/executePasswordChange"]["body"] == {
        "userId": "alice",
        "password": "***",
        "passwordChangeToken": masked(requested["passwordChangeToken"]),
    }
    assert by_path["/oauth/token"]["query"] == {**password_grant("alice", "***"), "client_secret": "***"}
    assert by_path["/oauth/revoke"]["query"] == {
        "token": masked(secrets["exchanged token"]),
        "token_type_hint": "access_token",
    }
    assert f"/api/v1/processes/{masked(process_token)}" in by_path
    assert journal(client, path="/api/v1/processes")[0]["body"]["clientSecret"] == "***"
    basic_entry = journal(client, path="/api/v2/oauth/token")
    assert [e["authorization"] for e in basic_entry].count("Basic ***") == 1


def test_journal_masks_secrets_under_any_key_spelling_and_depth(client: httpx.Client) -> None:
    body = {
        "id": "visible",
        "oldPassword": "old-secret-1",
        "newPassword": "new-secret-2",
        "nested": {"clientSecret": "nested-secret-3", "note": "visible"},
        "list": [{"refresh_token": "abcdefgh-refresh"}, "visible"],
        "accessToken": ["list-held-token"],
        "processToken": 12345678,
        "password": None,
    }
    # the process endpoint reads any JSON body before it refuses it, so the journal holds all of it
    client.post("/api/v1/processes", json=body, headers={"Authorization": "bare-token-without-scheme"})

    [entry] = journal(client)
    assert entry["body"] == {
        "id": "visible",
        "oldPassword": "***",
        "newPassword": "***",
        "nested": {"clientSecret": "***", "note": "visible"},
        "list": [{"refresh_token": "abcd…"}, "visible"],
        "accessToken": "***",
        "processToken": "***",
        "password": None,
    }
    assert entry["authorization"] == "bare…"


PROCESS_TOKEN = "3f1c6a52-8d0e-4b7a-9c1d-2e5f6a7b8c9d"


@pytest.mark.parametrize(
    ("method", "path", "journaled"),
    [
        ("GET", f"/api/v1/processes/{PROCESS_TOKEN}", "/api/v1/processes/3f1c…"),
        ("GET", f"/api/v1/processes/{PROCESS_TOKEN}/", "/api/v1/processes/3f1c…/"),
        ("GET", f"/api/v1/processes/{PROCESS_TOKEN}/exchange", "/api/v1/processes/3f1c…/exchange"),
        ("POST", f"/api/v1/processes/{MANDATOR}/link", f"/api/v1/processes/{MANDATOR}/link"),
        ("POST", "/api/v1/processes", "/api/v1/processes"),
    ],
    ids=["exchange", "trailing-slash", "mistaken-suffix", "link-keeps-the-mandator", "create"],
)
def test_journal_masks_process_tokens_in_paths_but_not_mandator_ids(
    client: httpx.Client, method: str, path: str, journaled: str
) -> None:
    client.request(method, path)
    assert [entry["path"] for entry in journal(client)] == [journaled]


def test_journal_shows_the_masked_body_of_a_request_refused_before_its_handler_read_it(client: httpx.Client) -> None:
    body = {"id": "alice", "password": ALICE_PASSWORD, "email": "alice@example.de"}
    assert client.post("/api/v2/users", json=body).status_code == 401  # no bearer token: refused at once

    [entry] = journal(client)
    assert (entry["status"], entry["body"]) == (401, {"id": "alice", "password": "***", "email": "alice@example.de"})


def test_journal_shows_the_first_of_repeated_form_fields_as_the_token_endpoint_takes_it(client: httpx.Client) -> None:
    form = f"grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}&client_id=other"
    ok(client.post(TOKEN_PATH[2], content=form, headers={"Content-Type": "application/x-www-form-urlencoded"}))

    [entry] = journal(client)
    assert (entry["clientId"], entry["body"]["client_id"]) == (CLIENT_ID, CLIENT_ID)


def test_request_log_masks_tokens_in_admin_and_process_paths(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(request_log, "INTERVAL", 3600.0)  # all but the first line are written when the client closes
    with emulator(request_log="text") as client:
        access = client_token(client)
        ok(client.post(f"/__admin/tokens/{access}/expire"))
        process_token = create_process(client, CLIENT_ID, CLIENT_SECRET, "ref")
        client.get(f"/api/v1/processes/{process_token}")
    out = capsys.readouterr().out
    assert f"POST /__admin/tokens/{masked(access)}/expire 200" in out
    assert f"GET /api/v1/processes/{masked(process_token)} 200" in out
    assert access not in out
    assert process_token not in out


# every spelling of a path that carries a token (issue 16, point 10)
PROCESS_SPELLINGS = [
    "/api/v1//processes/{}",
    "/api/v1/processes//{}",
    "/api//v1/processes/{}/",
    "/API/v1/processes/{}",
    "/api/V1/Processes/{}",
    "/api/v2/processes/{}",
    "/api/v3/PROCESSES/{}/exchange",
]
EXPIRE_SPELLINGS = [
    "/__admin//tokens/{}/expire",
    "/__admin/tokens//{}/expire",
    "/__admin/tokens/{}//expire",
    "/__ADMIN/tokens/{}/expire",
    "/__admin/Tokens/{}/EXPIRE",
]


def test_journal_masks_a_live_process_token_on_every_spelling_of_its_path(client: httpx.Client) -> None:
    process_token = create_process(client, CLIENT_ID, CLIENT_SECRET, "ref")
    access = client_token(client)
    paths = [spelling.format(process_token) for spelling in PROCESS_SPELLINGS]
    paths += [f"/__ADMIN/tokens/{access}/expire", f"/__Admin/TOKENS/{access}/expire"]
    for path in paths:
        assert client.get(path).status_code == 404
    text = client.get("/__admin/requests").text
    assert (process_token in text, access in text) == (False, False)
    shown = [entry["path"] for entry in reversed(journal(client))][2:]
    assert shown == [
        path.replace(process_token, masked(process_token)).replace(access, masked(access)) for path in paths
    ]


def test_request_log_masks_live_tokens_on_every_spelling_of_their_paths(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(request_log, "INTERVAL", 3600.0)
    with emulator(request_log="text") as client:
        process_token = create_process(client, CLIENT_ID, CLIENT_SECRET, "ref")
        access = client_token(client)
        for spelling in PROCESS_SPELLINGS:
            assert client.get(spelling.format(process_token)).status_code == 404
        for spelling in EXPIRE_SPELLINGS:
            assert client.post(spelling.format(access)).status_code == 404
    out = capsys.readouterr().out
    assert (process_token in out, access in out) == (False, False)
    for spelling in PROCESS_SPELLINGS:
        assert f"GET {spelling.format(masked(process_token))} 404 " in out
    for spelling in EXPIRE_SPELLINGS:
        assert f"POST {spelling.format(masked(access))} 404 " in out


@pytest.mark.parametrize("version", [1, 2])
def test_journal_masks_the_fints_product_registration_number(client: httpx.Client, version: int) -> None:
    number = "ABCDEF1234567890ABCDEF123"
    token = client_token(client)
    path = f"/api/v{version}/clientConfiguration"
    ok(client.patch(path, json={"finTSProductRegistrationNumber": number}, headers=bearer(token)))
    assert client.get("/api/v1/processes", params={"finTSProductRegistrationNumber": number}).status_code == 405

    text = client.get("/__admin/requests").text
    assert number not in text
    query, patched = journal(client)[:2]
    assert patched["body"] == {"finTSProductRegistrationNumber": "***"}
    assert query["query"] == {"finTSProductRegistrationNumber": "***"}
