"""Property-based fuzzing of the emulator's own OpenAPI document with schemathesis, in-process over ASGI.

Every documented operation is exercised with schema-valid and schema-violating requests (derandomized, bounded):
no response is a 5xx, every response matches the documented status codes, content types and schemas, and every
error body is a finAPI ErrorMessage or an OAuth error. Each operation runs against a fresh emulator (frozen clock),
so operations that change the world (delete a user, reset, load a scenario) cannot break the ones after them.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.types import Receive, Scope, Send

from mock_finapi.http.app import Emulator, create_app
from mock_finapi.settings import Settings
from mock_finapi.testing.inprocess import InProcessClient
from tests.helpers import CLIENT_CREDENTIALS, SCENARIO, START, TOKEN_PATH, password_grant

MAX_EXAMPLES = 15
"""Per operation (hypothesis' bound; schemathesis adds a few coverage cases): ~47 operations in about 30 s."""

# Injected faults answer 5xx (or drop connections) on purpose: the one endpoint the fuzzer must not reach.
EXCLUDED = [("POST", "/__admin/faults")]

TOKEN_PATHS = frozenset(TOKEN_PATH.values())

ERROR_MESSAGE_KEYS = {"errors", "date", "requestId", "endpoint", "authContext"}
OAUTH_ERROR_KEYS = {"error", "error_description"}
WEB_FORM_PATHS = ("/api/webForms", "/api/tasks")


def _fresh_app() -> Emulator:
    return create_app(Settings(scenario=SCENARIO, seed=1), freeze_at=START)


class _Emulator:
    """The ASGI app schemathesis talks to: forwards to a fresh emulator that each test swaps in."""

    def __init__(self) -> None:
        self.app = _fresh_app()
        self.tokens: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def reset(self) -> None:
        self.app = _fresh_app()
        with InProcessClient(self.app) as client:
            for kind, form in (("client", CLIENT_CREDENTIALS), ("user", password_grant())):
                response = client.post(TOKEN_PATH[2], data=form)
                assert response.status_code == 200, response.text
                self.tokens[kind] = response.json()["access_token"]


EMULATOR = _Emulator()
schema = schemathesis.openapi.from_asgi("/openapi.json", EMULATOR).exclude(
    lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in EXCLUDED
)


@pytest.fixture(autouse=True)
def fresh_emulator() -> None:
    EMULATOR.reset()


def check_error_body(response: Any) -> None:
    """4xx/5xx answers speak finAPI's ErrorMessage or the OAuth error shape, the Web Form 2.0 API its Error or
    ValidationError; redirects, successes and HTML pages (the web form page) are exempt."""
    content_types = response.headers.get("content-type") or [""]  # schemathesis: a list per header
    if response.status_code < 400 or content_types[0].startswith("text/html"):
        return
    body = response.json()
    assert isinstance(body, dict), body
    if response.request.path_url.startswith(WEB_FORM_PATHS):
        assert isinstance(body["timestamp"], str)
        assert isinstance(body["endpoint"], str)
        if "errors" in body:
            assert body.keys() == {"errors", "timestamp", "endpoint"}, body
            assert body["errors"], body
            assert all(error.keys() == {"field", "message"} for error in body["errors"]), body
        else:
            assert body.keys() == {"code", "description", "timestamp", "endpoint"}, body
        return
    if body.keys() >= OAUTH_ERROR_KEYS:
        assert isinstance(body["error"], str)
        assert isinstance(body["error_description"], str)
        return
    missing = ERROR_MESSAGE_KEYS - body.keys()
    assert not missing, f"error body lacks {sorted(missing)}: {body}"
    assert isinstance(body["errors"], list)
    assert body["errors"], body
    for error in body["errors"]:
        assert {"message", "code", "type"} <= error.keys(), error


@schema.parametrize()
@schema.given(auth=st.sampled_from(["client", "user", "as generated"]))
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_fuzz(case: schemathesis.Case[Any], auth: str) -> None:
    if auth != "as generated":
        case.headers["Authorization"] = f"Bearer {EMULATOR.tokens[auth]}"
        if case.operation.path in TOKEN_PATHS and isinstance(case.body, dict):
            # Past the client check into the grants: the fuzzer would never guess the credentials.
            known = dict(CLIENT_CREDENTIALS) if auth == "client" else password_grant()
            del known["grant_type"]
            case.body = {**case.body, **known}
    response = case.call()
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    case.validate_response(response, checks=checks)
    check_error_body(response)


@pytest.mark.parametrize("text", ["\x1f", "name: x\nclock:\n  start: 2026-13-45", "!!float ''"])
def test_admin_scenario_with_unreadable_yaml_is_a_400_not_a_500(text: str) -> None:
    """Found by the scenario fuzzer: these reached POST /__admin/scenario as a 500 before loader.py caught them."""
    with InProcessClient(EMULATOR.app) as client:
        response = client.post("/__admin/scenario", json={"yaml": text})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["message"].startswith("<admin>:"), response.text
