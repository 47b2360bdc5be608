"""The contract validator the suite's response hook uses (tests/conftest.py) finds what it should."""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs in the test extra (types-jsonschema)
import pytest

from tests.contract import generate
from tests.contract.validator import ContractValidator

USER = {"id": "alice", "password": "secret", "email": None, "phone": None, "isAutoUpdateEnabled": False}
DETAIL = {"message": "m", "code": "BAD_REQUEST", "type": "BUSINESS"}
ERROR = {"errors": [DETAIL], "date": "2026-01-01T09:00:00.000+01:00", "requestId": "r", "endpoint": "e"}
ERROR_V2 = {**ERROR, "authContext": "-"}
ERROR_V1 = {
    **ERROR_V2,
    "errors": [{**DETAIL, "multiStepAuthentication": None}],
    "date": "2026-01-01 09:00:00.000",
    "bank": None,
}


@pytest.fixture(scope="module")
def validator() -> ContractValidator:
    return ContractValidator.load()


def violations(validator: ContractValidator, method: str, path: str, status: int, body: Any) -> tuple[str, ...]:
    return validator.check(method, path, status, "application/json", json.dumps(body).encode()).violations


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v2/users"])
def test_a_conforming_user_passes(validator: ContractValidator, path: str) -> None:
    assert violations(validator, "GET", path, 200, USER) == ()


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v2/users"])
def test_a_missing_required_field_a_wrong_type_and_an_unknown_field_are_found(
    validator: ContractValidator, path: str
) -> None:
    body = {**{k: v for k, v in USER.items() if k != "password"}, "isAutoUpdateEnabled": "no", "extra": 1}
    found = violations(validator, "GET", path, 200, body)
    assert len(found) == 3, found
    assert any("password" in v for v in found)
    assert any("isAutoUpdateEnabled" in v for v in found)
    assert any("extra" in v for v in found)


def test_v1_errors_need_bank_and_multi_step_authentication_even_when_null(validator: ContractValidator) -> None:
    assert violations(validator, "GET", "/api/v1/users", 403, ERROR_V1) == ()
    assert violations(validator, "GET", "/api/v1/users", 403, ERROR_V2)  # no bank, no multiStepAuthentication


def test_v2_error_codes_come_from_the_error_code_enum(validator: ContractValidator) -> None:
    assert violations(validator, "GET", "/api/v2/users", 403, ERROR_V2) == ()
    bad = {**ERROR_V2, "errors": [{**DETAIL, "code": "NOPE"}]}
    assert any("NOPE" in v for v in violations(validator, "GET", "/api/v2/users", 403, bad))


def test_v2_dates_are_rfc_3339(validator: ContractValidator) -> None:
    assert violations(validator, "GET", "/api/v2/users", 403, {**ERROR_V2, "date": "2026-01-01 09:00:00.000"})


def test_an_undeclared_status_and_an_unknown_operation_are_reported(validator: ContractValidator) -> None:
    [undeclared] = violations(validator, "GET", "/api/v2/users", 422, ERROR_V2)
    assert undeclared == "status 422 is not declared (declared: 200, 401, 403, 500)"
    [unknown] = violations(validator, "POST", "/api/v2/users/verificationStatus", 200, {})
    assert unknown == "status 200 is not declared (declared: none: the contract has only GET here)"
    outcome = validator.check("POST", "/api/v2/users/verify/x", 201, "application/json", b"{}")
    assert outcome.violations == ("status 201 is not declared (declared: 200, 400, 401, 403, 404, 422, 500)",)


def test_a_non_json_body_where_a_model_is_declared_is_reported(validator: ContractValidator) -> None:
    outcome = validator.check("GET", "/api/v2/users", 200, "text/plain", b"hello")
    assert outcome.violations == ("content type 'text/plain' is not JSON",)


def test_x_http_method_override_is_followed(validator: ContractValidator) -> None:
    outcome = validator.check("POST", "/api/v2/users", 200, "application/json", json.dumps(USER).encode(), "PATCH")
    assert (outcome.operation, outcome.violations) == ("PATCH /api/v2/users (v2)", ())


def test_the_digest_becomes_json_schema_with_lengths_patterns_and_nullables() -> None:
    facts = generate.load("access-v2")
    assert facts["dialect"] == "json-schema-2020-12"
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": facts["models"]}
    jsonschema.Draft202012Validator.check_schema(schema)
    models = facts["models"]
    assert models["UserCreateParams"]["properties"]["id"] == {
        "anyOf": [
            {"type": "string", "minLength": 1, "maxLength": 36, "pattern": r"^(?:[a-zA-Z0-9\-_\.\+@]*)$"},
            {"type": "null"},
        ]
    }
    assert models["User"]["required"] == ["id", "isAutoUpdateEnabled", "password"]
    assert models["ErrorDetails"]["properties"]["code"] == {"$ref": "#/models/ErrorCode"}
