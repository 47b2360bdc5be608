"""Each deliberate difference from finAPI's contract (tests/contract/validator.py, README "Fidelity notes") pinned:
the emulator answers so, the validator accepts exactly that, and the README lists it."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from mock_finapi.http.app import create_app
from mock_finapi.settings import Capacity, Settings
from mock_finapi.testing.inprocess import InProcessClient
from tests.contract.validator import DELIBERATE_DIFFERENCES, ContractValidator
from tests.helpers import CLIENT_CREDENTIALS, SCENARIO, bearer, client_token, error_codes, password_grant

README = Path(__file__).resolve().parents[2] / "README.md"
KEYS = {difference.key for difference in DELIBERATE_DIFFERENCES}


@pytest.fixture(scope="module")
def validator() -> ContractValidator:
    return ContractValidator.load()


def assert_difference(validator: ContractValidator, response: httpx.Response, key: str) -> None:
    """The contract does not declare this answer; the validator takes it as the named deliberate difference."""
    outcome = validator.check_response(response)
    assert outcome is not None
    assert (outcome.difference, outcome.violations) == (key, ())


def test_the_readme_fidelity_notes_list_every_deliberate_difference() -> None:
    notes = README.read_text("utf-8").split("## Fidelity notes", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z-]+)` +\|", notes, flags=re.MULTILINE))
    assert listed == KEYS


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/v2/nothing"), ("POST", "/api/v1/nothing"), ("GET", "/oauth/authorize")]
)
def test_unknown_endpoint_is_404_unknown_entity(
    client: httpx.Client, validator: ContractValidator, method: str, path: str
) -> None:
    response = client.request(method, path)
    assert (response.status_code, error_codes(response)) == (404, ["UNKNOWN_ENTITY"])
    assert_difference(validator, response, "unknown-endpoint")


@pytest.mark.parametrize(
    ("method", "path"), [("PUT", "/api/v2/users"), ("GET", "/oauth/token"), ("POST", "/api/v1/clientConfiguration")]
)
def test_method_not_allowed_is_405_with_allow(
    client: httpx.Client, validator: ContractValidator, method: str, path: str
) -> None:
    response = client.request(method, path)
    assert (response.status_code, error_codes(response)) == (405, ["METHOD_NOT_ALLOWED"])
    assert "allow" in response.headers
    assert_difference(validator, response, "method-not-allowed")


@pytest.mark.parametrize("path", ["/api/v2/oauth/token", "/oauth/token"])
def test_body_too_large_is_413(client: httpx.Client, validator: ContractValidator, path: str) -> None:
    content = b"a" * (1024 * 1024 + 1)
    response = client.post(path, content=content, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (response.status_code, error_codes(response)) == (413, ["BAD_REQUEST"])
    assert_difference(validator, response, "body-too-large")


@pytest.mark.parametrize("path", ["/api/v2/oauth/token", "/oauth/token"])
def test_unsupported_media_type_is_415(client: httpx.Client, validator: ContractValidator, path: str) -> None:
    response = client.post(path, json=CLIENT_CREDENTIALS)
    assert (response.status_code, error_codes(response)) == (415, ["UNSUPPORTED_MEDIA_TYPE"])
    assert_difference(validator, response, "unsupported-media-type")


@pytest.mark.parametrize("path", ["/api/v2/users", "/api/v1/users"])
def test_a_request_id_over_255_characters_is_400_even_where_no_400_is_declared(
    client: httpx.Client, validator: ContractValidator, path: str
) -> None:
    response = client.get(path, headers={"X-Request-Id": "r" * 256})
    assert (response.status_code, error_codes(response)) == (400, ["BAD_REQUEST"])
    assert_difference(validator, response, "bad-request-header")


def test_a_400_is_a_difference_only_for_an_over_long_request_id(validator: ContractValidator) -> None:
    outcome = validator.check("GET", "/api/v2/users", 400, "application/json", b"{}", request_id="r" * 255)
    assert outcome.difference is None
    assert outcome.violations == ("status 400 is not declared (declared: 200, 401, 403, 500)",)


@pytest.mark.parametrize("path", ["/api/v2/oauth/revoke", "/oauth/revoke"])
def test_revoke_with_an_unknown_bearer_token_is_401_invalid_token(
    client: httpx.Client, validator: ContractValidator, path: str
) -> None:
    response = client.post(path, data={"token": "x"}, headers=bearer("not-a-token"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert_difference(validator, response, "invalid-token")


def test_revoke_with_a_valid_token_is_declared_200(client: httpx.Client, validator: ContractValidator) -> None:
    token = client_token(client)
    response = client.post("/api/v2/oauth/revoke", data={"token": "x"}, headers=bearer(token))
    outcome = validator.check_response(response)
    assert outcome is not None
    assert (response.status_code, outcome.difference, outcome.violations) == (200, None, ())


def test_a_token_beyond_the_capacity_is_503(validator: ContractValidator) -> None:
    with InProcessClient(create_app(Settings(scenario=SCENARIO, capacity=Capacity(tokens=1)))) as client:
        client_token(client)
        response = client.post("/api/v2/oauth/token", data=password_grant())
    assert (response.status_code, error_codes(response)) == (503, ["UNEXPECTED_ERROR"])
    assert_difference(validator, response, "capacity-reached")
