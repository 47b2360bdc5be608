"""The Process Controller flow against a real `mock-finapi serve` process over a socket (issue 3). The README's curl
version of it runs in tests/e2e/test_readme.py."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import serving
from tests.helpers import CLIENT_ID, CLIENT_SECRET, bearer

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
