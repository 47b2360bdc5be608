"""The emulator's own OpenAPI 3.0 document, served at /openapi.json.

Models follow finAPI's: Access v2 (2024.18.1) for /api/v2 and the admin API, Access v1 (1.151.1) where v1 differs
(its ClientConfiguration, `multiStepAuthentication` in errors, its date format). Built once from the tables below;
the ClientConfiguration schemas come from the same field table the emulator answers with.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_finapi import __version__
from mock_finapi.http import openapi_webforms
from mock_finapi.http.routes import route, webform_page
from mock_finapi.services import bank_data, client_config, mandator_admin
from mock_finapi.state.banking import ORDERABLE

ERROR_CODES = [
    "ADDITIONAL_AUTHENTICATION_REQUIRED", "BAD_REQUEST", "BANK_SERVER_REJECTION",
    "COLLECTIVE_MONEY_TRANSFER_NOT_SUPPORTED", "ENTITY_EXISTS", "FORBIDDEN", "IBAN_ONLY_DIRECT_DEBIT_NOT_SUPPORTED",
    "IBAN_ONLY_MONEY_TRANSFER_NOT_SUPPORTED", "ILLEGAL_ENTITY_STATE", "ILLEGAL_FIELD_VALUE", "ILLEGAL_PAGE_SIZE",
    "INVALID_CONSENT", "INVALID_FILTER_OPTIONS", "INVALID_ACCOUNT_TYPES", "INVALID_TOKEN",
    "INVALID_TWO_STEP_PROCEDURE", "LOCKED", "LOGIN_FIELDS_MISMATCH", "METHOD_NOT_ALLOWED", "MISSING_CREDENTIALS",
    "MISSING_FIELD", "MISSING_TWO_STEP_PROCEDURE", "NO_ACCOUNTS_FOR_TYPE_LIST", "NO_CERTIFICATE",
    "NO_EXISTING_CHALLENGE", "NO_TPP_CLIENT_CREDENTIALS", "NO_PSU_METADATA", "TOO_MANY_IDS", "UNAUTHORIZED_ACCESS",
    "UNEXPECTED_ERROR", "UNKNOWN_ENTITY", "UNSUPPORTED_BANK", "UNSUPPORTED_FEATURE", "UNSUPPORTED_MEDIA_TYPE",
    "UNSUPPORTED_ORDER", "USER_ALREADY_VERIFIED", "USER_NOT_VERIFIED", "WEB_FORM_ABORTED", "WEB_FORM_REQUIRED",
]  # fmt: skip
ID = {"type": "string", "minLength": 1, "maxLength": 36, "pattern": r"^[a-zA-Z0-9\-_.+@]*$"}
TEXT = r"^[A-Za-z0-9¡-ʯ &(){}\[\].:,;?!+\-_$@#~`^€]*$"
DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    return schema


def _config_schema(version: int) -> dict[str, Any]:
    fields = client_config.V1_FIELDS if version == 1 else client_config.V2_FIELDS
    properties = {}
    for key in fields:
        default = client_config.DEFAULTS[key]
        if key in client_config.ENUMS:
            schema: dict[str, Any] = {"type": "string", "enum": list(client_config.ENUMS[key])}
        elif default is None:
            schema = {"type": "string", "nullable": True}
        elif isinstance(default, bool):
            schema = {"type": "boolean"}
        elif isinstance(default, int):
            schema = {"type": "integer", "format": "int32"}
        elif isinstance(default, dict):
            schema = _obj({k: {"type": "boolean"} for k in default}, list(default))
        elif key == "categoryRestrictions":
            schema = {"type": "array", "items": _ref("Category"), "nullable": True}
        else:
            schema = {"type": "array", "items": {"type": "string"}}
        properties[key] = schema
    return _obj(properties, list(fields))


def _schemas() -> dict[str, Any]:
    details = {
        "message": {"type": "string", "nullable": True},
        "code": {"type": "string", "enum": ERROR_CODES},
        "type": {"type": "string", "enum": ["BUSINESS", "TECHNICAL"]},
        "multiStepAuthentication": {"type": "object", "nullable": True},
    }
    error_message = {
        "errors": {"type": "array", "items": _ref("ErrorDetails")},
        "date": {"type": "string"},
        "requestId": {"type": "string"},
        "endpoint": {"type": "string"},
        "authContext": {"type": "string"},
        "bank": {"type": "string", "nullable": True},
    }
    text = {"type": "string", "pattern": TEXT}
    return {
        "ErrorDetails": _obj(details, ["code", "type"]),
        "ErrorMessage": _obj(error_message, ["errors", "date", "requestId", "endpoint", "authContext"]),
        # Access v1 requires the nullable fields too, and writes dates without the offset
        "ErrorDetailsV1": _obj(details, ["code", "message", "multiStepAuthentication", "type"]),
        "ErrorMessageV1": _obj(
            {**error_message, "errors": {"type": "array", "items": _ref("ErrorDetailsV1")}},
            ["authContext", "bank", "date", "endpoint", "errors", "requestId"],
        ),
        "BadCredentialsError": _obj(
            {"error": {"type": "string"}, "error_description": {"type": "string"}}, ["error", "error_description"]
        ),
        "AccessToken": _obj(
            {
                "access_token": {"type": "string"},
                "token_type": {"type": "string"},
                "expires_in": {"type": "integer", "format": "int32"},
                "scope": {"type": "string"},
                "refresh_token": {"type": "string"},
            },
            ["access_token", "token_type", "expires_in", "scope"],
        ),
        "TokenRequest": _obj(
            {
                "grant_type": {"type": "string", "enum": ["client_credentials", "password", "refresh_token"]},
                "client_id": {"type": "string"},
                "client_secret": {"type": "string"},
                "username": {"type": "string"},
                "password": {"type": "string"},
                "refresh_token": {"type": "string"},
            },
            ["grant_type", "client_id", "client_secret"],
        ),
        "RevokeRequest": _obj(
            {
                "token": {"type": "string"},
                "token_type_hint": {"type": "string", "enum": ["access_token", "refresh_token"]},
            },
            ["token"],
        ),
        "User": _obj(
            {
                "id": {"type": "string"},
                "password": {"type": "string"},
                "email": {"type": "string", "nullable": True},
                "phone": {"type": "string", "nullable": True},
                "isAutoUpdateEnabled": {"type": "boolean"},
            },
            ["id", "password", "email", "phone", "isAutoUpdateEnabled"],
        ),
        "UserCreateParams": _obj(
            {
                "id": ID,
                "password": {"type": "string", "minLength": 6, "maxLength": 128},
                "email": {**text, "minLength": 1, "maxLength": 320},
                "phone": {**text, "minLength": 1, "maxLength": 50},
                "isAutoUpdateEnabled": {"type": "boolean", "default": False},
            }
        ),
        "UserUpdateParams": _obj(
            {
                "email": {**text, "maxLength": 320},
                "phone": {**text, "maxLength": 50},
                "isAutoUpdateEnabled": {"type": "boolean"},
            }
        ),
        "VerificationStatusResource": _obj(
            {"userId": {"type": "string"}, "isUserVerified": {"type": "boolean"}}, ["userId", "isUserVerified"]
        ),
        "RequestPasswordChangeParams": _obj({"userId": ID}, ["userId"]),
        "PasswordChangingResource": _obj(
            {
                "userId": {"type": "string"},
                "userEmail": {"type": "string", "nullable": True},
                "passwordChangeToken": {"type": "string"},
            },
            ["userId", "userEmail", "passwordChangeToken"],
        ),
        "ExecutePasswordChangeParams": _obj(
            {
                "userId": ID,
                "password": {"type": "string", "minLength": 6, "maxLength": 128},
                "passwordChangeToken": {"type": "string", "minLength": 36, "maxLength": 36, "pattern": "^[0-9a-f-]*$"},
            },
            ["userId", "password", "passwordChangeToken"],
        ),
        "Category": _obj(
            {
                "id": {"type": "integer", "format": "int64"},
                "name": {"type": "string"},
                "parentId": {"type": "integer", "format": "int64", "nullable": True},
                "parentName": {"type": "string", "nullable": True},
                "isCustom": {"type": "boolean"},
                "children": {"type": "array", "items": {"type": "integer", "format": "int64"}, "nullable": True},
            },
            ["children", "id", "isCustom", "name", "parentId", "parentName"],
        ),
        "ClientConfiguration": _config_schema(2),
        "ClientConfigurationV1": _config_schema(1),
        "ClientConfigurationParams": _obj(
            {
                "userNotificationCallbackUrl": {"type": "string", "maxLength": 512},
                "userSynchronizationCallbackUrl": {"type": "string", "maxLength": 512},
                "refreshTokensValidityPeriod": {"type": "integer", "format": "int32"},
                "userAccessTokensValidityPeriod": {"type": "integer", "format": "int32"},
                "clientAccessTokensValidityPeriod": {"type": "integer", "format": "int32"},
                "finTSProductRegistrationNumber": {"type": "string", "maxLength": 25, "pattern": "^[0-9A-F]*$"},
                "betaBanksEnabled": {"type": "boolean"},
                "preferredConsentType": {"type": "string", "enum": ["ONETIME", "RECURRING"]},
            }
        ),
        "UserIdentifiersParams": _obj({"userIds": {"type": "array", "items": {"type": "string"}}}, ["userIds"]),
        "UserIdentifiersList": _obj(
            {
                "deletedUsers": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                "nonDeletedUsers": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            },
            ["deletedUsers", "nonDeletedUsers"],
        ),
        "PageableUserInfoList": _obj(
            {"users": {"type": "array", "items": _ref("UserInfo")}, "paging": {"allOf": [_ref("Paging")]}},
            ["paging", "users"],
        ),
        "Paging": _obj(
            {
                "page": {"type": "integer", "format": "int32", "minimum": 1},
                "perPage": {"type": "integer", "format": "int32", "minimum": 1},
                "pageCount": {"type": "integer", "format": "int32", "minimum": 0},
                "totalCount": {"type": "integer", "format": "int64", "minimum": 0},
            },
            ["page", "pageCount", "perPage", "totalCount"],
        ),
        "UserInfo": _obj(
            {
                "userId": {"type": "string"},
                "registrationDate": DATE,
                "deletionDate": {**DATE, "nullable": True},
                "lastActiveDate": {**DATE, "nullable": True},
                "bankConnectionCount": {"type": "integer", "format": "int32"},
                "latestBankConnectionImportDate": {**DATE, "nullable": True},
                "latestBankConnectionDeletionDate": {**DATE, "nullable": True},
                "monthlyStats": {"type": "array", "items": _ref("MonthlyUserStats"), "nullable": True},
                "isLocked": {"type": "boolean"},
            },
            [
                "bankConnectionCount",
                "deletionDate",
                "isLocked",
                "lastActiveDate",
                "latestBankConnectionDeletionDate",
                "latestBankConnectionImportDate",
                "monthlyStats",
                "registrationDate",
                "userId",
            ],
        ),
        "MonthlyUserStats": _obj(
            {
                "month": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
                "minBankConnectionCount": {"type": "integer", "format": "int32"},
                "maxBankConnectionCount": {"type": "integer", "format": "int32"},
            },
            ["maxBankConnectionCount", "minBankConnectionCount", "month"],
        ),
        "ProcessCreateParams": _obj(
            {
                "clientId": {"type": "string"},
                "clientSecret": {"type": "string"},
                "clientReferences": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 100,
                    "items": _obj({"clientReference": {"type": "string", "minLength": 1}}, ["clientReference"]),
                },
                "processId": {"type": "string"},
            },
            ["clientId", "clientSecret", "clientReferences", "processId"],
        ),
        "ProcessList": _obj(
            {
                "processes": {
                    "type": "array",
                    "items": _obj(
                        {"clientReference": {"type": "string"}, "processToken": {"type": "string", "format": "uuid"}},
                        ["clientReference", "processToken"],
                    ),
                }
            },
            ["processes"],
        ),
        "ProcessAccessToken": _obj({"accessToken": {"type": "string"}}, ["accessToken"]),
        "ProcessToken": _obj({"processToken": {"type": "string", "format": "uuid"}}, ["processToken"]),
        "LinkParams": _obj({"clientReference": {"type": "string"}}),
        "AdminObject": {"type": "object", "additionalProperties": True},
        **_mock_batch_update_schemas(),
        **_bank_data_schemas(),
        **openapi_webforms.schemas(),
    }


def _mock_batch_update_schemas() -> dict[str, Any]:
    """`POST /api/v2/tests/mockBatchUpdate`'s body (Access v2 2024.18.1)."""
    nullable_text = {"type": "string", "nullable": True}

    def text(low: int, high: int) -> dict[str, Any]:
        return {**nullable_text, "minLength": low, "maxLength": high}

    currency = {**nullable_text, "pattern": "^[A-Z]{3}$"}
    day = {**DATE, "nullable": True}
    new_transaction = {
        "amount": {"type": "number"},
        "currency": currency,
        "originalAmount": {"type": "number", "nullable": True},
        "originalCurrency": currency,
        "purpose": text(1, 2000),
        "counterpart": text(1, 80),
        "counterpartIban": nullable_text,
        "counterpartBlz": nullable_text,
        "counterpartBic": nullable_text,
        "counterpartAccountNumber": {**nullable_text, "maxLength": 34},
        "bookingDate": day,
        "valueDate": day,
        "typeId": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 999, "nullable": True},
        "counterpartMandateReference": text(1, 270),
        "counterpartCreditorId": text(1, 270),
        "counterpartCustomerReference": text(1, 270),
        "counterpartDebitorId": text(1, 100),
        "type": text(1, 270),
        "typeCodeSwift": nullable_text,
        "sepaPurposeCode": nullable_text,
    }
    account = {
        "accountId": {"type": "integer", "format": "int64"},
        "accountBalance": {"type": "number"},
        "newTransactions": {"type": "array", "items": _ref("NewTransaction"), "maxItems": 1000, "nullable": True},
    }
    connection = {
        "bankConnectionId": {"type": "integer", "format": "int64"},
        "bankingInterface": {"type": "string", "enum": ["WEB_SCRAPER", "FINTS_SERVER", "XS2A"]},
        "simulateBankLoginError": {"type": "boolean", "default": False, "nullable": True},
        "mockAccountsData": {"type": "array", "items": _ref("MockAccountData"), "nullable": True},
    }
    params = {
        "mockBankConnectionUpdates": {"type": "array", "items": _ref("MockBankConnectionUpdate")},
        "triggerNotifications": {"type": "boolean", "default": False, "nullable": True},
    }
    return {
        "NewTransaction": _obj(new_transaction, ["amount"]),
        "MockAccountData": _obj(account, ["accountId", "accountBalance"]),
        "MockBankConnectionUpdate": _obj(connection, ["bankConnectionId", "bankingInterface"]),
        "MockBatchUpdateParams": _obj(params, ["mockBankConnectionUpdates"]),
    }


def _json(schema: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": _ref(schema)}}}


def _responses(ok: int, ok_schema: str | None, errors: dict[int, str]) -> dict[str, Any]:
    described = {"description": "Success", **(_json(ok_schema) if ok_schema else {})}
    responses: dict[str, Any] = {str(ok): described}
    for status, schema in errors.items():
        responses[str(status)] = {"description": "Error", **_json(schema)}
    return responses


AUTH_ERRORS = {400: "ErrorMessage", 401: "BadCredentialsError", 403: "ErrorMessage", 404: "ErrorMessage"}
COMMON = {405: "ErrorMessage", 413: "ErrorMessage", 415: "ErrorMessage", 500: "ErrorMessage"}


def _operation(
    summary: str,
    ok: int,
    ok_schema: str | None,
    errors: dict[int, str],
    *,
    body: str | None = None,
    form: str | None = None,
    bearer: bool = True,
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": _responses(ok, ok_schema, {**errors, **COMMON})}
    operation["security"] = [{"bearer": []}] if bearer else []
    if body:
        operation["requestBody"] = {"required": True, **_json(body)}
    if form:
        content = {"application/x-www-form-urlencoded": {"schema": _ref(form)}}
        operation["requestBody"] = {"required": True, "content": content}
    if params:
        operation["parameters"] = params
    return operation


def _param(name: str, where: str, schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema}


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    token_errors = {400: "ErrorMessage", 401: "BadCredentialsError", 403: "ErrorMessage", 423: "ErrorMessage"}
    for version, oauth in ((2, "/api/v2/oauth"), (1, "/oauth")):
        paths[f"{oauth}/token"] = {
            "post": _operation("Get tokens", 200, "AccessToken", token_errors, form="TokenRequest", bearer=False)
        }
        paths[f"{oauth}/revoke"] = {"post": _operation("Revoke a token", 200, None, AUTH_ERRORS, form="RevokeRequest")}
        users = f"/api/v{version}/users"
        user_id = [_param("userId", "path", ID)]
        paths[users] = {
            "post": _operation(
                "Create a user", 201, "User", {**AUTH_ERRORS, 422: "ErrorMessage"}, body="UserCreateParams"
            ),
            "get": _operation("Get the authorized user", 200, "User", AUTH_ERRORS),
            "patch": _operation(
                "Edit the authorized user", 200, "User", {**AUTH_ERRORS, 422: "ErrorMessage"}, body="UserUpdateParams"
            ),
            "delete": _operation("Delete the authorized user", 200, None, {**AUTH_ERRORS, 423: "ErrorMessage"}),
        }
        paths[f"{users}/{{userId}}"] = {
            "delete": _operation(
                "Delete an unverified user", 200, None, {**AUTH_ERRORS, 422: "ErrorMessage"}, params=user_id
            )
        }
        paths[f"{users}/verify/{{userId}}"] = {
            "post": _operation("Verify a user", 200, None, {**AUTH_ERRORS, 422: "ErrorMessage"}, params=user_id)
        }
        paths[f"{users}/verificationStatus"] = {
            "get": _operation(
                "Get a user's verification status",
                200,
                "VerificationStatusResource",
                AUTH_ERRORS,
                params=[_param("userId", "query", ID)],
            )
        }
        paths[f"{users}/requestPasswordChange"] = {
            "post": _operation(
                "Request a password change",
                200,
                "PasswordChangingResource",
                {**AUTH_ERRORS, 422: "ErrorMessage"},
                body="RequestPasswordChangeParams",
            )
        }
        paths[f"{users}/executePasswordChange"] = {
            "post": _operation("Execute a password change", 200, None, AUTH_ERRORS, body="ExecutePasswordChangeParams")
        }
        mandator_errors = {400: "ErrorMessage", 401: "BadCredentialsError", 403: "ErrorMessage"}
        paths[f"/api/v{version}/mandatorAdmin/getUserList"] = {
            "get": _operation(
                "Get the mandator's users (mandator admin client)",
                200,
                "PageableUserInfoList",
                mandator_errors,
                params=USER_LIST_PARAMS,
            )
        }
        paths[f"/api/v{version}/mandatorAdmin/deleteUsers"] = {
            "post": _operation(
                "Delete users (mandator admin client)",
                200,
                "UserIdentifiersList",
                mandator_errors,
                body="UserIdentifiersParams",
            )
        }
        config = "ClientConfigurationV1" if version == 1 else "ClientConfiguration"
        paths[f"/api/v{version}/clientConfiguration"] = {
            "get": _operation("Get the client configuration", 200, config, AUTH_ERRORS),
            "patch": _operation(
                "Edit the client configuration", 200, config, AUTH_ERRORS, body="ClientConfigurationParams"
            ),
        }
    uuid = {"type": "string", "format": "uuid"}
    paths["/api/v1/processes"] = {
        "post": _operation(
            "Create processes",
            201,
            "ProcessList",
            {400: "ErrorMessage", 401: "BadCredentialsError", 403: "ErrorMessage"},
            body="ProcessCreateParams",
            bearer=False,
        )
    }
    paths["/api/v1/processes/{processToken}"] = {
        "get": _operation(
            "Exchange a process token for a user access token",
            200,
            "ProcessAccessToken",
            {400: "ErrorMessage", 404: "ErrorMessage", 410: "ErrorMessage"},
            bearer=False,
            params=[
                _param("processToken", "path", {"type": "string"}),
                _param("invalidate", "query", {"type": "boolean", "default": False}, required=False),
            ],
        )
    }
    mandator = [_param("mandatorId", "path", uuid)]
    paths["/api/v1/processes/{mandatorId}/link"] = {
        "post": {
            **_operation(
                "Create a process for a mandator",
                201,
                "ProcessToken",
                {400: "ErrorMessage", 404: "ErrorMessage"},
                bearer=False,
            ),
            "parameters": mandator,
            "requestBody": {"required": False, **_json("LinkParams")},
        },
        "get": {
            "summary": "Redirect to the mandator's site with a new process token",
            "security": [],
            "parameters": [*mandator, _param("clientReference", "query", {"type": "string"}, required=False)],
            "responses": {"302": {"description": "Redirect"}, "404": {"description": "Error", **_json("ErrorMessage")}},
        },
    }
    paths.update(_bank_data_paths())
    paths.update(openapi_webforms.paths())
    paths.update(webform_page.openapi_paths())
    paths["/api/v2/tests/mockBatchUpdate"] = {
        "post": _operation(
            "Mock a batch update (sandbox test helper)",
            200,
            None,
            {**AUTH_ERRORS, 422: "ErrorMessage"},
            body="MockBatchUpdateParams",
        )
    }
    paths["/openapi.json"] = {
        "get": {"summary": "This document", "security": [], "responses": _responses(200, "AdminObject", {})}
    }
    health = _responses(200, "AdminObject", {405: "ErrorMessage"})
    paths["/__admin/health"] = {"get": {"summary": "Health", "security": [], "responses": health}}
    for path, methods in ADMIN_PATHS.items():
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        params = [_param(name, "path", {"type": "string"}) for name in names]
        paths[path] = {
            method: {
                "summary": summary,
                "security": [{"admin": []}],
                "responses": _responses(
                    ADMIN_CREATED.get((path, method), 200),
                    "AdminObject",
                    {**ADMIN_ERRORS, **ADMIN_MORE_ERRORS.get((path, method), {})},
                ),
                "parameters": params,
            }
            for method, summary in methods.items()
        }
    metrics = {"description": "Prometheus text format, version 0.0.4", "content": {"text/plain": {}}}
    paths["/__admin/metrics"]["get"]["responses"]["200"] = metrics
    refused = {"description": "Error", **_json("ErrorMessage")}
    for item in paths.values():  # a Host not allowed (--allow-host), on any path
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("403", refused)
    v2_error, v1_error = json.dumps(_ref("ErrorMessage")), json.dumps(_ref("ErrorMessageV1"))
    for path, item in paths.items():  # Access v1 paths (also the Process Controller's) answer v1's ErrorMessage
        if path.startswith(("/oauth/", "/api/v1/")):
            paths[path] = item = json.loads(json.dumps(item).replace(v2_error, v1_error))
            for operation in item.values():  # and take the access token as a query parameter too (deprecated)
                if isinstance(operation, dict) and operation.get("security") == [{"bearer": []}]:
                    operation["security"] = [{"bearer": []}, {"v1AccessToken": []}]
    return paths


_DAY_PARAM = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_MONTH_PARAM = {"type": "string", "pattern": r"^\d{4}-\d{2}$"}
USER_LIST_PARAMS = [
    *(_param(name, "query", _DAY_PARAM, required=False) for name in mandator_admin.DATE_FILTERS),
    _param("includeMonthlyStats", "query", {"type": "boolean", "default": False}, required=False),
    _param("monthlyStatsStartDate", "query", _MONTH_PARAM, required=False),
    _param("monthlyStatsEndDate", "query", _MONTH_PARAM, required=False),
    _param("minBankConnectionCountInMonthlyStats", "query", {"type": "integer", "default": 0}, required=False),
    _param("userId", "query", {"type": "string"}, required=False),
    _param("isDeleted", "query", {"type": "boolean"}, required=False),
    _param("isLocked", "query", {"type": "boolean"}, required=False),
    _param("page", "query", {"type": "integer", "default": 1, "minimum": 1}, required=False),
    _param("perPage", "query", {"type": "integer", "default": 20, "minimum": 1, "maximum": 500}, required=False),
    {
        **_param("order", "query", {"type": "array", "items": {"type": "string", "default": "userId,asc"}}, False),
        "style": "form",
        "explode": True,
    },
]


def _bank_data_schemas() -> dict[str, Any]:
    """Access v2 bank data (2024.18.1): every field the emulator writes, always present, optional ones nullable
    (WEBFORM.md §5.6)."""
    int64, number, boolean = {"type": "integer", "format": "int64"}, {"type": "number"}, {"type": "boolean"}
    text, instant = {"type": "string"}, {"type": "string", "format": "date-time"}

    def null(schema: dict[str, Any]) -> dict[str, Any]:
        return {**schema, "nullable": True}

    def model(name: str, nullable: bool = False) -> dict[str, Any]:
        return {"allOf": [_ref(name)], "nullable": True} if nullable else _ref(name)

    def array(items: dict[str, Any], nullable: bool = False) -> dict[str, Any]:
        return {"type": "array", "items": items, **({"nullable": True} if nullable else {})}

    def every(properties: dict[str, Any]) -> dict[str, Any]:
        return _obj(properties, list(properties))

    interface = {"type": "string", "enum": list(bank_data.INTERFACES)}
    account_type = {"type": "string", "enum": list(bank_data.ACCOUNT_TYPES)}
    update_result = {"type": "string", "enum": ["OK", "BANK_SERVER_REJECTION", "INTERNAL_SERVER_ERROR"]}
    bank_payments = (
        "sepaDirectDebit sepaMoneyTransfer sepaInstantMoneyTransfer sepaCollectiveMoneyTransfer "
        "sepaFutureDatedMoneyTransfer sepaStandingOrder domesticMoneyTransfer domesticCollectiveMoneyTransfer "
        "domesticFutureDatedMoneyTransfer"
    )
    account_payments = (
        "sepaInstantMoneyTransfer sepaFutureMoneyTransfer sepaFutureCollectiveMoneyTransfer domesticMoneyTransfer "
        "domesticCollectiveMoneyTransfer domesticFutureMoneyTransfer domesticFutureCollectiveMoneyTransfer"
    )
    capability = {"type": "string", "enum": [
        "DATA_DOWNLOAD", "IBAN_ONLY_SEPA_MONEY_TRANSFER", "IBAN_ONLY_SEPA_DIRECT_DEBIT", "SEPA_MONEY_TRANSFER",
        "SEPA_COLLECTIVE_MONEY_TRANSFER", "SEPA_BASIC_DIRECT_DEBIT", "SEPA_BASIC_COLLECTIVE_DIRECT_DEBIT",
        "SEPA_B2B_DIRECT_DEBIT", "SEPA_B2B_COLLECTIVE_DIRECT_DEBIT",
    ]}  # fmt: skip
    owner = "firstName lastName salutation title email dateOfBirth postCode country city street houseNumber"
    transaction_texts = (
        "purpose counterpartName counterpartAccountNumber counterpartIban counterpartBlz counterpartBic "
        "counterpartBankName counterpartMandateReference counterpartCustomerReference counterpartCreditorId "
        "counterpartDebitorId type typeCodeZka typeCodeSwift sepaPurposeCode bankTransactionCode "
        "bankTransactionCodeDescription primanota"
    )
    return {
        "PageableBankList": every({"banks": array(_ref("Bank")), "paging": model("Paging")}),
        "Bank": every(
            {
                "id": int64,
                "name": text,
                "bic": null(text),
                "blz": text,
                "location": null(text),
                "city": null(text),
                "isTestBank": boolean,
                "popularity": {"type": "integer", "format": "int32"},
                "interfaces": array(_ref("BankInterface")),
                "bankGroup": model("BankGroup", nullable=True),
                "isBeta": boolean,
                "logo": model("BankImage", nullable=True),
                "icon": model("BankImage", nullable=True),
            }
        ),
        "BankInterface": every(
            {
                "bankingInterface": interface,
                "tppAuthenticationGroup": model("TppAuthenticationGroup", nullable=True),
                "loginCredentials": array(_ref("BankInterfaceLoginField")),
                "properties": array(
                    {"type": "string", "enum": ["REDIRECT_APPROACH", "DECOUPLED_APPROACH", "DETAILED_CONSENT"]}
                ),
                "loginHint": null(text),
                "health": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 100},
                "lastCommunicationAttempt": null(instant),
                "lastSuccessfulCommunication": null(instant),
                "isAisSupported": boolean,
                "isPisSupported": boolean,
                "paymentCapabilities": model("BankInterfacePaymentCapabilities"),
                "paymentConstraints": model("BankInterfacePaymentConstraints", nullable=True),
                "aisAccountTypes": array(account_type),
            }
        ),
        "BankInterfaceLoginField": every(
            {"label": text, "isSecret": boolean, "isVolatile": boolean, "isMandatory": boolean}
        ),
        "BankInterfacePaymentCapabilities": every(dict.fromkeys(bank_payments.split(), boolean)),
        "BankInterfacePaymentConstraints": _obj(
            {"sepaMoneyTransfer": null({"type": "object"}), "domesticMoneyTransfer": null({"type": "object"})}
        ),
        "TppAuthenticationGroup": every({"id": int64, "name": text}),
        "BankGroup": every({"id": int64, "name": text}),
        "BankImage": every({"url": text}),
        "BankConnectionList": every({"connections": array(_ref("BankConnection"))}),
        "BankConnection": every(
            {
                "id": int64,
                "name": null(text),
                "updateStatus": {"type": "string", "enum": ["IN_PROGRESS", "READY"]},
                "categorizationStatus": {"type": "string", "enum": ["PENDING", "IN_PROGRESS", "READY"]},
                "interfaces": array(_ref("BankConnectionInterface")),
                "accountIds": array(int64),
                "owners": array(_ref("BankConnectionOwner"), nullable=True),
                "bank": _ref("Bank"),
            }
        ),
        "BankConnectionInterface": every(
            {
                "bankingInterface": interface,
                "loginCredentials": array(_ref("LoginCredentialResource")),
                "defaultTwoStepProcedureId": null(text),
                "twoStepProcedures": array(_ref("TwoStepProcedure")),
                "aisConsent": model("BankConsent", nullable=True),
                "lastManualUpdate": model("UpdateResult", nullable=True),
                "lastAutoUpdate": model("UpdateResult", nullable=True),
                "userActionRequired": boolean,
                "maxDaysForDownload": {"type": "integer", "format": "int32"},
            }
        ),
        "LoginCredentialResource": every({"label": text, "value": null(text)}),
        "TwoStepProcedure": every(
            {
                "procedureId": text,
                "procedureName": text,
                "procedureChallengeType": null(text),
                "implicitExecute": boolean,
            }
        ),
        "BankConsent": every(
            {
                "status": {"type": "string", "enum": ["PRESENT", "NOT_PRESENT"]},
                "expiresAt": null(instant),
                "supportsImportNewAccounts": boolean,
            }
        ),
        "UpdateResult": every(
            {
                "result": update_result,
                "errorMessage": null(text),
                "errorType": null({"type": "string", "enum": ["BUSINESS", "TECHNICAL"]}),
                "timestamp": instant,
            }
        ),
        "BankConnectionOwner": every({name: null(DATE if name == "dateOfBirth" else text) for name in owner.split()}),
        "IdentifierList": every({"identifiers": array(int64)}),
        "AccountList": every({"accounts": array(_ref("Account"))}),
        "Account": every(
            {
                "id": int64,
                "bankConnectionId": int64,
                "accountName": null(text),
                "iban": null(text),
                "accountNumber": text,
                "subAccountNumber": null(text),
                "accountHolderName": null(text),
                "accountHolderId": null(text),
                "accountCurrency": null(text),
                "accountType": account_type,
                "balance": null(number),
                "overdraft": null(number),
                "overdraftLimit": null(number),
                "availableFunds": null(number),
                "isNew": boolean,
                "interfaces": array(_ref("AccountInterface")),
                "isSeized": boolean,
            }
        ),
        "AccountInterface": every(
            {
                "bankingInterface": interface,
                "status": {
                    "type": "string",
                    "enum": ["UPDATED", "UPDATED_FIXED", "DOWNLOAD_IN_PROGRESS", "DOWNLOAD_FAILED", "DEPRECATED"],
                },
                "capabilities": array(capability),
                "paymentCapabilities": model("AccountInterfacePaymentCapabilities"),
                "lastSuccessfulUpdate": null(instant),
                "lastUpdateAttempt": null(instant),
            }
        ),
        "AccountInterfacePaymentCapabilities": every(dict.fromkeys(account_payments.split(), boolean)),
        "PageableTransactionList": every(
            {
                "transactions": array(_ref("Transaction")),
                "paging": model("Paging"),
                "income": number,
                "spending": number,
                "balance": number,
            }
        ),
        "Transaction": every(
            {
                "id": int64,
                "parentId": null(int64),
                "accountId": int64,
                "valueDate": DATE,
                "bankBookingDate": DATE,
                "finapiBookingDate": DATE,
                "amount": number,
                "currency": null(text),
                **{name: null(text) for name in transaction_texts.split()},
                "category": model("Category", nullable=True),
                "labels": array(_ref("Label")),
                "isPotentialDuplicate": boolean,
                "isAdjustingEntry": boolean,
                "isNew": boolean,
                "importDate": instant,
                "children": array(int64, nullable=True),
                "paypalData": model("PaypalTransactionData", nullable=True),
                "certisData": model("CertisTransactionData", nullable=True),
                "endToEndReference": null(text),
                "compensationAmount": null(number),
                "originalAmount": null(number),
                "originalCurrency": null(text),
                "feeAmount": null(number),
                "feeCurrency": null(text),
                "differentDebitor": null(text),
                "differentCreditor": null(text),
            }
        ),
        "Label": every({"id": int64, "name": text}),
        "PaypalTransactionData": every({"invoiceNumber": null(text), "fee": null(number), "net": null(number)}),
        "CertisTransactionData": every(
            {name: null(text) for name in ("variableSymbol", "constantSymbol", "specificSymbol")}
        ),
    }


def _bank_data_paths() -> dict[str, Any]:
    """Access v2 bank data (WEBFORM.md §5): banks for user or client tokens, the rest for user tokens."""
    read = {400: "ErrorMessage", 401: "BadCredentialsError", 403: "ErrorMessage"}
    one = {**read, 404: "ErrorMessage"}
    locked = {**one, 423: "ErrorMessage"}
    refused = {**locked, 422: "ErrorMessage", 501: "ErrorMessage", 510: "ErrorMessage"}
    entity_id = [_param("id", "path", {"type": "integer", "format": "int64"})]
    connections = "/api/v2/bankConnections"
    return {
        "/api/v2/banks": {
            "get": _operation("Search banks (user or client token)", 200, "PageableBankList", read, params=BANK_PARAMS)
        },
        "/api/v2/banks/{id}": {"get": _operation("Get a bank", 200, "Bank", one, params=entity_id)},
        connections: {
            "get": _operation(
                "Get the user's bank connections", 200, "BankConnectionList", read, params=CONNECTION_PARAMS
            ),
            "delete": _operation(
                "Delete all of the user's bank connections",
                200,
                "IdentifierList",
                {401: "BadCredentialsError", 403: "ErrorMessage", 423: "ErrorMessage"},
            ),
        },
        f"{connections}/{{id}}": {
            "get": _operation("Get a bank connection", 200, "BankConnection", one, params=entity_id),
            "delete": _operation("Delete a bank connection", 200, None, locked, params=entity_id),
        },
        f"{connections}/import": {
            "post": _operation(
                "Import a bank connection (refused: 422, the mandator uses Web Form 2.0)",
                201,
                "BankConnection",
                {**read, 422: "ErrorMessage", 501: "ErrorMessage", 510: "ErrorMessage"},
            )
        },
        **{
            f"{connections}/{name}": {
                "post": _operation(
                    f"{summary} (refused: 422, the mandator uses Web Form 2.0)", 200, "BankConnection", refused
                )
            }
            for name, summary in (
                ("update", "Update a bank connection"),
                ("connectInterface", "Connect a new interface"),
            )
        },
        "/api/v2/accounts": {
            "get": _operation("Get the user's accounts", 200, "AccountList", read, params=ACCOUNT_PARAMS)
        },
        "/api/v2/accounts/{id}": {"get": _operation("Get an account", 200, "Account", one, params=entity_id)},
        "/api/v2/transactions": {
            "get": _operation(
                "Get the user's transactions", 200, "PageableTransactionList", read, params=TRANSACTION_PARAMS
            )
        },
        "/api/v2/transactions/{id}": {
            "get": _operation("Get a transaction", 200, "Transaction", one, params=entity_id)
        },
    }


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return _param(name, "query", schema, required)


def _query_list(name: str, items: dict[str, Any]) -> dict[str, Any]:
    """A list parameter: repeated (`ids=1&ids=2`) or comma-separated."""
    return {**_query(name, {"type": "array", "items": items}), "style": "form", "explode": True}


_ID_LIST = {"type": "integer", "format": "int64"}
_AMOUNT = {"type": "number", "multipleOf": 0.01}
_PAGING_PARAMS = [
    _query("page", {"type": "integer", "format": "int32", "default": 1, "minimum": 1}),
    _query("perPage", {"type": "integer", "format": "int32", "default": 20, "minimum": 1, "maximum": 500}),
]
BANK_PARAMS = [
    _query_list("ids", _ID_LIST),
    _query("search", {"type": "string"}),
    _query_list("supportedBankingInterfaces", {"type": "string", "enum": list(bank_data.INTERFACES)}),
    _query_list("location", {"type": "string", "enum": sorted(bank_data.ISO_COUNTRIES)}),
    _query_list("tppAuthenticationGroupIds", _ID_LIST),
    _query("isTestBank", {"type": "boolean"}),
    *_PAGING_PARAMS,
    _query_list("order", {"type": "string", "pattern": "^(" + "|".join(bank_data.BANK_ORDERABLE) + ")(,(asc|desc))?$"}),
]
CONNECTION_PARAMS = [_query_list("ids", _ID_LIST)]
ACCOUNT_PARAMS = [
    _query_list("ids", _ID_LIST),
    _query("search", {"type": "string"}),
    _query_list("accountTypes", {"type": "string", "enum": list(bank_data.ACCOUNT_TYPES)}),
    _query_list("bankConnectionIds", _ID_LIST),
    _query("minLastSuccessfulUpdate", _DAY_PARAM),
    _query("maxLastSuccessfulUpdate", _DAY_PARAM),
    _query("minBalance", _AMOUNT),
    _query("maxBalance", _AMOUNT),
]
TRANSACTION_PARAMS = [
    _query("view", {"type": "string", "enum": list(bank_data.VIEWS)}, required=True),
    _query_list("ids", _ID_LIST),
    _query("search", {"type": "string"}),
    _query("counterpart", {"type": "string"}),
    _query("purpose", {"type": "string"}),
    _query_list("accountIds", _ID_LIST),
    *(
        _query(f"{bound}{name}Date", _DAY_PARAM)
        for name in ("BankBooking", "FinapiBooking", "Import")
        for bound in ("min", "max")
    ),
    _query("minAmount", _AMOUNT),
    _query("maxAmount", _AMOUNT),
    _query("direction", {"type": "string", "enum": list(bank_data.DIRECTIONS), "default": "all"}),
    _query_list("labelIds", _ID_LIST),
    _query_list("categoryIds", _ID_LIST),
    _query("includeChildCategories", {"type": "boolean", "default": True}),
    _query("isNew", {"type": "boolean"}),
    _query("isPotentialDuplicate", {"type": "boolean"}),
    _query("isAdjustingEntry", {"type": "boolean"}),
    *_PAGING_PARAMS,
    _query_list(
        "order",
        {
            "type": "string",
            "pattern": "^(" + "|".join(re.escape(p) for p in ORDERABLE) + ")(,(asc|desc))?$",
            "default": "id,asc",
        },
    ),
]

# 401 (with --admin-token) is the OAuth error finAPI uses for bad bearer tokens; 404 names an unknown mandator,
# token, user or scenario; 400 a bad body, query or scenario; 403 a Host not allowed or another site's Origin
ADMIN_ERRORS = {**COMMON, 400: "ErrorMessage", 401: "BadCredentialsError", 403: "ErrorMessage", 404: "ErrorMessage"}
ADMIN_CREATED = {("/__admin/faults", "post"): 201}
ADMIN_MORE_ERRORS = {
    ("/__admin/webForms/{webFormId}/complete", "post"): {422: "ErrorMessage"},
    ("/__admin/snapshot", "post"): {413: "ErrorMessage"},
}
"""Statuses one admin operation adds to ADMIN_ERRORS: completing a web form that is final already is 422, a snapshot
beyond the size limit 413."""


ADMIN_PATHS = {
    "/__admin/version": {"get": "Version"},
    "/__admin/reset": {"post": "Reset all state or one mandator's (?mandator=)"},
    "/__admin/clock": {"get": "Read the virtual clock", "post": "Set, advance or freeze the clock"},
    "/__admin/requests": {"get": "The request journal, newest first", "delete": "Clear the journal"},
    "/__admin/requests/count": {"post": "Count journal entries matching a matcher"},
    "/__admin/state/users": {"get": "Users (read-only)"},
    "/__admin/state/tokens": {"get": "Live tokens (masked)"},
    "/__admin/state/processes": {"get": "Processes (tokens masked)"},
    "/__admin/state/bankConnections": {"get": "Bank connections with account and transaction counts (?mandator=)"},
    "/__admin/state/webForms": {"get": "Web forms with owner, status, URL, bank and result (?mandator=)"},
    "/__admin/state/tasks": {"get": "Background update tasks with owner, status and update form (?mandator=)"},
    "/__admin/webForms/{webFormId}/complete": {
        "post": "Finish a web form as its user would: {status, errorCode?, bankId?, accountTypes?}; answers the form"
    },
    "/__admin/tokens/{token}/expire": {"post": "Expire a token now"},
    "/__admin/users/{userId}/lock": {"post": "Lock a user"},
    "/__admin/scenario": {"post": "Load another scenario (name, path or yaml)"},
    "/__admin/snapshot": {
        "get": "The whole state as a snapshot document (?journal=false leaves the journal out)",
        "post": "Serve a snapshot document (checked first; a bad one is 400 and the old state keeps serving)",
    },
    "/__admin/faults": {"get": "Fault rules", "post": "Add a fault rule", "delete": "Remove all fault rules"},
    "/__admin/callbacks": {
        "get": "Callbacks the emulator sent or tried to send, newest first (?limit=)",
        "delete": "Forget the callbacks sent",
    },
    "/__admin/metrics": {"get": "Counters and sizes in Prometheus' text format"},
}


@functools.cache
def document_bytes() -> bytes:
    """The document, serialised once."""
    doc = {
        "openapi": "3.0.3",
        "info": {
            "title": "mock-finapi",
            "version": __version__,
            "description": "Offline emulator of finAPI Access v1/v2 (OAuth, users, client configuration), the "
            "Process Controller and the emulator's admin API.",
        },
        "servers": [{"url": "/"}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "admin": {"type": "http", "scheme": "bearer", "description": "--admin-token, when set"},
                "v1AccessToken": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "access_token",
                    "description": "Access v1 only, deprecated there: the access token as a query parameter (the "
                    "Authorization header counts when both are sent)",
                },
            },
        },
    }
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


async def serve(request: Request) -> Response:
    return Response(document_bytes(), media_type="application/json")


routes = [route("/openapi.json", GET=serve)]
