"""Throughput benchmark (issue 7): mock-finapi against a bare Starlette baseline, measured with wrk.

    .venv/bin/python bench/run.py                               # the full run (about 15 minutes)
    .venv/bin/python bench/run.py --duration 2 --repeats 1 --slices 1 --warmup 1 --startup-runs 2   # smoke (1 min)

For each target, a fresh server pinned to CPU 0 (`taskset -c 0`) and wrk pinned to CPU 1, keep-alive,
`wrk -t1 -c N --latency` for DURATION seconds at each concurrency N (1, 16, 64) after a warm-up, median of --repeats
runs: requests/s, p50 and p99 latency, and errors (socket errors and non-2xx answers; any error fails the run). The
runs are interleaved: all servers of a table are up at once (idle ones use no CPU), and a run is --slices wrk runs of
DURATION/slices seconds, each slice running every target in turn (one target further each time, so none is always
first). A change in the machine's speed (shared hosts drift by tens of percent within seconds) thus hits all targets
alike; ratios are the median of the ratios within a slice. A run's requests/s is its requests over its time, its p50
and p99 come from its slices' latency histograms merged (bench/wrk/report.lua prints them).

Targets: the baseline (bench/baseline_app.py, served by mock_finapi.http.server as `serve` serves the emulator),
and `mock-finapi serve --log-format off` on POST /api/v2/oauth/token (client_credentials and
password; the default scenario, tokens.reuse on as users get it), POST /api/v2/users (a new user per request, ids
from bench/wrk/create_user.lua), GET /api/v2/users (user bearer) and GET /api/v1/processes/{token} (the process
exchange, on bench/processes.yaml whose seeded process allows a billion exchanges).

Request log and journal (issue 7, point 4): client_credentials with the request log and the journal off
(`--journal-size 0`), against itself (A/A), the journal on, and the journal on with the request log (text, json;
written to a file); fault matching is always on (no rules in the scenario). Each variant is measured head-to-head
with the all-off server: both loaded at the same time, sharing CPU 0, a wrk each on CPU 1, --overhead-rounds rounds
of --overhead-seconds; the median ratio of their requests/s within a round is reported. (A cost of a few percent is
below what runs seconds apart can tell on a shared host; measured at the same time, an A/A pair reads 1.00 ± 0.03.)

Start-up: seconds from spawning `mock-finapi serve --port 0 --url-file F --log-format off` to the first 200 on the
token endpoint (median and worst of --startup-runs), with mock_finapi's bytecode compiled first (`compileall`, as
`pip install` leaves it). Memory: VmRSS of the server once ready (idle) and VmHWM at the
end of its target (peak), from /proc/<pid>/status; and `bench/memory.py --direct` (--memory-tokens client tokens of
60 s, about 59,000 alive at a time): peak RSS over idle RSS of the loaded emulator (issue 7: at most 2).

Prints the report and writes it to bench/results/latest.md. Needs wrk and taskset:
installs wrk with apt-get when it is missing and the script runs as root, otherwise says what to install.
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from processes_util import stop

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
WRK_STATIC = HERE / "wrk" / "static.lua"
WRK_CREATE_USER = HERE / "wrk" / "create_user.lua"
PROCESS_SCENARIO = HERE / "processes.yaml"
PROCESS_TOKEN = "3f1c6a52-8d0e-4b7a-9c1d-2e5f6a7b8c9d"
CLIENT_ID = "8f92e604-b9b9-11ec-8422-0242ac120002"
CLIENT_SECRET = "8f92ea14-b9b9-11ec-8422-0242ac120002"
TOKEN_PATH = "/api/v2/oauth/token"
FORM = "Content-Type: application/x-www-form-urlencoded"
CLIENT_GRANT = urlencode({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
PASSWORD_GRANT = urlencode(
    {
        "grant_type": "password",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "username": "username",
        "password": "password",
    }
)
SERVER_CPU = 0
LOAD_CPU = 1
TIMEOUT = 30.0
COMPARE_AT = 16
"""The concurrency at which targets are compared with the baseline."""

GOALS_RPS = {"client_credentials": 0.75, "get_users": 0.75, "create_user": 0.6}
"""Issue 7, point 2: minimum requests/s at c=16 as a fraction of the baseline's."""
GOAL_P99 = 3.0
GOAL_STARTUP = 0.5
GOAL_IDLE_MB = 60.0
GOAL_MEMORY = 2.0
"""Issue 7: RSS after 1,000,000 short-lived tokens within twice the idle RSS."""
GOAL_OVERHEAD = 0.10


@dataclass(frozen=True)
class Target:
    key: str
    title: str
    method: str
    path: str
    body: str = ""
    headers: tuple[str, ...] = ()
    auth: str = ""
    """"client" or "user": a bearer token of that kind is fetched after start-up and sent with every request."""
    create_user: bool = False
    baseline: bool = False
    scenario: str = ""
    serve_args: tuple[str, ...] = ("--log-format", "off")
    log_to_file: bool = False


USER_SCENARIO = "default-with-user"
"""The default scenario with the documentation's user `username` preloaded (PASSWORD_GRANT logs it in)."""

TARGETS = [
    Target("baseline", "baseline: bare Starlette, POST /api/v2/oauth/token", "POST", TOKEN_PATH, CLIENT_GRANT, (FORM,),
           baseline=True),
    Target("client_credentials", "POST /api/v2/oauth/token (client_credentials)", "POST", TOKEN_PATH, CLIENT_GRANT,
           (FORM,)),
    Target("password", "POST /api/v2/oauth/token (password)", "POST", TOKEN_PATH, PASSWORD_GRANT, (FORM,),
           scenario=USER_SCENARIO),
    Target("create_user", "POST /api/v2/users (a new user each)", "POST", "/api/v2/users", auth="client",
           create_user=True),
    Target("get_users", "GET /api/v2/users", "GET", "/api/v2/users", auth="user", scenario=USER_SCENARIO),
    Target("process_exchange", "GET /api/v1/processes/{token} (exchange)", "GET", f"/api/v1/processes/{PROCESS_TOKEN}",
           scenario=str(PROCESS_SCENARIO)),
]  # fmt: skip

OVERHEAD_TARGETS = [
    Target("cc_all_off", "client_credentials, log off, journal off", "POST", TOKEN_PATH, CLIENT_GRANT, (FORM,),
           serve_args=("--log-format", "off", "--journal-size", "0")),
    Target("cc_all_off_again", "the same again (A/A: the method's own spread)", "POST", TOKEN_PATH, CLIENT_GRANT,
           (FORM,), serve_args=("--log-format", "off", "--journal-size", "0")),
    Target("cc_journal", "client_credentials, log off, journal 1000 (as above)", "POST", TOKEN_PATH, CLIENT_GRANT,
           (FORM,), serve_args=("--log-format", "off", "--journal-size", "1000")),
    Target("cc_text_log", "client_credentials, text log to a file, journal 1000", "POST", TOKEN_PATH, CLIENT_GRANT,
           (FORM,), serve_args=("--log-format", "text", "--journal-size", "1000"), log_to_file=True),
    Target("cc_json_log", "client_credentials, json log to a file, journal 1000", "POST", TOKEN_PATH, CLIENT_GRANT,
           (FORM,), serve_args=("--log-format", "json", "--journal-size", "1000"), log_to_file=True),
]  # fmt: skip


@dataclass
class Sample:
    """One wrk run, or the sum of a run's slices."""

    requests: int
    seconds: float
    errors: int
    latency_us: Counter[int]
    """How many requests took each number of microseconds (wrk's histogram)."""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile_ms(self, percent: float) -> float:
        """The smallest latency that `percent` % of the requests did not exceed."""
        wanted, seen = percent / 100 * self.latency_us.total(), 0
        for value in sorted(self.latency_us):
            seen += self.latency_us[value]
            if seen >= wanted:
                return value / 1000
        return 0.0

    def __add__(self, other: Sample) -> Sample:
        return Sample(
            self.requests + other.requests,
            self.seconds + other.seconds,
            self.errors + other.errors,
            self.latency_us + other.latency_us,
        )


@dataclass
class Point:
    concurrency: int
    samples: list[Sample]
    """One per round: the round's slices added up."""
    slices: list[Sample]
    """Every slice, in the order the rounds ran them (the same order for every target of a table)."""

    @property
    def rps(self) -> float:
        return statistics.median(s.rps for s in self.samples)

    def ratio(self, reference: Point) -> float:
        """Requests/s as a fraction of `reference`'s: the median over slices of the ratio within each slice (slices
        are interleaved across targets a few seconds apart, so the two runs of a slice saw the machine at about the
        same speed)."""
        return statistics.median(s.rps / r.rps for s, r in zip(self.slices, reference.slices, strict=True))

    @property
    def p50_ms(self) -> float:
        return statistics.median(s.percentile_ms(50) for s in self.samples)

    @property
    def p99_ms(self) -> float:
        return statistics.median(s.percentile_ms(99) for s in self.samples)

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.samples)


@dataclass
class Pairing:
    """A variant measured head-to-head against the all-off server: both run at the same time."""

    target: Target
    pairs: list[tuple[Sample, Sample]] = field(default_factory=list)
    """(all off, variant) of each round."""

    @property
    def ratios(self) -> list[float]:
        return [variant.rps / off.rps for off, variant in self.pairs]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def errors(self) -> int:
        return sum(off.errors + variant.errors for off, variant in self.pairs)


@dataclass
class Result:
    target: Target
    startup_s: float
    idle_kb: int
    peak_kb: int = 0
    points: dict[int, Point] = field(default_factory=dict)


# --- tools -----------------------------------------------------------------------------------------------------------


def ensure_tools() -> tuple[str, bool]:
    """wrk's path (installed with apt-get if missing and possible) and whether taskset pinning is possible."""
    wrk = shutil.which("wrk")
    if wrk is None:
        apt = shutil.which("apt-get")
        if apt is not None and os.geteuid() == 0:
            print("wrk not found: installing it with apt-get (Debian/Ubuntu package `wrk`)", flush=True)
            subprocess.run([apt, "update", "-qq"], check=True)  # noqa: S603
            subprocess.run([apt, "install", "-y", "-qq", "wrk"], check=True)  # noqa: S603
            wrk = shutil.which("wrk")
        if wrk is None:
            sys.exit(
                "bench/run.py needs wrk (https://github.com/wg/wrk): `sudo apt-get install wrk` on Debian/Ubuntu, "
                "`brew install wrk` on macOS, or build it from source; then run this script again."
            )
    cpus = os.sched_getaffinity(0)
    pin = shutil.which("taskset") is not None and {SERVER_CPU, LOAD_CPU} <= cpus
    if not pin:
        print("warning: no pinning (needs taskset from util-linux and CPUs 0 and 1); results are noisier", flush=True)
    return wrk, pin


def pinned(cpu: int, command: Sequence[str], pin: bool) -> list[str]:
    return ["taskset", "-c", str(cpu), *command] if pin else list(command)


def serve_command() -> list[str]:
    script = Path(sys.executable).with_name("mock-finapi")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mock_finapi.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def proc_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {key} for process {pid}")


def request(
    url: str, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def fetch_token(url: str, grant: str) -> str:
    status, data = request(url, "POST", TOKEN_PATH, grant, {"Content-Type": "application/x-www-form-urlencoded"})
    if status != 200:
        raise RuntimeError(f"token request answered {status}: {data[:200]!r}")
    token: str = json.loads(data)["access_token"]
    return token


# --- servers ---------------------------------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    startup_s: float


@contextmanager
def running(target: Target, pin: bool, work: Path) -> Iterator[Server]:
    """A fresh server for `target`, pinned to SERVER_CPU, ready (answered a token request) when entered."""
    url_file = work / f"{target.key}.url"
    url_file.unlink(missing_ok=True)
    if target.baseline:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, str(HERE / "baseline_app.py"), "--port", str(port)]  # served as `serve` serves
    else:
        url = ""
        command = [*serve_command(), "serve", "--port", "0", "--url-file", str(url_file), *target.serve_args]
        command += ["--log-level", "warning"]
        if target.scenario:
            command += ["--scenario", target.scenario]
    log = (work / f"{target.key}.log").open("wb") if target.log_to_file else None
    stderr = (work / f"{target.key}.err").open("wb")
    start = time.perf_counter()
    process = subprocess.Popen(pinned(SERVER_CPU, command, pin), stdout=log or subprocess.DEVNULL, stderr=stderr)  # noqa: S603
    try:
        deadline = start + TIMEOUT
        while True:
            if not url:
                text = url_file.read_text().strip() if url_file.exists() else ""
                url = text
            if url:
                try:
                    if request(url, "POST", TOKEN_PATH, CLIENT_GRANT, {"Content-Type": FORM.split(": ")[1]})[0] == 200:
                        break
                except OSError:
                    pass
            if process.poll() is not None or time.perf_counter() > deadline:
                err = (work / f"{target.key}.err").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{target.key}: server not ready (exit code {process.poll()}):\n{err}")
            time.sleep(0.002)
        yield Server(process, url, time.perf_counter() - start)
        if process.poll() is not None:
            raise RuntimeError(f"{target.key}: the server died during the run (exit code {process.returncode})")
    finally:
        stop(process)
        if log is not None:
            log.close()
        stderr.close()


# --- load ------------------------------------------------------------------------------------------------------------


class Load:
    def __init__(self, wrk: str, pin: bool) -> None:
        self.wrk = wrk
        self.pin = pin
        self.runs = 0

    def run(self, target: Target, server: Server, bearer: str, connections: int, seconds: float) -> Sample:
        self.runs += 1
        if target.create_user:
            script, args = WRK_CREATE_USER, [f"r{self.runs}", bearer]
        else:
            headers = [*target.headers, *([f"Authorization: Bearer {bearer}"] if bearer else [])]
            script, args = WRK_STATIC, [target.method, target.body, *headers]
        command = [self.wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script)]
        command += [server.url + target.path, "--", *args]
        result = subprocess.run(  # noqa: S603
            pinned(LOAD_CPU, command, self.pin), capture_output=True, text=True, timeout=seconds + 60, check=False
        )
        lines = {x.split(" ", 1)[0]: x for x in result.stdout.splitlines() if x.startswith(("BENCH ", "HIST "))}
        if result.returncode != 0 or len(lines) != 2:
            raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        requests, duration_us, _p50, _p99, *errors = (float(x) for x in lines["BENCH"].split()[1:])
        latency = Counter({int(v): int(c) for v, c in (pair.split(":") for pair in lines["HIST"].split()[1:])})
        return Sample(int(requests), duration_us / 1e6, int(sum(errors)), latency)


def measure(
    targets: Sequence[Target], load: Load, pin: bool, work: Path, concurrencies: Sequence[int], args: argparse.Namespace
) -> list[Result]:
    """Every target's points, interleaved: all servers are up at once (an idle one uses no CPU) and each round runs
    every target once in turn, so a change in the machine's speed during the run hits all targets alike and the
    ratios between them stay fair."""
    with ExitStack() as stack:
        servers, bearers, results = [], [], []
        for target in targets:
            server = stack.enter_context(running(target, pin, work))
            bearer = ""
            if target.auth == "client":
                bearer = fetch_token(server.url, CLIENT_GRANT)
            elif target.auth == "user":
                bearer = fetch_token(server.url, PASSWORD_GRANT)
            servers.append(server)
            bearers.append(bearer)
            results.append(Result(target, server.startup_s, proc_status_kb(server.process.pid, "VmRSS")))
        if args.warmup > 0:
            for target, server, bearer in zip(targets, servers, bearers, strict=True):
                load.run(target, server, bearer, max(concurrencies), args.warmup)
        for connections in concurrencies:
            samples: list[list[Sample]] = [[] for _ in targets]
            slices: list[list[Sample]] = [[] for _ in targets]
            for round_ in range(args.repeats):
                taken_in_round: list[list[Sample]] = [[] for _ in targets]
                for slice_ in range(args.slices):
                    for index in rotated(range(len(targets)), round_ + slice_):  # no target always first or last
                        taken_in_round[index].append(load.run(targets[index], servers[index], bearers[index],
                                                              connections, args.duration / args.slices))  # fmt: skip
                for index, taken in enumerate(taken_in_round):
                    samples[index].append(sum(taken[1:], taken[0]))
                    slices[index] += taken
            for result, taken, sliced in zip(results, samples, slices, strict=True):
                point = result.points[connections] = Point(connections, taken, sliced)
                print(
                    f"  {result.target.key:<20} c={connections:<3} {point.rps:>9,.0f} req/s  p50 {point.p50_ms:6.2f} "
                    f"ms  p99 {point.p99_ms:6.2f} ms  errors {point.errors}   "
                    f"(runs: {', '.join(f'{s.rps:,.0f}' for s in taken)})",
                    flush=True,
                )
        for result, server in zip(results, servers, strict=True):
            result.peak_kb = proc_status_kb(server.process.pid, "VmHWM")
    return results


def head_to_head(
    targets: Sequence[Target], load: Load, pin: bool, work: Path, connections: int, args: argparse.Namespace
) -> list[Pairing]:
    """Each of `targets[1:]` against a server of its own of `targets[0]` (all off), both loaded at the same time:
    the pair shares CPU 0 and each has its own wrk on CPU 1, so whatever the host does in those seconds slows both
    alike. The ratio of their requests/s in one round is the variant's relative cost per request. Rounds go through
    the pairs in turn (both servers of a pair idle while the others run: one all-off server shared by every pair
    came out of its idle spells 2-3% faster than a variant, as an A/A pair showed), alternating which wrk starts
    first; the median over rounds is reported."""
    with ExitStack() as stack, ThreadPoolExecutor(2) as pool:
        partners = [replace(targets[0], key=f"{targets[0].key}_for_{target.key}") for target in targets[1:]]
        pairs = [  # each server its own key: its URL and stderr files
            (stack.enter_context(running(partner, pin, work)), stack.enter_context(running(target, pin, work)))
            for partner, target in zip(partners, targets[1:], strict=True)
        ]
        pairings = [Pairing(target) for target in targets[1:]]

        def both(off: Server, server: Server, target: Target, seconds: float, swap: bool) -> tuple[Sample, Sample]:
            runs = [(targets[0], off), (target, server)]
            futures = [pool.submit(load.run, t, s, "", connections, seconds) for t, s in runs[:: -1 if swap else 1]]
            first, second = (future.result() for future in futures)
            return (second, first) if swap else (first, second)

        for (off, server), target in zip(pairs, targets[1:], strict=True):
            if args.warmup > 0:
                both(off, server, target, args.warmup, swap=False)
        for round_ in range(args.overhead_rounds):
            for pairing, (off, server) in zip(pairings, pairs, strict=True):
                pairing.pairs.append(both(off, server, pairing.target, args.overhead_seconds, swap=round_ % 2 == 1))
            print(f"  round {round_ + 1}: " + ", ".join(f"{p.target.key} {p.ratios[-1]:.3f}" for p in pairings),
                  flush=True)  # fmt: skip
    return pairings


def rotated(items: Sequence[int], by: int) -> list[int]:
    shift = by % len(items)
    return [*items[shift:], *items[:shift]]


def compile_bytecode() -> None:
    """Compile mock_finapi's modules first, as `pip install` does: in a source checkout under
    PYTHONDONTWRITEBYTECODE every start would otherwise compile them again (a fifth of the start-up)."""
    import mock_finapi

    compileall.compile_dir(Path(mock_finapi.__file__).parent, quiet=1)


def startup_times(pin: bool, work: Path, runs: int) -> list[float]:
    target = Target("startup", "start-up", "POST", TOKEN_PATH)
    times = []
    for _ in range(runs):
        with running(target, pin, work) as server:
            times.append(server.startup_s)
    return times


def memory_run(pin: bool, work: Path, tokens: int) -> dict[str, Any]:
    """`bench/memory.py --direct` in a fresh process (on the server's CPU): its summary numbers."""
    summary = work / "memory.json"
    command = [sys.executable, str(HERE / "memory.py"), "--direct", "--tokens", str(tokens)]
    command += ["--out", str(work / "memory.txt"), "--json", str(summary)]
    subprocess.run(pinned(SERVER_CPU, command, pin), check=True, capture_output=True, timeout=3600)  # noqa: S603
    numbers: dict[str, Any] = json.loads(summary.read_text())[0]
    return numbers


# --- report ----------------------------------------------------------------------------------------------------------


def machine(revisions: tuple[str, str]) -> list[str]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    versions = []
    for name in ("uvicorn", "starlette", "uvloop", "httptools"):
        try:
            module = __import__(name)
            versions.append(f"{name} {getattr(module, '__version__', '?')}")
        except ImportError:
            versions.append(f"{name} missing")
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)  # noqa: S607
    wrk_lines = (wrk.stdout or wrk.stderr).splitlines()
    wrk_version = wrk_lines[0].split(" Copyright")[0] if wrk_lines else "wrk ?"
    return [
        f"- nproc {os.cpu_count()}, CPU `{model}`, {platform.system()} {platform.release()} {platform.machine()}",
        f"- {platform.python_implementation()} {platform.python_version()}, {', '.join(versions)}, {wrk_version}",
        f"- mock-finapi {mock_version()}, git `{revisions[0]}` at the start"
        + ("" if revisions[0] == revisions[1] else f", `{revisions[1]}` at the end (the code changed during the run)"),
    ]


def mock_version() -> str:
    try:
        from mock_finapi import __version__
    except ImportError:
        return "?"
    return str(__version__)


def revision() -> str:
    git = subprocess.run(  # noqa: S603
        ["git", "-C", str(HERE.parent), "describe", "--always", "--dirty"],  # noqa: S607
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return git.stdout.strip() or "?"


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def report(
    results: list[Result],
    overhead: list[Pairing],
    startups: list[float],
    memory: dict[str, Any] | None,
    args: argparse.Namespace,
    pin: bool,
    command: str,
    loads: tuple[str, str],
    revisions: tuple[str, str],
) -> str:
    now = datetime.datetime.now().astimezone()
    concurrencies = args.concurrency
    lines = [
        f"# mock-finapi performance, {now:%Y-%m-%d %H:%M %Z}",
        "",
        f"Command: `{command}`",
        "",
        *machine(revisions),
        f"- server on CPU {SERVER_CPU}, wrk on CPU {LOAD_CPU} (taskset)" if pin else "- no CPU pinning",
        f"- wrk -t1, keep-alive, {args.duration:g} s per run after a {args.warmup:g} s warm-up, median of "
        f"{args.repeats} interleaved rounds; a run is {args.slices} slices of {args.duration / args.slices:g} s and "
        "each slice runs every target of a table once, in turn, starting one further each time (requests/s of a run: "
        "its requests over its time; p50 and p99 from its slices' merged latency histograms); a fresh server per "
        "target; mock-finapi: `serve --log-format off` (journal 1000) unless noted",
        "- ratios: the median over all slices of the ratio within a slice (a few seconds apart, so the host's drift "
        "hits both alike)",
        f"- load average (1/5/15 min) before the run {loads[0]}, after {loads[1]} (other work on the machine skews "
        "the numbers; the ratios, measured in the same rounds, less so)",
        "",
        "## Requests/s and latency",
        "",
        "| target | " + " | ".join(f"c={c} req/s | p50 ms | p99 ms" for c in concurrencies) + " | errors |",
        "|---|" + "---:|---:|---:|" * len(concurrencies) + "---:|",
    ]
    for r in results:
        cells = [f"{p.rps:,.0f} | {p.p50_ms:.2f} | {p.p99_ms:.2f}" for p in (r.points[c] for c in concurrencies)]
        lines.append(f"| {r.target.title} | " + " | ".join(cells) + f" | {sum(p.errors for p in r.points.values())} |")

    base = results[0]
    c = COMPARE_AT if COMPARE_AT in concurrencies else concurrencies[len(concurrencies) // 2]
    lines += [
        "",
        f"## Against the baseline (c={c})",
        "",
        "| target | req/s | ratio | goal | p99 ms | p99 ratio | goal (≤ 3×) |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    for r in results[1:]:
        ratio = r.points[c].ratio(base.points[c])
        p99 = r.points[c].p99_ms / base.points[c].p99_ms
        goal = GOALS_RPS.get(r.target.key)
        goal_text = f"≥ {goal:g}: {verdict(ratio >= goal)}" if goal is not None else ""
        lines.append(
            f"| {r.target.title} | {r.points[c].rps:,.0f} | {ratio:.2f} | {goal_text} | {r.points[c].p99_ms:.2f} "
            f"| {p99:.2f} | {verdict(p99 <= GOAL_P99)} |"
        )

    if overhead:
        rounds = len(overhead[0].pairs)
        lines += [
            "",
            f"## Request log and journal (client_credentials at c={args.overhead_concurrency}; fault matching on, no "
            "rules)",
            "",
            f"Head-to-head: each variant and an all-off server of its own (`--log-format off --journal-size 0`) loaded "
            f"at the same time for {args.overhead_seconds:g} s, both servers on CPU {SERVER_CPU} and a wrk each on CPU "
            f"{LOAD_CPU}, {rounds} rounds through the pairs in turn: the ratio of their requests/s within a round "
            "is the variant's throughput relative to all off, unmoved by the host's drift (each server gets about "
            "half the CPU, so the req/s are about half a target's above). The A/A row pairs two all-off servers: "
            "the method's own spread.",
            "",
            "| variant | ratio to all off (median) | lowest, highest round | req/s | all off req/s, same seconds |",
            "|---|---:|---:|---:|---:|",
        ]
        for pairing in overhead:
            off_rps = statistics.median(off.rps for off, _ in pairing.pairs)
            variant_rps = statistics.median(variant.rps for _, variant in pairing.pairs)
            lines.append(
                f"| {pairing.target.title} | {pairing.ratio:.3f} | {min(pairing.ratios):.3f}, "
                f"{max(pairing.ratios):.3f} | {variant_rps:,.0f} | {off_rps:,.0f} |"
            )
        worst = min(p.ratio for p in overhead if p.target.key != "cc_all_off_again")  # the A/A pair is no cost
        lines += ["", f"Largest cost: {1 - worst:.1%} of throughput; goal ≤ {GOAL_OVERHEAD:.0%}: "
                  f"{verdict(1 - worst <= GOAL_OVERHEAD)}"]  # fmt: skip

    lines += [
        "",
        "## Start-up and memory",
        "",
        "| target | ready after (s) | idle RSS MB | peak RSS MB |",
        "|---|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.target.title} | {r.startup_s:.3f} | {r.idle_kb / 1024:.1f} | {r.peak_kb / 1024:.1f} |")
    idle = max(r.idle_kb for r in results[1:]) / 1024 if results[1:] else 0.0
    lines.append("")
    if startups:
        worst_start = max(startups)
        lines.append(
            f"Start-up of `mock-finapi serve --port 0 --url-file F --log-format off` (default scenario, bytecode "
            f"compiled as an installed package has it) to the first 200 on {TOKEN_PATH}, {len(startups)} runs: "
            f"median {statistics.median(startups):.3f} s, worst "
            f"{worst_start:.3f} s; goal ≤ {GOAL_STARTUP:g} s: {verdict(worst_start <= GOAL_STARTUP)}."
        )
    lines.append(f"Idle RSS (largest mock-finapi target): {idle:.1f} MB; goal ≤ {GOAL_IDLE_MB:g} MB: "
                 f"{verdict(idle <= GOAL_IDLE_MB)}. Peak RSS is VmHWM at the end of the target's runs.")  # fmt: skip
    if memory is not None:
        ratio = memory["peak_over_idle"]
        lines.append(
            f"Memory (`bench/memory.py --direct`, {memory['tokens']:,} client tokens of 60 s, {memory['live']:,} alive "
            f"at the end): idle {memory['idle_mb']:.1f} MB, peak {memory['peak_mb']:.1f} MB, after the last token "
            f"{memory['final_mb']:.1f} MB; peak/idle {ratio:.2f}; goal ≤ {GOAL_MEMORY:g}: "
            f"{verdict(ratio <= GOAL_MEMORY)}."
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run (10)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per point; the median is reported (3)")
    parser.add_argument(
        "--slices", type=int, default=5,
        help="wrk runs a run is cut into, interleaved with the other targets' slices (5: 2 s each of 10 s)",
    )  # fmt: skip
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per target (3)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64], help="connections (1 16 64)")
    parser.add_argument(
        "--overhead-concurrency", type=int, default=COMPARE_AT,
        help="connections for the log/journal variants (16); 0 skips them",
    )  # fmt: skip
    parser.add_argument("--overhead-rounds", type=int, default=9, help="head-to-head rounds per variant (9)")
    parser.add_argument("--overhead-seconds", type=float, default=4.0, help="seconds per head-to-head round (4)")
    parser.add_argument("--startup-runs", type=int, default=5, help="spawns for the start-up time (5)")
    parser.add_argument(
        "--memory-tokens", type=int, default=1_000_000,
        help="tokens for the memory run (bench/memory.py --direct, under a minute per million); 0 skips it",
    )  # fmt: skip
    parser.add_argument("--only", nargs="+", metavar="KEY", help="targets to run (the baseline always runs)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the report (bench/results)")
    args = parser.parse_args()
    command = " ".join(["python", "bench/run.py", *sys.argv[1:]])

    wrk, pin = ensure_tools()
    compile_bytecode()
    load_before, revision_before = loadavg(), revision()
    if pin:  # keep this process off the server's CPU
        os.sched_setaffinity(0, {LOAD_CPU})
    load = Load(wrk, pin)
    targets = [t for t in TARGETS if t.baseline or not args.only or t.key in args.only]
    with tempfile.TemporaryDirectory(prefix="mock-finapi-bench-") as tmp:
        work = Path(tmp)
        print("throughput: " + ", ".join(t.key for t in targets), flush=True)
        results = measure(targets, load, pin, work, args.concurrency, args)
        overhead: list[Pairing] = []
        if args.overhead_concurrency > 0:
            print("request log and journal, head-to-head: " + ", ".join(t.key for t in OVERHEAD_TARGETS), flush=True)
            overhead = head_to_head(OVERHEAD_TARGETS, load, pin, work, args.overhead_concurrency, args)
        print("start-up", flush=True)
        startups = startup_times(pin, work, args.startup_runs)
        memory: dict[str, Any] | None = None
        if args.memory_tokens > 0:
            print("memory", flush=True)
            memory = memory_run(pin, work, args.memory_tokens)
    failed = [r.target.key for r in results if any(p.errors for p in r.points.values())]
    failed += [p.target.key for p in overhead if p.errors]

    loads, revisions = (load_before, loadavg()), (revision_before, revision())
    text = report(results, overhead, startups, memory, args, pin, command, loads, revisions)
    print()
    print(text, end="")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.md").write_text(text)
    if failed:
        print(f"errors (socket errors or non-2xx answers) in: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
