"""Web Form 2.0 on a real `mock-finapi serve`: `--public-url` (and its variable) makes the web form `url`s, a bad one
is a usage error, and the server's upkeep moves forms along the clock by itself (expiry and its `finalised` callback
within a second of real time, with no request to the API)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mock_finapi.testing.callbacks import CallbackReceiver
from tests.api.webform_helpers import IMPORT, SCENARIO
from tests.e2e.server import clean_env, run, serving
from tests.helpers import CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.slow


def user_token(http: httpx.Client) -> str:
    data = {
        "grant_type": "password",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "username": "username",
        "password": "password",
    }
    response = http.post("/api/v2/oauth/token", data=data)
    assert response.status_code == 200, response.text
    value: str = response.json()["access_token"]
    return value


def test_the_public_url_flag_and_variable_make_the_web_form_urls(tmp_path: Path) -> None:
    with (
        serving(tmp_path / "flag", "--scenario", SCENARIO, "--public-url", "https://mock.example.com/finapi/") as flag,
        httpx.Client(base_url=flag.url, timeout=5) as http,
    ):
        auth = {"Authorization": f"Bearer {user_token(http)}"}
        form = http.post(IMPORT, json={}, headers=auth).json()
        assert form["url"] == f"https://mock.example.com/finapi/wf/{form['id']}"
    env = clean_env(MOCK_FINAPI_PUBLIC_URL="http://host.docker.internal:9000")
    with (
        serving(tmp_path / "variable", "--scenario", SCENARIO, env=env) as variable,
        httpx.Client(base_url=variable.url, timeout=5) as http,
    ):
        auth = {"Authorization": f"Bearer {user_token(http)}"}
        form = http.post(IMPORT, json={}, headers=auth).json()
        assert form["url"] == f"http://host.docker.internal:9000/wf/{form['id']}"


def test_without_a_public_url_the_url_is_the_servers_own(tmp_path: Path) -> None:
    with serving(tmp_path, "--scenario", SCENARIO) as served, httpx.Client(base_url=served.url, timeout=5) as http:
        auth = {"Authorization": f"Bearer {user_token(http)}"}
        form = http.post(IMPORT, json={}, headers=auth).json()
        assert form["url"] == f"{served.url}/wf/{form['id']}"
        assert http.get(form["url"]).status_code == 200  # the page answers at that URL


@pytest.mark.parametrize("value", ["ftp://mock.example.com", "mock.example.com", "https://x.example.com/?a=1", ""])
def test_a_public_url_that_is_no_http_base_url_is_a_usage_error(value: str) -> None:
    result = run("serve", "--public-url", value)
    assert result.returncode == 2
    assert "argument --public-url:" in result.stderr.splitlines()[-1]


def test_the_upkeep_expires_forms_and_sends_their_callback_without_any_request(tmp_path: Path) -> None:
    with (
        CallbackReceiver() as receiver,
        serving(tmp_path, "--scenario", SCENARIO) as served,
        httpx.Client(base_url=served.url, timeout=5) as http,
    ):
        auth = {"Authorization": f"Bearer {user_token(http)}"}
        body = {"callbacks": {"finalised": f"{receiver.url}/finalised"}}
        form = http.post(IMPORT, json=body, headers=auth).json()
        assert http.post("/__admin/clock", json={"advance": 1200}).status_code == 200
        assert receiver.wait_for(webFormId=form["id"], timeout=3) == {"webFormId": form["id"], "status": "EXPIRED"}
