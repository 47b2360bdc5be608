"""Every AdminClient method against a real server: what it sends and what it hands back."""

from __future__ import annotations

import ast
import inspect
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from mock_finapi.testing import AdminClient, CallbackReceiver, ThreadedServer
from tests.helpers import CLIENT_CREDENTIALS, CLIENT_ID, SCENARIO, TOKEN_PATH, bearer, password_grant

MANDATOR = "2c6b8f0e-7d42-4f1a-9a43-1f0c2d3e4a5b"
START = "2026-01-01T09:00:00.000+01:00"


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer(scenario=SCENARIO) as running:
        yield running


@pytest.fixture
def admin(server: ThreadedServer) -> Iterator[AdminClient]:
    server.reset()
    with AdminClient(server.url) as client:
        yield client


def token(server: ThreadedServer, data: dict[str, str] = CLIENT_CREDENTIALS) -> str:
    response = httpx.post(server.url + TOKEN_PATH[2], data=data)
    assert response.status_code == 200, response.text
    value: str = response.json()["access_token"]
    return value


def test_health_and_version(admin: AdminClient) -> None:
    assert admin.health() == {"status": "ok", "scenario": SCENARIO}
    assert admin.version() == {"version": "0.1.0", "scenario": SCENARIO, "seed": 1}


def test_clock_set_time_freeze_and_advance(admin: AdminClient) -> None:
    assert admin.clock()["frozen"] is False
    frozen = admin.freeze()
    assert frozen["frozen"] is True
    assert admin.clock() == frozen
    assert admin.set_time("2026-03-01T12:00:00+01:00") == {"now": "2026-03-01T12:00:00.000+01:00", "frozen": True}
    assert admin.set_time(datetime(2026, 3, 1, 10, 0, tzinfo=UTC)) == {
        "now": "2026-03-01T11:00:00.000+01:00",
        "frozen": True,
    }
    assert admin.advance(61) == {"now": "2026-03-01T11:01:01.000+01:00", "frozen": True}
    assert admin.freeze(False)["frozen"] is False


def test_journal_requests_count_and_clear_requests(server: ThreadedServer, admin: AdminClient) -> None:
    token(server)
    token(server)
    [newest, _] = admin.requests(method="POST", path=TOKEN_PATH[2])
    assert (newest["status"], newest["clientId"], newest["body"]["client_secret"]) == (200, CLIENT_ID, "***")
    assert admin.requests(limit=1) == [newest]
    assert admin.count(method="POST", status=200) == 2
    assert admin.clear_requests() == 2
    assert admin.requests() == []


def test_faults_add_list_and_clear(server: ThreadedServer, admin: AdminClient) -> None:
    rule = {"name": "down", "match": {"path": TOKEN_PATH[2]}, "times": 1, "respond": {"status": 503}}
    assert admin.add_fault(rule) == {
        "name": "down",
        "match": {"path": TOKEN_PATH[2]},
        "after": 0,
        "times": 1,
        "probability": 1.0,
        "delay_ms": 0,
        "respond": {"status": 503, "headers": {}, "body": None},
    }
    assert httpx.post(server.url + TOKEN_PATH[2], data=CLIENT_CREDENTIALS).status_code == 503
    assert [(f["name"], f["matched"], f["fired"]) for f in admin.faults()] == [("down", 1, 1)]
    assert admin.clear_faults() == 1
    assert admin.faults() == []


def test_state_views_expire_token_and_lock_user(server: ThreadedServer, admin: AdminClient) -> None:
    user_token = token(server, password_grant())
    assert [u["id"] for u in admin.users(mandator=MANDATOR)] == ["username"]
    assert [t["type"] for t in admin.tokens()] == ["access", "refresh"]
    assert admin.processes() == []
    admin.expire_token(user_token)
    assert [t["type"] for t in admin.tokens()] == ["refresh"]
    admin.lock_user("username", mandator=MANDATOR)
    assert admin.users()[0]["locked"] is True
    assert admin.tokens() == []
    assert httpx.post(server.url + TOKEN_PATH[2], data=password_grant()).status_code == 423


def test_bank_connections_view(server: ThreadedServer, admin: AdminClient) -> None:
    assert admin.bank_connections() == []
    admin.load_scenario(name="bank-data")
    connections = admin.bank_connections(mandator=MANDATOR)
    assert [(c["id"], c["userId"], c["bankId"], c["accounts"]) for c in connections] == [
        (1_000_001, "username", 280001, 3),
        (1_000_002, "username", 10050000, 2),
    ]
    assert admin.bank_connections(mandator="another") == []


def test_reset_and_load_scenario(server: ThreadedServer, admin: AdminClient) -> None:
    admin.load_scenario(name="locked-user")
    assert admin.health()["scenario"] == "locked-user"
    admin.reset()
    assert admin.version() == {"version": "0.1.0", "scenario": "locked-user", "seed": 14}
    admin.reset(mandator=MANDATOR)
    assert sorted(u["id"] for u in admin.users()) == ["locked", "username"]


def test_callbacks_and_clear_callbacks(server: ThreadedServer, admin: AdminClient) -> None:
    assert admin.callbacks() == []
    with CallbackReceiver() as receiver:
        url = receiver.url + "/sync"
        config = {"userSynchronizationCallbackUrl": url}
        patched = httpx.patch(server.url + "/api/v2/clientConfiguration", json=config, headers=bearer(token(server)))
        assert patched.status_code == 200, patched.text
        deleted = httpx.delete(server.url + "/api/v2/users", headers=bearer(token(server, password_grant())))
        assert deleted.status_code == 200, deleted.text
        receiver.wait_for(userId="username")
    deadline = time.monotonic() + 5
    while not (sent := admin.callbacks(limit=5)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [(c["kind"], c["url"], c["body"], c["status"], c["mandatorId"]) for c in sent] == [
        ("user.deleted", url, {"userId": "username", "event": "DELETED"}, 200, MANDATOR)
    ]
    assert admin.clear_callbacks() == 1
    assert admin.callbacks() == []


def test_metrics_are_the_text_of_get_metrics() -> None:
    with ThreadedServer(scenario="default") as fresh, AdminClient(fresh.url) as client:
        token(fresh)
        lines = client.metrics().splitlines()
    assert lines[2] == 'mock_finapi_requests_total{method="POST",endpoint="/api/v2/oauth/token",status="200"} 1'
    assert lines[lines.index("# TYPE mock_finapi_tokens gauge") + 1] == "mock_finapi_tokens 1"


def test_web_forms_are_listed_and_completed_without_a_browser(server: ThreadedServer, admin: AdminClient) -> None:
    user_token = token(server, password_grant())
    created = httpx.post(
        server.url + "/api/webForms/bankConnectionImport",
        json={"bank": {"id": 280001}, "accountTypes": ["CHECKING"]},
        headers={"Authorization": f"Bearer {user_token}"},
    )
    assert created.status_code == 201, created.text
    form_id = created.json()["id"]
    [listed] = admin.web_forms()
    assert (listed["id"], listed["status"], listed["userId"]) == (form_id, "NOT_YET_OPENED", "username")
    assert admin.web_forms(mandator="another-mandator") == []
    assert admin.tasks() == []
    assert admin.tasks(mandator=MANDATOR) == []

    done = admin.complete_web_form(form_id)

    assert (done["id"], done["status"], done["url"]) == (form_id, "COMPLETED", f"{server.url}/wf/{form_id}")
    [connection] = admin.bank_connections()
    assert (connection["id"], connection["accounts"]) == (done["payload"]["bankConnectionId"], 2)
    with pytest.raises(httpx.HTTPStatusError, match=r"answered 422: .*is final already \(COMPLETED\)"):
        admin.complete_web_form(form_id, "ABORTED")
    second = httpx.post(
        server.url + "/api/webForms/bankConnectionImport", json={}, headers={"Authorization": f"Bearer {user_token}"}
    ).json()["id"]
    failed = admin.complete_web_form(second, "COMPLETED_WITH_ERROR", errorCode="INTERRUPTED")
    assert (failed["status"], failed["payload"]["errorCode"]) == ("COMPLETED_WITH_ERROR", "INTERRUPTED")
    with pytest.raises(httpx.HTTPStatusError, match=r"answered 400: .*bankId: must be an integer"):
        admin.complete_web_form(form_id, bankId="DEMO0001")


def test_every_admin_client_method_is_used_by_a_test() -> None:
    """Read from this module's source, so it holds however the tests are distributed over workers."""
    public = {name for name, _ in inspect.getmembers(AdminClient, inspect.isfunction) if not name.startswith("_")}
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    called = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in ("admin", "client")
    }
    assert public - {"close"} - called == set()


def test_snapshot_and_restore(server: ThreadedServer, admin: AdminClient) -> None:
    client_token = token(server)
    saved = admin.snapshot()
    assert (saved["kind"], saved["format"], saved["scenario"]["name"]) == ("mock-finapi snapshot", 1, SCENARIO)
    assert saved["state"]["journal"]
    assert "journal" not in admin.snapshot(journal=False)["state"]
    admin.reset()
    assert httpx.get(server.url + "/api/v2/clientConfiguration", headers=bearer(client_token)).status_code == 401
    assert admin.restore(saved) == {"status": "ok", "scenario": SCENARIO, "seed": 1}
    assert httpx.get(server.url + "/api/v2/clientConfiguration", headers=bearer(client_token)).status_code == 200
    assert admin.restore(json.dumps(saved).encode())["status"] == "ok"
    with pytest.raises(httpx.HTTPStatusError, match=r"answered 400: .*snapshot format 9"):
        admin.restore({**saved, "format": 9})
    assert httpx.get(server.url + "/api/v2/clientConfiguration", headers=bearer(client_token)).status_code == 200
