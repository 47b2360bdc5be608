"""The Process Controller flow against a real `mock-finapi serve` process over a socket (issue 3, README)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import serving
from tests.helpers import CLIENT_ID, CLIENT_SECRET, bearer

README = Path(__file__).resolve().parents[2] / "README.md"
README_URL = "http://127.0.0.1:8080"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@pytest.mark.slow
def test_create_exchange_with_invalidate_use_the_token_then_a_second_exchange_is_refused(tmp_path: Path) -> None:
    with serving(tmp_path) as served, httpx.Client(base_url=served.url, timeout=5) as http:
        created = http.post(
            "/api/v1/processes",
            json={
                "clientId": CLIENT_ID,
                "clientSecret": CLIENT_SECRET,
                "clientReferences": [{"clientReference": "customer-4711"}],
                "processId": "USER_ONLY",
            },
        )
        assert created.status_code == 201, created.text
        [process] = created.json()["processes"]
        assert process["clientReference"] == "customer-4711"
        assert UUID.fullmatch(process["processToken"])

        exchanged = http.get(f"/api/v1/processes/{process['processToken']}", params={"invalidate": "true"})
        assert exchanged.status_code == 200, exchanged.text
        assert list(exchanged.json()) == ["accessToken"]

        me = http.get("/api/v2/users", headers=bearer(exchanged.json()["accessToken"]))
        assert me.status_code == 200, me.text
        assert UUID.fullmatch(me.json()["id"])
        assert {k: v for k, v in me.json().items() if k != "id"} == {
            "password": "XXXXX",
            "email": None,
            "phone": None,
            "isAutoUpdateEnabled": False,
        }

        again = http.get(f"/api/v1/processes/{process['processToken']}")
        assert again.status_code == 410, again.text
        assert again.json()["errors"] == [
            {
                "message": "The process token was invalidated by an earlier exchange",
                "code": "ILLEGAL_ENTITY_STATE",
                "type": "BUSINESS",
                "multiStepAuthentication": None,
            }
        ]


def readme_process_flow() -> list[tuple[str, str]]:
    """(command, documented output) of each curl in the README's Process Controller code block."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Process Controller\n", 1)
    assert len(section) == 2, "README.md has no '## Process Controller' section"
    block = re.search(r"```sh\n(.*?)```", section[1].split("\n## ", 1)[0], re.S)
    assert block, "the Process Controller section has no sh code block"
    steps: list[tuple[str, str]] = []
    command: list[str] = []
    for line in block[1].splitlines():
        if line.startswith("# "):
            steps.append(("\n".join(command), line[2:]))
            command = []
        elif line.strip():
            command.append(line)
    assert not command, f"a command without its documented output: {command}"
    return steps


def documented(output: str) -> re.Pattern[str]:
    """The README's `# ...` line as a pattern: an optional leading status dropped, `…` for anything, the JSON up to
    its last brace (words after it are remarks)."""
    body = re.sub(r"^\d{3} ", "", output)
    body = body[: body.rindex("}") + 1]
    return re.compile(".*".join(re.escape(part) for part in body.split("…")))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_readme_curl_flow_works_verbatim(tmp_path: Path) -> None:
    steps = readme_process_flow()
    assert [c.split()[:2] for c, _ in steps] == [
        ["curl", "-X"],
        ["curl", f'"{README_URL}/api/v1/processes/$PROCESS_TOKEN?invalidate=true"'],
        ["curl", f"{README_URL}/api/v2/users"],
        ["curl", f'"{README_URL}/api/v1/processes/$PROCESS_TOKEN"'],
    ], "the README's flow changed: update this test"
    env: dict[str, str] = {"PATH": "/usr/bin:/bin"}
    with serving(tmp_path) as served:
        for command, output in steps:
            result = subprocess.run(
                ["bash", "-c", command.replace(README_URL, served.url)],
                capture_output=True,
                text=True,
                timeout=15,
                env=env,
                check=False,
            )
            assert result.returncode == 0, result.stderr
            assert documented(output).fullmatch(result.stdout), (command, result.stdout, output)
            answer = json.loads(result.stdout)
            if "processes" in answer:
                env["PROCESS_TOKEN"] = answer["processes"][0]["processToken"]
            if "accessToken" in answer:
                env["ACCESS_TOKEN"] = answer["accessToken"]
    assert set(env) == {"PATH", "PROCESS_TOKEN", "ACCESS_TOKEN"}
