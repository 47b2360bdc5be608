"""The Web Form 2.0 API's part of /openapi.json (http/openapi.py): its paths and models (Web Form 2.0 OpenAPI
2.709.0 as WEBFORM.md §2-§4, §6.1 describe it), in OAS 3.0. Model names carry the API's own where they do not collide
with Access's (`WebForm`, `Task`), else a `WebForm` prefix (`WebFormError`, `WebFormPaging`)."""

from __future__ import annotations

from typing import Any

from mock_finapi.services import webform_requests

URL_PATTERN = "^" + webform_requests.FINAPI_URL.pattern + "$"
TIMESTAMP = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$",
    "description": "yyyy-MM-dd'T'HH:mm:ss.SSSZ (UTC, +0000)",
}
UUID = {"type": "string", "minLength": 36, "maxLength": 36}
WEB_FORM_STATUSES = ["NOT_YET_OPENED", "IN_PROGRESS", "COMPLETED", "COMPLETED_WITH_ERROR", "EXPIRED", "ABORTED"]
TASK_STATUSES = ["NOT_YET_STARTED", "IN_PROGRESS", "WEB_FORM_REQUIRED", "COMPLETED", "COMPLETED_WITH_ERROR"]
ERROR_CODES = [
    "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "NOT_ALLOWED", "BANK_NOT_SUPPORTED", "BANK_NOT_UNIQUE", "ENTITY_EXISTS",
    "MANDATOR_MISCONFIGURATION", "NOT_SUPPORTED", "PAYMENT_NOT_SUPPORTED", "INVALID_REDIRECT_URL", "LOCKED",
    "INTERNAL_SERVER_ERROR",
]  # fmt: skip
PAYLOAD_ERROR_CODES = [
    "ENTITY_EXISTS", "BANK_SERVER_REJECTION", "INTERNAL_ERROR", "INTERRUPTED", "INVALID_TOKEN",
    "MANDATOR_MISCONFIGURATION", "NO_ACCOUNTS_FOR_TYPE_LIST", "UNDETERMINED_BANK", "UNEXPECTED_ACCESS_RESPONSE",
    "UNSUPPORTED_FEATURE", "UNSUPPORTED_ORDER",
]  # fmt: skip
TASK_ERROR_CODES = ["BANK_SERVER_REJECTION", "INTERNAL_ERROR", "INVALID_TOKEN", "UNEXPECTED_ACCESS_RESPONSE"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _enum(values: list[str] | tuple[str, ...], nullable: bool = False) -> dict[str, Any]:
    if nullable:
        return {"type": "string", "enum": [*values, None], "nullable": True}
    return {"type": "string", "enum": list(values)}


def _flag() -> dict[str, Any]:
    return {"type": "boolean", "nullable": True, "default": False}


def _url(low: int) -> dict[str, Any]:
    return {"type": "string", "nullable": True, "minLength": low, "maxLength": 2048, "pattern": URL_PATTERN}


def _choices(values: tuple[str, ...], unique: bool) -> dict[str, Any]:
    return {"type": "array", "nullable": True, "items": _enum(values), "uniqueItems": unique}


def schemas() -> dict[str, Any]:
    web_form_info = _obj({"id": UUID, "url": {"type": "string"}, "status": _enum(WEB_FORM_STATUSES)})
    web_form_info["required"] = ["id", "url", "status"]
    return {
        "BankConnectionImportDetails": _obj(
            {
                "bank": _nullable({"allOf": [_ref("ImportBankDetails")]}),
                "bankConnectionName": {"type": "string", "nullable": True, "minLength": 1, "maxLength": 64},
                "skipBalancesDownload": _flag(),
                "skipPositionsDownload": _flag(),
                "loadOwnerData": _flag(),
                "maxDaysForDownload": {"type": "integer", "format": "int32", "nullable": True, "maximum": 3650},
                "accountTypes": _choices(webform_requests.ACCOUNT_TYPES, True),
                "allowedInterfaces": _choices(webform_requests.INTERFACES, False),
                "callbacks": _nullable({"allOf": [_ref("WebFormCallbacks")]}),
                "profileId": {"type": "string", "nullable": True, "minLength": 36, "maxLength": 36},
                "redirectUrl": _url(1),
                "allowTestBank": {"type": "boolean", "nullable": True, "default": True},
            }
        ),
        "ImportBankDetails": _obj(
            {
                "id": {"type": "integer", "format": "int64", "nullable": True},
                "search": {"type": "string", "nullable": True},
            }
        ),
        "WebFormCallbacks": _obj({"finalised": _url(0)}),
        "WebForm": _obj(
            {
                "id": UUID,
                "url": {"type": "string", "minLength": 1, "maxLength": 2048},
                "createdAt": TIMESTAMP,
                "expiresAt": TIMESTAMP,
                "type": _enum(
                    [
                        "BANK_CONNECTION_IMPORT",
                        "BANK_CONNECTION_UPDATE",
                        "PAYMENT_WITH_ACCOUNT_ID",
                        "STANDALONE_PAYMENT",
                        "STANDING_ORDER",
                        "DIRECT_DEBIT_WITH_ACCOUNT_ID",
                    ]
                ),
                "status": _enum(WEB_FORM_STATUSES),
                "payload": _ref("WebFormPayload"),
            },
            ["id", "url", "createdAt", "expiresAt", "type", "status", "payload"],
        ),
        "WebFormPayload": _obj(
            {
                "bankConnectionId": {"type": "integer", "format": "int64", "nullable": True},
                "paymentId": {"type": "integer", "format": "int64", "nullable": True},
                "standingOrderId": {"type": "integer", "format": "int64", "nullable": True},
                "errorCode": _enum(PAYLOAD_ERROR_CODES, nullable=True),
                "errorMessage": {"type": "string", "nullable": True},
            }
        ),
        "WebFormsPage": _obj(
            {"items": {"type": "array", "items": _ref("WebForm"), "maxItems": 500}, "paging": _ref("WebFormPaging")},
            ["items", "paging"],
        ),
        "WebFormPaging": _obj(
            {
                "page": {"type": "integer", "format": "int32"},
                "perPage": {"type": "integer", "format": "int32", "maximum": 500},
                "pageCount": {"type": "integer", "format": "int32"},
                "totalCount": {"type": "integer", "format": "int32"},
            },
            ["page", "perPage", "pageCount", "totalCount"],
        ),
        "BankConnectionUpdateTaskDetails": _obj(
            {
                "bankConnectionId": {"type": "integer", "format": "int64"},
                "importNewAccounts": {**_flag(), "deprecated": True},
                "importNewAccountsMode": _enum(webform_requests.IMPORT_NEW_ACCOUNTS_MODES, nullable=True),
                "accountTypes": _choices(webform_requests.ACCOUNT_TYPES, True),
                "allowedInterfaces": _choices(webform_requests.INTERFACES, False),
                "skipBalancesDownload": _flag(),
                "skipPositionsDownload": _flag(),
                "loadOwnerData": _flag(),
                "manageSavedSettings": _choices(webform_requests.MANAGE_SAVED_SETTINGS, True),
                "callbacks": _nullable({"allOf": [_ref("TaskCallbacks")]}),
                "profileId": {"type": "string", "nullable": True, "minLength": 36, "maxLength": 36},
                "redirectUrl": _url(1),
                "userMetadata": _nullable({"allOf": [_ref("UserMetadata")]}),
            },
            ["bankConnectionId"],
        ),
        "TaskCallbacks": _obj({"finalised": _url(0), "webFormRequired": _url(0)}),
        "UserMetadata": _obj(
            {name: {"type": "string", "maxLength": longest} for name, longest in webform_requests.USER_METADATA},
            [name for name, _ in webform_requests.USER_METADATA],
        ),
        "Task": _obj(
            {
                "id": UUID,
                "createdAt": TIMESTAMP,
                "type": _enum(["BANK_CONNECTION_UPDATE"]),
                "status": _enum(TASK_STATUSES),
                "payload": _ref("TaskPayload"),
            },
            ["id", "createdAt", "type", "status", "payload"],
        ),
        "TaskPayload": _obj(
            {
                "bankConnectionId": {"type": "integer", "format": "int64"},
                "webForm": _nullable({"allOf": [_ref("WebFormInfo")]}),
                "errorCode": _enum(TASK_ERROR_CODES, nullable=True),
            },
            ["bankConnectionId"],
        ),
        "WebFormInfo": web_form_info,
        "TasksPage": _obj(
            {"items": {"type": "array", "items": _ref("Task"), "maxItems": 500}, "paging": _ref("WebFormPaging")},
            ["items", "paging"],
        ),
        "WebFormCompletedCallback": _obj(
            {"webFormId": UUID, "status": _enum(WEB_FORM_STATUSES)}, ["webFormId", "status"]
        ),
        "TaskCallback": _obj(
            {
                "taskId": UUID,
                "status": _enum(TASK_STATUSES),
                "webForm": _nullable({"allOf": [_ref("WebFormInfo")]}),
            },
            ["taskId", "status"],
        ),
        "WebFormError": _obj(
            {
                "code": _enum(ERROR_CODES),
                "description": {"type": "string"},
                "timestamp": TIMESTAMP,
                "endpoint": {"type": "string"},
            },
            ["code", "description", "timestamp", "endpoint"],
        ),
        "WebFormValidationError": _obj(
            {
                "errors": {"type": "array", "items": _ref("InvalidFieldError"), "minItems": 1},
                "timestamp": TIMESTAMP,
                "endpoint": {"type": "string"},
            },
            ["errors", "timestamp", "endpoint"],
        ),
        "InvalidFieldError": _obj({"field": {"type": "string"}, "message": {"type": "string"}}, ["field", "message"]),
    }


def _json(schema: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": _ref(schema)}}}


def _operation(
    summary: str,
    ok: int,
    ok_schema: str | None,
    statuses: tuple[int, ...],
    *,
    body: str | None = None,
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Every error in the Web Form API's shapes: 400 (and 413) ValidationError, the rest Error."""
    responses: dict[str, Any] = {str(ok): {"description": "Success", **(_json(ok_schema) if ok_schema else {})}}
    for status in sorted({*statuses, 401, 403, 405, 413, 500}):
        shape = "WebFormValidationError" if status in (400, 413) else "WebFormError"
        responses[str(status)] = {"description": "Error", **_json(shape)}
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": ["Web Form 2.0"],
        "security": [{"bearer": []}],
        "responses": responses,
    }
    if body:
        operation["requestBody"] = {"required": False, **_json(body)}
    if params:
        operation["parameters"] = params
    return operation


def _param(name: str, where: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema}


LIST_PARAMS = [
    _param("order", "query", {"type": "string", "default": "createdAt,asc", "pattern": "^createdAt(,(asc|desc))?$"}),
    _param("page", "query", {"type": "integer", "format": "int32", "default": 1, "minimum": 1}),
    _param("perPage", "query", {"type": "integer", "format": "int32", "default": 20, "minimum": 1, "maximum": 500}),
]
ID_PARAM = [_param("id", "path", {"type": "string"}, required=True)]


def paths() -> dict[str, Any]:
    return {
        "/api/webForms/bankConnectionImport": {
            "post": _operation(
                "Create a web form to import a bank connection (user token)",
                201,
                "WebForm",
                (400, 404, 422),
                body="BankConnectionImportDetails",
            )
        },
        "/api/webForms": {
            "get": _operation("Get the user's web forms", 200, "WebFormsPage", (400,), params=LIST_PARAMS),
        },
        "/api/webForms/{id}": {
            "get": {
                **_operation("Get a web form", 200, "WebForm", (404,), params=ID_PARAM),
                "description": "POST and PUT on /api/webForms/{id} are 405 NOT_ALLOWED, also on "
                "/api/webForms/bankConnectionUpdate (removed on 2022-06-30: use POST /api/tasks/backgroundUpdate).",
            },
            "delete": _operation("Delete a web form (200, empty body)", 200, None, (404,), params=ID_PARAM),
        },
        "/api/tasks/backgroundUpdate": {
            "post": _operation(
                "Create a background update task of a bank connection (user token)",
                201,
                "Task",
                (400, 404, 422, 423),
                body="BankConnectionUpdateTaskDetails",
            )
        },
        "/api/tasks": {"get": _operation("Get the user's tasks", 200, "TasksPage", (400,), params=LIST_PARAMS)},
        "/api/tasks/{id}": {"get": _operation("Get a task", 200, "Task", (404,), params=ID_PARAM)},
    }
