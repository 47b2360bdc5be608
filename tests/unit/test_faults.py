"""Fault rules without HTTP: validation naming the key, schedule semantics, seeded probability, matching."""

from __future__ import annotations

from typing import Any

import pytest

from mock_finapi.clock import ClockState
from mock_finapi.errors import ScenarioError
from mock_finapi.scenarios import loader
from mock_finapi.services.faults import MAX_DELAY_MS, FaultRequest, count_view, matches, parse_rule, pick, view
from mock_finapi.state.memory import MemoryStore
from mock_finapi.state.models import FaultRule
from mock_finapi.state.protocol import Store, TokenPolicy
from mock_finapi.validation import Invalid
from tests.unit.support import make_world, now_of

pytestmark = pytest.mark.anyio

RESPOND = {"respond": {"status": 503}}
SCENARIO = """\
name: probabilistic
clients:
  - {client_id: c, client_secret: s}
faults:
  - name: coin
    match: {path: /api/v2/oauth/token}
    probability: 0.5
    respond: {status: 503}
"""


def rule(**data: Any) -> FaultRule:
    return parse_rule({"name": "r", **data}, "default")


def faults(*rules: FaultRule, seed: int = 1) -> MemoryStore:
    """A store holding `rules` and nothing else."""
    store = MemoryStore(seed, ClockState())
    store.load_faults(rules)
    return store


async def fired(store: Store, requests: int, path: str = "/api/v2/oauth/token") -> list[str | None]:
    """The name of the rule that fired for each of `requests` identical requests (None: let through)."""
    names = []
    for _ in range(requests):
        rules = (await store.prepare()).faults  # as every request reads them
        picked = await pick(store, rules, FaultRequest("POST", path, {}, None))
        names.append(picked.name if picked else None)
    return names


# validation
@pytest.mark.parametrize(
    ("data", "key", "problem"),
    [
        ([], "", "must be a mapping, not a list"),
        ({"retries": 3, **RESPOND}, "retries", "unknown key"),
        ({"name": 5, **RESPOND}, "name", "must be a string, not an integer"),
        ({"name": "", **RESPOND}, "name", "non-empty"),
        ({"name": " padded", **RESPOND}, "name", "surrounding spaces"),
        ({"name": "two\nlines", **RESPOND}, "name", "header-safe"),
        ({"name": "euro €", **RESPOND}, "name", "header-safe"),
        ({"match": "/api/v2/users", **RESPOND}, "match", "must be a mapping, not a string"),
        ({"match": {"verb": "GET"}, **RESPOND}, "match.verb", "unknown key"),
        ({"match": {"method": 5}, **RESPOND}, "match.method", "must be a string, not an integer"),
        ({"match": {"method": "GET POST"}, **RESPOND}, "match.method", "HTTP method"),
        ({"match": {"path": ["/a"]}, **RESPOND}, "match.path", "must be a string, not a list"),
        ({"match": {"path": "api/v2/users"}, **RESPOND}, "match.path", "must start with '/'"),
        ({"match": {"client_id": 7}, **RESPOND}, "match.client_id", "must be a string, not an integer"),
        ({"match": {"client_id": ""}, **RESPOND}, "match.client_id", "must not be empty"),
        ({"match": {"fields": ["grant_type"]}, **RESPOND}, "match.fields", "must be a mapping, not a list"),
        ({"match": {"fields": {"grant_type": ["password"]}}, **RESPOND}, "match.fields.grant_type", "string, number"),
        ({"match": {"fields": {1: "x"}}, **RESPOND}, "match.fields", "keys must be strings, not an integer 1"),
        ({"after": -1, **RESPOND}, "after", "must not be negative"),
        ({"after": "2", **RESPOND}, "after", "must be an integer, not a string"),
        ({"after": True, **RESPOND}, "after", "must be an integer, not a boolean"),
        ({"after": 1.5, **RESPOND}, "after", "must be an integer, not a number"),
        ({"times": -1, **RESPOND}, "times", "must not be negative"),
        ({"times": "twice", **RESPOND}, "times", "must be an integer, not a string"),
        ({"probability": 1.5, **RESPOND}, "probability", "between 0 and 1"),
        ({"probability": -0.1, **RESPOND}, "probability", "between 0 and 1"),
        ({"probability": float("nan"), **RESPOND}, "probability", "between 0 and 1"),
        ({"probability": "half", **RESPOND}, "probability", "must be a number, not a string"),
        ({"delay_ms": -1}, "delay_ms", "between 0"),
        ({"delay_ms": MAX_DELAY_MS + 1}, "delay_ms", "between 0"),
        ({"delay_ms": 0.5}, "delay_ms", "must be an integer, not a number"),
        ({"network": "timeout"}, "network", "connection_reset, empty_response, malformed_json"),
        ({"network": "connection_reset", **RESPOND}, "network", "not both"),
        ({}, "", "needs an action"),
        ({"delay_ms": 0}, "", "needs an action"),
        ({"match": {"path": "/a"}}, "", "needs an action"),
        ({"respond": 503}, "respond", "must be a mapping, not an integer"),
        ({"respond": {"code": "X"}}, "respond.code", "unknown key"),
        ({"respond": {"status": 99}}, "respond.status", "between 200 and 599"),
        ({"respond": {"status": 600}}, "respond.status", "between 200 and 599"),
        ({"respond": {"status": "503"}}, "respond.status", "must be an integer, not a string"),
        ({"respond": {"headers": ["Retry-After"]}}, "respond.headers", "must be a mapping, not a list"),
        ({"respond": {"headers": {"Retry-After": 1.5}}}, "respond.headers.Retry-After", "must be a string"),
        ({"respond": {"headers": {"Retry-After": True}}}, "respond.headers.Retry-After", "must be a string"),
        ({"respond": {"headers": {"Bad Name": "x"}}}, "respond.headers.Bad Name", "header name"),
        ({"respond": {"headers": {"X-A": "x\r\nX-Injected: 1"}}}, "respond.headers.X-A", "valid in an HTTP header"),
        ({"respond": {"headers": {"X-A": "€"}}}, "respond.headers.X-A", "valid in an HTTP header"),
        ({"respond": {"headers": {"Content-Length": "3"}}}, "respond.headers.Content-Length", "cannot be set"),
        ({"respond": {"headers": {"transfer-encoding": "chunked"}}}, "respond.headers.transfer-encoding", "cannot"),
        ({"respond": {"status": 204, "body": {"a": 1}}}, "respond.body", "a 204 response has no body"),
    ],
)
def test_invalid_rule_is_refused_naming_the_key(data: Any, key: str, problem: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_rule(data, "default")
    assert caught.value.path == key
    assert problem in caught.value.problem
    assert str(caught.value) == (f"{key}: {caught.value.problem}" if key else caught.value.problem)


def test_minimal_rule_takes_the_defaults() -> None:
    parsed = parse_rule({"respond": {}}, "fault-1")
    assert parsed == FaultRule(name="fault-1", status=503)
    assert (parsed.after, parsed.times, parsed.probability, parsed.delay_ms, parsed.network) == (0, None, 1.0, 0, None)


def test_null_values_take_the_defaults() -> None:
    data = {
        "name": None,
        "match": {"method": None, "path": None, "fields": None, "client_id": None},
        "after": None,
        "times": None,
        "probability": None,
        "delay_ms": None,
        "network": None,
        "respond": {"status": None, "headers": None, "body": None},
    }
    assert parse_rule(data, "fault-3") == FaultRule(name="fault-3", status=503)
    assert parse_rule({"match": None, "respond": None, "delay_ms": 5}, "d") == FaultRule(name="d", delay_ms=5)


def test_rule_values_are_normalised() -> None:
    parsed = rule(
        match={"method": "post", "fields": {"flag": True, "off": False, "count": 3, "grant_type": "password"}},
        respond={"status": 503, "headers": {"Retry-After": 1}},
    )
    assert parsed.method == "POST"
    assert parsed.fields == {"flag": "true", "off": "false", "count": "3", "grant_type": "password"}
    assert parsed.headers == {"Retry-After": "1"}
    assert isinstance(parsed.probability, float)


def test_a_rules_view_parses_back_to_the_same_rule() -> None:
    for data in (
        {
            "match": {
                "method": "POST",
                "path": "*/oauth/token",
                "fields": {"grant_type": "password"},
                "client_id": "c",
            },
            "after": 1,
            "times": 2,
            "probability": 0.25,
            "delay_ms": 10,
            "respond": {"status": 429, "headers": {"Retry-After": "5"}, "body": {"custom": [1, 2]}},
        },
        {"match": {"path": "/api/v2/users"}, "network": "empty_response"},
        {"delay_ms": 300},
    ):
        parsed = rule(**data)
        assert parse_rule(view(parsed), "other") == parsed


def test_a_view_shows_only_the_match_keys_given_and_the_action() -> None:
    assert view(rule(match={"path": "/a"}, network="connection_reset")) == {
        "name": "r",
        "match": {"path": "/a"},
        "after": 0,
        "times": None,
        "probability": 1.0,
        "delay_ms": 0,
        "network": "connection_reset",
    }
    assert view(rule(**RESPOND))["respond"] == {"status": 503, "headers": {}, "body": None}


def test_scenario_file_with_a_broken_rule_names_file_line_and_key() -> None:
    text = SCENARIO + "  - name: broken\n    match: {method: 5}\n    delay_ms: 1\n"
    with pytest.raises(ScenarioError) as caught:
        loader.load_text(text, "faulty.yaml")
    assert str(caught.value) == "faulty.yaml:10: faults[1].match.method: must be a string, not an integer"


def test_scenario_with_null_schedule_values_loads() -> None:
    text = SCENARIO.replace("probability: 0.5", "probability: null\n    after: null\n    times: null\n    delay_ms: 5")
    [parsed] = loader.load_text(text, "nulls.yaml").faults
    assert (parsed.after, parsed.times, parsed.probability, parsed.delay_ms) == (0, None, 1.0, 5)


def test_scenario_refuses_two_rules_with_one_name() -> None:
    with pytest.raises(ScenarioError, match=r"faults\[1\]\.name"):
        loader.load_text(SCENARIO + "  - name: coin\n    delay_ms: 1\n", "twice.yaml")


def test_scenario_names_rules_without_a_name_by_their_place() -> None:
    text = SCENARIO + "  - delay_ms: 1\n"
    assert [r.name for r in loader.load_text(text, "unnamed.yaml").faults] == ["coin", "fault-2"]


async def test_adding_a_rule_whose_name_exists_is_refused() -> None:
    store = faults(rule(**RESPOND))
    assert not await store.add_fault(rule(delay_ms=5))
    assert [count.rule for count in await store.fault_counts()] == [rule(**RESPOND)]


# schedule
async def test_a_rule_without_schedule_fires_on_every_match() -> None:
    assert await fired(faults(rule(**RESPOND)), 4) == ["r"] * 4


async def test_after_n_lets_the_first_n_matches_through() -> None:
    assert await fired(faults(rule(after=2, **RESPOND)), 5) == [None, None, "r", "r", "r"]


async def test_times_n_fires_n_times_then_stops() -> None:
    assert await fired(faults(rule(times=2, **RESPOND)), 5) == ["r", "r", None, None, None]


async def test_after_and_times_combined_skip_then_fire_then_stop() -> None:
    assert await fired(faults(rule(after=1, times=2, **RESPOND)), 5) == [None, "r", "r", None, None]


async def test_times_0_never_fires() -> None:
    assert await fired(faults(rule(times=0, **RESPOND)), 3) == [None, None, None]


async def test_only_matching_requests_count_towards_after_and_times() -> None:
    store = faults(rule(match={"path": "/a"}, after=1, times=1, **RESPOND))
    assert await fired(store, 3, "/b") == [None, None, None]
    assert await fired(store, 3, "/a") == [None, "r", None]
    [count] = await store.fault_counts()
    assert (count_view(count)["matched"], count_view(count)["fired"]) == (3, 1)


async def test_the_first_rule_that_fires_wins_and_an_exhausted_rule_makes_way() -> None:
    first = parse_rule({"name": "first", "times": 1, **RESPOND}, "x")
    second = parse_rule({"name": "second", **RESPOND}, "x")
    assert await fired(faults(first, second), 3) == ["first", "second", "second"]


async def test_a_rule_still_skipping_lets_the_next_rule_fire() -> None:
    first = parse_rule({"name": "first", "after": 1, **RESPOND}, "x")
    second = parse_rule({"name": "second", "times": 1, **RESPOND}, "x")
    assert await fired(faults(first, second), 3) == ["second", "first", "first"]


async def test_views_report_counters_and_clear_removes_every_rule() -> None:
    store = faults(rule(after=1, **RESPOND))
    await fired(store, 3)
    [shown] = [count_view(count) for count in await store.fault_counts()]
    assert shown == {**view(rule(after=1, **RESPOND)), "matched": 3, "fired": 2}
    assert await store.clear_faults() == 1
    assert ((await store.prepare()).faults, await store.fault_counts(), await fired(store, 1)) == ((), [], [None])


async def test_a_rule_added_while_serving_counts_from_zero_after_the_others() -> None:
    store = faults(rule(times=1, **RESPOND))
    await fired(store, 2)
    assert await store.add_fault(parse_rule({"name": "added", **RESPOND}, "x"))
    assert await fired(store, 1) == ["added"]
    assert [(c.rule.name, c.matched, c.fired) for c in await store.fault_counts()] == [("r", 3, 1), ("added", 1, 1)]


def test_needs_body_only_for_rules_matching_fields_or_client_id() -> None:
    assert not rule(match={"path": "/a", "method": "POST"}, **RESPOND).needs_body
    assert rule(match={"client_id": "c"}, **RESPOND).needs_body
    assert rule(match={"fields": {"grant_type": "password"}}, **RESPOND).needs_body


# probability
async def fired_numbers(seed: int, requests: int = 200) -> list[int]:
    """The request numbers on which the scenario's probability-0.5 rule fires in a World with this seed."""
    world = make_world(SCENARIO, seed=seed)
    return [n for n, name in enumerate(await fired(world.store, requests)) if name]


async def test_probability_fires_on_the_same_requests_for_the_same_seed() -> None:
    first = await fired_numbers(seed=42)
    assert first == await fired_numbers(seed=42)
    assert 60 < len(first) < 140  # about half of 200


async def test_probability_fires_on_other_requests_for_another_seed() -> None:
    assert await fired_numbers(seed=42) != await fired_numbers(seed=43)


async def test_probability_0_never_fires_and_1_always_fires() -> None:
    assert await fired(faults(rule(probability=0, **RESPOND)), 50) == [None] * 50
    assert await fired(faults(rule(probability=1, **RESPOND)), 50) == ["r"] * 50


async def test_probability_draws_only_once_the_schedule_lets_the_rule_fire() -> None:
    """Skipped (after) and exhausted (times) matches draw nothing, so they do not shift later draws."""
    plain = await fired(faults(rule(probability=0.5, times=1000, **RESPOND), seed=7), 30)
    skipping = await fired(faults(rule(probability=0.5, after=5, times=1000, **RESPOND), seed=7), 35)
    assert skipping[:5] == [None] * 5
    assert skipping[5:] == plain


async def test_probability_with_times_fires_at_most_times() -> None:
    assert (await fired(faults(rule(probability=0.5, times=3, **RESPOND)), 100)).count("r") == 3


async def test_fault_draws_do_not_shift_the_tokens_a_seed_hands_out() -> None:
    with_faults = make_world(SCENARIO, seed=5)
    without = make_world(SCENARIO.split("faults:")[0], seed=5)
    await fired(with_faults.store, 20)
    policy = TokenPolicy(reuse=False)
    minted = []
    for world in (with_faults, without):
        now = await now_of(world)
        minted.append([(await world.store.issue_client_token("c", now, policy)).value for _ in range(3)])
    assert minted[0] == minted[1]


# matching
@pytest.mark.parametrize(
    ("match", "method", "path", "expected"),
    [
        ({}, "GET", "/anything", True),
        ({"method": "post"}, "POST", "/a", True),
        ({"method": "POST"}, "GET", "/a", False),
        ({"path": "/api/v2/users"}, "GET", "/api/v2/users", True),
        ({"path": "/api/v2/users"}, "GET", "/api/v2/users/verify/x", False),
        ({"path": "/api/v2/users"}, "GET", "/api/v1/users", False),
        ({"path": "*/oauth/token"}, "POST", "/api/v2/oauth/token", True),
        ({"path": "*/oauth/token"}, "POST", "/oauth/token", True),
        ({"path": "*/oauth/token"}, "POST", "/oauth/revoke", False),
        ({"path": "/api/v?/users"}, "GET", "/api/v1/users", True),
        ({"path": "/api/v[12]/users*"}, "GET", "/api/v2/users/requestPasswordChange", True),
        ({"path": "/api/v[12]/users*"}, "GET", "/api/v3/users", False),
        ({"path": "/API/v2/users"}, "GET", "/api/v2/users", False),
        ({"method": "DELETE", "path": "/api/v2/users"}, "GET", "/api/v2/users", False),
    ],
)
def test_rule_matches_on_method_and_exact_or_glob_path(
    match: dict[str, str], method: str, path: str, expected: bool
) -> None:
    assert matches(rule(match=match, **RESPOND), FaultRequest(method, path, {}, None)) is expected


@pytest.mark.parametrize(
    ("wanted", "given", "expected"),
    [
        ({"grant_type": "password"}, {"grant_type": "password", "username": "u"}, True),
        ({"grant_type": "password"}, {"grant_type": "client_credentials"}, False),
        ({"grant_type": "password"}, {}, False),
        ({"grant_type": "password", "username": "u"}, {"grant_type": "password", "username": "v"}, False),
        ({"flag": True}, {"flag": True}, True),  # a JSON boolean
        ({"flag": True}, {"flag": "true"}, True),  # a form value
        ({"flag": True}, {"flag": False}, False),
        ({"count": 3}, {"count": 3}, True),
        ({"count": 3}, {"count": "3"}, True),
        ({"missing": "None"}, {}, False),
        ({"empty": ""}, {"empty": ""}, True),
        ({"empty": ""}, {}, False),
    ],
)
def test_rule_matches_on_fields_that_are_present_and_equal(
    wanted: dict[str, Any], given: dict[str, Any], expected: bool
) -> None:
    assert matches(rule(match={"fields": wanted}, **RESPOND), FaultRequest("POST", "/a", given, None)) is expected


@pytest.mark.parametrize(("client_id", "expected"), [("c", True), ("other", False), (None, False)])
def test_rule_matches_on_client_id(client_id: str | None, expected: bool) -> None:
    assert matches(rule(match={"client_id": "c"}, **RESPOND), FaultRequest("POST", "/a", {}, client_id)) is expected
