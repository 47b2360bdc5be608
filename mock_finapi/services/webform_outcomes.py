"""How a web form may end when no browser plays the user (WEBFORM.md §3, §7.15): the names a scenario's
`webforms.outcomes` and `POST /__admin/webForms/{id}/complete` accept, and the admin body's validation.

A leaf: the scenario loader and the admin API share these rules without importing the web form service.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mock_finapi.validation import Fields

FINAL_STATUSES = ("COMPLETED", "COMPLETED_WITH_ERROR", "ABORTED", "EXPIRED")
"""What an outcome decided ahead or by the admin may be: a web form's final statuses."""
ERROR_CODES = (
    "BANK_SERVER_REJECTION",
    "ENTITY_EXISTS",
    "INTERNAL_ERROR",
    "INTERRUPTED",
    "INVALID_TOKEN",
    "MANDATOR_MISCONFIGURATION",
    "NO_ACCOUNTS_FOR_TYPE_LIST",
    "UNDETERMINED_BANK",
    "UNEXPECTED_ACCESS_RESPONSE",
)
"""`payload.errorCode` of a bank connection form that ends COMPLETED_WITH_ERROR (the Web Form API's enum without
the payment-only UNSUPPORTED_FEATURE and UNSUPPORTED_ORDER); the first is the default."""
DEFAULT_ERROR_CODE = ERROR_CODES[0]
ACCOUNT_TYPES = ("CHECKING", "SAVINGS", "CREDIT_CARD", "SECURITY", "LOAN", "MEMBERSHIP", "BAUSPAREN")
"""The Web Form API's account types (Access spells them Checking, Savings, ...)."""
TASK_OUTCOMES = ("COMPLETED", "WEB_FORM_REQUIRED", "COMPLETED_WITH_ERROR")
"""How a background update task may be made to end (`webforms.task_outcome`)."""
COMPLETE_KEYS = ("status", "errorCode", "bankId", "accountTypes")
MAX_BANK_ID = 2**63 - 1


class Completion(NamedTuple):
    """A checked `POST /__admin/webForms/{id}/complete` body (Web Form account type names)."""

    status: str
    error_code: str | None = None
    bank_id: int | None = None
    account_types: tuple[str, ...] | None = None


def one_of(values: tuple[str, ...]) -> str:
    return f"{', '.join(values[:-1])} or {values[-1]}"


def error_code_problem(status: str, code: Any) -> str | None:
    """Why `code` cannot be the error code of an outcome with `status` (None: it can)."""
    if status != "COMPLETED_WITH_ERROR":
        return "only a COMPLETED_WITH_ERROR outcome has an error code"
    if code not in ERROR_CODES:
        return f"must be one of {one_of(ERROR_CODES)}"
    return None


def account_types_problem(types: list[Any]) -> str | None:
    """Why `types` is not a list of Web Form account types, each once (None: it is)."""
    if not types or any(t not in ACCOUNT_TYPES for t in types) or len(set(types)) != len(types):
        return f"must be a non-empty list of account types, each once ({', '.join(ACCOUNT_TYPES)})"
    return None


def bank_id_problem(bank_id: int) -> str | None:
    return None if 1 <= bank_id <= MAX_BANK_ID else f"must be a bank id between 1 and {MAX_BANK_ID}"


def parse_completion(params: Any) -> Completion:
    """The admin's body `{"status", "errorCode"?, "bankId"?, "accountTypes"?}`; raises `Invalid` naming the key.
    `bankId` and `accountTypes` say what the user picked: they belong to a COMPLETED form only."""
    fields = Fields(params, "", COMPLETE_KEYS)
    status: str = fields.take("status", str)
    if status not in FINAL_STATUSES:
        raise fields.invalid("status", f"must be {one_of(FINAL_STATUSES)}")
    code: str | None = fields.take("errorCode", str, None)
    if code is not None and (problem := error_code_problem(status, code)):
        raise fields.invalid("errorCode", problem)
    bank_id: int | None = fields.take("bankId", int, None)
    types: list[Any] | None = fields.take("accountTypes", list, None)
    for key, value in (("bankId", bank_id), ("accountTypes", types)):
        if value is not None and status != "COMPLETED":
            raise fields.invalid(key, "only a COMPLETED form has a bank and accounts the user picked")
    if bank_id is not None and (problem := bank_id_problem(bank_id)):
        raise fields.invalid("bankId", problem)
    if types is not None and (problem := account_types_problem(types)):
        raise fields.invalid("accountTypes", problem)
    if status == "COMPLETED_WITH_ERROR" and code is None:
        code = DEFAULT_ERROR_CODE
    return Completion(status, code, bank_id, tuple(types) if types is not None else None)
