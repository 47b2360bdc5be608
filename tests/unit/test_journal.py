"""The request journal: entries kept by the store as they came (`record`, `journal`, `count_journal`,
`clear_journal`), masked when read (services/journal.py); the query and limit the admin API takes."""

from __future__ import annotations

import base64
import fnmatch
from typing import Any

import orjson
import pytest

from mock_finapi.bodies import MAX_JSON_DEPTH
from mock_finapi.clock import ClockState
from mock_finapi.services import journal
from mock_finapi.state import models
from mock_finapi.state.memory import MemoryStore
from mock_finapi.state.models import Entry, JournalQuery, path_matches
from mock_finapi.validation import Invalid

pytestmark = pytest.mark.anyio

FORM = b"application/x-www-form-urlencoded"
JSON = b"application/json"
T = 1_767_254_400.0
"""2026-01-01T09:00:00+01:00"""


def entry(
    request_id: str,
    body: bytes | None = b"grant_type=password&password=secret",
    *,
    fault: str | None = None,
    path: str = "/api/v2/oauth/token",
    content_type: bytes | None = FORM,
    **fields: Any,
) -> Entry:
    made = Entry(T, 0.0015, "POST", path, b"", 200, request_id, None, None, fault, None, content_type, body)
    return made._replace(**fields)


def ids(entries: list[Entry]) -> list[str]:
    return [e.request_id for e in entries]


def store(size: int) -> MemoryStore:
    return MemoryStore(1, ClockState(), journal_size=size)


async def test_reads_between_writes_see_every_entry_newest_first_and_masked() -> None:
    kept = store(4)
    for n in range(3):
        await kept.record(entry(f"r{n}"))
    assert ids(await kept.journal(JournalQuery(), 1)) == ["r2"]
    for n in range(3, 6):  # the ring drops r0 and r1
        await kept.record(entry(f"r{n}"))
    everything = await kept.journal(JournalQuery())
    assert ids(everything) == ["r5", "r4", "r3", "r2"]
    assert {journal.view(e)["body"]["password"] for e in everything} == {"***"}
    assert await kept.count_journal(JournalQuery()) == 4


async def test_entries_are_kept_as_they_came_and_masked_only_when_read() -> None:
    kept = store(4)
    raw = entry("r0")
    await kept.record(raw)
    assert await kept.journal(JournalQuery()) == [raw]
    assert raw.body == b"grant_type=password&password=secret"


async def test_clear_with_a_query_keeps_the_others_in_order_and_recording_goes_on() -> None:
    kept = store(5)
    for n in range(4):
        await kept.record(entry(f"r{n}", fault="flaky" if n % 2 else None))
    assert ids(await kept.journal(JournalQuery(), 1)) == ["r3"]
    await kept.record(entry("r4", fault="flaky"))
    assert await kept.clear_journal(JournalQuery(fault="flaky")) == 3
    await kept.record(entry("r5"))
    assert ids(await kept.journal(JournalQuery())) == ["r5", "r2", "r0"]
    assert await kept.clear_journal() == 3
    assert await kept.journal(JournalQuery()) == []


async def test_a_journal_of_size_0_keeps_nothing() -> None:
    kept = store(0)
    await kept.record(entry("r0"))
    assert (await kept.journal(JournalQuery()), await kept.count_journal(JournalQuery())) == ([], 0)


def test_a_view_has_the_virtual_time_and_real_duration_of_the_request() -> None:
    shown = journal.view(entry("r1", time=T + 2.25, duration=0.25, method="GET", path="/api/v2/users", body=None))
    assert (shown["time"], shown["durationMs"]) == ("2026-01-01T09:00:02.250+01:00", 250.0)


def test_a_view_shows_every_field_with_secrets_masked() -> None:
    shown = journal.view(
        entry(
            "r1",
            b'{"id": "alice", "password": "alice-secret", "nested": {"refresh_token": "abcdefgh"}}',
            content_type=JSON,
            query_string=b"client_secret=s3cret&limit=5&access_token=abcdefgh",
            authorization=b"Bearer 0123456789",
            client_id="c",
            mandator_id="m",
            fault="flaky",
            status=503,
        )
    )
    assert shown == {
        "time": "2026-01-01T09:00:00.000+01:00",
        "method": "POST",
        "path": "/api/v2/oauth/token",
        "query": {"client_secret": "***", "limit": "5", "access_token": "abcd…"},
        "status": 503,
        "durationMs": 1.5,
        "requestId": "r1",
        "clientId": "c",
        "mandatorId": "m",
        "fault": "flaky",
        "authorization": "Bearer 0123…",
        "body": {"id": "alice", "password": "***", "nested": {"refresh_token": "abcd…"}},
    }


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(None, FORM), (b"", FORM), (b"not json", JSON), (b"[1, 2]", JSON), (b"a=1", b"text/plain"), (b"a=1", None)],
)
def test_a_body_that_is_no_form_or_json_object_is_not_shown(body: bytes | None, content_type: bytes | None) -> None:
    assert journal.view(entry("r1", body, content_type=content_type))["body"] is None


def test_a_view_says_when_the_body_was_cut_and_shows_none_of_its_fields() -> None:
    assert "bodyTruncated" not in journal.view(entry("r1"))
    cut = journal.view(entry("r1", b"grant_type=password&pad=xyz&passw", truncated=True))  # a form's prefix parses
    assert (cut["body"], cut["bodyTruncated"]) == (None, True)


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/api/v1/processes/3f1c6a52-8d0e", "/api/v1/processes/3f1c…"),
        ("/api/v1/processes/3f1c6a52-8d0e/x", "/api/v1/processes/3f1c…/x"),
        ("/api/v1/processes/m-1/link", "/api/v1/processes/m-1/link"),
        ("/api/v1/processes/", "/api/v1/processes/"),
        ("/__admin/tokens/abcdefgh/expire", "/__admin/tokens/abcd…/expire"),
        ("/__admin/tokens//expire", "/__admin/tokens//expire"),
        ("/api/v2/users", "/api/v2/users"),
        # every other spelling of a path that carries a token: any case, repeated slashes, any version
        ("/api/v1//processes/3f1c6a52-8d0e", "/api/v1//processes/3f1c…"),
        ("/api/v1/processes//3f1c6a52-8d0e", "/api/v1/processes//3f1c…"),
        ("//api//v1//processes//3f1c6a52-8d0e//", "//api//v1//processes//3f1c…//"),
        ("/API/v1/processes/3f1c6a52-8d0e", "/API/v1/processes/3f1c…"),
        ("/api/V1/PROCESSES/3f1c6a52-8d0e", "/api/V1/PROCESSES/3f1c…"),
        ("/api/v1/proceſſes/3f1c6a52-8d0e", "/api/v1/proceſſes/3f1c…"),  # what IGNORECASE takes for an s
        ("/api/v2/processes/3f1c6a52-8d0e", "/api/v2/processes/3f1c…"),
        ("/api/v99/Processes/3f1c6a52-8d0e/exchange", "/api/v99/Processes/3f1c…/exchange"),
        ("/api/v1/processes/m-1/LINK", "/api/v1/processes/***/LINK"),  # a wrong spelling of link: masked
        ("/api/v1//processes/m-1/link", "/api/v1//processes/m-1/link"),
        ("/api/v1/processes//link", "/api/v1/processes//link"),
        ("/__admin//tokens/abcdefgh/expire", "/__admin//tokens/abcd…/expire"),
        ("/__admin/tokens//abcdefgh//expire", "/__admin/tokens//abcd…//expire"),
        ("/__ADMIN/TOKENS/abcdefgh/EXPIRE", "/__ADMIN/TOKENS/abcd…/EXPIRE"),
        ("/__admin/tokens/abcdefgh", "/__admin/tokens/abcd…"),
        ("/api/v2/users/processes", "/api/v2/users/processes"),
    ],
)
def test_tokens_in_paths_keep_only_their_first_characters(path: str, shown: str) -> None:
    assert journal.mask_path(path) == shown
    assert journal.view(entry("r1", path=path))["path"] == shown


@pytest.mark.parametrize(
    ("key", "value", "masked"),
    [
        ("password", "pw", "***"),
        ("newPassword", "pw", "***"),
        ("client_secret", "s", "***"),
        ("clientSecret", 5, "***"),
        ("token", "abcdefgh", "abcd…"),
        ("passwordChangeToken", "abcdefgh", "abcd…"),
        ("refresh_token", "abc", "***"),
        ("access_token", ["a", "b"], "***"),
        ("password", None, None),
        ("id", "alice", "alice"),
        ("items", [{"password": "x", "id": 1}], [{"password": "***", "id": 1}]),
        ("finTSProductRegistrationNumber", "ABCDEF1234567890ABCDEF123", "***"),  # v1's PATCH clientConfiguration
        ("fintsproductregistrationnumber", "ABCDEF1234567890ABCDEF123", "***"),
    ],
)
def test_mask_value_hides_secrets_and_keeps_token_prefixes(key: str, value: Any, masked: Any) -> None:
    assert journal.mask_value(key, value) == masked


@pytest.mark.parametrize(
    ("header", "masked"),
    [
        (None, None),
        ("Bearer 0123456789", "Bearer 0123…"),
        ("bearer  0123456789 ", "bearer 0123…"),
        ("Basic " + base64.b64encode(b"c:s").decode(), "Basic ***"),
        ("0123456789", "0123…"),
        ("abc", "***"),
    ],
)
def test_mask_authorization_keeps_the_scheme_and_a_bearer_prefix(header: str | None, masked: str | None) -> None:
    assert journal.mask_authorization(header) == masked


@pytest.mark.parametrize(
    ("fields", "authorization", "client_id"),
    [
        ({"client_id": "a"}, "", "a"),
        ({"clientId": "b"}, "", "b"),
        ({"client_id": "a", "clientId": "b"}, "", "a"),
        ({"client_id": 5}, "", None),
        ({}, "Basic " + base64.b64encode(b"c:s").decode(), "c"),
        ({"client_id": "a"}, "Basic " + base64.b64encode(b"c:s").decode(), "a"),
        ({}, "Bearer token", None),
        ({}, "", None),
    ],
)
def test_named_client_comes_from_the_fields_or_http_basic(
    fields: dict[str, Any], authorization: str, client_id: str | None
) -> None:
    assert journal.named_client(fields, authorization) == client_id


# the admin API's query and limit
def test_parse_query_reads_every_criterion() -> None:
    params = {"method": "post", "path": "*/token", "status": "503", "clientId": "c", "mandator": "m", "fault": "f"}
    assert journal.parse_query(params) == JournalQuery("post", "*/token", 503, "c", "m", "f")
    assert journal.parse_query({"status": 200}) == JournalQuery(status=200)  # JSON (POST /__admin/requests/count)
    assert journal.parse_query({}) == JournalQuery()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"methd": "GET"}, "methd: unknown key (did you mean 'method'? allowed: "),
        ({"status": "2xx"}, "status: must be an integer, not a string"),
        ({"status": "-1"}, "status: must be an integer, not a string"),
        ({"status": True}, "status: must be an integer, not a boolean"),
        ({"path": 5}, "path: must be a string, not an integer"),
        ({"path": "/" + "a" * 400}, "path: must be at most 400 characters"),
    ],
)
def test_parse_query_refuses_unknown_or_malformed_criteria(params: dict[str, Any], message: str) -> None:
    with pytest.raises(Invalid) as caught:
        journal.parse_query(params)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(("value", "limit"), [(None, None), ("0", 0), ("25", 25), ("007", 7)])
def test_parse_limit_takes_a_non_negative_integer(value: str | None, limit: int | None) -> None:
    assert journal.parse_limit(value) == limit


@pytest.mark.parametrize("value", ["-1", "1.5", "ten", "", "1e3", "9" * 10])
def test_parse_limit_refuses_anything_else(value: str) -> None:
    with pytest.raises(Invalid, match=r"^limit: must be a non-negative integer$"):
        journal.parse_limit(value)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/api/v2/users", "/api/v2/users", True),
        ("/api/v2/users", "/api/v2/users/x", False),
        ("/api/v2/users*", "/api/v2/users/x", True),
        ("*/oauth/token", "/oauth/token", True),
        ("/api/v?/users", "/api/v1/users", True),
        ("/api/v[12]/users", "/api/v3/users", False),
        ("/API/v2/users", "/api/v2/users", False),
    ],
)
def test_paths_match_exactly_or_as_a_case_sensitive_glob(pattern: str, path: str, expected: bool) -> None:
    assert path_matches(pattern, path) is expected
    assert JournalQuery(path=pattern).selects(entry("r", path=path)) is expected


def nested(depth: int, leaf: Any) -> Any:
    """Objects and arrays in turn, `depth` deep, around `leaf`."""
    value = leaf
    for level in range(depth):
        value = {"a": value} if level % 2 else [value]
    return value


def test_masking_a_body_as_deep_as_a_body_can_be_shows_all_of_it() -> None:
    deepest = nested(MAX_JSON_DEPTH - 2, {"password": "pw", "id": "x"})  # with the body object: MAX_JSON_DEPTH deep
    body = orjson.dumps({"b": deepest})
    assert body.count(b"[") + body.count(b"{") == MAX_JSON_DEPTH
    assert journal.view(entry("r1", body, content_type=JSON))["body"] == {
        "b": nested(MAX_JSON_DEPTH - 2, {"password": "***", "id": "x"})
    }


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 100_000])
def test_masking_never_recurses_without_bound(depth: int) -> None:
    masked = journal.mask_fields({"b": nested(depth, {"password": "pw"})})
    value, level = masked["b"], 2  # the body object is 1 deep
    while value != journal.MASK:  # what lies deeper than MAX_JSON_DEPTH is masked whole
        value, level = value["a"] if isinstance(value, dict) else value[0], level + 1
    assert level == MAX_JSON_DEPTH + 1


def test_glob_filters_are_compiled_in_a_bounded_cache_of_their_own() -> None:
    fnmatch_cache = fnmatch._compile_pattern.cache_info().currsize  # type: ignore[attr-defined]
    for n in range(1_000):
        assert path_matches(f"/api/v2/users/{n}*", f"/api/v2/users/{n}") is True
    assert fnmatch._compile_pattern.cache_info().currsize == fnmatch_cache  # type: ignore[attr-defined]
    assert models._glob.cache_info().currsize <= 256
