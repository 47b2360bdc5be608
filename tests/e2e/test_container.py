"""The Docker image: its defaults as data (always), and a real build and run (opt-in: MOCK_FINAPI_CONTAINER_TESTS=1).

The opt-in tests use the workplace's `container-smoke` tool (podman + a local Python base image, no registry needed),
which lives beside the repository in shared/tools/, then podman itself. The first run builds the base image and
takes a minute or two.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_finapi.testing import ThreadedServer

REPO_ROOT = Path(__file__).resolve().parents[2]
SMOKE_TOOL = Path(__file__).resolve().parents[3] / "shared/tools/container-smoke"
BASE_IMAGE = "localhost/local/python-base"  # what container-smoke builds once and keeps
CONTAINER_TESTS = pytest.mark.skipif(
    os.environ.get("MOCK_FINAPI_CONTAINER_TESTS") != "1", reason="set MOCK_FINAPI_CONTAINER_TESTS=1 to build the image"
)


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined, comments left out."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") else line.strip()
        if not line.rstrip().endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            found.append((keyword.upper(), arguments.strip()))
            pending = ""
    return found


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, arguments in instructions():
        if keyword == "ENV":
            env |= dict(word.split("=", 1) for word in shlex.split(arguments))
    return env


def test_the_image_sets_host_and_port_as_variables_not_as_flags() -> None:
    """Flags beat variables, so a CMD with --host/--port would make -e MOCK_FINAPI_PORT=9090 do nothing."""
    [cmd] = [json.loads(arguments) for keyword, arguments in instructions() if keyword == "CMD"]
    [entrypoint] = [json.loads(arguments) for keyword, arguments in instructions() if keyword == "ENTRYPOINT"]

    assert entrypoint + cmd == ["mock-finapi", "serve"]
    env = image_env()
    assert (env["MOCK_FINAPI_HOST"], env["MOCK_FINAPI_PORT"]) == ("0.0.0.0", "8080")
    assert ("EXPOSE", env["MOCK_FINAPI_PORT"]) in instructions()


@pytest.fixture(scope="module")
def served() -> Iterator[ThreadedServer]:
    with ThreadedServer() as server:
        yield server


def test_the_health_check_probes_the_url_the_server_wrote(served: ThreadedServer, tmp_path: Path) -> None:
    """The HEALTHCHECK finds the server where it listens, whatever port the variables or flags chose."""
    [healthcheck] = [arguments for keyword, arguments in instructions() if keyword == "HEALTHCHECK"]
    command = json.loads(healthcheck.partition(" CMD ")[2])
    url_file = tmp_path / "url.txt"
    env = os.environ | {"MOCK_FINAPI_URL_FILE": str(url_file)} | {"MOCK_FINAPI_PORT": image_env()["MOCK_FINAPI_PORT"]}

    def probe() -> int:
        return subprocess.run(command, capture_output=True, timeout=30, env=env, check=False).returncode

    assert image_env()["MOCK_FINAPI_URL_FILE"]
    assert probe() != 0  # not ready: no URL file yet
    url_file.write_text(served.url + "\n", encoding="utf-8")
    assert probe() == 0
    url_file.write_text("http://127.0.0.1:9\n", encoding="utf-8")  # nobody listens there
    assert probe() != 0


@pytest.mark.slow
@pytest.mark.container
@CONTAINER_TESTS
def test_image_builds_and_container_becomes_healthy() -> None:
    if not SMOKE_TOOL.is_file():
        pytest.skip(f"container-smoke tool not found at {SMOKE_TOOL}")
    # bash explicitly: a read-only copy of shared/ may have lost its executable bit.
    result = subprocess.run(
        ["bash", str(SMOKE_TOOL), str(REPO_ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    sys.stdout.write(result.stdout)
    assert result.returncode == 0, output
    assert "container healthy" in result.stdout, output


def podman(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, env=env, check=False)


@pytest.mark.slow
@pytest.mark.container
@CONTAINER_TESTS
def test_the_container_serves_on_the_port_its_variable_names(tmp_path: Path) -> None:
    """`-e MOCK_FINAPI_PORT=9090`: the server listens on 9090, announces it, and the HEALTHCHECK passes there."""
    conf = tmp_path / "containers.conf"  # as container-smoke runs podman on this host
    conf.write_text(
        '[containers]\ndefault_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]\n[engine]\nruntime = "runc"\n',
        encoding="utf-8",
    )
    env = os.environ | {"CONTAINERS_CONF": str(conf)}
    if podman("image", "exists", BASE_IMAGE, env=env).returncode != 0:
        pytest.skip(f"no {BASE_IMAGE}: run test_image_builds_and_container_becomes_healthy (container-smoke) first")
    tag, name = f"localhost/local/mock-finapi-port-{uuid.uuid4().hex[:8]}", f"port-{uuid.uuid4().hex[:8]}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        host_port = probe.getsockname()[1]
    try:
        built = podman(
            "build", "-q", "--pull=never", "--format", "docker", "--build-arg", f"BASE={BASE_IMAGE}", "-t", tag,
            str(REPO_ROOT), env=env, timeout=600,
        )  # fmt: skip
        assert built.returncode == 0, built.stderr
        started = podman(
            "run", "-d", "--name", name, "-e", "MOCK_FINAPI_PORT=9090", "-p", f"127.0.0.1:{host_port}:9090", tag,
            env=env,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        deadline = time.monotonic() + 30
        while podman("healthcheck", "run", name, env=env).returncode != 0:
            assert time.monotonic() < deadline, podman("logs", name, env=env).stderr
            time.sleep(0.2)
        logs = podman("logs", name, env=env)
        assert logs.stdout.splitlines()[0] == "http://127.0.0.1:9090"  # the URL line: it serves on 9090
        assert httpx.get(f"http://127.0.0.1:{host_port}/__admin/health").status_code == 200  # published as mapped
    finally:
        podman("rm", "-f", "-t", "3", name, env=env)
        podman("rmi", "-f", tag, env=env)
