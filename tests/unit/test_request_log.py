"""Request log lines: fields, escaping, masking, when they are written, and lines written together formatted exactly
as one at a time."""

from __future__ import annotations

import asyncio
import json

import pytest

from mock_finapi.http import request_log
from mock_finapi.http.request_log import RequestLog, json_line, text_line
from mock_finapi.state.models import Entry

pytestmark = pytest.mark.anyio

TIME = "2026-11-29T05:07:25.123456+00:00"
RID = "selfgen-3f1c6a52-8d0e-4b7a-9c1d-2e5f6a7b8c9d"


def entry(
    path: str = "/api/v2/oauth/token",
    *,
    method: str = "POST",
    rid: str = RID,
    fault: str | None = None,
    duration_ms: float = 1.234,
) -> Entry:
    return Entry(1.0, duration_ms / 1000, method, path, b"", 200, rid, "c", "m", fault, None, None, None)


@pytest.mark.parametrize(
    ("logged", "text"),
    [
        (entry(), f"POST /api/v2/oauth/token 200 1.2ms rid={RID}"),
        (entry("/api/v2/users/ünïcödé", fault="flaky"), f"POST /api/v2/users/ünïcödé 200 1.2ms rid={RID} fault=flaky"),
        (entry("/api/v2/users/a b%\n"), f"POST /api/v2/users/a%20b%25%0A 200 1.2ms rid={RID}"),
        (
            entry(rid="tab\there", fault="a fault"),
            "POST /api/v2/oauth/token 200 1.2ms rid=tab\\x09here fault=a\\x20fault",
        ),
        (entry(method="P OST", rid='"quoted"'), 'P\\x20OST /api/v2/oauth/token 200 1.2ms rid="quoted"'),
        (entry("/api/v1/processes/3f1c6a52-8d0e/x y"), f"POST /api/v1/processes/3f1c…/x%20y 200 1.2ms rid={RID}"),
        (entry("/api/v1/processes/m-1/link"), f"POST /api/v1/processes/m-1/link 200 1.2ms rid={RID}"),
        (entry("/__admin/tokens/abcdefgh/expire"), f"POST /__admin/tokens/abcd…/expire 200 1.2ms rid={RID}"),
    ],
)
def test_text_lines_escape_what_would_break_them_and_mask_tokens(logged: Entry, text: str) -> None:
    assert text_line(logged) == text


@pytest.mark.parametrize(
    ("requested", "path"),
    [
        ('/api/v2/users/"a\\b\n"', '/api/v2/users/"a\\b\n"'),
        ("/api/v1/processes/3f1c6a52-8d0e", "/api/v1/processes/3f1c…"),
        ("/__admin/tokens/abcdefgh/expire", "/__admin/tokens/abcd…/expire"),
    ],
)
def test_json_lines_hold_the_documented_fields(requested: str, path: str) -> None:
    for fault in (None, "flaky"):
        assert json.loads(json_line(entry(requested, fault=fault), TIME)) == {
            "time": TIME,
            "method": "POST",
            "path": path,
            "status": 200,
            "durationMs": 1.234,
            "requestId": RID,
            "fault": fault,
        }


def test_lines_leave_out_the_query_string_and_credentials() -> None:
    sent = entry()._replace(query_string=b"client_secret=hush", authorization=b"Basic aHVzaDpodXNo", body=b"hush")
    assert "hush" not in text_line(sent)
    assert "hush" not in json_line(sent, TIME)
    assert text_line(sent) == text_line(entry())


async def turns(count: int = 2) -> None:
    """Let the event loop run `count` turns (a timer already due fires in the turn after it was set)."""
    for _ in range(count):
        await asyncio.sleep(0)


async def test_after_a_quiet_spell_a_line_is_written_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    log = RequestLog("text")
    log.add(entry())
    log.add(entry("/api/v2/users", method="GET"))
    before = capsys.readouterr().out
    await turns()
    assert before == ""
    assert capsys.readouterr().out.splitlines() == [
        f"POST /api/v2/oauth/token 200 1.2ms rid={RID}",
        f"GET /api/v2/users 200 1.2ms rid={RID}",
    ]


async def test_while_requests_keep_coming_lines_wait_for_the_interval_or_the_host(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(request_log, "INTERVAL", 3600.0)
    log = RequestLog("text")
    written = []
    for path in ("/first", "/second"):
        log.add(entry(path))
        await turns(5)
        written.append(capsys.readouterr().out)
    log.write()  # what the host does once serving stopped
    first, second, at_stop = [*written, capsys.readouterr().out]
    log.write()  # a later write finds nothing to write
    assert capsys.readouterr().out == ""
    assert first == f"POST /first 200 1.2ms rid={RID}\n"
    assert second == ""
    assert at_stop == f"POST /second 200 1.2ms rid={RID}\n"


async def test_lines_that_waited_are_written_once_the_interval_passed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(request_log, "INTERVAL", 0.01)
    log = RequestLog("text")
    for path in ("/first", "/second"):
        log.add(entry(path))
    await turns()
    assert capsys.readouterr().out == f"POST /first 200 1.2ms rid={RID}\nPOST /second 200 1.2ms rid={RID}\n"
    log.add(entry("/third"))
    out = ""
    for _ in range(200):
        await asyncio.sleep(0.01)
        if out := capsys.readouterr().out:
            break
    assert out == f"POST /third 200 1.2ms rid={RID}\n"


async def written_together(fmt: str, entries: list[Entry], capsys: pytest.CaptureFixture[str]) -> list[str]:
    log = RequestLog(fmt)
    for ended in entries:
        log.add(ended)
    await turns()
    return capsys.readouterr().out.splitlines()


PLAIN = [
    entry(),
    entry("/api/v2/users", method="GET", rid="my-trace-id", duration_ms=0.05),
    entry("/api/v2/users/u-1", method="DELETE", duration_ms=1234.5678),
]
NOT_PLAIN = [  # each makes all lines written with it go line by line: the lines must not change
    entry(fault="flaky"),
    entry("/api/v2/users/a b"),
    entry("/api/v2/users/a%25b"),
    entry("/api/v2/users/\x7f"),
    entry("/api/v2/users/ünïcödé"),
    entry(rid='"quoted"'),
    entry(rid="back\\slash"),
    entry(rid="tab\there"),
    entry("/api/v1/processes/3f1c6a52-8d0e"),
    entry("/__admin/tokens/abcdefgh/expire"),
    entry("/api/v1/processes/m-1/link"),
]


@pytest.mark.parametrize("odd", [None, *NOT_PLAIN])
async def test_text_lines_written_together_are_the_lines_one_at_a_time(
    odd: Entry | None, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = [*PLAIN, odd] if odd else PLAIN
    assert await written_together("text", entries, capsys) == [text_line(e) for e in entries]


@pytest.mark.parametrize("odd", [None, *NOT_PLAIN])
async def test_json_lines_written_together_are_the_lines_one_at_a_time(
    odd: Entry | None, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = [*PLAIN, odd] if odd else PLAIN
    lines = await written_together("json", entries, capsys)
    time = json.loads(lines[0])["time"]  # one for the lines written together
    assert lines == [json_line(e, time) for e in entries]
    assert [json.loads(line)["durationMs"] for line in lines[:3]] == [1.234, 0.05, 1234.568]


TOKEN = "85060c1c-2b1e-4c7a-9f3d-6a1b2c3d4e5f"
SPELLINGS = [
    (f"/api/v1//processes/{TOKEN}", "/api/v1//processes/8506…"),
    (f"//api/v1/processes//{TOKEN}/", "//api/v1/processes//8506…/"),
    (f"/API/v1/processes/{TOKEN}", "/API/v1/processes/8506…"),
    (f"/api/v1/PROCESSES/{TOKEN}", "/api/v1/PROCESSES/8506…"),
    (f"/api/v1/proceſſes/{TOKEN}", "/api/v1/proceſſes/8506…"),
    (f"/api/v2/processes/{TOKEN}", "/api/v2/processes/8506…"),
    (f"/api/v7/Processes/{TOKEN}/exchange", "/api/v7/Processes/8506…/exchange"),
    (f"/__admin//tokens/{TOKEN}/expire", "/__admin//tokens/8506…/expire"),
    (f"/__admin/tokens//{TOKEN}//expire", "/__admin/tokens//8506…//expire"),
    (f"/__Admin/Tokens/{TOKEN}/Expire", "/__Admin/Tokens/8506…/Expire"),
]


@pytest.mark.parametrize(("requested", "path"), SPELLINGS, ids=[shown for _, shown in SPELLINGS])
async def test_tokens_are_masked_on_every_spelling_of_a_path(
    requested: str, path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    logged = entry(requested)
    assert text_line(logged) == f"POST {path} 200 1.2ms rid={RID}"
    assert json.loads(json_line(logged, TIME))["path"] == path
    for fmt in ("text", "json"):  # written together with lines that need no masking
        lines = await written_together(fmt, [*PLAIN, logged], capsys)
        assert TOKEN not in "".join(lines)
        assert lines[-1] == (text_line(logged) if fmt == "text" else json_line(logged, json.loads(lines[0])["time"]))
