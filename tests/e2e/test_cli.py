"""The `mock-finapi` command as real processes: serve over a socket, validate, list, stop on a signal.

Every process is killed in a `finally`, every wait is bounded, and readiness is polled, never slept for
(see tests/e2e/server.py).
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mock_finapi import __version__, serve_options
from mock_finapi.http.app import create_app
from mock_finapi.settings import Settings
from mock_finapi.testing.inprocess import InProcessClient
from tests.e2e.server import CLI, START_TIMEOUT, STOP_TIMEOUT, clean_env, poll, run, serving
from tests.helpers import CLIENT_CREDENTIALS, bearer, password_grant

SCRIPT = Path(sys.executable).with_name("mock-finapi")
BUILTIN_DEFAULT = Path(__file__).resolve().parents[2] / "scenarios" / "default.yaml"
URL = re.compile(r"http://127\.0\.0\.1:(\d+)")
SMALL = """\
name: {name}
clients:
  - {{client_id: c, client_secret: s}}
"""


@pytest.mark.slow
def test_serve_on_port_0_prints_the_url_and_writes_the_url_file_once_healthy(tmp_path: Path) -> None:
    with serving(tmp_path) as served:
        assert URL.fullmatch(served.url)
        assert served.stdout.read_text(encoding="utf-8").splitlines()[0] == served.url
        assert served.url_file.read_text(encoding="utf-8") == served.url + "\n"
        health = httpx.get(f"{served.url}/__admin/health", timeout=5)
        assert (health.status_code, health.json()) == (200, {"status": "ok", "scenario": "default"})
        assert health.headers["x-request-id"].startswith("selfgen-")
        assert "server" not in health.headers


@pytest.mark.slow
def test_documented_user_flow_works_over_a_real_socket(tmp_path: Path) -> None:
    with serving(tmp_path) as served, httpx.Client(base_url=served.url, timeout=5) as http:
        client = http.post("/api/v2/oauth/token", data=CLIENT_CREDENTIALS)
        assert client.status_code == 200, client.text
        assert set(client.json()) == {"access_token", "token_type", "expires_in", "scope"}
        created = http.post(
            "/api/v2/users",
            json={"id": "e2e-user", "password": "secret123", "email": "e2e@localhost.de"},
            headers=bearer(client.json()["access_token"]),
        )
        assert created.status_code == 201, created.text
        user = http.post("/api/v2/oauth/token", data=password_grant("e2e-user", "secret123"))
        assert user.status_code == 200, user.text
        assert "refresh_token" in user.json()
        me = http.get("/api/v2/users", headers=bearer(user.json()["access_token"]))
        assert me.status_code == 200
        assert me.json() == {
            "id": "e2e-user",
            "password": "XXXXX",
            "email": "e2e@localhost.de",
            "phone": None,
            "isAutoUpdateEnabled": False,
        }


@pytest.mark.slow
def test_every_serve_option_reads_its_environment_variable(tmp_path: Path) -> None:
    scenario = tmp_path / "from-env.yaml"
    scenario.write_text(SMALL.format(name="from-env"), encoding="utf-8")
    env = clean_env(
        MOCK_FINAPI_HOST="localhost",
        MOCK_FINAPI_PORT="0",
        MOCK_FINAPI_SCENARIO=str(scenario),
        MOCK_FINAPI_SEED="5",
        MOCK_FINAPI_URL_FILE=str(tmp_path / "env-url.txt"),
        MOCK_FINAPI_LOG_LEVEL="WARNING",
    )
    with serving(tmp_path, env=env, url_file=False) as served:
        assert re.fullmatch(r"http://localhost:\d+", served.url)
        health = httpx.get(f"{served.url}/__admin/health", timeout=5)
        assert health.json() == {"status": "ok", "scenario": "from-env"}
        credentials = {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}
        token = httpx.post(f"{served.url}/api/v2/oauth/token", data=credentials, timeout=5).json()["access_token"]
        with InProcessClient(create_app(Settings(scenario=str(scenario), seed=5))) as same_seed:
            assert same_seed.post("/api/v2/oauth/token", data=credentials).json()["access_token"] == token
    assert "INFO" not in served.stderr.read_text(encoding="utf-8")


@pytest.mark.slow
def test_flag_beats_environment_variable(tmp_path: Path) -> None:
    env = clean_env(MOCK_FINAPI_SCENARIO=str(tmp_path / "missing.yaml"))
    with serving(tmp_path, "--scenario", "default", env=env) as served:
        assert httpx.get(f"{served.url}/__admin/health", timeout=5).json()["scenario"] == "default"


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_server_with_exit_0_and_removes_the_url_file(tmp_path: Path, stop: signal.Signals) -> None:
    with serving(tmp_path) as served:
        served.process.send_signal(stop)
        assert served.process.wait(timeout=STOP_TIMEOUT) == 0, served.stderr.read_text(encoding="utf-8")
        assert not served.url_file.exists()
        assert "Traceback" not in served.stderr.read_text(encoding="utf-8")


def test_serve_with_broken_scenario_exits_1_naming_file_line_and_key(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(SMALL.format(name="broken") + "tokens:\n  format: jwt\n", encoding="utf-8")
    url_file = tmp_path / "url.txt"
    result = run("serve", "--port", "0", "--url-file", str(url_file), "--scenario", str(broken))
    assert result.returncode == 1
    assert result.stderr == f"mock-finapi: {broken}:5: tokens.format: must be uuid or finapi\n"
    assert result.stdout == ""
    assert not url_file.exists()


def test_serve_with_unknown_scenario_name_exits_1_listing_builtins() -> None:
    result = run("serve", "--port", "0", "--scenario", "no-such-scenario")
    assert result.returncode == 1
    assert result.stderr.startswith("mock-finapi: no-such-scenario: <root>: no such file or built-in scenario")
    assert "default" in result.stderr


def test_serve_on_a_busy_port_exits_1(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.startswith(f"mock-finapi: cannot listen on 127.0.0.1:{port}: ")


STALE_URL = "http://127.0.0.1:9/\n"
"""What a server that died left in its URL file."""


@pytest.mark.parametrize("failure", ["busy-port", "broken-scenario"])
def test_a_stale_url_file_is_removed_before_serve_starts_even_when_it_then_fails(tmp_path: Path, failure: str) -> None:
    """A wait loop polling the URL file never reads the URL of a server that died before this one."""
    url_file = tmp_path / "url.txt"
    url_file.write_text(STALE_URL, encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\ntokens: {format: jwt}\n", encoding="utf-8")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        where = ["--port", str(busy.getsockname()[1])] if failure == "busy-port" else ["--scenario", str(broken)]
        result = run("serve", *where, "--url-file", str(url_file))
    assert result.returncode == 1, result.stderr
    assert not url_file.exists()


def test_a_stale_url_file_is_replaced_by_the_url_of_the_server_that_starts(tmp_path: Path) -> None:
    url_file = tmp_path / "url.txt"
    url_file.write_text(STALE_URL, encoding="utf-8")
    argv = [*CLI, "serve", "--port", "0", "--url-file", str(url_file), "--log-format", "off"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_env())
    try:
        poll(
            lambda: url_file.exists() and url_file.read_text(encoding="utf-8") not in ("", STALE_URL),
            START_TIMEOUT,
            "a URL",
        )
        url = url_file.read_text(encoding="utf-8").strip()
        assert httpx.get(url + "/__admin/health").status_code == 200
    finally:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


def test_serve_with_unwritable_url_file_exits_1(tmp_path: Path) -> None:
    result = run("serve", "--port", "0", "--url-file", str(tmp_path / "no-such-dir" / "url.txt"))
    assert result.returncode == 1
    assert "mock-finapi: cannot write the URL file" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MOCK_FINAPI_PORT", "eighty"),
        ("MOCK_FINAPI_PORT", "70000"),
        ("MOCK_FINAPI_LOG_LEVEL", "loud"),
        ("MOCK_FINAPI_NO_ADMIN", "maybe"),  # not an open admin API because the switch was misspelt
        ("MOCK_FINAPI_ADMIN_TOKEN", ""),  # not an admin API left open by an empty token
    ],
)
def test_invalid_environment_variable_is_a_usage_error(variable: str, value: str) -> None:
    result = run("serve", env=clean_env(**{variable: value}))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"mock-finapi serve: error: {variable}={value!r}: " in result.stderr  # names the variable, not --port


def test_invalid_environment_variable_names_it_and_what_it_takes() -> None:
    result = run("serve", env=clean_env(MOCK_FINAPI_PORT="abc"))
    assert (
        result.stderr.splitlines()[-1]
        == "mock-finapi serve: error: MOCK_FINAPI_PORT='abc': must be a whole number, not 'abc'"
    )


@pytest.mark.parametrize("command", [["scenarios"], ["validate", "scenarios/default.yaml"]])
def test_a_reader_that_stops_early_gets_no_traceback(command: list[str]) -> None:
    """`mock-finapi scenarios | head -0`: the pipe is closed before the command writes (it is still starting)."""
    process = subprocess.Popen([*CLI, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()
    with process.stderr:
        stderr = process.stderr.read().decode()
    assert process.wait(timeout=STOP_TIMEOUT) == 1
    assert stderr == ""


def test_an_empty_admin_token_flag_is_a_usage_error() -> None:
    result = run("serve", "--admin-token", "")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "mock-finapi serve: error: argument --admin-token: must not be empty"


def test_a_port_out_of_range_names_the_range() -> None:
    result = run("serve", "--port", "99999")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "mock-finapi serve: error: argument --port: must be a port number from 0 to 65535, not 99999"
    )


def test_serve_help_lists_each_option_with_its_variable() -> None:
    result = run("serve", "--help")
    assert result.returncode == 0
    shown = " ".join(result.stdout.split())  # argparse wraps lines at spaces
    for option in serve_options.OPTIONS:
        assert re.search(rf"{option.flag}\b.*?\[{option.variable}\]", shown), option.flag
    assert [option.variable for option in serve_options.OPTIONS] == re.findall(r"\[(MOCK_FINAPI_\w+)\]", shown)


def test_python_dash_m_mock_finapi_is_the_command() -> None:
    module = subprocess.run(
        [sys.executable, "-m", "mock_finapi", "scenarios"],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        env=clean_env(),
        check=False,
    )
    assert (module.returncode, module.stderr) == (0, "")
    assert module.stdout == run("scenarios").stdout
    version = subprocess.run(
        [sys.executable, "-m", "mock_finapi", "--version"],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    assert version.stdout == f"mock-finapi {__version__}\n"


def test_validate_accepts_good_files(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(SMALL.format(name="good"), encoding="utf-8")
    result = run("validate", str(BUILTIN_DEFAULT), str(good))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [f"{BUILTIN_DEFAULT}: ok (default)", f"{good}: ok (good)"]


def test_validate_rejects_bad_files_with_file_line_and_key_path(tmp_path: Path) -> None:
    good, typo, syntax = tmp_path / "good.yaml", tmp_path / "typo.yaml", tmp_path / "syntax.yaml"
    good.write_text(SMALL.format(name="good"), encoding="utf-8")
    typo.write_text(SMALL.format(name="typo") + "users:\n  - id: a\n    pasword: secret1\n", encoding="utf-8")
    syntax.write_text("name: [unclosed\n", encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    result = run("validate", str(typo), str(good), str(syntax), str(missing))
    assert result.returncode == 1
    assert result.stdout == f"{good}: ok (good)\n"
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"{typo}:6: users[0].pasword: unknown key (did you mean 'password'?")
    assert errors[1].startswith(f"{syntax}:2: <root>: ")
    assert errors[2].startswith(f"{missing}: cannot read: ")
    assert len(errors) == 3


def test_validate_reports_every_problem_of_a_file_one_a_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "name: broken\n"
        "clients:\n"
        "  - client_id: c\n"
        "    client_secret: s\n"
        "    config:\n"
        "      userAccessTokenValidityPeriod: 3600\n"
        "      maxUserLoginAttempts: many\n"
        "users:\n"
        "  - {id: alice, pasword: secret1}\n"
        "  - {id: bob, password: abc}\n"
        "faults:\n"
        "  - {respond: {status: 99}}\n",
        encoding="utf-8",
    )
    result = run("validate", str(broken))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"{broken}:6: clients[0].config.userAccessTokenValidityPeriod: unknown ClientConfiguration field "
        "(did you mean userAccessTokensValidityPeriod?)",
        f"{broken}:7: clients[0].config.maxUserLoginAttempts: must be of type int",
        f"{broken}:9: users[0].pasword: unknown key (did you mean 'password'? allowed: id, password, email, phone, "
        "is_auto_update_enabled, verified, locked, mandator_id, bank_connections)",
        f"{broken}:10: users[1].password: must be a string of 6 to 128 characters",
        f"{broken}:12: faults[0].respond.status: must be an HTTP status between 200 and 599",
    ]

    served = run("serve", "--scenario", str(broken), "--port", "0")  # serve reports them all too, and starts not
    assert served.returncode == 1
    assert served.stderr.splitlines() == [f"mock-finapi: {line}" for line in result.stderr.splitlines()]


def test_scenarios_lists_the_builtins_with_descriptions() -> None:
    result = run("scenarios")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert "default" in names
    assert "BROKEN" not in result.stdout


@pytest.mark.slow
@pytest.mark.skipif(not SCRIPT.exists(), reason="the console script is not installed beside this interpreter")
def test_console_script_runs_the_same_cli() -> None:
    result = subprocess.run(
        [str(SCRIPT), "scenarios"], capture_output=True, text=True, timeout=START_TIMEOUT, env=clean_env(), check=False
    )
    assert (result.returncode, result.stdout) == (0, run("scenarios").stdout)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:6379/0", "must be memory or a Redis URL such as redis://127.0.0.1:6379/0, not"),
        ("redis://", "must be memory or a Redis URL such as redis://127.0.0.1:6379/0, not"),
        ("redis://127.0.0.1:99999/0", "the port must be a number from 0 to 65535, in"),
        ("redis://127.0.0.1:six/0", "the port must be a number from 0 to 65535, in"),
        ("redis://127.0.0.1:6379/zero", "the database must be a number (redis://HOST:PORT/0), in"),
    ],
)
def test_a_state_that_is_no_redis_url_is_a_usage_error(url: str, problem: str) -> None:
    result = run("serve", "--port", "0", "--state", url)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"mock-finapi serve: error: argument --state: {problem} {url!r}"


@pytest.mark.parametrize(("workers", "problem"), [("0", "must be at least 1"), ("65", "must be at most 64, not 65")])
def test_workers_out_of_range_is_a_usage_error(workers: str, problem: str) -> None:
    result = run("serve", "--workers", workers, "--state", "redis://127.0.0.1:6379/0")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"mock-finapi serve: error: argument --workers: {problem}"


def test_a_bad_state_url_in_the_environment_never_shows_its_password() -> None:
    result = run("serve", env=clean_env(MOCK_FINAPI_STATE="redis://:hunter2@127.0.0.1:6379/zero"))
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "mock-finapi serve: error: MOCK_FINAPI_STATE='redis://:***@127.0.0.1:6379/zero': the database must be a "
        "number (redis://HOST:PORT/0), in 'redis://:***@127.0.0.1:6379/zero'"
    )
    assert "hunter2" not in result.stderr + result.stdout
