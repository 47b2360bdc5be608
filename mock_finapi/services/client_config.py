"""ClientConfiguration: defaults, scenario overrides, PATCH rules and the v1/v2 views.

A client's configuration is one mapping keyed by finAPI's field names. `V2_FIELDS` and `V1_FIELDS` say which keys
each API version shows (the complete models of Access v2 2024.18.1 and v1 1.151.1). Lifetimes are read when a token is
minted, so a PATCH applies to new tokens only. A configuration is never changed in place (a PATCH makes a new one),
so clients registered at run time all share one default (`default_config`) until one of them is patched.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from mock_finapi.errors import IllegalFieldValue

INT32_MAX = 2**31 - 1
URL_MAX = 512
URL_FIELDS = ("userNotificationCallbackUrl", "userSynchronizationCallbackUrl")
VALIDITY_FIELDS = ("userAccessTokensValidityPeriod", "clientAccessTokensValidityPeriod", "refreshTokensValidityPeriod")
ENUMS: dict[str, tuple[str, ...]] = {
    "mandatorLicense": ("UNLICENSED", "AISP", "PISP", "FULLY_LICENSED"),
    "preferredConsentType": ("ONETIME", "RECURRING"),
    "aisWebFormMode": ("INTERNAL", "EXTERNAL", "DISABLED"),
    "pisWebFormMode": ("INTERNAL", "EXTERNAL", "DISABLED"),
    "pisStandaloneWebFormMode": ("INTERNAL", "EXTERNAL", "DISABLED"),
}
ITEM_ENUMS: dict[str, tuple[str, ...]] = {
    "products": ("ACCESS", "DATA_INTELLIGENCE", "WEB_FORM", "GIRO_IDENT"),
    "accountTypeRestrictions": (
        "Checking",
        "Savings",
        "CreditCard",
        "Security",
        "Loan",
        "Pocket",
        "Membership",
        "Bausparen",
    ),
}
# Maximum lengths of the v1-only text fields (Access v1 ClientConfigurationParams).
TEXT_MAX = {"applicationName": 64, "supportSubjectDefault": 100, "supportEmail": 320}
_TEXT = re.compile(r"[A-Za-z0-9\u00a1-\u02af &(){}\[\].:,;?!+\-_$@#~`^€]*")
_FINTS = re.compile(r"[0-9A-F]*")

DEFAULTS: dict[str, Any] = {
    # Access v2 ClientConfiguration
    "pfmServicesEnabled": True,
    "isAutomaticBatchUpdateEnabled": False,
    "isDevelopmentModeEnabled": True,
    "isNonEuroAccountsSupported": True,
    "isAutoCategorizationEnabled": True,
    "mandatorLicense": "UNLICENSED",
    "preferredConsentType": "RECURRING",
    "userNotificationCallbackUrl": None,
    "userSynchronizationCallbackUrl": None,
    "refreshTokensValidityPeriod": 3600,
    "userAccessTokensValidityPeriod": 3600,
    "clientAccessTokensValidityPeriod": 3600,
    "maxUserLoginAttempts": 3,
    "transactionImportLimitation": 0,
    "isUserAutoVerificationEnabled": True,
    "isMandatorAdmin": False,
    "isWebScrapingEnabled": False,
    "aisEnabled": True,
    "paymentsEnabled": True,
    "isStandalonePaymentsEnabled": True,
    "availableBankGroups": ["DE", "AT"],
    "products": ["ACCESS", "WEB_FORM"],
    "enabledProducts": {
        "access": True,
        "webForm": True,
        "customerDashboard": False,
        "dataIntelligence": False,
        "giroIdent": True,
        "schufaApi": False,
        "diLabelling": False,
        "contractManager": False,
        "giroCheck": False,
        "kreditCheck": False,
        "kreditCheckB2B": False,
        "debitFlex": False,
        "transparencyRegister": False,
    },
    "finTSProductRegistrationNumber": None,
    "aisViaWebForm": False,
    "pisViaWebForm": False,
    "pisStandaloneViaWebForm": False,
    "betaBanksEnabled": False,
    "categoryRestrictionsEnabled": False,
    "categoryRestrictions": [],
    "accountTypeRestrictions": [],
    "corsAllowedOrigins": [],
    # Access v1 only
    "isXs2aEnabled": True,
    "pinStorageAvailableInWebForm": True,
    "storeSecretsAvailableInWebForm": True,
    "applicationName": None,
    "supportSubjectDefault": None,
    "supportEmail": None,
    "aisWebFormMode": "DISABLED",
    "pisWebFormMode": "DISABLED",
    "pisStandaloneWebFormMode": "DISABLED",
    "autoDismountWebForm": True,
}
V1_ONLY = (
    "isXs2aEnabled",
    "pinStorageAvailableInWebForm",
    "storeSecretsAvailableInWebForm",
    "applicationName",
    "supportSubjectDefault",
    "supportEmail",
    "aisWebFormMode",
    "pisWebFormMode",
    "pisStandaloneWebFormMode",
    "autoDismountWebForm",
)
V1_NOT = (
    "aisEnabled",
    "enabledProducts",
    "aisViaWebForm",
    "pisViaWebForm",
    "pisStandaloneViaWebForm",
    "categoryRestrictionsEnabled",
    "accountTypeRestrictions",
)
V2_FIELDS = tuple(k for k in DEFAULTS if k not in V1_ONLY)
V1_FIELDS = tuple(k for k in DEFAULTS if k not in V1_NOT)
NULLABLE = frozenset(k for k, v in DEFAULTS.items() if v is None)


def check_override(key: str, value: Any) -> str | None:
    """Why a scenario's `config` value is unacceptable, or None when it is fine."""
    if key not in DEFAULTS:
        return f"unknown ClientConfiguration field (known: {', '.join(sorted(DEFAULTS))})"
    default = DEFAULTS[key]
    if value is None:
        return None if key in NULLABLE else "must not be null"
    expected = str if default is None else type(default)
    if type(value) is not expected:
        return f"must be of type {expected.__name__}"
    if key in ENUMS and value not in ENUMS[key]:
        return f"must be one of {', '.join(ENUMS[key])}"
    if key in VALIDITY_FIELDS and isinstance(value, int):
        return _check_period(key, value)
    if key in ("maxUserLoginAttempts", "transactionImportLimitation") and isinstance(value, int) and value < 0:
        return "must be >= 0"
    if key in URL_FIELDS and isinstance(value, str) and not (len(value) <= URL_MAX and _is_http_url(value)):
        return f"must be an http or https URL of at most {URL_MAX} characters"
    if isinstance(value, dict):
        return _check_products(value)
    if isinstance(value, list):
        return _check_items(key, value)
    return None


def _check_products(value: dict[str, Any]) -> str | None:
    known = DEFAULTS["enabledProducts"]
    for name, flag in value.items():
        if name not in known:
            return f"unknown product {name!r} (known: {', '.join(known)})"
        if type(flag) is not bool:
            return f"{name} must be a boolean"
    return None


def _check_items(key: str, value: list[Any]) -> str | None:
    if key == "categoryRestrictions":
        return None if all(isinstance(item, dict) for item in value) else "items must be Category objects"
    if not all(isinstance(item, str) for item in value):
        return "items must be strings"
    allowed = ITEM_ENUMS.get(key)
    if allowed and not set(value) <= set(allowed):
        return f"items must be among {', '.join(allowed)}"
    return None


MANDATOR_NAMESPACE = uuid.UUID("5b0c52e6-4f0c-4b8e-9a54-6d6f636b6669")


def mandator_for(client_id: str) -> str:
    """The mandator of a client that names none: derived from its id, so it is the same in every run."""
    return str(uuid.uuid5(MANDATOR_NAMESPACE, client_id))


def new_config(overrides: dict[str, Any], *, mandator_admin: bool) -> dict[str, Any]:
    """Defaults, then the scenario's overrides (`enabledProducts` is merged flag by flag)."""
    config: dict[str, Any] = {k: (v.copy() if isinstance(v, dict | list) else v) for k, v in DEFAULTS.items()}
    config["isMandatorAdmin"] = mandator_admin
    for key, value in overrides.items():
        if key == "enabledProducts":
            config[key] = {**config[key], **value}
        else:
            config[key] = value.copy() if isinstance(value, dict | list) else value
    return config


def default_config(*, mandator_admin: bool) -> Mapping[str, Any]:
    """The default configuration, one read-only mapping shared by every client that has no overrides (a registered
    client holds a reference, not a copy of about 1.6 KB)."""
    return _DEFAULT_CONFIGS[mandator_admin]


_DEFAULT_CONFIGS = {admin: MappingProxyType(new_config({}, mandator_admin=admin)) for admin in (False, True)}


def _check_period(field: str, value: int) -> str | None:
    if value != 0 and not 60 <= value <= INT32_MAX:
        return "must be 0 (never expires) or between 60 and 2147483647 seconds"
    return None


# PATCH: field → (v1 name, checker). Access v2 accepts the first group, v1 all of them.
def _url(field: str, value: Any) -> Any:
    """An absolute http(s) URL of at most 512 characters; "" clears the field."""
    if isinstance(value, str) and not value:
        return None
    if not isinstance(value, str) or len(value) > URL_MAX or not _is_http_url(value):
        raise IllegalFieldValue(f"'{field}' must be an http or https URL of at most {URL_MAX} characters")
    return value


def _is_http_url(value: str) -> bool:
    if any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError on a malformed port)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _period(field: str, value: Any) -> Any:
    problem = "must be an integer" if type(value) is not int else _check_period(field, value)
    if problem:
        raise IllegalFieldValue(f"'{field}' {problem}")
    return value


def _flag(field: str, value: Any) -> Any:
    if type(value) is not bool:
        raise IllegalFieldValue(f"'{field}' must be a boolean")
    return value


def _fints(field: str, value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 25 or not _FINTS.fullmatch(value):
        raise IllegalFieldValue(f"'{field}' must be at most 25 upper-case hexadecimal characters")
    return value or None


def _consent(field: str, value: Any) -> Any:
    if value not in ENUMS["preferredConsentType"]:
        raise IllegalFieldValue(f"'{field}' must be one of ONETIME, RECURRING")
    return value


def _text(field: str, value: Any) -> Any:
    limit = TEXT_MAX[field]
    if not isinstance(value, str) or len(value) > limit or not _TEXT.fullmatch(value):
        raise IllegalFieldValue(f"'{field}' must be at most {limit} characters finAPI allows")
    return value or None


_V2_PATCH = {
    "userNotificationCallbackUrl": ("userNotificationCallbackUrl", _url),
    "userSynchronizationCallbackUrl": ("userSynchronizationCallbackUrl", _url),
    "refreshTokensValidityPeriod": ("refreshTokensValidityPeriod", _period),
    "userAccessTokensValidityPeriod": ("userAccessTokensValidityPeriod", _period),
    "clientAccessTokensValidityPeriod": ("clientAccessTokensValidityPeriod", _period),
    "finTSProductRegistrationNumber": ("finTSProductRegistrationNumber", _fints),
    "betaBanksEnabled": ("betaBanksEnabled", _flag),
}
PATCH_RULES = {
    2: {**_V2_PATCH, "preferredConsentType": ("preferredConsentType", _consent)},
    1: {
        **_V2_PATCH,
        "isPinStorageAvailableInWebForm": ("pinStorageAvailableInWebForm", _flag),
        "storeSecretsAvailableInWebForm": ("storeSecretsAvailableInWebForm", _flag),
        "applicationName": ("applicationName", _text),
        "supportSubjectDefault": ("supportSubjectDefault", _text),
        "supportEmail": ("supportEmail", _text),
    },
}


def patch_changes(params: dict[str, Any], version: int) -> dict[str, Any]:
    """The changes a PATCH body asks for, every field checked (null and unknown fields are ignored)."""
    return {
        key: check(name, params[name])
        for name, (key, check) in PATCH_RULES[version].items()
        if params.get(name) is not None
    }


def view(config: Mapping[str, Any], version: int) -> dict[str, Any]:
    """The ClientConfiguration as Access v1 or v2 shows it."""
    shown = {k: config[k] for k in (V1_FIELDS if version == 1 else V2_FIELDS)}
    if shown["finTSProductRegistrationNumber"] is not None:
        shown["finTSProductRegistrationNumber"] = "XXXXX"
    return shown
