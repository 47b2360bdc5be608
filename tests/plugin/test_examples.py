"""examples/: the example project's tests pass, and the CI recipes hold what the README promises.

Docker cannot run here, so the compose file and the GitHub Actions workflow are checked as data (service, ports,
health check on /__admin/health, start gated on health), and their health commands are run for real, with the
port swapped, against a ThreadedServer. The shell recipe runs as it is.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mock_finapi.testing import ThreadedServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
HEALTH = "/__admin/health"
RUN_TIMEOUT = 180.0
PORT = 8080  # the Dockerfile's EXPOSE and MOCK_FINAPI_PORT


@pytest.mark.slow
def test_example_tests_pass_as_a_project_of_their_own(tmp_path: Path) -> None:
    """`pytest examples` from the repository root: the plugin comes from the entry point, there is no conftest."""
    report = tmp_path / "report.xml"
    modules = sorted(EXAMPLES.glob("test_*.py"))
    assert [module.name for module in modules] == ["test_finapi_client.py", "test_webform_journey.py"]
    expected = [
        node.name
        for module in modules
        for node in ast.parse(module.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    ]
    command = [sys.executable, "-m", "pytest", "examples", "-p", "no:cacheprovider", "-q"]
    command += [f"--basetemp={tmp_path / 'tmp'}", f"--junitxml={report}"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    assert not list(EXAMPLES.glob("conftest.py"))
    suite = ET.parse(report).getroot().find("testsuite")  # noqa: S314 - the report pytest just wrote
    assert suite is not None
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": str(len(expected)),
        "failures": "0",
        "errors": "0",
        "skipped": "0",
    }
    assert len(expected) >= 14


def load(name: str) -> Any:
    return yaml.safe_load((EXAMPLES / name).read_text())


def test_compose_runs_two_replicas_on_one_redis_behind_nginx_and_starts_the_app_once_healthy() -> None:
    """redis, then both replicas, then nginx, then the app: each gated on the previous one's health check."""
    services = load("docker-compose.yml")["services"]
    redis, lb, app = services["redis"], services["lb"], services["app"]
    replicas = [services["mock-finapi-1"], services["mock-finapi-2"]]
    finapi = replicas[0]

    assert replicas[1] == finapi  # one definition (a YAML anchor), so the replicas cannot drift apart
    assert set(services) == {"redis", "mock-finapi-1", "mock-finapi-2", "lb", "app"}
    build = EXAMPLES / finapi["build"]["context"]
    assert (build / finapi["build"]["dockerfile"]).resolve() == ROOT / "Dockerfile"
    assert finapi["environment"]["MOCK_FINAPI_STATE"] == "redis://redis:6379/0"
    assert "ports" not in finapi  # reached through nginx only
    assert finapi["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert finapi["healthcheck"]["test"][0] == "CMD"
    assert 'os.environ["MOCK_FINAPI_URL_FILE"]' in " ".join(finapi["healthcheck"]["test"])  # the image's variable
    for service in (redis, finapi, lb):
        assert {"interval", "timeout", "retries"} <= set(service["healthcheck"])
    assert HEALTH in " ".join(finapi["healthcheck"]["test"])
    assert f"http://127.0.0.1:{PORT}{HEALTH}" in lb["healthcheck"]["test"]
    assert lb["depends_on"] == {name: {"condition": "service_healthy"} for name in ("mock-finapi-1", "mock-finapi-2")}
    [config] = [volume.split(":") for volume in lb["volumes"]]
    assert (config[0], config[1]) == ("./nginx.conf", "/etc/nginx/nginx.conf")
    nginx = (EXAMPLES / config[0]).read_text(encoding="utf-8")
    assert f"server mock-finapi-1:{PORT}" in nginx
    assert f"server mock-finapi-2:{PORT}" in nginx
    assert f"listen {PORT};" in nginx
    assert [port.rsplit(":", 1)[-1] for port in lb["ports"]] == [str(PORT)]
    assert all(port.startswith("127.0.0.1:") for port in lb["ports"])
    assert app["depends_on"] == {"lb": {"condition": "service_healthy"}}
    assert app["environment"]["FINAPI_BASE_URL"] == f"http://lb:{PORT}"


def github_service() -> dict[str, Any]:
    workflow = load("github-actions.yml")
    [job] = workflow["jobs"].values()
    service: dict[str, Any] = job["services"]["mock-finapi"]
    return service


def health_cmd(options: str) -> str:
    """The --health-cmd value out of a service's `options` (docker's own command-line quoting)."""
    words = shlex.split(options)
    return words[words.index("--health-cmd") + 1]


def test_github_actions_job_runs_the_image_as_a_healthy_service_then_the_tests() -> None:
    workflow = load("github-actions.yml")
    [job] = workflow["jobs"].values()
    service = github_service()
    options = shlex.split(service["options"])
    steps = " ".join(step.get("run", "") for step in job["steps"])

    assert service["image"]
    assert service["ports"] == [f"{PORT}:{PORT}"]
    assert f"127.0.0.1:{PORT}{HEALTH}" in health_cmd(service["options"])
    assert {"--health-interval", "--health-timeout", "--health-retries"} <= set(options)
    assert job["env"]["FINAPI_BASE_URL"] == f"http://127.0.0.1:{PORT}"
    assert re.search(r"curl --fail .*\$FINAPI_BASE_URL/__admin/health", steps)
    assert "pytest" in steps


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer() as served:
        yield served


@pytest.mark.parametrize("recipe", ["docker-compose.yml", "github-actions.yml"])
def test_health_commands_pass_on_a_healthy_server_and_fail_without_one(
    recipe: str, server: ThreadedServer, unused_url: str, tmp_path: Path
) -> None:
    if recipe == "docker-compose.yml":
        test = load(recipe)["services"]["mock-finapi-1"]["healthcheck"]["test"]
        command = test[1:]  # CMD form: an argument vector
    else:
        command = ["sh", "-c", health_cmd(github_service()["options"])]  # --health-cmd runs as CMD-SHELL

    def probe(base_url: str) -> int:
        """The command run against `base_url`: the port swapped, or in the URL file the server would write."""
        swapped = [part.replace(f"http://127.0.0.1:{PORT}", base_url) for part in command]
        url_file = tmp_path / "url.txt"
        url_file.write_text(base_url + "\n", encoding="utf-8")
        env = os.environ | {"MOCK_FINAPI_URL_FILE": str(url_file)}  # as the image sets it
        return subprocess.run(swapped, capture_output=True, timeout=30, env=env, check=False).returncode

    assert probe(server.url) == 0
    assert probe(unused_url) != 0


@pytest.fixture
def unused_url() -> str:
    """A URL nobody listens on: a ThreadedServer's, after it stopped."""
    with ThreadedServer() as stopped:
        return stopped.url


def run_recipe(*command: str) -> subprocess.CompletedProcess[str]:
    """examples/ci.sh in a process group of its own, killed whole if it overruns."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    process = subprocess.Popen(
        ["bash", str(EXAMPLES / "ci.sh"), *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


PROBE = """
import os, httpx
url = os.environ["FINAPI_BASE_URL"]
print(url)
print(httpx.get(url + "/__admin/health").json()["status"])
"""


@pytest.mark.slow
def test_shell_recipe_waits_for_health_runs_the_command_and_stops_the_server() -> None:
    result = run_recipe(sys.executable, "-c", PROBE)

    assert result.returncode == 0, result.stderr
    url, status = result.stdout.split()
    assert re.fullmatch(r"http://127\.0\.0\.1:[0-9]+", url)
    assert status == "ok"
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + HEALTH, timeout=2)


@pytest.mark.slow
def test_shell_recipe_fails_with_the_commands_exit_code() -> None:
    result = run_recipe("sh", "-c", 'echo "$FINAPI_BASE_URL"; exit 3')

    assert result.returncode == 3
    with pytest.raises(httpx.ConnectError):
        httpx.get(result.stdout.strip() + HEALTH, timeout=2)
