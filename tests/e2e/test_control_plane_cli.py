"""The control plane's command line over real processes: --reload, the request log, --no-admin, --admin-token,
--journal-size, --scenario-dir and --seed, each flag also as its MOCK_FINAPI_* variable where that is the risk.

Every server is killed in a `finally` (tests/e2e/server.py) and every wait is a bounded poll.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_finapi import cli
from tests.e2e.server import WAIT_TIMEOUT, Launch, Served, clean_env, poll, serving, serving_all

HTTP_TIMEOUT = 5.0
V1 = """\
name: reload-v1
seed: 1
clients:
  - {client_id: c, client_secret: s}
users:
  - {id: alice, password: alice-pw-1}
"""
V2 = """\
name: reload-v2
seed: 1
clients:
  - client_id: c
    client_secret: s
    config: {clientAccessTokensValidityPeriod: 60}
users:
  - {id: alice, password: alice-pw-1}
  - {id: bob, password: bob-pw-22}
"""
BROKEN = """\
name: reload-broken
clients:
  - {client_id: c, client_secret: s}
tokens:
  format: jwt
"""
BROKEN_LINE = 5
LOGGED = """\
name: logged
seed: 3
clients:
  - {client_id: c, client_secret: s}
faults:
  - name: config-down
    match: {method: GET, path: /api/v2/clientConfiguration}
    respond: {status: 503}
"""
CLIENT = {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}
TEXT_LINE = re.compile(
    r"(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) (?P<duration>\d+\.\d)ms rid=(?P<rid>\S+)"
    r"(?: fault=(?P<fault>\S+))?"
)


def scenario_file(folder: Path, text: str, name: str = "scenario.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def login(http: httpx.Client, username: str, password: str) -> httpx.Response:
    return http.post(
        "/api/v2/oauth/token", data={**CLIENT, "grant_type": "password", "username": username, "password": password}
    )


def scenario_name(http: httpx.Client) -> str:
    name: str = http.get("/__admin/health").json()["scenario"]
    return name


# --reload
@pytest.mark.slow
def test_reload_serves_changes_saved_in_place_or_renamed_over_and_logs_one_line_naming_them(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, V1)
    with (
        serving(tmp_path, "--scenario", str(path), "--reload") as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as http,
    ):
        assert login(http, "bob", "bob-pw-22").status_code == 400
        assert http.post("/api/v2/oauth/token", data=CLIENT).json()["expires_in"] == 3599
        path.write_text(V2, encoding="utf-8")
        poll(lambda: scenario_name(http) == "reload-v2", WAIT_TIMEOUT, "the changed scenario to serve")
        assert login(http, "bob", "bob-pw-22").status_code == 200
        assert http.post("/api/v2/oauth/token", data=CLIENT).json()["expires_in"] == 59
        (first,) = served.wait_for_stderr("scenario reloaded")
        # how vim, sed -i and most tools save: a new file renamed over the old one
        scenario_file(tmp_path, V1, "scenario.yaml.new").replace(path)
        poll(lambda: scenario_name(http) == "reload-v1", WAIT_TIMEOUT, "the renamed-over scenario to serve")
        assert login(http, "bob", "bob-pw-22").status_code == 400
        second = served.wait_for_stderr("scenario reloaded")[1]
    assert first.endswith(
        "(state reset): name reload-v1→reload-v2; clients: ~c (config.clientAccessTokensValidityPeriod default→60); "
        "users: +bob"
    )
    assert second.endswith(
        "(state reset): name reload-v2→reload-v1; clients: ~c (config.clientAccessTokensValidityPeriod 60→default); "
        "users: -bob"
    )
    assert "ERROR" not in served.stderr.read_text(encoding="utf-8")


@pytest.mark.slow
def test_reload_from_the_environment_reports_a_broken_change_once_and_keeps_serving(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, V1)
    with (
        serving(tmp_path, "--scenario", str(path), env=clean_env(MOCK_FINAPI_RELOAD="1")) as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as http,
    ):
        token = login(http, "alice", "alice-pw-1").json()["access_token"]
        path.write_text(BROKEN, encoding="utf-8")
        (ignored,) = served.wait_for_stderr("scenario change ignored")
        assert f"{path}:{BROKEN_LINE}: tokens.format: must be uuid or finapi" in ignored
        assert scenario_name(http) == "reload-v1"
        me = http.get("/api/v2/users", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, "the previous scenario's state must survive a refused change"
        path.write_text(V2, encoding="utf-8")  # the watch goes on after a refusal
        poll(lambda: scenario_name(http) == "reload-v2", WAIT_TIMEOUT, "the fixed scenario to serve")
        assert len(served.wait_for_stderr("scenario change ignored")) == 1, "a broken file is reported once"


# the request log on stdout
def logged_requests(served: Served, http: httpx.Client) -> list[dict[str, Any]]:
    """Send four requests; after each, its log line must be on stdout before the next (flushed per line)."""
    sent: list[dict[str, Any]] = []
    calls: list[tuple[str, str, dict[str, Any], str]] = [
        ("GET", "/__admin/health", {"headers": {"X-Request-Id": "rid-health"}}, "/__admin/health"),
        ("POST", "/api/v2/oauth/token", {"data": CLIENT}, "/api/v2/oauth/token"),
        ("GET", "/api/v2/clientConfiguration", {}, "/api/v2/clientConfiguration"),
        ("GET", "/no/such%0Apath%20here", {}, "/no/such\npath here"),
    ]
    for number, (method, url, options, path) in enumerate(calls, start=2):
        response = http.request(method, url, **options)
        sent.append(
            {
                "method": method,
                "path": path,
                "status": response.status_code,
                "requestId": response.headers["x-request-id"],
                "fault": response.headers.get("x-mock-fault"),
            }
        )
        assert len(served.wait_for_stdout_lines(number)) == number, "one line per request"
    assert [s["status"] for s in sent] == [200, 200, 503, 404]
    assert [s["fault"] for s in sent] == [None, None, "config-down", None]
    return sent


@pytest.mark.slow
def test_text_request_log_writes_one_line_per_request_after_the_url_line(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, LOGGED)
    with (
        serving(tmp_path, "--scenario", str(path), "--log-format", "text") as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as http,
    ):
        sent = logged_requests(served, http)
        url_line, *lines = served.stdout_lines()
    assert url_line == served.url
    for expected, line in zip(sent, lines, strict=True):
        match = TEXT_LINE.fullmatch(line)
        assert match, line
        assert match["method"] == expected["method"]
        assert match["path"] == expected["path"].replace(" ", "%20").replace("\n", "%0A")
        assert int(match["status"]) == expected["status"]
        assert match["rid"] == expected["requestId"]
        assert match["fault"] == expected["fault"]
    assert lines[0].startswith("GET /__admin/health 200 ")
    assert lines[0].endswith(" rid=rid-health")


@pytest.mark.slow
def test_json_request_log_writes_one_object_per_line_after_the_url_line(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, LOGGED)
    with (
        serving(tmp_path, "--scenario", str(path), "--log-format", "json") as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as http,
    ):
        sent = logged_requests(served, http)
        url_line, *lines = served.stdout_lines()
    assert url_line == served.url
    for expected, line in zip(sent, lines, strict=True):
        logged = json.loads(line)
        assert {k: logged[k] for k in expected} == expected
        assert isinstance(logged["durationMs"], int | float)
        assert logged["durationMs"] >= 0


@pytest.mark.slow
def test_log_format_off_from_the_environment_leaves_only_the_url_line(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, LOGGED)
    env = clean_env(MOCK_FINAPI_LOG_FORMAT="off")
    with serving(tmp_path, "--scenario", str(path), env=env) as served:
        with httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as http:
            assert http.post("/api/v2/oauth/token", data=CLIENT).status_code == 200
            assert http.get("/__admin/health").status_code == 200
            assert http.get("/api/v2/clientConfiguration").status_code == 503
        assert served.stop() == 0  # a graceful stop flushes whatever was written
        assert served.stdout_lines() == [served.url]


@pytest.mark.slow
def test_a_graceful_stop_writes_the_log_lines_of_every_request_served(tmp_path: Path) -> None:
    """Requests in quick succession wait for one write together; stopping right after them loses none."""
    path = scenario_file(tmp_path, LOGGED)
    with serving(tmp_path, "--scenario", str(path), "--log-format", "text") as served:
        with httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as http:
            ids = [http.get("/__admin/health", headers={"X-Request-Id": f"rid-{n}"}) for n in range(20)]
        assert served.stop() == 0
        url_line, *lines = served.stdout_lines()
    assert url_line == served.url
    assert [line.rsplit("rid=", 1)[1] for line in lines] == [f"rid-{n}" for n in range(20)]
    assert all(response.status_code == 200 for response in ids)


CLIENT_SECRET, ALICE_PW, BOB_PW, NEW_PW = "client-secret-4711", "alice-pw-4711", "bob-pw-4711", "new-pw-4711"
SECRETS = f"""\
name: secrets
seed: 5
clients:
  - {{client_id: c, client_secret: {CLIENT_SECRET}}}
users:
  - {{id: alice, password: {ALICE_PW}}}
"""


def requests_with_secrets(served: Served) -> tuple[list[str], int]:
    """Every way a secret or token reaches the server; answers what must not be logged and how many requests went."""
    credentials = {"client_id": "c", "client_secret": CLIENT_SECRET}
    sent = 0
    with httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as http:

        def call(method: str, url: str, status: int, **options: Any) -> dict[str, Any]:
            nonlocal sent
            response = http.request(method, url, **options)
            sent += 1
            assert response.status_code == status, (url, response.text)
            return response.json() if response.content else {}

        # v1 clients send everything in the query string
        client = call("POST", "/oauth/token", 200, params={**credentials, "grant_type": "client_credentials"})
        user = {**credentials, "grant_type": "password", "username": "alice", "password": ALICE_PW}
        v1_user = call("POST", "/oauth/token", 200, params=user)
        refresh = {**credentials, "grant_type": "refresh_token", "refresh_token": v1_user["refresh_token"]}
        refreshed = call("POST", "/api/v2/oauth/token", 200, data=refresh)
        call("GET", "/api/v2/users", 200, headers={"Authorization": f"Bearer {refreshed['access_token']}"})
        auth = {"Authorization": f"Bearer {client['access_token']}"}
        call("POST", "/api/v2/users", 201, json={"id": "bob", "password": BOB_PW}, headers=auth)
        change = call("POST", "/api/v2/users/requestPasswordChange", 200, json={"userId": "bob"}, headers=auth)
        execute = {"userId": "bob", "password": NEW_PW, "passwordChangeToken": change["passwordChangeToken"]}
        call("POST", "/api/v2/users/executePasswordChange", 200, json=execute, headers=auth)
        process = {
            "clientId": "c",
            "clientSecret": CLIENT_SECRET,
            "clientReferences": [{"clientReference": "r"}],
            "processId": "USER_ONLY",
        }
        process_token = call("POST", "/api/v1/processes", 201, json=process)["processes"][0]["processToken"]
        exchanged = call("GET", f"/api/v1/processes/{process_token}", 200)
        call("POST", f"/__admin/tokens/{refreshed['access_token']}/expire", 200)
        call("POST", "/api/v2/oauth/revoke", 200, data={"token": v1_user["refresh_token"]}, headers=auth)
    tokens = [client["access_token"], v1_user["access_token"], v1_user["refresh_token"], refreshed["access_token"]]
    tokens += [change["passwordChangeToken"], process_token, exchanged["accessToken"]]
    return [CLIENT_SECRET, ALICE_PW, BOB_PW, NEW_PW, *tokens], sent


@pytest.mark.slow
def test_request_log_never_shows_a_secret_password_or_full_token(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, SECRETS)
    launches = [Launch(tmp_path / fmt, ("--scenario", str(path), "--log-format", fmt)) for fmt in ("text", "json")]
    with serving_all(*launches) as servers:
        for served in servers:
            secrets, sent = requests_with_secrets(served)
            lines = served.wait_for_stdout_lines(1 + sent)
            output = "\n".join(lines) + served.stderr.read_text(encoding="utf-8")
            assert [s for s in secrets if s in output] == [], output
            assert len(lines) == 1 + sent
            process_token = secrets[-2]
            assert f"/api/v1/processes/{process_token[:4]}…" in output, "a masked token keeps its first characters"


# --no-admin, --admin-token, --journal-size, --scenario-dir
@pytest.mark.slow
def test_no_admin_flag_and_variable_remove_the_admin_api_but_keep_health(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, LOGGED)
    flag = Launch(tmp_path / "flag", ("--scenario", str(path), "--no-admin"))
    variable = Launch(tmp_path / "env", ("--scenario", str(path)), clean_env(MOCK_FINAPI_NO_ADMIN="1"))
    with serving_all(flag, variable) as servers:
        for served in servers:
            with httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as http:
                assert http.get("/__admin/requests").status_code == 404
                assert http.get("/__admin/version").status_code == 404
                assert http.post("/__admin/reset").status_code == 404
                assert http.get("/__admin/faults").status_code == 404
                assert http.get("/__admin/health").status_code == 200
                assert http.post("/api/v2/oauth/token", data=CLIENT).status_code == 200


@pytest.mark.slow
def test_admin_token_flag_and_variable_guard_the_admin_api_but_not_health(tmp_path: Path) -> None:
    token = "qa-admin-4711"
    path = scenario_file(tmp_path, LOGGED)
    flag = Launch(tmp_path / "flag", ("--scenario", str(path), "--admin-token", token))
    variable = Launch(tmp_path / "env", ("--scenario", str(path)), clean_env(MOCK_FINAPI_ADMIN_TOKEN=token))
    with serving_all(flag, variable) as servers:
        for served in servers:
            with httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as http:
                assert http.get("/__admin/requests").status_code == 401
                assert http.get("/__admin/requests", headers={"Authorization": "Bearer wrong"}).status_code == 401
                assert http.get("/__admin/requests", headers={"Authorization": token}).status_code == 401
                assert http.post("/__admin/reset").status_code == 401
                assert http.get("/__admin/requests", headers={"Authorization": f"Bearer {token}"}).status_code == 200
                assert http.get("/__admin/health").status_code == 200


@pytest.mark.slow
def test_journal_size_bounds_the_journal_to_the_newest_requests(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, LOGGED)
    with (
        serving(tmp_path, "--scenario", str(path), "--journal-size", "2") as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as http,
    ):
        for n in range(1, 6):
            http.post("/api/v2/oauth/token", data=CLIENT, headers={"X-Request-Id": f"r{n}"})
            journal = http.get("/__admin/requests").json()["requests"]
            assert len(journal) == min(n, 2)
        assert [entry["requestId"] for entry in journal] == ["r5", "r4"]
        assert http.post("/__admin/requests/count", json={}).json() == {"count": 2}


@pytest.mark.slow
def test_scenario_dir_flag_replaces_the_variable_and_allows_only_its_folders(tmp_path: Path) -> None:
    from_env = scenario_file(tmp_path / "env-dir", V2.replace("reload-v2", "from-env-dir"))
    from_flag = scenario_file(tmp_path / "flag-dir", V2.replace("reload-v2", "from-flag-dir"))
    served_path = scenario_file(tmp_path / "served", V1)
    env = clean_env(MOCK_FINAPI_SCENARIO_DIR=str(from_env.parent))
    args = ["--scenario", str(served_path), "--scenario-dir", str(from_flag.parent)]
    with serving(tmp_path, *args, env=env) as served, httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as http:
        refused = http.post("/__admin/scenario", json={"path": str(from_env)})
        assert refused.status_code == 400, refused.text
        assert scenario_name(http) == "reload-v1"
        loaded = http.post("/__admin/scenario", json={"path": str(from_flag)})
        assert loaded.status_code == 200, loaded.text
        assert scenario_name(http) == "from-flag-dir"


@pytest.mark.slow
def test_scenario_dir_variable_holds_several_folders(tmp_path: Path) -> None:
    first = scenario_file(tmp_path / "first", V2.replace("reload-v2", "from-first"))
    second = scenario_file(tmp_path / "second", V2.replace("reload-v2", "from-second"))
    elsewhere = scenario_file(tmp_path / "elsewhere", V2.replace("reload-v2", "from-elsewhere"))
    served_path = scenario_file(tmp_path / "served", V1)
    env = clean_env(MOCK_FINAPI_SCENARIO_DIR=os.pathsep.join([str(first.parent), str(second.parent)]))
    with (
        serving(tmp_path, "--scenario", str(served_path), env=env) as served,
        httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as http,
    ):
        assert http.post("/__admin/scenario", json={"path": str(elsewhere)}).status_code == 400
        for path, name in ((first, "from-first"), (second, "from-second")):
            assert http.post("/__admin/scenario", json={"path": str(path)}).status_code == 200
            assert scenario_name(http) == name


@pytest.mark.parametrize(
    ("args", "variables", "shown"),
    [
        ([], {"MOCK_FINAPI_LOG_FORMAT": "xml"}, "'xml'"),
        ([], {"MOCK_FINAPI_JOURNAL_SIZE": "many"}, "'many'"),
        (["--journal-size", "-1"], {}, "--journal-size: must not be negative"),
        (["--log-format", "yaml"], {}, "'yaml'"),
    ],
    ids=["log-format-variable", "journal-size-variable", "negative-journal-size", "log-format-flag"],
)
def test_invalid_control_plane_option_is_a_usage_error(
    args: list[str],
    variables: dict[str, str],
    shown: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In process: argparse stops before anything is served, so no server is needed to see it."""
    for name in [n for n in os.environ if n.startswith("MOCK_FINAPI_")]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        cli.main(["serve", "--port", "0", *args])
    assert stopped.value.code == 2
    assert shown in capsys.readouterr().err


# --seed
def session(served: Served) -> tuple[str, ...]:
    """The same request sequence every time: client token, a user with generated id and password, its tokens."""
    with httpx.Client(base_url=served.url, timeout=HTTP_TIMEOUT) as http:
        client_token = http.post("/api/v2/oauth/token", data=CLIENT).json()["access_token"]
        user = http.post("/api/v2/users", json={}, headers={"Authorization": f"Bearer {client_token}"}).json()
        tokens = login(http, user["id"], user["password"]).json()
    return client_token, user["id"], user["password"], tokens["access_token"], tokens["refresh_token"]


UNSEEDED = "name: unseeded\nclients:\n  - {client_id: c, client_secret: s}\n"


@pytest.mark.slow
def test_same_seed_replays_tokens_and_user_ids_and_another_seed_differs(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, UNSEEDED)
    launches = [Launch(tmp_path / f"run{n}", ("--scenario", str(path), "--seed", seed)) for n, seed in enumerate("778")]
    with serving_all(*launches) as servers:
        runs = [session(served) for served in servers]
    assert runs[0] == runs[1]
    assert all(a != b for a, b in zip(runs[0], runs[2], strict=True)), "every value depends on the seed"


@pytest.mark.slow
def test_a_run_without_seed_logs_the_seed_that_replays_it(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, UNSEEDED)
    with serving(tmp_path / "drawn", "--scenario", str(path)) as served:
        first = session(served)
        (logged,) = served.wait_for_stderr("has no seed")
    match = re.search(r"using seed (\d+) \(pass --seed \1 to replay\)", logged)
    assert match, logged
    with serving(tmp_path / "replay", "--scenario", str(path), "--seed", match[1]) as served:
        assert session(served) == first
