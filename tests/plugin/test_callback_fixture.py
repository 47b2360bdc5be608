"""The `finapi_callbacks` fixture and its `CallbackReceiver` (testing/callbacks.py): a local server recording POSTs,
`wait_for` with its failure message, and the fixture in a user's project with the emulator's fixtures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from mock_finapi.testing import CallbackReceiver
from mock_finapi.testing.callbacks import https_receiver, openssl_available

pytest_plugins = ["pytester"]

TIMEOUT = 5.0
RUN_TIMEOUT = 120.0


HTTP = httpx.Client(timeout=TIMEOUT)
"""One client for the module's requests (a client of its own per request costs a TLS setup each)."""


@pytest.fixture(scope="module", autouse=True)
def _close_http() -> Iterator[None]:
    yield
    HTTP.close()


def post(url: str, body: object) -> httpx.Response:
    """POST `body` as compact JSON, as the emulator sends callbacks (httpx's own `json=` spacing differs by version)."""
    compact = json.dumps(body, separators=(",", ":"))
    return HTTP.post(url, content=compact, headers={"Content-Type": "application/json"})


def test_the_fixture_records_every_post(finapi_callbacks: CallbackReceiver) -> None:
    assert finapi_callbacks.url.startswith("http://127.0.0.1:")
    assert not finapi_callbacks.url.endswith("/")
    response = post(finapi_callbacks.url + "/hooks/finalised?ref=1", {"webFormId": "w1", "status": "COMPLETED"})
    assert (response.status_code, response.content) == (200, b"")
    post(finapi_callbacks.url + "/hooks/other", [1, 2])
    HTTP.post(finapi_callbacks.url + "/raw", content=b"not json")
    first, second, third = finapi_callbacks.received
    assert first.path == "/hooks/finalised?ref=1"
    assert first.body == {"webFormId": "w1", "status": "COMPLETED"}
    assert first.headers["content-type"] == "application/json"
    assert (second.path, second.body) == ("/hooks/other", [1, 2])
    assert (third.body, third.raw) == (None, b"not json")
    assert finapi_callbacks.bodies() == [{"webFormId": "w1", "status": "COMPLETED"}, [1, 2], None]
    assert HTTP.get(finapi_callbacks.url).status_code == 405
    finapi_callbacks.clear()
    assert finapi_callbacks.received == []


def test_wait_for_matches_fields_and_a_predicate(finapi_callbacks: CallbackReceiver) -> None:
    post(finapi_callbacks.url, {"taskId": "t1", "status": "WEB_FORM_REQUIRED", "webForm": {"id": "w"}})
    post(finapi_callbacks.url, {"taskId": "t1", "status": "COMPLETED"})
    assert finapi_callbacks.wait_for(status="COMPLETED") == {"taskId": "t1", "status": "COMPLETED"}
    assert finapi_callbacks.wait_for(lambda body: "webForm" in body)["status"] == "WEB_FORM_REQUIRED"
    assert finapi_callbacks.wait_for()["status"] == "WEB_FORM_REQUIRED"  # the first one
    assert finapi_callbacks.wait_for(lambda body: body["status"] == "COMPLETED", taskId="t1")["taskId"] == "t1"


def test_wait_for_waits_for_what_arrives_later(finapi_callbacks: CallbackReceiver) -> None:
    later = threading.Timer(0.2, post, (finapi_callbacks.url + "/late", {"userId": "u", "event": "DELETED"}))
    later.start()
    try:
        started = time.monotonic()
        assert finapi_callbacks.wait_for(userId="u", timeout=5) == {"userId": "u", "event": "DELETED"}
        assert 0.15 < time.monotonic() - started < 4
    finally:
        later.join()


def test_wait_for_fails_saying_what_arrived(finapi_callbacks: CallbackReceiver) -> None:
    post(finapi_callbacks.url + "/cb", {"webFormId": "w1", "status": "ABORTED"})
    started = time.monotonic()
    with pytest.raises(AssertionError) as caught:
        finapi_callbacks.wait_for(webFormId="w1", status="COMPLETED", timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 2
    assert str(caught.value) == (
        f"no callback with webFormId='w1', status='COMPLETED' arrived at {finapi_callbacks.url} within 0.2 s; "
        'received 1:\n  POST /cb {"webFormId":"w1","status":"ABORTED"}'
    )
    finapi_callbacks.clear()
    with pytest.raises(AssertionError, match=r"^no callback with predicate arrived at .* within 0\.1 s; received 0$"):
        finapi_callbacks.wait_for(lambda body: True, timeout=0.1)


def test_the_answer_status_can_be_changed(finapi_callbacks: CallbackReceiver) -> None:
    finapi_callbacks.status = 500
    assert post(finapi_callbacks.url, {}).status_code == 500
    assert len(finapi_callbacks.received) == 1


def test_a_stopped_receiver_refuses_connections_and_keeps_what_it_got() -> None:
    with CallbackReceiver(status=204) as receiver:
        assert post(receiver.url, {"a": 1}).status_code == 204
    with pytest.raises(httpx.ConnectError):
        post(receiver.url, {"a": 2})
    assert receiver.bodies() == [{"a": 1}]
    receiver.stop()  # idempotent
    receiver.start()  # again, on a fresh port
    try:
        assert post(receiver.url, {"a": 3}).status_code == 204
        with pytest.raises(RuntimeError, match="already started"):
            receiver.start()
    finally:
        receiver.stop()
    assert receiver.bodies() == [{"a": 1}, {"a": 3}]


@pytest.mark.skipif(not openssl_available(), reason="needs the openssl command line tool (apt-get install openssl)")
def test_an_https_receiver_serves_a_self_signed_certificate() -> None:
    with https_receiver() as receiver:
        assert receiver.url.startswith("https://127.0.0.1:")
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            post(receiver.url, {"a": 1})
        with httpx.Client(verify=False, timeout=TIMEOUT) as insecure:  # noqa: S501 (its self-signed certificate)
            assert insecure.post(receiver.url + "/cb", json={"a": 1}).status_code == 200
        assert receiver.wait_for(a=1) == {"a": 1}


USER_PROJECT = """
import httpx

CREDENTIALS = {
    "grant_type": "client_credentials",
    "client_id": "8f92e604-b9b9-11ec-8422-0242ac120002",
    "client_secret": "8f92ea14-b9b9-11ec-8422-0242ac120002",
}
USER = {**CREDENTIALS, "grant_type": "password", "username": "username", "password": "password"}


def token(finapi, data):
    return httpx.post(finapi.url + "/api/v2/oauth/token", data=data).json()["access_token"]


def test_a_deleted_user_is_told_to_the_receiver(finapi, finapi_callbacks):
    client = {"Authorization": "Bearer " + token(finapi, CREDENTIALS)}
    url = finapi_callbacks.url + "/sync"
    patched = httpx.patch(
        finapi.url + "/api/v2/clientConfiguration", json={"userSynchronizationCallbackUrl": url}, headers=client
    )
    assert patched.status_code == 200, patched.text
    user = {"Authorization": "Bearer " + token(finapi, USER)}
    assert httpx.delete(finapi.url + "/api/v2/users", headers=user).status_code == 200
    assert finapi_callbacks.wait_for(userId="username") == {"userId": "username", "event": "DELETED"}
    [sent] = finapi.admin.callbacks()
    assert (sent["kind"], sent["url"], sent["status"]) == ("user.deleted", url, 200)
    assert finapi.admin.clear_callbacks() == 1
    assert finapi.admin.callbacks() == []


def test_each_test_gets_its_own_receiver(finapi_callbacks):
    assert finapi_callbacks.received == []
"""


@pytest.mark.slow
def test_the_fixture_works_in_a_project_without_a_conftest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_receiver=USER_PROJECT)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:faker", "--finapi-scenario", "default-with-user", timeout=RUN_TIMEOUT
    )
    result.assert_outcomes(passed=2)
