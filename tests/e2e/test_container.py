"""The Docker image: its defaults as data (always), and a real build and run (opt-in: MOCK_FINAPI_CONTAINER_TESTS=1).

The opt-in tests use the workplace's `container-smoke` tool (podman + a local Python base image, no registry needed),
which lives beside the repository in shared/tools/, then podman itself. The first run builds the base image and
takes a minute or two.

The state file on a volume (`-v VOLUME:/data -e MOCK_FINAPI_STATE_FILE=/data/state.json`) is checked as data in the
Dockerfile, and for real across `podman restart`, a new container on the same volume (what
`docker compose down`/`up` does) and `podman kill` + `podman start`.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mock_finapi.testing import ThreadedServer
from tests.e2e.server import poll
from tests.helpers import CLIENT_CREDENTIALS, bearer, password_grant

REPO_ROOT = Path(__file__).resolve().parents[2]
SMOKE_TOOL = Path(__file__).resolve().parents[3] / "shared/tools/container-smoke"
BASE_IMAGE = "localhost/local/python-base"  # what container-smoke builds once and keeps
COMPOSE = REPO_ROOT / "examples/docker-compose.yml"
STATE_FILE = "/data/state.json"
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


def run_commands() -> list[tuple[int, list[str]]]:
    """Each command of each RUN instruction, as (instruction index, words): `a && b` is two commands."""
    return [
        (index, shlex.split(command))
        for index, (keyword, arguments) in enumerate(instructions())
        if keyword == "RUN"
        for command in arguments.split("&&")
    ]


def test_the_image_declares_a_volume_on_data_owned_by_the_servers_user() -> None:
    """A new named volume starts as a copy of the image's /data, owner included, so the server (not root) can write
    its state file there; a plain `docker run` keeps starting fresh, since the image names no state file."""
    keywords = [keyword for keyword, _ in instructions()]
    [volume] = [json.loads(arguments) for keyword, arguments in instructions() if keyword == "VOLUME"]
    [user] = [arguments for keyword, arguments in instructions() if keyword == "USER"]
    made = [index for index, words in run_commands() if words in (["mkdir", "/data"], ["mkdir", "-p", "/data"])]
    owned = [index for index, words in run_commands() if words == ["chown", user, "/data"]]

    assert volume == ["/data"]
    assert user == "10001:10001"
    assert len(made) == 1
    assert owned == made  # in the same RUN
    assert made[0] < keywords.index("VOLUME")  # Docker drops what steps after a VOLUME write under it
    assert not [arguments for _, arguments in instructions() if "STATE_FILE" in arguments.upper().replace("-", "_")]


def test_the_compose_stack_keeps_its_sandbox_in_redis_on_a_named_volume() -> None:
    """The replicas hold no state of their own (no state file): Redis does, in its append-only file on a named
    volume, which outlives `docker compose restart` and `down`/`up` (not `down -v`)."""
    compose: Any = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = compose["services"]
    redis = services["redis"]
    command = redis["command"]

    for name in ("mock-finapi-1", "mock-finapi-2"):
        assert "MOCK_FINAPI_STATE_FILE" not in services[name]["environment"]
        assert services[name]["environment"]["MOCK_FINAPI_STATE"].startswith("redis://redis:")
    assert command[0] == "redis-server"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert [volume.split(":") for volume in redis["volumes"]] == [["redis-data", "/data"]]  # redis' own data folder
    assert "redis-data" in compose["volumes"]  # declared: a named volume, not a bind mount of a host path


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


@pytest.fixture(scope="module")
def podman_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment to run podman in as container-smoke does on this host; skips without the base image."""
    if shutil.which("podman") is None:
        pytest.skip("no podman: run test_image_builds_and_container_becomes_healthy (container-smoke) first")
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text(
        '[containers]\ndefault_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]\n[engine]\nruntime = "runc"\n',
        encoding="utf-8",
    )
    env = os.environ | {"CONTAINERS_CONF": str(conf)}
    if podman("image", "exists", BASE_IMAGE, env=env).returncode != 0:
        pytest.skip(f"no {BASE_IMAGE}: run test_image_builds_and_container_becomes_healthy (container-smoke) first")
    return env


@pytest.fixture(scope="module")
def image(podman_env: dict[str, str]) -> Iterator[str]:
    """The repository's Dockerfile built on the local base image (once for the module), removed afterwards."""
    tag = f"localhost/local/mock-finapi-test-{uuid.uuid4().hex[:8]}"
    try:
        built = podman(
            "build", "-q", "--pull=never", "--format", "docker", "--build-arg", f"BASE={BASE_IMAGE}", "-t", tag,
            str(REPO_ROOT), env=podman_env, timeout=600,
        )  # fmt: skip
        assert built.returncode == 0, built.stderr
        yield tag
    finally:
        podman("rmi", "-f", tag, env=podman_env)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_healthy(name: str, env: dict[str, str]) -> None:
    """Until the image's HEALTHCHECK passes (no systemd here, so podman never runs it by itself), at most 30 s."""
    deadline = time.monotonic() + 30
    while podman("healthcheck", "run", name, env=env).returncode != 0:
        logs = podman("logs", name, env=env)
        assert time.monotonic() < deadline, logs.stdout + logs.stderr
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.container
@CONTAINER_TESTS
def test_the_container_serves_on_the_port_its_variable_names(image: str, podman_env: dict[str, str]) -> None:
    """`-e MOCK_FINAPI_PORT=9090`: the server listens on 9090, announces it, and the HEALTHCHECK passes there."""
    env, name, host_port = podman_env, f"port-{uuid.uuid4().hex[:8]}", free_port()
    try:
        started = podman(
            "run", "-d", "--name", name, "-e", "MOCK_FINAPI_PORT=9090", "-p", f"127.0.0.1:{host_port}:9090", image,
            env=env,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        wait_healthy(name, env)
        logs = podman("logs", name, env=env)
        assert logs.stdout.splitlines()[0] == "http://127.0.0.1:9090"  # the URL line: it serves on 9090
        assert httpx.get(f"http://127.0.0.1:{host_port}/__admin/health").status_code == 200  # published as mapped
    finally:
        podman("rm", "-f", "-v", "-t", "3", name, env=env)  # -v: its anonymous /data volume too


def state_user_ids(name: str, env: dict[str, str]) -> set[str] | None:
    """The ids of the users in the container's state file; None while there is no file."""
    read = podman("exec", name, "cat", STATE_FILE, env=env)
    if read.returncode != 0:
        return None
    document = json.loads(read.stdout)
    fields = document["records"]["User"]
    return {dict(zip(fields, user, strict=True))["id"] for user in document["state"]["users"]}


def sign_up(base_url: str, client_token: str, user_id: str) -> str:
    """Create the user with the client token (it must still be valid) and log it in: its access token."""
    with httpx.Client(base_url=base_url, timeout=10) as http:
        created = http.post(
            "/api/v2/users",
            json={"id": user_id, "password": f"{user_id}-secret", "email": f"{user_id}@localhost.de"},
            headers=bearer(client_token),
        )
        assert created.status_code == 201, created.text
        login = http.post("/api/v2/oauth/token", data=password_grant(user_id, f"{user_id}-secret"))
        assert login.status_code == 200, login.text
        token: str = login.json()["access_token"]
        return token


def assert_kept(base_url: str, user_tokens: dict[str, str]) -> None:
    """Each user is still there, with its password and the access token it was given before."""
    with httpx.Client(base_url=base_url, timeout=10) as http:  # a new connection: the old ones died with the server
        for user_id, token in user_tokens.items():
            me = http.get("/api/v2/users", headers=bearer(token))
            assert (me.status_code, me.json().get("id")) == (200, user_id), me.text
            login = http.post("/api/v2/oauth/token", data=password_grant(user_id, f"{user_id}-secret"))
            assert login.status_code == 200, login.text


@pytest.mark.slow
@pytest.mark.container
@CONTAINER_TESTS
def test_the_state_file_on_a_volume_outlives_restart_a_new_container_and_kill(
    image: str, podman_env: dict[str, str]
) -> None:
    """Users and tokens survive `podman restart` (written on SIGTERM), a new container on the same volume (compose
    down/up) and `podman kill` + `start` (written in the background every MOCK_FINAPI_STATE_INTERVAL seconds)."""
    env, volume, port = podman_env, f"mock-finapi-state-{uuid.uuid4().hex[:8]}", free_port()
    base_url, names = f"http://127.0.0.1:{port}", []

    def start(interval: int) -> str:
        name = f"state-{uuid.uuid4().hex[:8]}"
        names.append(name)
        started = podman(
            "run", "-d", "--name", name, "-v", f"{volume}:/data", "-e", f"MOCK_FINAPI_STATE_FILE={STATE_FILE}",
            "-e", f"MOCK_FINAPI_STATE_INTERVAL={interval}", "-p", f"127.0.0.1:{port}:8080", image, env=env,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        wait_healthy(name, env)
        return name

    try:
        assert podman("volume", "create", volume, env=env).returncode == 0
        first = start(interval=3600)  # no background write during the test: only the one on SIGTERM can keep it
        client_token = httpx.post(f"{base_url}/api/v2/oauth/token", data=CLIENT_CREDENTIALS, timeout=10)
        assert client_token.status_code == 200, client_token.text
        client = client_token.json()["access_token"]
        tokens = {"alice": sign_up(base_url, client, "alice")}
        assert state_user_ids(first, env) is None  # nothing written yet

        restarted = podman("restart", first, env=env)  # SIGTERM, then the same container again
        assert restarted.returncode == 0, restarted.stderr
        wait_healthy(first, env)
        assert state_user_ids(first, env) == {"alice"}
        assert_kept(base_url, tokens)

        removed = podman("rm", "-f", "-t", "10", first, env=env)  # as `docker compose down` (without -v)
        assert removed.returncode == 0, removed.stderr
        second = start(interval=1)
        assert_kept(base_url, tokens)
        tokens["bob"] = sign_up(base_url, client, "bob")  # the client token of the first container still works
        poll(lambda: state_user_ids(second, env) == {"alice", "bob"}, 30, "the background write of bob")

        killed = podman("kill", second, env=env)  # SIGKILL: no write at the end
        assert killed.returncode == 0, killed.stderr
        assert podman("start", second, env=env).returncode == 0
        wait_healthy(second, env)
        assert_kept(base_url, tokens)
    finally:
        for name in names:
            podman("rm", "-f", "-v", "-t", "3", name, env=env)
        podman("volume", "rm", "-f", volume, env=env)
