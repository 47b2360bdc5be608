"""`GET /__admin/metrics`: counters and sizes in Prometheus' text format, exact after known requests."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import httpx

from tests.api.admin_helpers import emulator, ok
from tests.helpers import CLIENT_CREDENTIALS, bearer

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
RSS = re.compile(r"process_resident_memory_bytes (\d+)")
COUNTER = "# HELP mock_finapi_requests_total Requests answered, by method, route template and status.\n" + (
    "# TYPE mock_finapi_requests_total counter\n"
)


def gauges(
    *, clients: int = 1, users: int = 1, tokens: int = 0, grants: int = 0, entries: int = 0, body_bytes: int = 0
) -> str:
    return f"""\
# HELP mock_finapi_clients Clients (of the scenario and registered at run time).
# TYPE mock_finapi_clients gauge
mock_finapi_clients {clients}
# HELP mock_finapi_users Users.
# TYPE mock_finapi_users gauge
mock_finapi_users {users}
# HELP mock_finapi_tokens Access and refresh tokens the store holds.
# TYPE mock_finapi_tokens gauge
mock_finapi_tokens {tokens}
# HELP mock_finapi_grants Token grants (a client's tokens, a user's logins).
# TYPE mock_finapi_grants gauge
mock_finapi_grants {grants}
# HELP mock_finapi_processes Processes of the Process Controller.
# TYPE mock_finapi_processes gauge
mock_finapi_processes 0
# HELP mock_finapi_journal_entries Requests the journal holds.
# TYPE mock_finapi_journal_entries gauge
mock_finapi_journal_entries {entries}
# HELP mock_finapi_journal_bytes Bytes of request bodies the journal holds.
# TYPE mock_finapi_journal_bytes gauge
mock_finapi_journal_bytes {body_bytes}
# HELP mock_finapi_fault_fired_total Times each fault rule in force acted.
# TYPE mock_finapi_fault_fired_total counter
"""


def metrics(client: httpx.Client) -> tuple[str, int]:
    """The metrics without the resident memory's lines, and the resident memory."""
    response = client.get("/__admin/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE
    text, rss_help, rss_type, rss, end = response.text.rsplit("\n", 4)
    assert (rss_help, rss_type, end) == (
        "# HELP process_resident_memory_bytes Resident memory size in bytes.",
        "# TYPE process_resident_memory_bytes gauge",
        "",
    )
    found = RSS.fullmatch(rss)
    assert found is not None, rss
    return text + "\n", int(found[1])


def test_a_fresh_server_has_counted_nothing_and_holds_its_scenario(client: httpx.Client) -> None:
    text, rss = metrics(client)
    assert text == COUNTER + gauges()
    assert 10_000_000 < rss < 4_000_000_000


def test_requests_are_counted_by_method_route_template_and_status(client: httpx.Client) -> None:
    assert client.get("/api/v2/users").status_code == 401
    token = ok(client.post("/api/v2/oauth/token", data=CLIENT_CREDENTIALS))["access_token"]
    assert ok(client.post("/api/v2/oauth/token", data=CLIENT_CREDENTIALS))["access_token"] == token  # reused
    assert client.delete("/api/v2/users/nobody", headers=bearer(token)).status_code == 404
    assert client.get("/api/v2/nothing").status_code == 404
    assert client.put("/api/v2/users").status_code == 405
    ok(client.get("/__admin/health"))
    ok(client.get("/__admin/health"))
    ok(
        client.post(
            "/__admin/faults",
            json={"name": 'down "now"', "match": {"path": "/api/v2/users"}, "respond": {"status": 500}},
        ),
        201,
    )
    assert client.get("/api/v2/users").status_code == 500  # the rule answered: no route took the request
    body_bytes = 2 * len(urlencode(CLIENT_CREDENTIALS))

    text, _ = metrics(client)  # a request is counted once answered: this one is not in its own answer
    assert text == COUNTER + (
        'mock_finapi_requests_total{method="POST",endpoint="/__admin/faults",status="201"} 1\n'
        'mock_finapi_requests_total{method="GET",endpoint="/__admin/health",status="200"} 2\n'
        'mock_finapi_requests_total{method="POST",endpoint="/api/v2/oauth/token",status="200"} 2\n'
        'mock_finapi_requests_total{method="GET",endpoint="/api/v2/users",status="401"} 1\n'
        'mock_finapi_requests_total{method="PUT",endpoint="/api/v2/users",status="405"} 1\n'
        'mock_finapi_requests_total{method="DELETE",endpoint="/api/v2/users/{userId}",status="404"} 1\n'
        'mock_finapi_requests_total{method="GET",endpoint="unmatched",status="404"} 1\n'
        'mock_finapi_requests_total{method="GET",endpoint="unmatched",status="500"} 1\n'
    ) + gauges(tokens=1, grants=1, entries=7, body_bytes=body_bytes) + (
        'mock_finapi_fault_fired_total{rule="down \\"now\\""} 1\n'
    )


def test_counts_outlive_a_reset_and_the_state_gauges_follow_it(client: httpx.Client) -> None:
    ok(client.post("/api/v2/oauth/token", data=CLIENT_CREDENTIALS))
    ok(client.post("/__admin/reset"))
    assert client.get("/__admin/metrics").status_code == 200

    text, _ = metrics(client)
    assert (
        text
        == COUNTER
        + (
            'mock_finapi_requests_total{method="GET",endpoint="/__admin/metrics",status="200"} 1\n'
            'mock_finapi_requests_total{method="POST",endpoint="/__admin/reset",status="200"} 1\n'
            'mock_finapi_requests_total{method="POST",endpoint="/api/v2/oauth/token",status="200"} 1\n'
        )
        + gauges()
    )


def test_refused_hosts_are_counted_unmatched() -> None:
    with emulator(allowed_hosts=("localhost",)) as client:
        assert client.get("/__admin/metrics", headers={"Host": "evil.example"}).status_code == 403
        response = client.get("/__admin/metrics", headers={"Host": "localhost"})
        assert response.text.startswith(
            COUNTER + 'mock_finapi_requests_total{method="GET",endpoint="unmatched",status="403"} 1\n# HELP'
        )


def test_metrics_are_guarded_as_the_rest_of_the_admin_api() -> None:
    with emulator(admin_token="t") as client:
        assert client.get("/__admin/metrics").status_code == 401
        assert client.get("/__admin/metrics", headers=bearer("t")).text.startswith(COUNTER)
    with emulator(admin=False) as client:
        assert client.get("/__admin/metrics").status_code == 404
