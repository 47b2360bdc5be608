"""`/__admin/requests`: the request journal, its filters, count, delete and size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mock_finapi import bodies
from mock_finapi.services import journal as journal_service
from tests.api.admin_helpers import (
    GUARDED,
    MANDATOR,
    NOW,
    assert_illegal,
    emulator,
    journal,
    masked,
    ok,
    request_ids,
    rid,
)
from tests.helpers import CLIENT_CREDENTIALS, CLIENT_ID, TOKEN_PATH, bearer, password_grant


def test_journal_lists_requests_newest_first_with_their_masked_details(client: httpx.Client) -> None:
    access = ok(client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS, headers=rid("first")))["access_token"]
    client.get("/api/v2/clientConfiguration", headers={**bearer(access), **rid("second")})
    client.get("/api/v1/nothing", params={"q": "1"}, headers=rid("third"))

    assert journal(client) == [
        {
            "time": NOW,
            "method": "GET",
            "path": "/api/v1/nothing",
            "query": {"q": "1"},
            "status": 404,
            "requestId": "third",
            "clientId": None,
            "mandatorId": None,
            "fault": None,
            "authorization": None,
            "body": None,
        },
        {
            "time": NOW,
            "method": "GET",
            "path": "/api/v2/clientConfiguration",
            "query": {},
            "status": 200,
            "requestId": "second",
            "clientId": CLIENT_ID,
            "mandatorId": MANDATOR,
            "fault": None,
            "authorization": f"Bearer {masked(access)}",
            "body": None,
        },
        {
            "time": NOW,
            "method": "POST",
            "path": "/api/v2/oauth/token",
            "query": {},
            "status": 200,
            "requestId": "first",
            "clientId": CLIENT_ID,
            "mandatorId": MANDATOR,
            "fault": None,
            "authorization": None,
            "body": {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "***"},
        },
    ]


@pytest.fixture
def filled(client: httpx.Client) -> httpx.Client:
    """A journal of six requests of every kind the filters tell apart (oldest first: cc … faulted)."""
    ok(
        client.post(
            "/__admin/faults", json={"name": "boom", "match": {"path": "/api/v2/users"}, "respond": {"status": 503}}
        ),
        201,
    )
    access = ok(client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS, headers=rid("cc")))["access_token"]
    client.post(TOKEN_PATH[2], data=password_grant("username", "wrong"), headers=rid("bad-password"))
    client.get("/api/v2/clientConfiguration", headers={**bearer(access), **rid("config")})
    client.get("/api/v1/clientConfiguration", headers={**bearer(access), **rid("v1-config")})
    client.get("/api/v2/nothing", headers=rid("unknown"))
    client.get("/api/v2/users", headers=rid("faulted"))
    return client


QUERY_KEYS = "method, path, status, clientId, mandator, fault"
ALL = ["faulted", "unknown", "v1-config", "config", "bad-password", "cc"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ALL),
        ({"method": "GET"}, ["faulted", "unknown", "v1-config", "config"]),
        ({"method": "post"}, ["bad-password", "cc"]),
        ({"path": "/api/v2/clientConfiguration"}, ["config"]),
        ({"path": "/api/v2"}, []),
        ({"path": "/api/*/clientConfiguration"}, ["v1-config", "config"]),
        ({"path": "/api/v?/*"}, ALL),
        ({"path": "*/oauth/token"}, ["bad-password", "cc"]),
        ({"status": "404"}, ["unknown"]),
        ({"status": "200", "method": "POST"}, ["cc"]),
        ({"clientId": CLIENT_ID}, ["v1-config", "config", "bad-password", "cc"]),
        ({"clientId": "someone-else"}, []),
        ({"mandator": MANDATOR}, ["v1-config", "config", "bad-password", "cc"]),
        ({"fault": "boom"}, ["faulted"]),
        ({"limit": "2"}, ["faulted", "unknown"]),
        ({"limit": "1", "method": "POST"}, ["bad-password"]),
        ({"limit": "0"}, []),
        ({"limit": "100"}, ALL),
    ],
    ids=[
        "all",
        "method",
        "method-lower-case",
        "path-exact",
        "path-exact-is-no-prefix",
        "path-glob",
        "path-glob-question-mark",
        "path-glob-both-versions",
        "status",
        "status-and-method",
        "client",
        "other-client",
        "mandator",
        "fault",
        "limit",
        "limit-after-filter",
        "limit-zero",
        "limit-beyond",
    ],
)
def test_journal_filters_select_the_matching_requests(
    filled: httpx.Client, params: dict[str, str], expected: list[str]
) -> None:
    assert request_ids(filled, **params) == expected


def test_journal_records_the_fault_that_answered(filled: httpx.Client) -> None:
    entry = journal(filled, fault="boom")[0]
    assert (entry["path"], entry["status"], entry["fault"]) == ("/api/v2/users", 503, "boom")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("clientid=x", "clientid: unknown key (did you mean 'clientId'? allowed: " + QUERY_KEYS + ")"),
        ("status=ok", "status: must be an integer, not a string"),
        ("status=²", "status: must be an integer, not a string"),
        ("limit=-1", "limit: must be a non-negative integer"),
        ("limit=1.5", "limit: must be a non-negative integer"),
        ("limit=²", "limit: must be a non-negative integer"),
    ],
)
def test_journal_refuses_bad_filters_with_400(client: httpx.Client, query: str, message: str) -> None:
    assert_illegal(client.get(f"/__admin/requests?{query}"), message)


@pytest.mark.parametrize(
    ("matcher", "count"),
    [
        ({}, 6),
        ({"path": "/api/*/clientConfiguration"}, 2),
        ({"status": 404}, 1),
        ({"status": "503", "fault": "boom"}, 1),
        ({"method": "POST", "clientId": CLIENT_ID, "mandator": MANDATOR}, 2),
        ({"method": "DELETE"}, 0),
    ],
    ids=["everything", "glob", "status-number", "status-string", "several", "none"],
)
def test_requests_count_counts_what_the_matcher_selects(
    filled: httpx.Client, matcher: dict[str, Any], count: int
) -> None:
    assert ok(filled.post("/__admin/requests/count", json=matcher)) == {"count": count}


def test_requests_count_without_a_body_counts_everything(filled: httpx.Client) -> None:
    assert ok(filled.post("/__admin/requests/count")) == {"count": 6}


@pytest.mark.parametrize(
    ("matcher", "message"),
    [
        ({"limit": 1}, "limit: unknown key (allowed: " + QUERY_KEYS + ")"),
        ({"status": True}, "status: must be an integer, not a boolean"),
        ({"status": 200.5}, "status: must be an integer, not a number"),
        ({"path": ["/api/v2/users"]}, "path: must be a string, not a list"),
    ],
)
def test_requests_count_refuses_a_bad_matcher_with_400(
    client: httpx.Client, matcher: dict[str, Any], message: str
) -> None:
    assert_illegal(client.post("/__admin/requests/count", json=matcher), message)


def test_delete_requests_clears_the_journal(filled: httpx.Client) -> None:
    assert ok(filled.delete("/__admin/requests")) == {"deleted": 6}
    assert journal(filled) == []
    assert ok(filled.delete("/__admin/requests")) == {"deleted": 0}


def test_delete_requests_with_a_filter_clears_only_the_matching_entries(filled: httpx.Client) -> None:
    assert ok(filled.delete("/__admin/requests", params={"path": "*/clientConfiguration"})) == {"deleted": 2}
    assert request_ids(filled) == ["faulted", "unknown", "bad-password", "cc"]


def test_journal_records_again_after_a_delete(filled: httpx.Client) -> None:
    ok(filled.delete("/__admin/requests"))
    filled.get("/api/v2/nothing", headers=rid("after"))
    assert request_ids(filled) == ["after"]


def test_journal_is_a_ring_buffer_of_journal_size_entries() -> None:
    with emulator(journal_size=3) as client:
        for n in range(5):
            client.get("/api/v2/nothing", headers=rid(f"r{n}"))
        assert request_ids(client) == ["r4", "r3", "r2"]
        assert ok(client.post("/__admin/requests/count")) == {"count": 3}


def test_journal_size_zero_records_nothing() -> None:
    with emulator(journal_size=0) as client:
        client.get("/api/v2/nothing")
        assert journal(client) == []


def test_admin_calls_are_not_journaled(client: httpx.Client) -> None:
    for method, path, _ in GUARDED:
        client.request(method, path)
    client.get("/__admin/health")
    client.get("/__admin/nothing")
    client.post("/__admin/clock", json={"advance": 1})

    assert journal(client) == []


def test_journal_shows_form_fields_and_query_parameters_in_the_order_sent(client: httpx.Client) -> None:
    """The README's journal example (issue 17): fields as the request sent them, a repeated one with its first value
    (the one the endpoint used), with and without percent-encoding."""
    form = "grant_type=client_credentials&client_id=" + CLIENT_ID + "&client_secret=x%20y&grant_type=password&a=1"
    client.post(TOKEN_PATH[2] + "?z=1&b=2&z=3", content=form, headers={"Content-Type": bodies.FORM})
    client.post(TOKEN_PATH[2], content="b=1&a=2&b=3", headers={"Content-Type": bodies.FORM})

    [plain, encoded] = journal(client)
    assert list(plain["body"].items()) == [("b", "1"), ("a", "2")]
    assert list(encoded["body"].items()) == [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT_ID),
        ("client_secret", "***"),
        ("a", "1"),
    ]
    assert list(encoded["query"].items()) == [("z", "1"), ("b", "2")]


# bounds (issue 16, points 3 and 4)
JOURNAL_BODY_BYTES = 16 * 1024
MiB = 1024 * 1024
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def form_of_size(size: int) -> str:
    """A client-credentials form of exactly `size` bytes (a padding field last)."""
    head = "&".join(f"{key}={value}" for key, value in CLIENT_CREDENTIALS.items()) + "&pad="
    return head + "p" * (size - len(head))


def test_a_body_up_to_16_kib_is_shown_whole(client: httpx.Client) -> None:
    form = form_of_size(JOURNAL_BODY_BYTES)
    ok(client.post(TOKEN_PATH[2], content=form, headers=FORM))

    [entry] = journal(client)
    assert "bodyTruncated" not in entry
    assert entry["body"] == {**CLIENT_CREDENTIALS, "client_secret": "***", "pad": form.rpartition("=")[2]}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (form_of_size(JOURNAL_BODY_BYTES + 1).encode(), FORM["Content-Type"]),  # its 16 KiB prefix parses as a form
        (b'{"id": "alice", "password": "' + b"p" * (MiB - 31) + b'"}', "application/json"),  # the largest body
    ],
    ids=["form-16KiB+1", "json-1MiB"],
)
def test_a_body_beyond_16_kib_is_shown_truncated_without_its_fields(
    client: httpx.Client, body: bytes, content_type: str
) -> None:
    assert len(body) <= MiB
    client.post("/api/v2/users", content=body, headers={"Content-Type": content_type})

    [entry] = journal(client)
    assert (entry["path"], entry["body"], entry["bodyTruncated"]) == ("/api/v2/users", None, True)


def test_reading_with_limit_1_parses_and_masks_one_entry(client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(50):
        client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS, headers=rid(f"r{n}"))
    calls = {"view": 0, "fields": 0}

    def counted(name: str, function: Any) -> Any:
        def call(*args: Any) -> Any:
            calls[name] += 1
            return function(*args)

        return call

    monkeypatch.setattr(journal_service, "view", counted("view", journal_service.view))
    monkeypatch.setattr(bodies, "fields", counted("fields", bodies.fields))
    assert request_ids(client, limit="1") == ["r49"]
    assert request_ids(client, limit="1", method="POST", path="*/token") == ["r49"]
    assert calls == {"view": 2, "fields": 2}


FILTERS = ["method", "path", "clientId", "mandator", "fault"]


def filter_text(key: str, length: int) -> str:
    return "/" + "p" * (length - 1) if key == "path" else "x" * length


@pytest.mark.parametrize("key", FILTERS)
def test_journal_filters_take_at_most_400_characters(client: httpx.Client, key: str) -> None:
    client.get("/api/v2/nothing")
    reads: list[Callable[[dict[str, str]], httpx.Response]] = [
        lambda params: client.get("/__admin/requests", params=params),
        lambda params: client.post("/__admin/requests/count", json=params),
        lambda params: client.delete("/__admin/requests", params=params),
    ]
    for read in reads:
        answer = read({key: filter_text(key, 400)})
        assert answer.status_code == 200, answer.text
        assert_illegal(read({key: filter_text(key, 401)}), f"{key}: must be at most 400 characters")
    assert len(journal(client)) == 1  # nothing matched the filters, and the refused ones deleted nothing
