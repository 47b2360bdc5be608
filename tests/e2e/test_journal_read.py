"""Reading the journal whole does not stall the server (issue 16, point 3), over a real socket.

An entry's view parses and masks its body; a 16 KiB body of deeply nested arrays (kept whole: the journal cuts only
longer ones) takes milliseconds to show, so a full read of a journal of them is seconds of work. Other requests are
answered while it runs. bench/journal.py measures the default journal of 1,000 such entries.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from mock_finapi.http.middleware import JOURNAL_BODY_BYTES
from mock_finapi.testing import ThreadedServer

ENTRIES = 100
NESTING = 60
"""Arrays nested this deep (JSON bodies may nest 64 deep): what costs the most to show per byte of body."""
JSON_BODY = {"Content-Type": "application/json"}
MEANWHILE = 3
"""Health requests answered, one after the other, before the full read's answer began (one may slip in before the
read starts being served; while a read held the event loop, none more could)."""


def nested_body() -> bytes:
    """`{"values": [[[…]]], [[[…]]], …]}` of exactly JOURNAL_BODY_BYTES: the largest body an entry keeps whole."""
    head, tail = b'{"values": [', b"]}"
    item = b"[" * NESTING + b"]" * NESTING
    room = JOURNAL_BODY_BYTES - len(head) - len(tail)
    items = b",".join([item] * ((room + 1) // (len(item) + 1)))
    return head + items + b" " * (room - len(items)) + tail


@pytest.mark.slow
def test_other_requests_are_answered_while_a_heavy_journal_is_read_whole() -> None:
    body = nested_body()
    with ThreadedServer(journal_size=ENTRIES) as server:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for _ in range(ENTRIES):
                assert client.post("/api/v2/users", content=body, headers=JSON_BODY).status_code == 401
        answered = threading.Event()
        reads: list[httpx.Response] = []

        def read_whole() -> None:
            with httpx.stream("GET", server.url + "/__admin/requests", timeout=120) as response:
                answered.set()  # the answer has begun: the server is done with it
                response.read()
                reads.append(response)

        reader = threading.Thread(target=read_whole)
        reader.start()
        time.sleep(0.2)  # the read is being served (it takes seconds)
        meanwhile = []
        with httpx.Client(base_url=server.url, timeout=120) as client:
            while not answered.is_set():
                health = client.get("/__admin/health")
                if not answered.is_set():
                    meanwhile.append(health.status_code)
        reader.join()

    assert len(meanwhile) >= MEANWHILE, "health was answered only once the journal read had been"
    assert set(meanwhile) == {200}
    read = reads[0]
    assert read.status_code == 200
    assert read.headers["content-type"] == "application/json"
    entries = read.json()["requests"]
    assert len(entries) == ENTRIES
    assert all(entry["body"] == json.loads(body) and "bodyTruncated" not in entry for entry in entries)
    assert [entry["status"] for entry in entries] == [401] * ENTRIES
