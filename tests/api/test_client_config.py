"""GET/PATCH /api/v2/clientConfiguration and /api/v1/clientConfiguration (FINAPI.md §5)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_finapi import errors
from tests.contract import generate
from tests.helpers import (
    CLIENT_CREDENTIALS,
    CLIENT_ID,
    TOKEN_PATH,
    AdminClock,
    assert_error_message,
    assert_token_answer,
    bearer,
    client_token,
    password_grant,
    user_tokens,
)

MANDATOR = "2c6b8f0e-7d42-4f1a-9a43-1f0c2d3e4a5b"
CLIENT_CONTEXT = f"{MANDATOR}/{CLIENT_ID}"
RID = "client-config-test-request"
MANUAL_VERIFICATION = str(Path(__file__).resolve().parent.parent / "scenarios" / "manual_verification.yaml")
VERSIONS = pytest.mark.parametrize("v", [2, 1], ids=["v2", "v1"])
PERIOD_RULE = "must be 0 (never expires) or between 60 and 2147483647 seconds"


def is_bool(x: Any) -> bool:
    return type(x) is bool


def is_int(x: Any) -> bool:
    return type(x) is int


def optional_str(x: Any) -> bool:
    return x is None or isinstance(x, str)


def list_of(check: Callable[[Any], bool], *, nullable: bool = False) -> Callable[[Any], bool]:
    return lambda x: (nullable and x is None) or (isinstance(x, list) and all(check(i) for i in x))


def one_of(*values: str) -> Callable[[Any], bool]:
    return lambda x: x in values


ENABLED_PRODUCTS = [
    "access",
    "webForm",
    "customerDashboard",
    "dataIntelligence",
    "giroIdent",
    "schufaApi",
    "diLabelling",
    "contractManager",
    "giroCheck",
    "kreditCheck",
    "kreditCheckB2B",
    "debitFlex",
    "transparencyRegister",
]
# Access v2 2024.18.1 ClientConfiguration, as the generated client norman-finance/finapi-webform-and-access
# (src/finapi_access/models/client_configuration.py) declares it: field → type check.
V2_MODEL: dict[str, Callable[[Any], bool]] = {
    "pfmServicesEnabled": is_bool,
    "isAutomaticBatchUpdateEnabled": is_bool,
    "isDevelopmentModeEnabled": is_bool,
    "isNonEuroAccountsSupported": is_bool,
    "isAutoCategorizationEnabled": is_bool,
    "mandatorLicense": one_of("UNLICENSED", "AISP", "PISP", "FULLY_LICENSED"),
    "preferredConsentType": one_of("ONETIME", "RECURRING"),
    "userNotificationCallbackUrl": optional_str,
    "userSynchronizationCallbackUrl": optional_str,
    "refreshTokensValidityPeriod": is_int,
    "userAccessTokensValidityPeriod": is_int,
    "clientAccessTokensValidityPeriod": is_int,
    "maxUserLoginAttempts": is_int,
    "transactionImportLimitation": is_int,
    "isUserAutoVerificationEnabled": is_bool,
    "isMandatorAdmin": is_bool,
    "isWebScrapingEnabled": is_bool,
    "aisEnabled": is_bool,
    "paymentsEnabled": is_bool,
    "isStandalonePaymentsEnabled": is_bool,
    "availableBankGroups": list_of(lambda i: isinstance(i, str)),
    "products": list_of(one_of("ACCESS", "DATA_INTELLIGENCE", "WEB_FORM", "GIRO_IDENT")),
    "enabledProducts": lambda x: isinstance(x, dict) and list(x) == ENABLED_PRODUCTS and all(map(is_bool, x.values())),
    "finTSProductRegistrationNumber": optional_str,
    "aisViaWebForm": is_bool,
    "pisViaWebForm": is_bool,
    "pisStandaloneViaWebForm": is_bool,
    "betaBanksEnabled": is_bool,
    "categoryRestrictionsEnabled": is_bool,
    "categoryRestrictions": list_of(lambda i: isinstance(i, dict)),
    "accountTypeRestrictions": list_of(lambda i: isinstance(i, str)),
    "corsAllowedOrigins": list_of(lambda i: isinstance(i, str), nullable=True),
}
DOCUMENTED_DEFAULTS = {  # FINAPI.md §5 and the default scenario
    "userAccessTokensValidityPeriod": 3600,
    "clientAccessTokensValidityPeriod": 3600,
    "refreshTokensValidityPeriod": 3600,
    "maxUserLoginAttempts": 3,
    "isUserAutoVerificationEnabled": True,
    "userSynchronizationCallbackUrl": None,
    "isMandatorAdmin": False,
}


@pytest.fixture(scope="module")
def v1_schemas() -> dict[str, Any]:
    """finAPI's v1 models as the committed contract facts carry them (tests/contract/generate.py)."""
    schemas: dict[str, Any] = generate.load("access-v1")["models"]
    return schemas


def config_path(v: int) -> str:
    return f"/api/v{v}/clientConfiguration"


def h(token: str, **extra: str) -> dict[str, str]:
    return {**bearer(token), "X-Request-Id": RID, **extra}


def get(client: httpx.Client, v: int, token: str | None = None) -> dict[str, Any]:
    response = client.get(config_path(v), headers=h(token or client_token(client)))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def patch(client: httpx.Client, v: int, body: dict[str, Any], token: str | None = None) -> httpx.Response:
    return client.patch(config_path(v), json=body, headers=h(token or client_token(client)))


def assert_error(response: httpx.Response, status: int, code: str, type_: str, message: str, auth: str) -> None:
    assert_error_message(response, status, code, type_, message, auth=auth, request_id=RID)


def matches_v1(prop: dict[str, Any], value: Any, schemas: dict[str, Any]) -> bool:
    """Whether a value fits a v1 schema property (type, nullability, enum through allOf/$ref)."""
    if value is None:
        return bool(prop.get("nullable"))
    if "allOf" in prop:
        return all(matches_v1(part, value, schemas) for part in prop["allOf"])
    if "$ref" in prop:
        target = schemas[prop["$ref"].rsplit("/", 1)[-1]]
        return value in target["enum"] if "enum" in target else isinstance(value, dict)
    kind = prop["type"]
    if kind == "array":
        return isinstance(value, list) and all(matches_v1(prop["items"], i, schemas) for i in value)
    checks: dict[str, Callable[[Any], bool]] = {"boolean": is_bool, "integer": is_int, "string": optional_str}
    return checks[kind](value)


# GET
def test_get_v2_answers_every_field_of_the_v2_model_with_its_type(client: httpx.Client) -> None:
    response = client.get(config_path(2), headers=h(client_token(client)))
    assert (response.status_code, response.headers["X-Request-Id"]) == (200, RID)
    body = response.json()
    assert sorted(body) == sorted(V2_MODEL)
    assert [k for k, check in V2_MODEL.items() if not check(body[k])] == []
    assert {k: body[k] for k in DOCUMENTED_DEFAULTS} == DOCUMENTED_DEFAULTS


def test_get_v1_answers_exactly_the_required_fields_of_the_v1_schema(
    client: httpx.Client, v1_schemas: dict[str, Any]
) -> None:
    schema = v1_schemas["ClientConfiguration"]
    body = get(client, 1)
    assert sorted(body) == sorted(schema["required"])
    assert [k for k, value in body.items() if not matches_v1(schema["properties"][k], value, v1_schemas)] == []
    assert {k: body[k] for k in DOCUMENTED_DEFAULTS} == DOCUMENTED_DEFAULTS


# PATCH
@VERSIONS
def test_patch_answers_the_whole_configuration_with_the_change_applied(client: httpx.Client, v: int) -> None:
    before = get(client, v)
    change = {
        "userAccessTokensValidityPeriod": 60,
        "clientAccessTokensValidityPeriod": 0,
        "refreshTokensValidityPeriod": 7200,
    }
    response = patch(client, v, change)
    assert (response.status_code, response.headers["X-Request-Id"]) == (200, RID)
    assert response.json() == {**before, **change}
    assert get(client, v) == {**before, **change}
    other_version = get(client, 3 - v)
    assert {k: other_version[k] for k in change} == change


@VERSIONS
def test_patch_ignores_null_and_read_only_fields(client: httpx.Client, v: int) -> None:
    before = get(client, v)
    body = {"userAccessTokensValidityPeriod": None, "isUserAutoVerificationEnabled": False, "maxUserLoginAttempts": 9}
    response = patch(client, v, body)
    assert (response.status_code, response.json()) == (200, before)


@VERSIONS
def test_method_override_patch_on_post_edits_the_configuration(client: httpx.Client, v: int) -> None:
    response = client.post(
        config_path(v),
        json={"betaBanksEnabled": True},
        headers=h(client_token(client), **{"X-HTTP-Method-Override": "PATCH"}),
    )
    assert (response.status_code, response.json()["betaBanksEnabled"]) == (200, True)


INVALID_PERIODS = [-1, 1, 59, 2**31]
WRONG_TYPES = ["60", 60.0, True, [60]]


@VERSIONS
@pytest.mark.parametrize(
    "field", ["userAccessTokensValidityPeriod", "clientAccessTokensValidityPeriod", "refreshTokensValidityPeriod"]
)
@pytest.mark.parametrize("value", INVALID_PERIODS + WRONG_TYPES, ids=repr)
def test_patch_rejects_a_validity_period_that_is_not_0_or_at_least_60(
    client: httpx.Client, v: int, field: str, value: Any
) -> None:
    before = get(client, v)
    response = patch(client, v, {"betaBanksEnabled": True, field: value})
    rule = PERIOD_RULE if type(value) is int else "must be an integer"
    assert_error(response, 400, "ILLEGAL_FIELD_VALUE", "TECHNICAL", f"'{field}' {rule}", CLIENT_CONTEXT)
    assert get(client, v) == before


@VERSIONS
@pytest.mark.parametrize("value", [0, 60, 2**31 - 1])
def test_patch_accepts_validity_periods_at_the_limits(client: httpx.Client, v: int, value: int) -> None:
    response = patch(client, v, {"refreshTokensValidityPeriod": value})
    assert (response.status_code, response.json()["refreshTokensValidityPeriod"]) == (200, value)


URL_RULE = "must be an http or https URL of at most 512 characters"


@VERSIONS
@pytest.mark.parametrize("field", ["userNotificationCallbackUrl", "userSynchronizationCallbackUrl"])
def test_patch_sets_and_clears_a_callback_url(client: httpx.Client, v: int, field: str) -> None:
    url = "https://bank.server.com/" + "s" * 488
    assert patch(client, v, {field: url}).json()[field] == url
    assert patch(client, v, {field: "http://localhost:8000/cb"}).json()[field] == "http://localhost:8000/cb"
    assert patch(client, v, {field: ""}).json()[field] is None


@VERSIONS
@pytest.mark.parametrize("field", ["userNotificationCallbackUrl", "userSynchronizationCallbackUrl"])
@pytest.mark.parametrize("value", ["https://bank.server.com/" + "s" * 489, "not a url", "ftp://host/x", "https://", 42])
def test_patch_rejects_a_callback_url_that_is_not_an_http_url(
    client: httpx.Client, v: int, field: str, value: Any
) -> None:
    response = patch(client, v, {field: value})
    assert_error(response, 400, "ILLEGAL_FIELD_VALUE", "TECHNICAL", f"'{field}' {URL_RULE}", CLIENT_CONTEXT)


@VERSIONS
def test_patch_stores_the_fints_number_but_shows_it_masked(client: httpx.Client, v: int) -> None:
    response = patch(client, v, {"finTSProductRegistrationNumber": "ABCDEF1234567890ABCDEF123"})
    assert (response.status_code, response.json()["finTSProductRegistrationNumber"]) == (200, "XXXXX")
    assert patch(client, v, {"finTSProductRegistrationNumber": ""}).json()["finTSProductRegistrationNumber"] is None


@VERSIONS
@pytest.mark.parametrize("value", ["abcdef", "ABCDEF1234567890ABCDEF1234", "GHIJ", 123])
def test_patch_rejects_a_fints_number_that_is_not_25_upper_hex(client: httpx.Client, v: int, value: Any) -> None:
    message = "'finTSProductRegistrationNumber' must be at most 25 upper-case hexadecimal characters"
    assert_error(
        patch(client, v, {"finTSProductRegistrationNumber": value}),
        400,
        "ILLEGAL_FIELD_VALUE",
        "TECHNICAL",
        message,
        CLIENT_CONTEXT,
    )


@VERSIONS
def test_patch_sets_beta_banks_and_rejects_a_non_boolean(client: httpx.Client, v: int) -> None:
    assert patch(client, v, {"betaBanksEnabled": True}).json()["betaBanksEnabled"] is True
    response = patch(client, v, {"betaBanksEnabled": "false"})
    assert_error(
        response, 400, "ILLEGAL_FIELD_VALUE", "TECHNICAL", "'betaBanksEnabled' must be a boolean", CLIENT_CONTEXT
    )
    assert get(client, v)["betaBanksEnabled"] is True


def test_v2_patch_sets_the_preferred_consent_type_and_rejects_unknown_ones(client: httpx.Client) -> None:
    assert patch(client, 2, {"preferredConsentType": "ONETIME"}).json()["preferredConsentType"] == "ONETIME"
    message = "'preferredConsentType' must be one of ONETIME, RECURRING"
    assert_error(
        patch(client, 2, {"preferredConsentType": "DAILY"}),
        400,
        "ILLEGAL_FIELD_VALUE",
        "TECHNICAL",
        message,
        CLIENT_CONTEXT,
    )


def test_v1_patch_sets_the_v1_web_form_fields(client: httpx.Client) -> None:
    change = {
        "isPinStorageAvailableInWebForm": False,
        "storeSecretsAvailableInWebForm": False,
        "applicationName": "A" * 64,
        "supportSubjectDefault": "S" * 100,
        "supportEmail": "support@example.de",
    }
    body = patch(client, 1, change).json()
    assert {k: body[k] for k in ("pinStorageAvailableInWebForm", "storeSecretsAvailableInWebForm")} == {
        "pinStorageAvailableInWebForm": False,
        "storeSecretsAvailableInWebForm": False,
    }
    assert {k: body[k] for k in ("applicationName", "supportSubjectDefault", "supportEmail")} == {
        k: change[k] for k in ("applicationName", "supportSubjectDefault", "supportEmail")
    }
    cleared = patch(client, 1, {"applicationName": "", "supportSubjectDefault": "", "supportEmail": ""}).json()
    assert (cleared["applicationName"], cleared["supportSubjectDefault"], cleared["supportEmail"]) == (None, None, None)


@pytest.mark.parametrize(
    ("field", "value", "limit"),
    [
        ("applicationName", "A" * 65, 64),
        ("supportSubjectDefault", "S" * 101, 100),
        ("supportEmail", "e" * 321, 320),
        ("applicationName", "<script>", 64),
        ("supportEmail", 7, 320),
    ],
)
def test_v1_patch_rejects_web_form_texts_too_long_or_with_illegal_characters(
    client: httpx.Client, field: str, value: Any, limit: int
) -> None:
    message = f"'{field}' must be at most {limit} characters finAPI allows"
    assert_error(patch(client, 1, {field: value}), 400, "ILLEGAL_FIELD_VALUE", "TECHNICAL", message, CLIENT_CONTEXT)


@VERSIONS
@pytest.mark.parametrize("body", ["[]", '"x"', "{"])
def test_patch_with_a_body_that_is_not_a_json_object_is_400(client: httpx.Client, v: int, body: str) -> None:
    headers = h(client_token(client), **{"Content-Type": "application/json"})
    response = client.patch(config_path(v), content=body, headers=headers)
    message = errors.MSG_MALFORMED_JSON if body == "{" else errors.MSG_JSON_OBJECT
    assert_error(response, 400, "BAD_REQUEST", "TECHNICAL", message, CLIENT_CONTEXT)


# token lifetimes
def test_new_validity_periods_apply_to_new_tokens_only(client: httpx.Client, clock: AdminClock) -> None:
    old_client = client_token(client)
    old_user = user_tokens(client)
    change = {
        "clientAccessTokensValidityPeriod": 60,
        "userAccessTokensValidityPeriod": 120,
        "refreshTokensValidityPeriod": 180,
    }
    assert patch(client, 2, change, old_client).status_code == 200
    clock.advance(600)
    reused = client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS).json()
    assert (reused["access_token"], reused["expires_in"]) == (old_client, 2999)
    created = client.post("/api/v2/users", json={"id": "newbie", "password": "newbie-pw"}, headers=bearer(old_client))
    assert created.status_code == 201
    new_user = client.post(TOKEN_PATH[2], data=password_grant("newbie", "newbie-pw")).json()
    assert new_user["expires_in"] == 119
    clock.advance(181)
    assert client.get("/api/v2/users", headers=bearer(new_user["access_token"])).status_code == 401
    refreshed = client.post(
        TOKEN_PATH[2],
        data={**CLIENT_CREDENTIALS, "grant_type": "refresh_token", "refresh_token": new_user["refresh_token"]},
    )
    assert (refreshed.status_code, refreshed.json()["errors"][0]["message"]) == (400, errors.MSG_BAD_REFRESH)
    assert client.get("/api/v2/users", headers=bearer(old_user["access_token"])).status_code == 200
    assert client.get(config_path(2), headers=bearer(old_client)).status_code == 200
    clock.advance(3600 - 781)
    assert client.get(config_path(2), headers=bearer(old_client)).status_code == 401
    assert client.get("/api/v2/users", headers=bearer(old_user["access_token"])).status_code == 401
    fresh = client.post(TOKEN_PATH[2], data=CLIENT_CREDENTIALS).json()
    assert (fresh["access_token"] != old_client, fresh["expires_in"]) == (True, 59)


def test_a_validity_period_of_0_makes_new_tokens_never_expire(client: httpx.Client, clock: AdminClock) -> None:
    patched = patch(client, 1, {"userAccessTokensValidityPeriod": 0})
    assert (patched.status_code, patched.json()["userAccessTokensValidityPeriod"]) == (200, 0)
    tokens = assert_token_answer(client.post(TOKEN_PATH[2], data=password_grant()), refresh=True)
    assert tokens["expires_in"] == 0  # never expires (decided)
    clock.advance(10 * 365 * 86400)
    me = client.get("/api/v1/users", headers=bearer(tokens["access_token"]))
    assert (me.status_code, me.json()["id"]) == (200, "username")


# roles
@VERSIONS
@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_a_user_token_on_client_configuration_is_403(client: httpx.Client, v: int, method: str) -> None:
    token = user_tokens(client)["access_token"]
    response = client.request(
        method, config_path(v), json={"betaBanksEnabled": True} if method == "PATCH" else None, headers=h(token)
    )
    assert_error(response, 403, "UNAUTHORIZED_ACCESS", "BUSINESS", errors.MSG_ROLE_CLIENT, f"{CLIENT_CONTEXT}/username")
    assert get(client, v)["betaBanksEnabled"] is False


@VERSIONS
@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_client_configuration_without_a_token_is_401(client: httpx.Client, v: int, method: str) -> None:
    response = client.request(
        method, config_path(v), json={} if method == "PATCH" else None, headers={"X-Request-Id": RID}
    )
    assert (response.status_code, response.headers["X-Request-Id"]) == (401, RID)
    assert response.json() == {"error": "invalid_token", "error_description": errors.MSG_MISSING_TOKEN}


class TestSeveralClients:
    @pytest.fixture
    def scenario_name(self) -> str:
        return MANUAL_VERIFICATION

    @staticmethod
    def token_of(client: httpx.Client, client_id: str, secret: str) -> str:
        data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        token: str = client.post(TOKEN_PATH[2], data=data).json()["access_token"]
        return token

    def test_each_client_answers_its_own_configuration(self, client: httpx.Client) -> None:
        assert get(client, 2)["isUserAutoVerificationEnabled"] is False
        second = self.token_of(client, "second-client", "second-secret")
        assert get(client, 2, second)["isUserAutoVerificationEnabled"] is True
        admin = get(client, 2, self.token_of(client, "admin-client", "admin-secret"))
        assert admin["isMandatorAdmin"] is True

    def test_a_patch_changes_only_the_calling_clients_configuration(self, client: httpx.Client) -> None:
        second = self.token_of(client, "second-client", "second-secret")
        assert patch(client, 2, {"userAccessTokensValidityPeriod": 90}).status_code == 200
        assert get(client, 2, second)["userAccessTokensValidityPeriod"] == 3600
