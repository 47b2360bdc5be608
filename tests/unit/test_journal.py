"""The journal ring: raw entries become their masked views when first read, and reads and writes may interleave."""

from __future__ import annotations

from mock_finapi.services.journal import Entry, Journal, Matcher
from mock_finapi.state.store import Store


def entry(request_id: str, body: bytes = b"grant_type=password&password=secret", fault: str | None = None) -> Entry:
    form = b"application/x-www-form-urlencoded"
    clock = (1.0, 0.0, True)
    return (clock, 0.0, 0.0015, "POST", "/api/v2/oauth/token", b"", 200, request_id, None, fault, None, form, body)


def ids(views: list[dict[str, object]]) -> list[object]:
    return [view["requestId"] for view in views]


def test_reads_between_writes_see_every_entry_newest_first_and_masked() -> None:
    journal = Journal(4, Store())
    for n in range(3):
        journal.record(entry(f"r{n}"))
    first = journal.find(Matcher(), limit=1)
    assert ids(first) == ["r2"]
    for n in range(3, 6):  # the ring drops r0 and r1, views and raw entries alike
        journal.record(entry(f"r{n}"))
    everything = journal.find(Matcher())
    assert ids(everything) == ["r5", "r4", "r3", "r2"]
    assert everything[-1] is first[0]  # a view is made once and kept
    assert {view["body"]["password"] for view in everything} == {"***"}
    assert journal.count(Matcher()) == 4


def test_clear_with_a_matcher_keeps_the_others_in_order_and_recording_goes_on() -> None:
    journal = Journal(5, Store())
    for n in range(4):
        journal.record(entry(f"r{n}", fault="flaky" if n % 2 else None))
    assert ids(journal.find(Matcher(), limit=1)) == ["r3"]  # views now, up to the newest
    journal.record(entry("r4", fault="flaky"))  # raw after them
    assert journal.clear(Matcher(fault="flaky")) == 3
    journal.record(entry("r5"))
    assert ids(journal.find(Matcher())) == ["r5", "r2", "r0"]


def test_a_view_has_the_virtual_time_and_real_duration_of_the_request() -> None:
    journal = Journal(4, Store())
    running = (1_767_254_400.0, 100.0, False)  # 2026-01-01T09:00:00+01:00 at the real reading 100
    journal.record((running, 102.0, 102.25, "GET", "/api/v2/users", b"", 200, "r1", None, None, None, None, None))
    view = journal.find(Matcher())[0]
    assert (view["time"], view["durationMs"]) == ("2026-01-01T09:00:02.250+01:00", 250.0)
