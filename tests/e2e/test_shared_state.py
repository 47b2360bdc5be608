"""One sandbox served by several processes on one Redis (`serve --state redis://...`): the invariants hold across
processes, not just within one. Real `serve` processes, a real redis-server (tests/redis_support.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from mock_finapi.testing.callbacks import CallbackReceiver
from tests.e2e.server import Launch, Served, poll, serving, serving_all
from tests.helpers import CLIENT_CREDENTIALS, CLIENT_ID, CLIENT_SECRET, bearer
from tests.redis_support import RedisServer, free_port, new_prefix

pytestmark = pytest.mark.slow

TOKEN = "/api/v2/oauth/token"
USERS = "/api/v2/users"
PROCESSES = "/api/v1/processes"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def pair(tmp_path: Path, redis_server: RedisServer) -> Iterator[list[httpx.Client]]:
    """Two `serve` processes on one Redis prefix, each with an HTTP client."""
    state = ["--scenario", "giroident", "--state", redis_server.url, "--state-prefix", new_prefix()]
    launches = [Launch(tmp_path / name, state) for name in ("a", "b")]
    with (
        serving_all(*launches) as served,
        httpx.Client(base_url=served[0].url) as a,
        httpx.Client(base_url=served[1].url) as b,
    ):
        yield [a, b]


def spread(clients: Sequence[httpx.Client], count: int, call: Callable[[httpx.Client], httpx.Response]) -> Counter[int]:
    """`count` concurrent calls, alternating between the clients' servers: the statuses answered."""
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda n: call(clients[n % len(clients)]), range(count)))
    return Counter(answer.status_code for answer in answers)


def client_token(http: httpx.Client) -> str:
    response = http.post(TOKEN, data=CLIENT_CREDENTIALS)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_200_concurrent_creations_of_one_user_over_two_servers_make_exactly_one(pair: list[httpx.Client]) -> None:
    token = client_token(pair[0])
    body = {"id": "twice", "password": "secret-password", "email": "twice@example.com"}

    statuses = spread(pair, 200, lambda http: http.post(USERS, json=body, headers=bearer(token)))

    assert statuses == {201: 1, 422: 199}
    users = pair[1].get("/__admin/state/users").json()["users"]
    assert [user["id"] for user in users].count("twice") == 1


def test_50_concurrent_exchanges_of_one_process_token_over_two_servers_succeed_exactly_10_times(
    pair: list[httpx.Client],
) -> None:
    made = pair[0].post(
        PROCESSES,
        json={
            "clientId": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "clientReferences": [{"clientReference": "shared"}],
            "processId": "USER_ONLY",
        },
    )
    assert made.status_code == 201, made.text
    process_token = made.json()["processes"][0]["processToken"]

    statuses = spread(pair, 50, lambda http: http.get(f"{PROCESSES}/{process_token}"))

    assert statuses[200] == 10
    assert sum(statuses.values()) == 50
    assert set(statuses) == {200, 410}


def test_a_fault_with_times_2_fires_exactly_twice_over_two_servers(pair: list[httpx.Client]) -> None:
    rule = {"name": "twice", "match": {"path": TOKEN}, "respond": {"status": 503}, "times": 2}
    assert pair[0].post("/__admin/faults", json=rule).status_code == 201

    statuses = spread(pair, 40, lambda http: http.post(TOKEN, data=CLIENT_CREDENTIALS))

    assert statuses == {503: 2, 200: 38}
    assert (
        pair[1].get("/__admin/faults").json()["faults"][0] | {"matched": 40, "fired": 2}
        == pair[0].get("/__admin/faults").json()["faults"][0]
    )


def test_a_clock_move_on_one_server_is_seen_by_the_next_request_on_the_other(pair: list[httpx.Client]) -> None:
    token = client_token(pair[1])
    before = pair[1].get("/__admin/clock").json()["now"]

    moved = pair[0].post("/__admin/clock", json={"advance": 2 * 86_400})
    assert moved.status_code == 200, moved.text

    seen = pair[1].get("/__admin/clock").json()["now"]
    assert seen[:10] == moved.json()["now"][:10] == "2026-01-03" != before[:10]  # the clock runs: days compared
    expired = pair[1].get(USERS, headers=bearer(token))  # an hour's token, two days later
    assert expired.status_code == 401


def test_a_reset_on_one_server_is_the_state_of_both(pair: list[httpx.Client]) -> None:
    token = client_token(pair[0])
    body = {"id": "gone-soon", "password": "secret-password", "email": "gone@example.com"}
    assert pair[0].post(USERS, json=body, headers=bearer(token)).status_code == 201
    before = {user["id"] for user in pair[1].get("/__admin/state/users").json()["users"]}
    assert "gone-soon" in before

    assert pair[1].post("/__admin/reset").status_code == 200

    after = {user["id"] for user in pair[0].get("/__admin/state/users").json()["users"]}
    assert after == before - {"gone-soon"}
    assert pair[0].get(USERS, headers=bearer(token)).status_code == 401  # the token went with the old state


def test_a_scenario_loaded_on_one_server_is_served_by_the_other(pair: list[httpx.Client]) -> None:
    loaded = pair[0].post("/__admin/scenario", json={"name": "default"})
    assert loaded.status_code == 200, loaded.text

    assert pair[1].get("/__admin/health").json()["scenario"] == "default"


def test_two_workers_serve_one_port_and_share_one_sandbox(tmp_path: Path, redis_server: RedisServer) -> None:
    args = ["--workers", "2", "--state", redis_server.url, "--state-prefix", new_prefix(), "--log-format", "text"]
    with serving(tmp_path, *args) as served, httpx.Client(base_url=served.url) as http:
        token = client_token(http)
        body = {"id": "worker-user", "password": "secret-password", "email": "w@example.com"}

        statuses = spread([http], 100, lambda client: client.post(USERS, json=body, headers=bearer(token)))

        assert statuses == {201: 1, 422: 99}
        rule = {"name": "twice", "match": {"path": TOKEN}, "respond": {"status": 500}, "times": 2}
        assert http.post("/__admin/faults", json=rule).status_code == 201
        assert spread([http], 30, lambda client: client.post(TOKEN, data=CLIENT_CREDENTIALS)) == {500: 2, 200: 28}
        pids = worker_pids(served)
        assert served.stop() == 0
    assert len(pids) == 2
    assert len([line for line in served.stdout_lines() if line.startswith("POST /api/v2/users 4")]) == 99
    assert not served.url_file.exists()


def worker_pids(served: Served) -> set[str]:
    """The processes that started serving (uvicorn's `Started server process [PID]` on stderr)."""
    lines = served.wait_for_stderr("Started server process")
    return {line.rsplit("[", 1)[1].rstrip("]") for line in lines}


def test_workers_without_a_shared_state_is_a_usage_error(tmp_path: Path) -> None:
    from tests.e2e.server import run

    done = run("serve", "--workers", "2")

    assert done.returncode == 2
    assert "--workers 2 needs a shared state (--state redis://HOST:PORT/DB)" in done.stderr


def test_an_unreachable_redis_at_start_exits_1_saying_so(tmp_path: Path) -> None:
    from tests.e2e.server import run

    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    done = run("serve", "--port", "0", "--state", url)

    assert done.returncode == 1
    assert "cannot reach the shared state at redis://:***@127.0.0.1:" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test alone: stopped and started again."""
    from tests.redis_support import redis_server_path

    server = RedisServer(redis_server_path(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_redis_going_away_answers_503_and_serving_resumes_when_it_is_back(
    tmp_path: Path, own_redis: RedisServer
) -> None:
    with serving(tmp_path / "a", "--state", own_redis.url) as served, httpx.Client(base_url=served.url) as http:
        token = client_token(http)
        body = {"id": "survivor", "password": "secret-password", "email": "s@example.com"}
        assert http.post(USERS, json=body, headers=bearer(token)).status_code == 201

        with ThreadPoolExecutor(8) as pool:  # under load: token requests all along
            stop = threading.Event()
            load = [pool.submit(timed, http, stop) for _ in range(8)]
            time.sleep(0.3)
            own_redis.stop()
            down = [http.post(USERS, json=body, headers=bearer(token)) for _ in range(3)]
            down.append(http.post(TOKEN, data=CLIENT_CREDENTIALS))
            time.sleep(0.3)
            own_redis.start()  # empty (no persistence): the server seeds it again with the state it holds
            time.sleep(0.3)
            stop.set()
            answers = [answer for future in load for answer in future.result()]
        back = http.get(f"{USERS}", headers=bearer(user_token(http, "survivor", "secret-password")))

        assert served.stop() == 0
    statuses = Counter(status for status, _ in answers)
    assert set(statuses) == {200, 503}, statuses
    assert max(seconds for _, seconds in answers) < 2  # Redis refused at once: no request waits for a timeout
    assert answers[-1][0] == 200  # serving resumed by itself
    for answer in down:
        assert answer.status_code == 503, answer.text
        assert "Traceback" not in answer.text
    error = down[0].json()["errors"][0]
    assert error["code"] == "UNEXPECTED_ERROR"
    assert error["type"] == "TECHNICAL"
    assert error["message"].startswith("The shared state is not reachable")
    assert back.status_code == 200
    assert back.json()["id"] == "survivor"


def user_token(http: httpx.Client, username: str, password: str) -> str:
    grant = {**CLIENT_CREDENTIALS, "grant_type": "password", "username": username, "password": password}
    response = http.post(TOKEN, data=grant)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def timed(http: httpx.Client, stop: threading.Event) -> list[tuple[int, float]]:
    """Token requests until `stop`: each one's status and seconds."""
    answers = []
    while not stop.is_set():
        started = time.monotonic()
        status = http.post(TOKEN, data=CLIENT_CREDENTIALS).status_code
        answers.append((status, time.monotonic() - started))
    return answers


NGINX_MISSING = (
    "nginx is not installed: the test of examples/nginx.conf in front of two servers needs it "
    "(Debian/Ubuntu: `sudo apt-get install nginx`; macOS: `brew install nginx`)"
)


@contextmanager
def load_balancer(folder: Path, replicas: Sequence[Served]) -> Iterator[str]:
    """nginx with examples/nginx.conf, the compose service names and port swapped for the replicas' addresses and a
    free port (and its files kept in `folder`): its URL, once it answers."""
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if nginx is None:
        if os.environ.get("MOCK_FINAPI_CI") == "1":
            pytest.fail(NGINX_MISSING + "; CI must have it", pytrace=False)
        pytest.skip(NGINX_MISSING)
    folder.mkdir(parents=True)
    port = free_port()
    config = (EXAMPLES / "nginx.conf").read_text(encoding="utf-8")
    for number, replica in enumerate(replicas, start=1):
        config = config.replace(f"server mock-finapi-{number}:8080", f"server {replica.url.removeprefix('http://')}")
    temp = " ".join(
        f"{kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = config.replace("listen 8080;", f"listen 127.0.0.1:{port};").replace("http {", "http {\n" + temp, 1)
    (folder / "nginx.conf").write_text(config, encoding="utf-8")
    main = f"daemon off; pid {folder / 'nginx.pid'};" + (" user root;" if os.geteuid() == 0 else "")
    argv = [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log"), "-g", main]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        poll(lambda: process.poll() is not None or answers(url), 10, "nginx")
        assert process.poll() is None, process.communicate()[1].decode()
        yield url
    finally:
        process.terminate()
        process.communicate(timeout=10)


def answers(url: str) -> bool:
    try:
        return httpx.get(url + "/__admin/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_compose_examples_nginx_spreads_one_sandbox_over_two_replicas_and_outlives_one(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    state = ["--state", redis_server.url, "--state-prefix", new_prefix(), "--log-format", "text"]
    launches = [Launch(tmp_path / name, state) for name in ("mock-finapi-1", "mock-finapi-2")]
    with (
        serving_all(*launches) as replicas,
        load_balancer(tmp_path / "lb", replicas) as url,
        httpx.Client(base_url=url) as http,
    ):
        token = client_token(http)
        body = {"id": "balanced", "password": "secret-password", "email": "b@example.com"}
        assert http.post(USERS, json=body, headers=bearer(token)).status_code == 201
        logins = [user_token(http, "balanced", "secret-password") for _ in range(10)]
        form = http.post("/api/webForms/bankConnectionImport", json={}, headers=bearer(logins[0]))
        assert replicas[0].stop() == 0
        after = [http.get(USERS, headers=bearer(login)) for login in logins]
        assert replicas[1].stop() == 0

    served = [[line for line in replica.stdout_lines() if "/oauth/token 200" in line] for replica in replicas]
    assert all(served), served  # nginx sent token requests to both replicas
    assert sum(map(len, served)) == 11
    assert form.status_code == 201, form.text
    assert form.json()["url"].startswith(url + "/wf/")  # the host the client used, not a replica's
    assert [(answer.status_code, answer.json()["id"]) for answer in after] == [(200, "balanced")] * 10


def test_a_web_forms_callback_is_sent_once_though_every_server_sweeps(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """Both servers' upkeep finds the form due; the shared log lets one of them finish it, and only that one calls."""
    state = ["--scenario", "webform-bank-error", "--state", redis_server.url, "--state-prefix", new_prefix()]
    launches = [Launch(tmp_path / name, state) for name in ("a", "b")]
    with (
        CallbackReceiver() as receiver,
        serving_all(*launches) as served,
        httpx.Client(base_url=served[0].url) as a,
        httpx.Client(base_url=served[1].url) as b,
    ):
        token = user_token(a, "username", "password")
        body = {"bank": {"id": 280001}, "callbacks": {"finalised": receiver.url + "/finalised"}}
        created = b.post("/api/webForms/bankConnectionImport", json=body, headers=bearer(token))
        assert created.status_code == 201, created.text
        assert a.post("/__admin/clock", json={"advance": 60}).status_code == 200

        got = receiver.wait_for(webFormId=created.json()["id"])
        time.sleep(1.5)  # three upkeep rounds of each server: a second callback would be on its way
        attempts = b.get("/__admin/callbacks").json()["callbacks"]
        form = a.get(f"/api/webForms/{created.json()['id']}", headers=bearer(token)).json()
    assert got == {"webFormId": created.json()["id"], "status": "COMPLETED_WITH_ERROR"}
    assert len(receiver.received) == 1
    assert [(attempt["kind"], attempt["status"]) for attempt in attempts] == [("webForm.finalised", 200)]
    assert form["status"] == "COMPLETED_WITH_ERROR"
