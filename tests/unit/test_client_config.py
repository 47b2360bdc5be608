"""ClientConfiguration rules without HTTP: defaults, scenario overrides, PATCH and the v1/v2 views."""

from __future__ import annotations

from typing import Any

import pytest

from mock_finapi.errors import IllegalFieldValue
from mock_finapi.services import client_config as cc

PERIODS = cc.VALIDITY_FIELDS


def fresh(**overrides: Any) -> dict[str, Any]:
    return cc.new_config(overrides, mandator_admin=False)


def patched(config: dict[str, Any], params: dict[str, Any], version: int) -> dict[str, Any]:
    """The configuration after a PATCH with `params` (the store applies the changes `patch_changes` answers)."""
    return {**config, **cc.patch_changes(params, version)}


# defaults and overrides
def test_new_config_starts_from_the_sandbox_defaults() -> None:
    config = fresh()
    assert {k: config[k] for k in PERIODS} == dict.fromkeys(PERIODS, 3600)
    assert (config["maxUserLoginAttempts"], config["isUserAutoVerificationEnabled"]) == (3, True)
    assert config == {**cc.DEFAULTS, "isMandatorAdmin": False}


def test_new_config_marks_mandator_admins() -> None:
    assert cc.new_config({}, mandator_admin=True)["isMandatorAdmin"] is True


def test_new_config_never_shares_lists_or_dicts_with_defaults_overrides_or_other_configs() -> None:
    origins = ["https://a.example"]
    first, second = fresh(corsAllowedOrigins=origins), fresh()
    first["corsAllowedOrigins"].append("https://b.example")
    first["availableBankGroups"].append("FR")
    first["enabledProducts"]["schufaApi"] = True
    assert origins == ["https://a.example"]
    assert (second["availableBankGroups"], cc.DEFAULTS["availableBankGroups"]) == (["DE", "AT"], ["DE", "AT"])
    assert (second["enabledProducts"]["schufaApi"], cc.DEFAULTS["enabledProducts"]["schufaApi"]) == (False, False)


def test_new_config_merges_enabled_products_flag_by_flag() -> None:
    products = fresh(enabledProducts={"schufaApi": True})["enabledProducts"]
    assert products == {**cc.DEFAULTS["enabledProducts"], "schufaApi": True}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("userAccessTokensValidityPeriod", 0),
        ("refreshTokensValidityPeriod", 60),
        ("clientAccessTokensValidityPeriod", cc.INT32_MAX),
        ("maxUserLoginAttempts", 0),
        ("isUserAutoVerificationEnabled", False),
        ("userSynchronizationCallbackUrl", "http://localhost:9000/sync"),
        ("userNotificationCallbackUrl", None),
        ("mandatorLicense", "FULLY_LICENSED"),
        ("products", ["ACCESS", "GIRO_IDENT"]),
        ("accountTypeRestrictions", ["Checking"]),
        ("corsAllowedOrigins", ["https://app.example"]),
        ("enabledProducts", {"giroCheck": True}),
        ("categoryRestrictions", [{"id": 1, "name": "Food"}]),
    ],
)
def test_check_override_accepts_valid_values(key: str, value: Any) -> None:
    assert cc.check_override(key, value) is None


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("userAccessTokenValidity", 60, "unknown ClientConfiguration field"),
        ("maxUserLoginAttempts", None, "must not be null"),
        ("maxUserLoginAttempts", True, "must be of type int"),
        ("maxUserLoginAttempts", -1, "must be >= 0"),
        ("isUserAutoVerificationEnabled", "false", "must be of type bool"),
        ("userAccessTokensValidityPeriod", 59, "must be 0 (never expires) or between 60 and 2147483647 seconds"),
        ("refreshTokensValidityPeriod", cc.INT32_MAX + 1, "must be 0 (never expires) or between 60 and 2147483647"),
        ("mandatorLicense", "PIRATE", "must be one of UNLICENSED, AISP, PISP, FULLY_LICENSED"),
        ("userSynchronizationCallbackUrl", "localhost:9000", "must be an http or https URL"),
        ("products", ["ACCESS", "COFFEE"], "items must be among ACCESS"),
        ("availableBankGroups", ["DE", 1], "items must be strings"),
        ("enabledProducts", {"coffee": True}, "unknown product 'coffee'"),
        ("enabledProducts", {"access": "yes"}, "access must be a boolean"),
        ("categoryRestrictions", ["Food"], "items must be Category objects"),
    ],
)
def test_check_override_explains_what_is_wrong(key: str, value: Any, problem: str) -> None:
    found = cc.check_override(key, value)
    assert found is not None
    assert found.startswith(problem)


# PATCH
@pytest.mark.parametrize("value", [0, 60, 61, cc.INT32_MAX])
@pytest.mark.parametrize("field", PERIODS)
def test_patch_accepts_validity_periods_of_0_or_at_least_60(field: str, value: int) -> None:
    assert cc.patch_changes({field: value}, 2) == {field: value}


@pytest.mark.parametrize("value", [-60, 1, 59, cc.INT32_MAX + 1, "60", 60.0, False])
@pytest.mark.parametrize("field", PERIODS)
def test_patch_refuses_other_validity_periods(field: str, value: Any) -> None:
    with pytest.raises(IllegalFieldValue, match=rf"^'{field}' must be "):
        cc.patch_changes({field: value}, 2)


def test_patch_checks_every_field_and_answers_no_changes_when_one_is_wrong() -> None:
    params = {"userAccessTokensValidityPeriod": 120, "betaBanksEnabled": "yes"}
    with pytest.raises(IllegalFieldValue, match="betaBanksEnabled"):
        cc.patch_changes(params, 2)


def test_patch_answers_the_changes_and_leaves_the_params_alone() -> None:
    params = {"userAccessTokensValidityPeriod": 120, "betaBanksEnabled": True, "userNotificationCallbackUrl": ""}
    before = dict(params)
    changes = cc.patch_changes(params, 2)
    assert changes == {
        "userAccessTokensValidityPeriod": 120,
        "betaBanksEnabled": True,
        "userNotificationCallbackUrl": None,
    }
    assert params == before


def test_patch_ignores_null_unknown_and_read_only_fields() -> None:
    params = {"userAccessTokensValidityPeriod": None, "isMandatorAdmin": True, "whatever": 1}
    assert cc.patch_changes(params, 2) == {}


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("userNotificationCallbackUrl", "https://bank.server.com/notification", "https://bank.server.com/notification"),
        ("userSynchronizationCallbackUrl", "http://127.0.0.1:8000/sync?x=1", "http://127.0.0.1:8000/sync?x=1"),
        ("userSynchronizationCallbackUrl", "", None),
        ("finTSProductRegistrationNumber", "ABCDEF1234567890ABCDEF123", "ABCDEF1234567890ABCDEF123"),
        ("finTSProductRegistrationNumber", "", None),
        ("betaBanksEnabled", True, True),
        ("preferredConsentType", "ONETIME", "ONETIME"),
    ],
)
def test_v2_patch_stores_its_fields_and_empty_strings_clear(field: str, value: Any, stored: Any) -> None:
    config = fresh(userSynchronizationCallbackUrl="http://old.example/sync", finTSProductRegistrationNumber="ABC")
    assert patched(config, {field: value}, 2)[field] == stored


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("userNotificationCallbackUrl", "https://x.example/" + "a" * 495),
        ("userNotificationCallbackUrl", "mailto:a@b.de"),
        ("userNotificationCallbackUrl", "https://host:port/x"),
        ("userNotificationCallbackUrl", "https://host/a b"),
        ("finTSProductRegistrationNumber", "A" * 26),
        ("finTSProductRegistrationNumber", "abc"),
        ("preferredConsentType", "recurring"),
    ],
)
def test_v2_patch_refuses_illegal_values(field: str, value: Any) -> None:
    with pytest.raises(IllegalFieldValue, match=f"'{field}'"):
        cc.patch_changes({field: value}, 2)


def test_v1_patch_maps_is_pin_storage_available_and_ignores_the_consent_type() -> None:
    config = patched(fresh(), {"isPinStorageAvailableInWebForm": False, "preferredConsentType": "ONETIME"}, 1)
    assert (config["pinStorageAvailableInWebForm"], config["preferredConsentType"]) == (False, "RECURRING")


def test_v2_patch_ignores_the_v1_web_form_fields() -> None:
    assert cc.patch_changes({"isPinStorageAvailableInWebForm": False, "applicationName": "App"}, 2) == {}


@pytest.mark.parametrize(("field", "limit"), sorted(cc.TEXT_MAX.items()))
def test_v1_patch_bounds_the_web_form_texts(field: str, limit: int) -> None:
    config = patched(fresh(), {field: "x" * limit}, 1)
    assert config[field] == "x" * limit
    with pytest.raises(IllegalFieldValue, match=f"'{field}' must be at most {limit} characters"):
        cc.patch_changes({field: "x" * (limit + 1)}, 1)
    assert patched(config, {field: ""}, 1)[field] is None


# views
def test_views_show_the_version_specific_field_sets() -> None:
    config = fresh()
    v1, v2 = cc.view(config, 1), cc.view(config, 2)
    assert set(v2) == set(cc.DEFAULTS) - set(cc.V1_ONLY)
    assert set(v1) == set(cc.DEFAULTS) - set(cc.V1_NOT)
    assert "enabledProducts" in v2
    assert "enabledProducts" not in v1
    assert "autoDismountWebForm" in v1
    assert "autoDismountWebForm" not in v2


def test_views_mask_the_fints_number_without_changing_the_config() -> None:
    config = fresh(finTSProductRegistrationNumber="ABC123")
    assert cc.view(config, 2)["finTSProductRegistrationNumber"] == "XXXXX"
    assert cc.view(config, 1)["finTSProductRegistrationNumber"] == "XXXXX"
    assert config["finTSProductRegistrationNumber"] == "ABC123"
    assert cc.view(fresh(), 2)["finTSProductRegistrationNumber"] is None
