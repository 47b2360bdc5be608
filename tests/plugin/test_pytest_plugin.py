"""The pytest plugin as users meet it: fake projects without a conftest, run by pytest in a subprocess.

Each run combines many checks (a subprocess costs about a second); every inner test asserts what it relies on, and
the outer test asserts the exact outcome counts, so an inner test that is skipped or not collected fails here too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

RUN_TIMEOUT = 120.0
QUICK = ("-p", "no:cacheprovider", "-p", "no:faker")
"""Faker's own pytest plugin (installed with Faker, a dependency) costs a second per process; run A keeps it."""

HELPERS = """
import re
from datetime import UTC, datetime

import httpx
import pytest

CREDENTIALS = {
    "grant_type": "client_credentials",
    "client_id": "8f92e604-b9b9-11ec-8422-0242ac120002",
    "client_secret": "8f92ea14-b9b9-11ec-8422-0242ac120002",
}
SEEN = {}


def client_token(http, base=""):
    response = http.post(base + "/api/v2/oauth/token", data=CREDENTIALS)
    assert response.status_code == 200, response.text
    return response.json()


def scenario_and_seed(admin):
    version = admin.version()
    return version["scenario"], version["seed"]
"""

FIXTURES = (
    HELPERS
    + """
def test_plugin_is_loaded_from_the_entry_point(request):
    assert request.config.pluginmanager.has_plugin("mock_finapi")


def test_finapi_server_serves_over_a_real_socket(finapi_server):
    assert re.fullmatch(r"http://127\\.0\\.0\\.1:[0-9]+", finapi_server.url)
    assert httpx.get(finapi_server.url + "/__admin/health").json() == {"status": "ok", "scenario": "default"}
    assert scenario_and_seed(finapi_server.admin) == ("default", 1)
    SEEN["url"] = finapi_server.url


def test_finapi_state_made_by_one_test(finapi):
    assert finapi.url == SEEN["url"]  # the session's server, not a new one
    token = client_token(httpx, finapi.url)["access_token"]
    created = httpx.post(
        finapi.url + "/api/v2/users",
        json={"id": "leaky", "password": "secret123"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201, created.text
    finapi.admin.add_fault({"name": "left-over", "match": {"path": "/api/v2/users"}, "respond": {"status": 418}})
    finapi.admin.advance(86400)
    assert any(u["id"] == "leaky" for u in finapi.admin.users())
    assert finapi.admin.count() == 2
    finapi.admin.load_scenario(name="giroident")
    SEEN["token"] = token


def test_finapi_state_is_gone_in_the_next_test(finapi):
    assert scenario_and_seed(finapi.admin) == ("default", 1)
    assert [u for u in finapi.admin.users() if u["id"] == "leaky"] == []
    assert finapi.admin.faults() == []
    assert finapi.admin.requests() == []
    assert finapi.admin.clock()["now"].startswith("2026-01-01T09:00")
    stale = httpx.get(finapi.url + "/api/v2/users", headers={"Authorization": "Bearer " + SEEN["token"]})
    assert stale.status_code == 401


@pytest.mark.finapi(scenario="expiring-tokens", seed=99, now="2030-02-03T04:05:06+01:00")
def test_marker_sets_scenario_seed_and_clock(finapi):
    body = client_token(httpx, finapi.url)  # first request of the world: its token depends on the seed only
    SEEN["seed99"] = body["access_token"]
    assert body["expires_in"] == 59  # expiring-tokens' lifetime, counted a moment after issue
    assert scenario_and_seed(finapi.admin) == ("expiring-tokens", 99)
    assert finapi.admin.clock() == {"now": "2030-02-03T04:05:06.000+01:00", "frozen": True}


@pytest.mark.finapi(scenario="expiring-tokens", seed=99)
def test_marker_same_seed_same_values(finapi):
    assert client_token(httpx, finapi.url)["access_token"] == SEEN["seed99"]


@pytest.mark.finapi(scenario="expiring-tokens", seed=7)
def test_marker_other_seed_other_values(finapi):
    assert client_token(httpx, finapi.url)["access_token"] != SEEN["seed99"]


@pytest.mark.finapi(now=datetime(2031, 1, 1, tzinfo=UTC))
def test_marker_now_takes_a_datetime(finapi):
    assert finapi.admin.clock() == {"now": "2031-01-01T01:00:00.000+01:00", "frozen": True}


def test_after_markers_the_session_scenario_seed_and_clock_are_back(finapi):
    assert scenario_and_seed(finapi.admin) == ("default", 1)
    clock = finapi.admin.clock()
    assert clock["now"].startswith("2026-01-01T09:00")
    assert clock["frozen"] is False


def test_finapi_client_works_in_process(finapi_client, finapi_app):
    from mock_finapi.testing import InProcessClient

    assert str(finapi_client.base_url) == "http://mock-finapi"  # resolves nowhere: no socket is involved
    token = client_token(finapi_client)["access_token"]
    with InProcessClient(finapi_app) as same_app:  # the token is in finapi_app's state
        tokens = same_app.get("/__admin/state/tokens").json()["tokens"]
    assert [t["token"] for t in tokens] == [token[:4] + "…"]


@pytest.mark.finapi(scenario="expiring-tokens", now="2030-02-03T04:05:06+01:00")
def test_marker_applies_to_finapi_client(finapi_client):
    assert client_token(finapi_client)["expires_in"] == 59
    assert finapi_client.get("/__admin/clock").json() == {"now": "2030-02-03T04:05:06.000+01:00", "frozen": True}


def test_finapi_client_is_apart_from_the_server(finapi, finapi_client):
    headers = {"Authorization": "Bearer " + client_token(finapi_client)["access_token"]}
    user = {"id": "in-process-only", "password": "secret123"}
    created = finapi_client.post("/api/v2/users", json=user, headers=headers)
    assert created.status_code == 201
    assert [u for u in finapi.admin.users() if u["id"] == "in-process-only"] == []
"""
)
FIXTURE_TESTS = 12

WRONG_MARKERS = """
import pytest


@pytest.mark.finapi("expiring-tokens")
def test_positional(finapi):
    pass


@pytest.mark.finapi(scenaro="expiring-tokens")
def test_misspelt(finapi):
    pass


@pytest.mark.finapi(scenario="no-such-scenario")
def test_unknown_scenario(finapi_client):
    pass


@pytest.mark.finapi(now="yesterday")
def test_bad_now(finapi_app):
    pass


@pytest.mark.finapi(seed="42")
def test_text_seed(finapi):
    pass


@pytest.mark.finapi(seed=42)
def test_without_fixture():
    pass
"""
WRONG_MARKER_MESSAGES = [
    "*finapi on test_positional: takes keyword arguments only (scenario=, seed=, now=), got ('expiring-tokens',)",
    "*finapi on test_misspelt: unknown argument(s) scenaro (allowed: scenario, seed, now)",
    "*finapi on test_unknown_scenario: scenario='no-such-scenario': *no such file or built-in scenario*",
    "*finapi on test_bad_now: now= must be an RFC 3339 timestamp *, got 'yesterday'",
    "*finapi on test_text_seed: seed= must be a non-negative int, got '42'",
    "*finapi on test_without_fixture has no effect: the test uses none of the fixtures finapi, finapi_app, *",
]


@pytest.mark.slow
def test_fixtures_reset_and_marker_work_without_a_conftest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fixtures=FIXTURES, test_wrong_markers=WRONG_MARKERS)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=RUN_TIMEOUT)

    assert not any(pytester.path.rglob("conftest.py"))
    result.assert_outcomes(passed=FIXTURE_TESTS, errors=len(WRONG_MARKER_MESSAGES))
    result.stdout.fnmatch_lines(WRONG_MARKER_MESSAGES, consecutive=False)
    result.stdout.no_fnmatch_line("*Traceback*")  # clear messages, not stack traces through the plugin


SESSION_SCENARIO = """
name: session-scenario
seed: 5
clock:
  start: "2027-03-04T05:06:07+01:00"
clients:
  - client_id: 8f92e604-b9b9-11ec-8422-0242ac120002
    client_secret: 8f92ea14-b9b9-11ec-8422-0242ac120002
    config: {clientAccessTokensValidityPeriod: 120}
"""

SESSION_DEFAULT = (
    HELPERS
    + """
def test_session_server_uses_the_options(finapi_server):
    assert scenario_and_seed(finapi_server.admin) == ("session-scenario", 7)


def test_finapi_uses_the_options(finapi):
    assert scenario_and_seed(finapi.admin) == ("session-scenario", 7)
    assert client_token(httpx, finapi.url)["expires_in"] == 119
    assert finapi.admin.clock()["now"].startswith("2027-03-04T05:06")


def test_finapi_client_uses_the_options(finapi_client):
    version = finapi_client.get("/__admin/version").json()
    assert (version["scenario"], version["seed"]) == ("session-scenario", 7)


@pytest.mark.finapi(scenario="expiring-tokens")
def test_marker_scenario_beats_the_option_and_keeps_the_seed(finapi):
    assert scenario_and_seed(finapi.admin) == ("expiring-tokens", 7)


@pytest.mark.finapi(seed=3)
def test_marker_seed_beats_the_option(finapi):
    assert scenario_and_seed(finapi.admin) == ("session-scenario", 3)


def test_then_the_options_apply_again(finapi):
    assert scenario_and_seed(finapi.admin) == ("session-scenario", 7)
"""
)


@pytest.mark.slow
def test_options_set_the_session_default(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", session=SESSION_SCENARIO)
    pytester.makepyfile(test_session=SESSION_DEFAULT)

    result = pytester.runpytest_subprocess(
        *QUICK,
        "--finapi-scenario",
        "session.yaml",
        "--finapi-seed",
        "7",
        timeout=RUN_TIMEOUT,
    )

    result.assert_outcomes(passed=6)


MARKED_SCENARIO = SESSION_SCENARIO.replace("session-scenario", "marked-scenario").replace("seed: 5", "seed: 6")
FROM_A_SUBFOLDER = (
    HELPERS
    + """
def test_the_option_path_is_relative_to_the_rootdir(finapi):
    assert scenario_and_seed(finapi.admin) == ("session-scenario", 5)


@pytest.mark.finapi(scenario="scenarios/marked.yaml")
def test_a_marker_path_is_relative_to_the_rootdir(finapi):
    assert scenario_and_seed(finapi.admin) == ("marked-scenario", 6)


@pytest.mark.finapi(scenario="scenarios/marked.yaml", seed=8)
def test_a_marker_path_in_process(finapi_client):
    version = finapi_client.get("/__admin/version").json()
    assert (version["scenario"], version["seed"]) == ("marked-scenario", 8)


@pytest.mark.finapi(scenario="{absolute}")
def test_an_absolute_path_stays(finapi):
    assert scenario_and_seed(finapi.admin) == ("marked-scenario", 6)


@pytest.mark.finapi(scenario="expiring-tokens")
def test_a_builtin_name_stays(finapi):
    assert scenario_and_seed(finapi.admin)[0] == "expiring-tokens"


@pytest.mark.finapi(scenario="scenarios/missing.yaml")
def test_missing(finapi):
    raise AssertionError("must not run")
"""
)


@pytest.mark.slow
def test_scenario_paths_resolve_against_the_rootdir_from_a_subfolder(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\n")  # the rootdir: what a project's pyproject.toml or pytest.ini makes it
    scenarios = pytester.mkdir("scenarios")
    (scenarios / "session.yaml").write_text(SESSION_SCENARIO, encoding="utf-8")
    (scenarios / "marked.yaml").write_text(MARKED_SCENARIO, encoding="utf-8")
    tests = pytester.mkdir("tests")
    project = FROM_A_SUBFOLDER.replace("{absolute}", str(scenarios / "marked.yaml"))
    (tests / "test_subfolder.py").write_text(project, encoding="utf-8")
    monkeypatch.chdir(tests)  # where a user runs pytest: in a subfolder of the project

    result = pytester.runpytest_subprocess(*QUICK, "--finapi-scenario", "scenarios/session.yaml", timeout=RUN_TIMEOUT)

    result.assert_outcomes(passed=5, errors=1)
    missing = pytester.path / "scenarios" / "missing.yaml"
    result.stdout.fnmatch_lines(
        [f"*finapi on test_missing: scenario='scenarios/missing.yaml': {missing}: <root>: no such file or built-in*"]
    )

    result = pytester.runpytest_subprocess(*QUICK, "--finapi-scenario", "scenarios/missing.yaml", timeout=RUN_TIMEOUT)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: --finapi-scenario scenarios/missing.yaml: {missing}: <root>: no such file*"])


@pytest.mark.slow
def test_unknown_scenario_option_stops_the_run_with_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_never="def test_never(finapi):\n    raise AssertionError('must not run')\n")

    result = pytester.runpytest_subprocess(*QUICK, "--finapi-scenario", "no-such-scenario", timeout=RUN_TIMEOUT)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --finapi-scenario no-such-scenario: *no such file or built-in scenario*"])


XDIST_TESTS = 8
XDIST_PROJECT = """
import httpx
import pytest

OUT = {out!r}


@pytest.mark.parametrize("n", range({count}))
def test_each_worker_has_its_own_server(n, finapi, worker_id):
    token = httpx.post(
        finapi.url + "/api/v2/oauth/token",
        data={{
            "grant_type": "client_credentials",
            "client_id": "8f92e604-b9b9-11ec-8422-0242ac120002",
            "client_secret": "8f92ea14-b9b9-11ec-8422-0242ac120002",
        }},
    ).json()["access_token"]
    # the same user id in every test: only a reset world per test (and a server per worker) lets all succeed
    created = httpx.post(
        finapi.url + "/api/v2/users",
        json={{"id": "same-everywhere", "password": "secret123"}},
        headers={{"Authorization": "Bearer " + token}},
    )
    assert created.status_code == 201, created.text
    with open(f"{{OUT}}/{{n}}.txt", "w") as out:
        out.write(f"{{worker_id}} {{finapi.url}}")
"""


@pytest.mark.slow
def test_xdist_workers_get_their_own_servers(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_parallel=XDIST_PROJECT.format(out=str(tmp_path), count=XDIST_TESTS))
    pytester.makefile(".yaml", session=SESSION_SCENARIO)  # no generated users: workers start without loading Faker

    result = pytester.runpytest_subprocess(*QUICK, "-n", "2", "--finapi-scenario", "session.yaml", timeout=RUN_TIMEOUT)

    result.assert_outcomes(passed=XDIST_TESTS)
    lines = [path.read_text().split() for path in sorted(tmp_path.glob("*.txt"))]
    assert len(lines) == XDIST_TESTS
    urls_by_worker: dict[str, set[str]] = {}
    for worker, url in lines:
        assert re.fullmatch(r"http://127\.0\.0\.1:[0-9]+", url)
        urls_by_worker.setdefault(worker, set()).add(url)
    assert sorted(urls_by_worker) == ["gw0", "gw1"]  # xdist hands both workers tests
    assert all(len(urls) == 1 for urls in urls_by_worker.values())  # one session server per worker
    assert urls_by_worker["gw0"] != urls_by_worker["gw1"]
