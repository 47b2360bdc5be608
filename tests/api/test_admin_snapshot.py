"""Snapshots over the admin API (issue 20): `GET /__admin/snapshot[?journal=false]` and `POST /__admin/snapshot`.

The headline: a snapshot loaded into a fresh server (of another scenario and seed) gives a server that answers every
later request exactly as the saved one would have. Both servers run the same recorded sequence of requests
(tests/api/snapshot_helpers.py) and every answer is compared whole: status, every header, body. The servers read a
real time that stands still, so even the journal's `durationMs` matches, and every request sends its own
`X-Request-Id`.

Then the API's behaviour: the document's head, `journal`, what POST answers, every kind of bad document refused with
400 naming the problem while the old state keeps serving, the body limit, the admin token and `--no-admin`, and the
secrets a snapshot holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from mock_finapi import __version__, errors
from mock_finapi.clock import Clock, parse_rfc3339
from mock_finapi.http.app import create_app
from mock_finapi.http.routes.admin import MSG_ADMIN_TOKEN, MSG_SNAPSHOT_TOO_LARGE
from mock_finapi.scenarios import loader
from mock_finapi.settings import Settings
from mock_finapi.state.models import User
from mock_finapi.testing.inprocess import InProcessClient
from tests.api.admin_helpers import (
    MANDATOR,
    assert_bad_request,
    assert_error,
    assert_unknown,
    emulator,
    ok,
)
from tests.api.snapshot_helpers import (
    AFTER,
    BUILD,
    REAL,
    SEED,
    Answer,
    build,
    other_client,
    restore,
    rich_client,
    run,
    snapshot,
    snapshot_bytes,
)
from tests.helpers import CLIENT_CREDENTIALS, CLIENT_ID, CLIENT_SECRET, START, TOKEN_PATH, bearer, password_grant

PATH = "/__admin/snapshot"
NOT_LOADABLE = "Not a snapshot this server can load: "
STATE_KEYS = {
    "positions",
    "clock",
    "mandators",
    "client_tokens",
    "faults",
    "next_number",
    "clients",
    "users",
    "deleted_users",
    "grants",
    "tokens",
    "processes",
    "web_forms",
    "tasks",
    "callbacks",
    "journal",
    "bank",
}


def without_taken_at(document: dict[str, Any]) -> dict[str, Any]:
    taken_at = document.pop("taken_at")
    assert isinstance(taken_at, str)
    return document


def assert_same_answers(saved: list[Answer], restored: list[Answer]) -> None:
    assert len(restored) == len(saved)
    for was, now in zip(saved, restored, strict=True):
        assert (now.request, now.status, now.headers, now.body) == (was.request, was.status, was.headers, was.body), (
            f"step {was.step}: {was.request}"
        )


# ---------------------------------------------------------------------------------------------------- the headline


def test_a_restored_server_answers_every_later_request_as_the_saved_one() -> None:
    with rich_client() as original, other_client() as fresh:
        values = build(original)
        fresh_token = ok(fresh.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS))["access_token"]
        document = snapshot_bytes(original)

        assert ok(restore(fresh, document)) == {"status": "ok", "scenario": "snapshot-rich", "seed": SEED}
        assert without_taken_at(snapshot(fresh)) == without_taken_at(orjson.loads(document))
        # The fresh server's own state is gone (asked through the admin API, which the journal does not record).
        expire = fresh.post(f"/__admin/tokens/{fresh_token}/expire")
        message = f"No live token '{fresh_token[:4]}…'"
        assert_error(expire, 404, "UNKNOWN_ENTITY", "BUSINESS", message, date="2026-01-01T09:01:01.000+01:00")

        saved = run(original, AFTER, dict(values))
        restored = run(fresh, AFTER, dict(values))
        assert_same_answers(saved, restored)
        assert without_taken_at(snapshot(fresh)) == without_taken_at(snapshot(original))


def test_the_comparison_tells_a_state_one_token_further_on_apart() -> None:
    """The control: the same snapshot with the token stream one position on answers the sequence otherwise."""
    with rich_client() as original, other_client() as fresh:
        values = build(original)
        document = snapshot(original)
        document["state"]["positions"]["tokens"] += 1
        ok(restore(fresh, document))
        saved = run(original, AFTER, dict(values))
        restored = run(fresh, AFTER, dict(values))
        differing = [was.step for was, now in zip(saved, restored, strict=True) if was != now]
        assert differing[0] == 4  # the first token minted (the client token and the login are reused)
        assert saved[4].status == restored[4].status == 200
        assert saved[4].body["access_token"] != restored[4].body["access_token"]


def test_a_snapshot_without_journal_restores_everything_but_the_journal() -> None:
    with rich_client() as original, other_client() as fresh:
        values = build(original)
        document = snapshot(original, journal=False)
        assert set(document["state"]) == STATE_KEYS - {"journal"}

        ok(restore(fresh, document))
        assert ok(fresh.get("/__admin/requests")) == {"requests": []}
        # The original's journal held every request of the build (the admin API's are not recorded).
        built = sum(1 for step in BUILD if not step.path.startswith("/__admin"))
        assert ok(original.delete("/__admin/requests")) == {"deleted": built}

        saved = run(original, AFTER, dict(values))
        restored = run(fresh, AFTER, dict(values))
        assert_same_answers(saved, restored)
        assert without_taken_at(snapshot(fresh)) == without_taken_at(snapshot(original))


def test_a_running_clock_runs_on_from_where_it_stood() -> None:
    real = [REAL]
    clock = Clock(lambda: real[0])
    with (
        InProcessClient(create_app(Settings(scenario="bank-data"), clock=clock)) as original,
        InProcessClient(create_app(Settings(scenario="default", seed=99), clock=clock)) as fresh,
    ):
        real[0] += 30
        assert ok(original.get("/__admin/clock")) == {"now": "2026-01-01T09:00:30.000+01:00", "frozen": False}
        token = ok(original.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS))["access_token"]
        ok(restore(fresh, snapshot_bytes(original)))
        real[0] += 100
        for server in (original, fresh):
            assert ok(server.get("/__admin/clock")) == {"now": "2026-01-01T09:02:10.000+01:00", "frozen": False}
            tokens = ok(server.get("/__admin/state/tokens"))["tokens"]
            assert [(t["token"], t["expiresIn"]) for t in tokens] == [(token[:4] + "…", 3600 - 100 - 1)]


# ---------------------------------------------------------------------------------------------------- GET


def test_get_answers_the_state_as_a_versioned_json_document() -> None:
    with emulator(scenario="bank-data") as client:
        token = ok(client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS, headers={"X-Request-Id": "before"}))
        before = datetime.now(UTC).replace(microsecond=0)
        response = client.get(PATH)
        after = datetime.now(UTC)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert set(document) == {"kind", "format", "emulator", "taken_at", "scenario", "seed", "records", "state"}
    assert (document["kind"], document["format"], document["emulator"]) == ("mock-finapi snapshot", 1, __version__)
    assert before <= parse_rfc3339(document["taken_at"]) <= after
    text = (loader.builtin_dir() / "bank-data.yaml").read_text(encoding="utf-8")
    assert document["scenario"] == {"name": "bank-data", "source": "bank-data.yaml", "text": text}
    assert document["seed"] == 1
    records = document["records"]
    assert records["Token"] == ["value", "client_id", "mandator_id", "user_id", "is_refresh", "expires_at", "grant"]
    assert records["Client"] == ["client_id", "secret", "role", "mandator_id", "config", "registered"]
    assert {"User", "DeletedUser", "Grant", "Process", "Entry", "WebForm", "Task", "CallbackAttempt"} <= set(records)
    assert {"Connection", "Account", "Transaction", "BatchUpdate"} <= set(records)

    state = document["state"]
    assert set(state) == STATE_KEYS
    assert state["clock"]["frozen_at"] == START.timestamp()
    expires_at = START.timestamp() + 3600
    assert state["tokens"] == [[token["access_token"], CLIENT_ID, MANDATOR, None, False, expires_at, None]]
    assert state["client_tokens"] == {CLIENT_ID: token["access_token"]}
    assert state["grants"] == []
    assert [entry[records["Entry"].index("request_id")] for entry in state["journal"]] == ["before"]
    assert [user[records["User"].index("id")] for user in state["users"]] == ["username"]
    assert [(bank["mandator_id"], bank["user_key"]) for bank in state["bank"]["users"]] == [(MANDATOR, "username")]


@pytest.mark.parametrize(("query", "journal"), [("", True), ("?journal=true", True), ("?journal=false", False)])
def test_journal_false_leaves_the_journal_out(query: str, journal: bool) -> None:
    with emulator() as client:
        ok(client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS, headers={"X-Request-Id": "recorded"}))
        state = ok(client.get(PATH + query))["state"]
    assert ("journal" in state) == journal
    if journal:
        assert len(state["journal"]) == 1


@pytest.mark.parametrize("value", ["maybe", "", "TRUE", "0"])
def test_journal_other_than_true_or_false_is_400(value: str) -> None:
    with emulator() as client:
        assert_bad_request(client.get(PATH, params={"journal": value}), "'journal' must be true or false")


# ---------------------------------------------------------------------------------------------------- POST


@pytest.fixture(scope="module")
def document() -> bytes:
    """A snapshot of bank-data with a client token and two logins (username and a user made at run time)."""
    with emulator(scenario="bank-data") as client:
        client_token = ok(client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS))["access_token"]
        made = {"id": "second", "password": "second-password"}
        ok(client.post("/api/v2/users", json=made, headers=bearer(client_token)), 201)
        ok(client.post(TOKEN_PATH[2], data=password_grant()))
        ok(client.post(TOKEN_PATH[2], data=password_grant("second", "second-password")))
        return snapshot_bytes(client)


@pytest.fixture
def served() -> Iterator[tuple[InProcessClient, str]]:
    """A server of the suite's scenario with username logged in: (client, username's access token)."""
    with emulator() as client:
        yield client, ok(client.post(TOKEN_PATH[2], data=password_grant()))["access_token"]


def test_post_serves_the_snapshot_and_answers_its_scenario_and_seed(document: bytes) -> None:
    saved = orjson.loads(document)
    with other_client("default") as client:
        response = restore(client, document)
        assert ok(response) == {"status": "ok", "scenario": "bank-data", "seed": 1}
        assert response.headers["content-type"] == "application/json"
        assert ok(client.get("/__admin/version")) == {"version": __version__, "scenario": "bank-data", "seed": 1}
        again = snapshot(client)
        assert again["scenario"] == saved["scenario"]  # its source still the file name it was saved with
        assert without_taken_at(again) == without_taken_at(saved)
        client_token = saved["state"]["tokens"][0][0]
        assert ok(client.get("/api/v2/clientConfiguration", headers=bearer(client_token)))["isMandatorAdmin"] is False
        # A reset goes back to the start of the snapshot's scenario, wherever it is loaded.
        assert ok(client.post("/__admin/reset")) == {"reset": "all", "scenario": "bank-data"}
        assert [user["id"] for user in ok(client.get("/__admin/state/users"))["users"]] == ["username"]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    """A change of the document: the value at a dotted path (list indexes as numbers) replaced."""

    def change(document: dict[str, Any]) -> Any:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[int(last) if isinstance(target, list) else last] = value
        return document

    return change


def _token_of(document: dict[str, Any], user: str | None, refresh: bool = False) -> int:
    return next(i for i, t in enumerate(document["state"]["tokens"]) if t[3] == user and t[4] is refresh)


def _config_without(key: str) -> Callable[[dict[str, Any]], Any]:
    def change(document: dict[str, Any]) -> Any:
        del document["state"]["clients"][0][4][key]
        return document

    return change


def _mismatched_grant(document: dict[str, Any]) -> Any:
    document["state"]["tokens"][_token_of(document, "username")][3] = "second"
    return document


def _duplicate_user(document: dict[str, Any]) -> Any:
    users = document["state"]["users"]
    users.append([*users[0][:1], "USERNAME", *users[0][2:]])
    return document


def _unknown_account(document: dict[str, Any]) -> Any:
    document["state"]["bank"]["users"][0]["transactions"][0][1] = 2_999_999
    return document


def _unknown_client_token(document: dict[str, Any]) -> Any:
    document["state"]["tokens"][_token_of(document, None)][1] = "nobody"
    return document


BAD_DOCUMENTS: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("a JSON array", lambda d: [d], "not a mock-finapi snapshot (its 'kind' must be 'mock-finapi snapshot')"),
    ("wrong kind", _set("kind", "wiremock"), "not a mock-finapi snapshot (its 'kind' must be 'mock-finapi snapshot')"),
    (
        "format 2",
        _set("format", 2),
        f"snapshot format 2 (written by mock-finapi {__version__}) is not the format this server reads "
        f"(1, mock-finapi {__version__})",
    ),
    ("no state", lambda d: {k: v for k, v in d.items() if k != "state"}, "state: missing, or not an object"),
    ("a negative seed", _set("seed", -1), "seed: must not be negative"),
    ("a password not a string", _set("state.users.0.2", 5), "state.users[0].password: must be a string"),
    (
        "a user row too short",
        _set("state.users.0", ["x"]),
        f"state.users[0]: must be an array of {len(User._fields)} values: {', '.join(User._fields)}",
    ),
    (
        "a client config missing a field",
        _config_without("maxUserLoginAttempts"),
        "state.clients[0].config: must hold every ClientConfiguration field, and only those",
    ),
    (
        "a client config value out of range",
        _set("state.clients.0.4.userAccessTokensValidityPeriod", 5),
        "state.clients[0].config.userAccessTokensValidityPeriod: must be 0 (never expires) or between 60 and "
        "2147483647 seconds",
    ),
    (
        "a fault rule without an action",
        _set("state.faults", [{"name": "x", "match": {}, "matched": 0, "fired": 0}]),
        "state.faults[0]: a rule needs an action: respond, delay_ms or network",
    ),
    (
        "a fault rule's probability",
        _set("state.faults", [{"name": "x", "probability": 2, "respond": {}, "matched": 0, "fired": 0}]),
        "state.faults[0].probability: must be between 0 and 1",
    ),
    (
        "a fault rule's counter",
        _set("state.faults", [{"name": "x", "respond": {}, "matched": -1, "fired": 0}]),
        "state.faults[0].matched: must be a whole number >= 0",
    ),
    (
        "a token of an unknown client",
        _unknown_client_token,
        f"state.tokens[0]: unknown client 'nobody' of mandator '{MANDATOR}'",
    ),
    ("a grant/user mismatch", _mismatched_grant, "state.tokens[1]: is not of grant 0's client and user"),
    (
        "a transaction in an unknown account",
        _unknown_account,
        "state.bank.users[0].transactions: transaction 10000001 is not in its account",
    ),
    ("duplicate user ids", _duplicate_user, "state.users[2]: 'USERNAME' appears twice"),
    (
        "a clock outside the range",
        _set("state.clock.frozen_at", 1e15),
        "state.clock.frozen_at: is outside the dates the clock can show",
    ),
    (
        "a clock offset beyond it",
        _set("state.clock.offset", -1e15),
        "state.clock.offset: is beyond the dates the clock can show",
    ),
]


def assert_still_serving(client: httpx.Client, user_token: str, users: Any) -> None:
    """The old state: the scenario, its users, and a token issued before all as they were."""
    assert ok(client.get("/__admin/version"))["scenario"] == "default-with-user"
    assert ok(client.get("/api/v2/users", headers=bearer(user_token)))["id"] == "username"
    assert ok(client.get("/__admin/state/users")) == users


@pytest.mark.parametrize(
    ("change", "problem"), [(c, p) for _, c, p in BAD_DOCUMENTS], ids=[i for i, *_ in BAD_DOCUMENTS]
)
def test_a_bad_document_is_400_naming_the_problem_and_the_old_state_keeps_serving(
    served: tuple[InProcessClient, str], document: bytes, change: Callable[[dict[str, Any]], Any], problem: str
) -> None:
    client, user_token = served
    users = ok(client.get("/__admin/state/users"))
    response = restore(client, orjson.dumps(change(orjson.loads(document))))
    assert_bad_request(response, NOT_LOADABLE + problem)
    assert_still_serving(client, user_token, users)


@pytest.mark.parametrize("body", [b"", b"{not json", b"\xff\xfe", b"null"], ids=["empty", "broken", "binary", "null"])
def test_a_body_that_is_no_json_object_is_400(served: tuple[InProcessClient, str], body: bytes) -> None:
    client, user_token = served
    users = ok(client.get("/__admin/state/users"))
    response = restore(client, body)
    message = response.json()["errors"][0]["message"]
    expected = "not a JSON document: " if body != b"null" else "not a mock-finapi snapshot"
    assert response.status_code == 400, response.text
    assert message.startswith(NOT_LOADABLE + expected), message
    assert_still_serving(client, user_token, users)


def test_a_snapshot_over_the_limit_is_413_naming_it(document: bytes) -> None:
    limit = len(document) - 1
    with emulator(max_snapshot_bytes=limit) as client:
        user_token = ok(client.post(TOKEN_PATH[2], data=password_grant()))["access_token"]
        users = ok(client.get("/__admin/state/users"))
        assert_error(
            restore(client, document), 413, "BAD_REQUEST", "TECHNICAL", MSG_SNAPSHOT_TOO_LARGE.format(limit=limit)
        )
        assert_still_serving(client, user_token, users)
    with emulator(max_snapshot_bytes=len(document)) as client:  # exactly the limit: loaded
        assert ok(restore(client, document))["scenario"] == "bank-data"


def test_the_snapshot_limit_is_the_snapshot_endpoints_and_the_admins(document: bytes) -> None:
    """A snapshot may be larger than the ordinary body limit; other endpoints keep theirs, and without the admin
    token (when one is set) the endpoint answers 401 whatever the size."""
    big = {"name": "big", "respond": {}, "match": {"path": "/" + "x" * len(document)}}
    with emulator(max_body_bytes=1000, max_snapshot_bytes=len(document)) as client:
        too_large = errors.MSG_BODY_TOO_LARGE.format(limit=1000)
        assert_error(client.post("/__admin/faults", json=big), 413, "BAD_REQUEST", "TECHNICAL", too_large)
        assert ok(restore(client, document))["scenario"] == "bank-data"
    with emulator(admin_token="admin-secret", max_body_bytes=1000, max_snapshot_bytes=len(document)) as client:
        response = restore(client, document)
        assert response.json() == {"error": "invalid_token", "error_description": MSG_ADMIN_TOKEN}
        assert response.status_code == 401
        headers = {**bearer("admin-secret"), "Content-Type": "application/json"}
        assert ok(client.post(PATH, content=document, headers=headers))["scenario"] == "bank-data"


def test_the_admin_token_guards_both_methods(document: bytes) -> None:
    with emulator(admin_token="admin-secret") as client:
        user_token = ok(client.post(TOKEN_PATH[2], data=password_grant()))["access_token"]
        users = ok(client.get("/__admin/state/users", headers=bearer("admin-secret")))
        for given in ({}, bearer("wrong")):
            response = client.get(PATH, headers=given)
            assert (response.status_code, response.json()["error_description"]) == (401, MSG_ADMIN_TOKEN)
            response = client.post(PATH, content=document, headers=given)
            assert response.json() == {"error": "invalid_token", "error_description": MSG_ADMIN_TOKEN}
            assert response.status_code == 401
        assert ok(client.get("/api/v2/users", headers=bearer(user_token)))["id"] == "username"
        assert ok(client.get("/__admin/state/users", headers=bearer("admin-secret"))) == users

        own = ok(client.get(PATH, headers=bearer("admin-secret")))
        assert own["scenario"]["name"] == "default-with-user"
        answer = ok(client.post(PATH, content=document, headers=bearer("admin-secret")))
        assert answer == {"status": "ok", "scenario": "bank-data", "seed": 1}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_without_admin_the_snapshot_endpoint_is_404(document: bytes, method: str) -> None:
    with emulator(admin=False) as client:
        response = client.request(method, PATH, content=document if method == "POST" else None)
        assert_unknown(response, errors.MSG_NO_ENDPOINT.format(method=method, path=PATH))


def test_a_snapshot_holds_the_secrets_a_restored_server_needs_for_logins(document: bytes) -> None:
    """Documented: a snapshot holds client secrets and user passwords in the clear (the emulator's fake ones), so
    that a restored server lets the same clients and users log in."""
    saved = orjson.loads(document)
    records, state = saved["records"], saved["state"]
    clients = {row[0]: row[records["Client"].index("secret")] for row in state["clients"]}
    assert clients[CLIENT_ID] == CLIENT_SECRET
    passwords = {row[1]: row[records["User"].index("password")] for row in state["users"]}
    assert passwords == {"username": "password", "second": "second-password"}

    with other_client("default") as client:
        assert client.post(TOKEN_PATH[2], data=password_grant("second", "second-password")).status_code == 400
        ok(restore(client, document))
        tokens = ok(client.post(TOKEN_PATH[2], data=password_grant("second", "second-password")))
        assert ok(client.get("/api/v2/users", headers=bearer(tokens["access_token"])))["id"] == "second"
