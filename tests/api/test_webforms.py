"""The Web Form 2.0 API's web forms (WEBFORM.md §2.1-§2.4, §3, §6.1, §7.16): every field and validation rule of
`POST /api/webForms/bankConnectionImport` with its exact errors, get/list/delete, the removed update endpoint, auth,
the 20-minute expiry on the virtual clock, the payload by final state, the `finalised` callback, and what a
completed form leaves in Access v2.

Served: tests/scenarios/webforms.yaml, clock frozen at 2026-01-01 09:00 +01:00 (08:00 UTC). Forms are finished
through `POST /__admin/webForms/{id}/complete`, as the hosted page would finish them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_finapi.http.app import create_app
from mock_finapi.settings import Settings
from mock_finapi.testing.callbacks import CallbackReceiver
from mock_finapi.testing.inprocess import InProcessClient
from tests.api.webform_helpers import (
    ACCOUNT_TYPES,
    FINAPI_URL_RULE,
    FIRST_IMPORTED,
    IMPORT,
    RID,
    SCENARIO,
    assert_error,
    assert_invalid,
    client_token,
    complete,
    created,
    get_form,
    headers,
    new_form,
    ok,
    stamp,
    token,
    wait_for_callbacks,
    web_form,
)
from tests.contract.validator import ContractValidator
from tests.helpers import START, AdminClock


@pytest.fixture
def scenario_name() -> str:
    return SCENARIO


@pytest.fixture
def user(client: httpx.Client) -> str:
    return token(client, "username")


@pytest.fixture
def alice(client: httpx.Client) -> str:
    """A user without bank connections (imports of the test banks do not collide with existing ones)."""
    return token(client, "alice")


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as found:
        yield found


# ---------------------------------------------------------------------------------------------------- create


def test_an_import_form_for_a_bank_is_201_not_yet_opened_for_20_minutes(client: httpx.Client, user: str) -> None:
    response = client.post(IMPORT, json={"bank": {"id": 280001}}, headers=headers(user))
    form = created(response)
    assert response.headers["content-type"] == "application/json"
    assert form == web_form(form["id"])


def test_an_import_form_without_a_body_or_bank_lets_the_user_search_the_bank(client: httpx.Client, user: str) -> None:
    empty = created(client.post(IMPORT, headers=headers(user)))
    nothing = created(client.post(IMPORT, json={}, headers=headers(user)))
    assert empty["id"] != nothing["id"]
    assert nothing == web_form(nothing["id"])


def test_every_field_given_with_valid_values_is_201(client: httpx.Client, user: str) -> None:
    body = {
        "bank": {"id": None, "search": "DEMO0002"},
        "bankConnectionName": "n" * 64,
        "skipBalancesDownload": True,
        "skipPositionsDownload": True,
        "loadOwnerData": True,
        "maxDaysForDownload": 3650,
        "accountTypes": ["CHECKING", "SAVINGS", "CREDIT_CARD", "SECURITY", "LOAN", "MEMBERSHIP", "BAUSPAREN"],
        "allowedInterfaces": ["XS2A", "FINTS_SERVER", "WEB_SCRAPER"],
        "callbacks": {"finalised": "https://app.example.com/finapi/webform?state=7&x=%20"},
        "profileId": None,
        "redirectUrl": None,
        "allowTestBank": True,
        "unknownField": {"is": "ignored"},
    }
    form = new_form(client, user, body)
    assert form == web_form(form["id"])


def test_null_fields_count_as_absent(client: httpx.Client, user: str) -> None:
    fields = ["bank", "bankConnectionName", "skipBalancesDownload", "skipPositionsDownload", "loadOwnerData"]
    fields += ["maxDaysForDownload", "accountTypes", "allowedInterfaces", "callbacks", "profileId", "redirectUrl"]
    form = new_form(client, user, dict.fromkeys([*fields, "allowTestBank"]))
    assert form["status"] == "NOT_YET_OPENED"
    assert new_form(client, user, {"bank": {"id": None, "search": None}, "callbacks": {"finalised": None}})


def test_the_url_uses_the_requests_host_and_port(app: Any, user: str) -> None:
    with InProcessClient(app, base_url="http://localhost:8080") as local:
        form = created(local.post(IMPORT, json={}, headers=headers(user)))
    assert form["url"] == f"http://localhost:8080/wf/{form['id']}"


def test_the_url_uses_the_public_url_when_one_is_set() -> None:
    settings = Settings(scenario=SCENARIO, public_url="https://mock.example.com/finapi")
    with InProcessClient(create_app(settings, freeze_at=START)) as public:
        user = token(public)
        form = created(public.post(IMPORT, json={}, headers=headers(user)))
        assert form["url"] == f"https://mock.example.com/finapi/wf/{form['id']}"
        assert get_form(public, user, form["id"])["url"] == form["url"]


# ---------------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"bank": "DEMO0001"}, "bank", "must be an object"),
        ({"bank": {"id": "280001"}}, "bank.id", "must be an integer"),
        ({"bank": {"id": 280001.5}}, "bank.id", "must be an integer"),
        ({"bank": {"id": True}}, "bank.id", "must be an integer"),
        ({"bank": {"search": 280001}}, "bank.search", "must be a string"),
        ({"bank": {"id": 280001, "search": "DEMO0001"}}, "bank", "id and search must not both be given"),
        ({"bankConnectionName": ""}, "bankConnectionName", "size must be between 1 and 64"),
        ({"bankConnectionName": "n" * 65}, "bankConnectionName", "size must be between 1 and 64"),
        ({"bankConnectionName": 7}, "bankConnectionName", "must be a string"),
        ({"skipBalancesDownload": True}, "skipBalancesDownload", "may only be true when skipPositionsDownload is true"),
        (
            {"skipBalancesDownload": True, "skipPositionsDownload": False},
            "skipBalancesDownload",
            "may only be true when skipPositionsDownload is true",
        ),
        ({"skipPositionsDownload": "true"}, "skipPositionsDownload", "must be a boolean"),
        ({"loadOwnerData": 1}, "loadOwnerData", "must be a boolean"),
        ({"allowTestBank": "false"}, "allowTestBank", "must be a boolean"),
        ({"maxDaysForDownload": 3651}, "maxDaysForDownload", "must be between 0 and 3650"),
        ({"maxDaysForDownload": -1}, "maxDaysForDownload", "must be between 0 and 3650"),
        ({"maxDaysForDownload": 10.5}, "maxDaysForDownload", "must be an integer"),
        ({"maxDaysForDownload": "10"}, "maxDaysForDownload", "must be an integer"),
        ({"accountTypes": "CHECKING"}, "accountTypes", "must be an array"),
        ({"accountTypes": ["CHECKING", "Checking"]}, "accountTypes[1]", f"must be one of: {ACCOUNT_TYPES}"),
        ({"accountTypes": ["CHECKING", "CHECKING"]}, "accountTypes", "must not contain duplicates"),
        ({"allowedInterfaces": ["HBCI"]}, "allowedInterfaces[0]", "must be one of: XS2A, FINTS_SERVER, WEB_SCRAPER"),
        ({"allowedInterfaces": {"XS2A": True}}, "allowedInterfaces", "must be an array"),
        ({"callbacks": "https://app.example.com/cb"}, "callbacks", "must be an object"),
        ({"callbacks": {"finalised": 1}}, "callbacks.finalised", "must be a string"),
        (
            {"callbacks": {"finalised": "ftp://app.example.com/cb"}},
            "callbacks.finalised",
            "must be an http or https URL with a host name",
        ),
        ({"profileId": "p" * 35}, "profileId", "size must be 36"),
        ({"profileId": "p" * 37}, "profileId", "size must be 36"),
        ({"redirectUrl": ""}, "redirectUrl", "size must be between 1 and 2048"),
        ({"redirectUrl": "https://app.example.com/" + "a" * 2025}, "redirectUrl", "size must be between 1 and 2048"),
        ({"redirectUrl": "http://app.example.com/back"}, "redirectUrl", FINAPI_URL_RULE),
        ({"redirectUrl": "https://localhost:8443/back"}, "redirectUrl", FINAPI_URL_RULE),
        ({"redirectUrl": "https://app.example.com/back now"}, "redirectUrl", FINAPI_URL_RULE),
    ],
)
def test_a_bad_field_is_400_naming_it(
    client: httpx.Client, user: str, body: dict[str, Any], field: str, message: str
) -> None:
    assert_invalid(client.post(IMPORT, json=body, headers=headers(user)), (field, message))


def test_every_bad_field_is_named_at_once(client: httpx.Client, user: str) -> None:
    body = {
        "bank": {"id": 1, "search": "x"},
        "bankConnectionName": "",
        "skipBalancesDownload": True,
        "maxDaysForDownload": 4000,
        "accountTypes": ["GIRO", "SAVINGS", "DEPOT"],
        "callbacks": {"finalised": "mailto:someone@example.com"},
        "profileId": "short",
        "redirectUrl": "javascript:alert(1)",
        "allowTestBank": None,
    }
    assert_invalid(
        client.post(IMPORT, json=body, headers=headers(user)),
        ("bank", "id and search must not both be given"),
        ("bankConnectionName", "size must be between 1 and 64"),
        ("skipBalancesDownload", "may only be true when skipPositionsDownload is true"),
        ("maxDaysForDownload", "must be between 0 and 3650"),
        ("accountTypes[0]", f"must be one of: {ACCOUNT_TYPES}"),
        ("accountTypes[2]", f"must be one of: {ACCOUNT_TYPES}"),
        ("callbacks.finalised", "must be an http or https URL with a host name"),
        ("profileId", "size must be 36"),
        ("redirectUrl", FINAPI_URL_RULE),
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"{", "must be valid JSON"), (b"[]", "must be a JSON object"), (b'"x"', "must be a JSON object")],
)
def test_a_body_that_is_no_json_object_is_400_field_body(
    client: httpx.Client, user: str, content: bytes, message: str
) -> None:
    response = client.post(IMPORT, content=content, headers={**headers(user), "Content-Type": "application/json"})
    assert_invalid(response, ("body", message))


@pytest.mark.parametrize("scenario_name", ["default-with-user"])
@pytest.mark.parametrize(
    "url",
    ["http://app.example.com/cb", "https://localhost:8443/cb", "https://app/cb", "https://app.example.com/a b"],
)
def test_callback_urls_follow_finapis_rule_without_the_scenario_switch(client: httpx.Client, url: str) -> None:
    user = token(client)
    response = client.post(IMPORT, json={"callbacks": {"finalised": url}}, headers=headers(user))
    assert_invalid(response, ("callbacks.finalised", FINAPI_URL_RULE))


@pytest.mark.parametrize("scenario_name", ["default-with-user"])
def test_https_loopback_ip_and_long_urls_pass_finapis_rule_up_to_2048_characters(client: httpx.Client) -> None:
    user = token(client)
    for url in ("https://127.0.0.1:8443/cb", "https://host.docker.internal/cb", "https://a.example.com/" + "p" * 2026):
        new_form(client, user, {"callbacks": {"finalised": url}})
    too_long = "https://a.example.com/" + "p" * 2027
    response = client.post(IMPORT, json={"callbacks": {"finalised": too_long}}, headers=headers(user))
    assert_invalid(response, ("callbacks.finalised", "must be at most 2048 characters"))


# ---------------------------------------------------------------------------------------------------- 404, 422


def test_a_profile_id_is_404_not_found_no_profile_exists_but_the_default(client: httpx.Client, user: str) -> None:
    profile = "0b6e5f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
    response = client.post(IMPORT, json={"profileId": profile}, headers=headers(user))
    assert_error(response, 404, "NOT_FOUND", f"Profile with id '{profile}' not found")


@pytest.mark.parametrize(
    ("bank", "code", "description"),
    [
        ({"id": 999}, "BANK_NOT_SUPPORTED", "Bank with id '999' is not supported"),
        ({"id": -1}, "BANK_NOT_SUPPORTED", "Bank with id '-1' is not supported"),
        ({"search": "Volksbank"}, "BANK_NOT_SUPPORTED", "No supported bank matches the search 'Volksbank'"),
        ({"search": "finAPI"}, "BANK_NOT_UNIQUE", "2 banks match the search 'finAPI': narrow it down"),
        ({"search": "München"}, "BANK_NOT_UNIQUE", "2 banks match the search 'München': narrow it down"),
        ({"search": ""}, "BANK_NOT_UNIQUE", "3 banks match the search '': narrow it down"),
    ],
)
def test_a_bank_that_is_unknown_or_not_unique_is_422(
    client: httpx.Client, user: str, bank: dict[str, Any], code: str, description: str
) -> None:
    assert_error(client.post(IMPORT, json={"bank": bank}, headers=headers(user)), 422, code, description)


@pytest.mark.parametrize("search", ["DEMO0002", "demode02", "finapi test redirect", "DE72002800020000000001"])
def test_a_search_naming_one_bank_by_blz_bic_name_or_iban_selects_it(
    client: httpx.Client, alice: str, search: str
) -> None:
    form = new_form(client, alice, {"bank": {"search": search}})
    assert ok(complete(client, form["id"]))["payload"] == {"bankConnectionId": FIRST_IMPORTED}
    connection = ok(client.get(f"/api/v2/bankConnections/{FIRST_IMPORTED}", headers=headers(alice)))
    assert connection["bank"]["id"] == 280002


def test_test_banks_are_not_supported_with_allow_test_bank_false(client: httpx.Client, user: str) -> None:
    body = {"bank": {"id": 280001}, "allowTestBank": False}
    assert_error(
        client.post(IMPORT, json=body, headers=headers(user)),
        422,
        "BANK_NOT_SUPPORTED",
        "Bank with id '280001' is a test bank, and allowTestBank is false",
    )
    body = {"bank": {"search": "München"}, "allowTestBank": False}
    assert_error(
        client.post(IMPORT, json=body, headers=headers(user)),
        422,
        "BANK_NOT_SUPPORTED",
        "No supported bank matches the search 'München'",
    )
    new_form(client, user, {"bank": {"id": 12345}, "allowTestBank": False})
    new_form(client, user, {"bank": {"search": "Sparkasse"}, "allowTestBank": False})


def test_an_unlicensed_mandator_may_not_give_a_redirect_url(client: httpx.Client, user: str) -> None:
    response = client.post(IMPORT, json={"redirectUrl": "https://app.example.com/back"}, headers=headers(user))
    description = "redirectUrl must not be given: the mandator is not licensed (mandatorLicense UNLICENSED)"
    assert_error(response, 422, "INVALID_REDIRECT_URL", description)


def test_a_licensed_mandator_must_give_a_redirect_url(client: httpx.Client) -> None:
    licensed = token(client, "lic")
    response = client.post(IMPORT, json={"bank": {"id": 280001}}, headers=headers(licensed))
    description = "redirectUrl is required: the mandator is licensed (mandatorLicense AISP)"
    assert_error(response, 422, "INVALID_REDIRECT_URL", description)
    form = new_form(client, licensed, {"redirectUrl": "https://app.example.com/back?state=1"})
    assert form["status"] == "NOT_YET_OPENED"


def test_the_redirect_url_rule_comes_after_the_profile_and_before_the_bank(client: httpx.Client, user: str) -> None:
    body = {"bank": {"id": 999}, "redirectUrl": "https://app.example.com/back", "profileId": "p" * 36}
    assert client.post(IMPORT, json=body, headers=headers(user)).status_code == 404
    del body["profileId"]
    assert client.post(IMPORT, json=body, headers=headers(user)).json()["code"] == "INVALID_REDIRECT_URL"


# ---------------------------------------------------------------------------------------------------- auth

ENDPOINTS = [
    ("POST", IMPORT),
    ("GET", "/api/webForms"),
    ("GET", "/api/webForms/0b6e5f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b"),
    ("DELETE", "/api/webForms/0b6e5f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b"),
    ("POST", "/api/tasks/backgroundUpdate"),
    ("GET", "/api/tasks"),
    ("GET", "/api/tasks/0b6e5f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_no_token_is_401_unauthorized_in_the_web_form_apis_shape(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path, headers={"X-Request-Id": RID})
    assert_error(response, 401, "UNAUTHORIZED", "Full authentication is required to access this resource")
    assert "www-authenticate" not in response.headers


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_an_unknown_or_expired_token_is_401(client: httpx.Client, user: str, method: str, path: str) -> None:
    response = client.request(method, path, headers=headers("not-a-token"))
    assert_error(response, 401, "UNAUTHORIZED", "Invalid access token: not-a-token")
    assert ok(client.post(f"/__admin/tokens/{user}/expire"))
    response = client.request(method, path, headers=headers(user))
    assert_error(response, 401, "UNAUTHORIZED", f"Invalid access token: {user}")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_client_token_is_403_forbidden(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path, headers=headers(client_token(client)))
    assert_error(response, 403, "FORBIDDEN", "This service requires a user access token")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_mandator_without_web_form_2_0_is_403_forbidden(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path, json={}, headers=headers(token(client, "off")))
    assert_error(response, 403, "FORBIDDEN", "The mandator 'no-webforms' is not allowed to use Web Form 2.0")


def test_a_request_id_over_255_characters_is_400_naming_the_header(client: httpx.Client, user: str) -> None:
    long_id = "r" * 256
    response = client.post(IMPORT, json={}, headers={**headers(user), "X-Request-Id": long_id})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"field": "X-Request-Id", "message": "The X-Request-Id header must not be longer than 255 characters"}
        ],
        "timestamp": START_STAMP,
        "endpoint": f"POST {IMPORT}",
    }


START_STAMP = stamp()


def test_the_request_id_is_echoed_or_generated(client: httpx.Client, user: str) -> None:
    assert client.post(IMPORT, json={}, headers=headers(user)).headers["X-Request-Id"] == RID
    generated = client.get("/api/webForms", headers={"Authorization": f"Bearer {user}"}).headers["X-Request-Id"]
    assert generated.startswith("selfgen-")


# ---------------------------------------------------------------------------------------------------- get, list


def test_a_form_is_the_users_own_another_users_or_an_unknown_id_is_404(
    client: httpx.Client, user: str, alice: str
) -> None:
    form = new_form(client, user)
    assert get_form(client, user, form["id"]) == form
    for who, form_id in ((alice, form["id"]), (user, "0b6e5f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b"), (user, "x")):
        response = client.get(f"/api/webForms/{form_id}", headers=headers(who))
        assert_error(response, 404, "NOT_FOUND", f"Web form with id '{form_id}' not found")


def test_a_form_belongs_to_the_user_not_to_the_token(client: httpx.Client, user: str) -> None:
    form = new_form(client, user)
    revoke = client.post("/api/v2/oauth/revoke", data={"token": user}, headers=headers(client_token(client)))
    assert revoke.status_code == 200
    other = token(client)
    assert other != user
    assert get_form(client, other, form["id"])["id"] == form["id"]


def test_the_list_is_in_creation_order_paged(client: httpx.Client, user: str, clock: AdminClock) -> None:
    first = new_form(client, user)
    clock.advance(1)
    second = new_form(client, user, {"bank": {"id": 280001}})
    third = new_form(client, user, {"bank": {"id": 280002}})
    ids = [first["id"], second["id"], third["id"]]

    def page(query: str) -> dict[str, Any]:
        body: dict[str, Any] = ok(client.get(f"/api/webForms{query}", headers=headers(user)))
        return body

    every = page("")
    assert every["items"] == [first, second, third]
    assert every["paging"] == {"page": 1, "perPage": 20, "pageCount": 1, "totalCount": 3}
    assert [f["id"] for f in page("?order=createdAt,asc")["items"]] == ids
    assert [f["id"] for f in page("?order=createdAt")["items"]] == ids
    assert [f["id"] for f in page("?order=createdAt,desc")["items"]] == ids[::-1]
    two = page("?perPage=2&page=2")
    assert [f["id"] for f in two["items"]] == ids[2:]
    assert two["paging"] == {"page": 2, "perPage": 2, "pageCount": 2, "totalCount": 3}
    beyond = page("?perPage=2&page=3")
    assert beyond == {"items": [], "paging": {"page": 3, "perPage": 2, "pageCount": 2, "totalCount": 3}}
    assert page("?perPage=500&page=1&order=&unknown=1")["paging"]["perPage"] == 500


def test_an_empty_list_has_page_count_0_and_other_users_forms_are_not_listed(
    client: httpx.Client, user: str, alice: str
) -> None:
    new_form(client, user)
    body = ok(client.get("/api/webForms", headers=headers(alice)))
    assert body == {"items": [], "paging": {"page": 1, "perPage": 20, "pageCount": 0, "totalCount": 0}}


@pytest.mark.parametrize(
    ("query", "problems"),
    [
        ("order=id", [("order", "must be createdAt, createdAt,asc or createdAt,desc")]),
        ("order=createdAt,up", [("order", "must be createdAt, createdAt,asc or createdAt,desc")]),
        ("page=0", [("page", "must be greater than or equal to 1")]),
        ("page=x", [("page", "must be an integer")]),
        ("page=99999999999", [("page", "must be an integer")]),
        ("perPage=0", [("perPage", "must be between 1 and 500")]),
        ("perPage=501", [("perPage", "must be between 1 and 500")]),
        ("perPage=2.5", [("perPage", "must be an integer")]),
        (
            "order=x&page=-1&perPage=1000",
            [
                ("order", "must be createdAt, createdAt,asc or createdAt,desc"),
                ("page", "must be greater than or equal to 1"),
                ("perPage", "must be between 1 and 500"),
            ],
        ),
    ],
)
def test_bad_list_parameters_are_400(
    client: httpx.Client, user: str, query: str, problems: list[tuple[str, str]]
) -> None:
    assert_invalid(client.get(f"/api/webForms?{query}", headers=headers(user)), *problems)


# ---------------------------------------------------------------------------------------------------- delete


def test_delete_is_200_empty_then_the_form_is_gone_and_its_connection_stays(
    client: httpx.Client, alice: str, user: str
) -> None:
    form = new_form(client, alice, {"bank": {"id": 280001}})
    ok(complete(client, form["id"]))
    response = client.delete(f"/api/webForms/{form['id']}", headers=headers(alice))
    assert (response.status_code, response.content, response.headers["X-Request-Id"]) == (200, b"", RID)
    assert_error(
        client.get(f"/api/webForms/{form['id']}", headers=headers(alice)),
        404,
        "NOT_FOUND",
        f"Web form with id '{form['id']}' not found",
    )
    assert_error(
        client.delete(f"/api/webForms/{form['id']}", headers=headers(alice)),
        404,
        "NOT_FOUND",
        f"Web form with id '{form['id']}' not found",
    )
    assert ok(client.get("/api/webForms", headers=headers(alice)))["items"] == []
    connections = ok(client.get("/api/v2/bankConnections", headers=headers(alice)))["connections"]
    assert [c["id"] for c in connections] == [FIRST_IMPORTED]


def test_another_users_form_cannot_be_deleted(client: httpx.Client, user: str, alice: str) -> None:
    form = new_form(client, user)
    response = client.delete(f"/api/webForms/{form['id']}", headers=headers(alice))
    assert_error(response, 404, "NOT_FOUND", f"Web form with id '{form['id']}' not found")
    assert get_form(client, user, form["id"]) == form


# ---------------------------------------------------------------------------------------------------- removed, unknown


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_the_removed_update_endpoint_is_405_not_allowed(client: httpx.Client, user: str, method: str) -> None:
    body = {"bank": {"bankConnectionId": 1_000_001}, "callbacks": {"finalised": "https://app.example.com/cb"}}
    response = client.request(method, "/api/webForms/bankConnectionUpdate", json=body, headers=headers(user))
    description = (
        f"{method} /api/webForms/bankConnectionUpdate was removed from the Web Form 2.0 API on 2022-06-30: update "
        "bank connections with POST /api/tasks/backgroundUpdate"
    )
    assert_error(response, 405, "NOT_ALLOWED", description)
    assert response.headers["allow"] == "DELETE, GET, HEAD"


def test_other_methods_on_a_form_are_405_and_unknown_paths_404(client: httpx.Client, user: str) -> None:
    form = new_form(client, user)
    response = client.patch(f"/api/webForms/{form['id']}", json={}, headers=headers(user))
    assert_error(response, 405, "NOT_ALLOWED", "Request method 'PATCH' is not supported")
    response = client.get(f"/api/webForms/{form['id']}/payload", headers=headers(user))
    assert_error(response, 404, "NOT_FOUND", f"No endpoint GET /api/webForms/{form['id']}/payload")
    response = client.get("/api/webForms/bankConnectionUpdate", headers=headers(user))
    assert_error(response, 404, "NOT_FOUND", "Web form with id 'bankConnectionUpdate' not found")


def test_web_form_errors_that_finapi_does_not_declare_are_the_validators_deliberate_differences(
    client: httpx.Client, user: str
) -> None:
    validator = ContractValidator.load()
    cases = [
        (client.patch("/api/webForms/x", headers=headers(user)), "method-not-allowed"),
        (client.get("/api/tasks/x/y", headers=headers(user)), "unknown-endpoint"),
        (client.get("/api/webForms/x", headers={**headers(user), "X-Request-Id": "r" * 256}), "bad-request-header"),
        (client.post(IMPORT, content=b" " * (1024 * 1024 + 1), headers=headers(user)), "body-too-large"),
    ]
    for response, key in cases:
        outcome = validator.check_response(response)
        assert outcome is not None
        assert (outcome.surface, outcome.difference, outcome.violations) == ("webform", key, ()), response.text
    assert cases[3][0].json()["errors"] == [{"field": "body", "message": "Request body exceeds 1048576 bytes"}]


# ---------------------------------------------------------------------------------------------------- lifecycle


def test_a_form_expires_exactly_20_minutes_after_its_creation(
    client: httpx.Client, user: str, clock: AdminClock, receiver: CallbackReceiver
) -> None:
    form = new_form(client, user, {"callbacks": {"finalised": f"{receiver.url}/finalised"}})
    clock.advance(1199.999)
    assert get_form(client, user, form["id"]) == web_form(form["id"])
    clock.advance(0.001)
    expired = web_form(form["id"], status="EXPIRED")
    assert get_form(client, user, form["id"]) == expired
    assert ok(client.get("/api/webForms", headers=headers(user)))["items"] == [expired]
    assert receiver.wait_for(webFormId=form["id"]) == {"webFormId": form["id"], "status": "EXPIRED"}
    clock.advance(3600)
    assert get_form(client, token(client), form["id"]) == expired
    assert len(receiver.received) == 1


def test_deleting_a_form_drops_its_callback_still_waiting(
    client: httpx.Client, user: str, receiver: CallbackReceiver
) -> None:
    """A fault rule holds the callback back; the form's deletion drops it: recorded as not sent, never received."""
    rule = {"name": "held", "match": {"callback": True, "path": "/held"}, "delay_ms": 60_000}
    assert client.post("/__admin/faults", json=rule).status_code == 201
    form = new_form(client, user, {"callbacks": {"finalised": f"{receiver.url}/held"}})
    assert client.post(f"/__admin/webForms/{form['id']}/complete", json={"status": "ABORTED"}).status_code == 200
    assert client.delete(f"/api/webForms/{form['id']}", headers=headers(user)).status_code == 200
    for _ in range(100):
        sent = client.get("/__admin/callbacks").json()["callbacks"]
        if sent:
            break
        time.sleep(0.05)
    assert [(c["kind"], c["status"], c["error"], c["fault"]) for c in sent] == [
        ("webForm.finalised", None, "not sent: its web form was deleted", "held")
    ]
    assert receiver.received == []


def test_a_clock_jump_expires_a_form_and_sends_its_callback_without_any_request_for_it(
    client: httpx.Client, user: str, clock: AdminClock, receiver: CallbackReceiver
) -> None:
    form = new_form(client, user, {"callbacks": {"finalised": f"{receiver.url}/cb"}})
    clock.advance(1800)
    ok(client.get("/api/tasks", headers=headers(user)))  # any answer of the API applies what is due
    assert receiver.wait_for(webFormId=form["id"])["status"] == "EXPIRED"
    attempts = wait_for_callbacks(client, 1)
    assert [(a["kind"], a["url"], a["body"], a["status"]) for a in attempts] == [
        ("webForm.finalised", f"{receiver.url}/cb", {"webFormId": form["id"], "status": "EXPIRED"}, 200)
    ]


def test_an_opened_form_is_in_progress_and_expires_too(client: httpx.Client, user: str, clock: AdminClock) -> None:
    form = new_form(client, user, {"bank": {"id": 280001}})
    assert client.get(f"/wf/{form['id']}").status_code == 200  # the user opens the URL
    assert get_form(client, user, form["id"]) == web_form(form["id"], status="IN_PROGRESS")
    client.get(f"/wf/{form['id']}")  # a second open changes nothing
    assert get_form(client, user, form["id"])["status"] == "IN_PROGRESS"
    clock.advance(1200)
    assert get_form(client, user, form["id"]) == web_form(form["id"], status="EXPIRED")


def test_a_completed_import_shows_its_new_connection(
    client: httpx.Client, alice: str, clock: AdminClock, receiver: CallbackReceiver
) -> None:
    form = new_form(client, alice, {"bank": {"id": 280001}, "callbacks": {"finalised": f"{receiver.url}/x?y=1"}})
    clock.advance(60)
    done = web_form(form["id"], status="COMPLETED", bankConnectionId=FIRST_IMPORTED)
    assert ok(complete(client, form["id"])) == done
    assert get_form(client, alice, form["id"]) == done
    assert receiver.wait_for(webFormId=form["id"]) == {"webFormId": form["id"], "status": "COMPLETED"}
    [callback] = receiver.received
    assert (callback.path, callback.headers["content-type"]) == ("/x?y=1", "application/json")


def test_the_imported_connection_is_xs2a_only_with_a_90_day_consent_and_updates_for_5_seconds(
    client: httpx.Client, alice: str, clock: AdminClock
) -> None:
    form = new_form(client, alice, {"bank": {"id": 280001}})
    clock.advance(60)
    connection_id = ok(complete(client, form["id"]))["payload"]["bankConnectionId"]
    connection = ok(client.get(f"/api/v2/bankConnections/{connection_id}", headers=headers(alice)))
    assert (connection["updateStatus"], connection["categorizationStatus"]) == ("IN_PROGRESS", "PENDING")
    assert connection["name"] is None
    assert connection["owners"] is None
    assert connection["bank"]["id"] == 280001
    [interface] = connection["interfaces"]
    assert interface["bankingInterface"] == "XS2A"
    assert interface["loginCredentials"] == [
        {"label": "Onlinebanking-ID", "value": "XXXXX"},
        {"label": "PIN", "value": "XXXXX"},
    ]
    assert interface["aisConsent"] == {
        "status": "PRESENT",
        "expiresAt": "2026-04-01T09:01:00.000+01:00",
        "supportsImportNewAccounts": False,
    }
    assert interface["lastManualUpdate"] == {
        "result": "OK",
        "errorMessage": None,
        "errorType": None,
        "timestamp": "2026-01-01T09:01:00.000+01:00",
    }
    assert (interface["lastAutoUpdate"], interface["userActionRequired"], interface["maxDaysForDownload"]) == (
        None,
        False,
        0,
    )
    clock.advance(4.999)
    assert ok(client.get(f"/api/v2/bankConnections/{connection_id}", headers=headers(alice)))["updateStatus"] == (
        "IN_PROGRESS"
    )
    assert client.delete(f"/api/v2/bankConnections/{connection_id}", headers=headers(alice)).status_code == 423
    clock.advance(0.001)
    assert ok(client.get(f"/api/v2/bankConnections/{connection_id}", headers=headers(alice)))["updateStatus"] == (
        "READY"
    )
    accounts = ok(client.get(f"/api/v2/accounts?bankConnectionIds={connection_id}", headers=headers(alice)))
    assert [a["accountType"] for a in accounts["accounts"]] == ["Checking", "Checking", "Savings"]
    assert connection["accountIds"] == [a["id"] for a in accounts["accounts"]]
    for account in accounts["accounts"]:
        transactions = ok(
            client.get(
                "/api/v2/transactions",
                params={"view": "bankView", "accountIds": account["id"], "perPage": 1},
                headers=headers(alice),
            )
        )
        assert transactions["paging"]["totalCount"] >= 20
        assert sum(t["amount"] for t in transactions["transactions"]) != 0 or transactions["transactions"]


def test_the_forms_fields_shape_the_connection(client: httpx.Client, alice: str) -> None:
    body = {
        "bank": {"id": 280001},
        "bankConnectionName": "Mein Girokonto",
        "loadOwnerData": True,
        "maxDaysForDownload": 90,
        "accountTypes": ["CHECKING"],
        "allowedInterfaces": ["FINTS_SERVER"],
        "skipPositionsDownload": True,
        "skipBalancesDownload": True,
    }
    form = new_form(client, alice, body)
    connection_id = ok(complete(client, form["id"]))["payload"]["bankConnectionId"]
    connection = ok(client.get(f"/api/v2/bankConnections/{connection_id}", headers=headers(alice)))
    assert connection["name"] == "Mein Girokonto"
    assert len(connection["owners"]) == 1
    [interface] = connection["interfaces"]
    assert (interface["bankingInterface"], interface["aisConsent"], interface["maxDaysForDownload"]) == (
        "FINTS_SERVER",
        None,
        90,
    )
    accounts = ok(client.get("/api/v2/accounts", headers=headers(alice)))["accounts"]
    assert [(a["accountType"], a["balance"]) for a in accounts] == [("Checking", None), ("Checking", None)]
    transactions = ok(client.get("/api/v2/transactions?view=bankView", headers=headers(alice)))
    assert transactions["paging"]["totalCount"] == 0


def test_a_form_without_a_bank_connects_the_bank_the_user_picks(client: httpx.Client, alice: str) -> None:
    form = new_form(client, alice, {"accountTypes": ["SAVINGS"]})
    connection_id = ok(complete(client, form["id"], bankId=280002))["payload"]["bankConnectionId"]
    connection = ok(client.get(f"/api/v2/bankConnections/{connection_id}", headers=headers(alice)))
    assert connection["bank"]["id"] == 280002
    accounts = ok(client.get("/api/v2/accounts", headers=headers(alice)))["accounts"]
    assert [a["accountType"] for a in accounts] == ["Savings"]
    form = new_form(client, alice)
    connection_id = ok(complete(client, form["id"]))["payload"]["bankConnectionId"]
    connection = ok(client.get(f"/api/v2/bankConnections/{connection_id}", headers=headers(alice)))
    assert connection["bank"]["id"] == 280001  # no pick: the first test bank the form offers


def test_the_user_keeps_account_types_among_the_forms(client: httpx.Client, alice: str) -> None:
    form = new_form(client, alice, {"bank": {"id": 280001}, "accountTypes": ["CHECKING", "SAVINGS"]})
    ok(complete(client, form["id"], accountTypes=["SAVINGS", "CREDIT_CARD"]))
    accounts = ok(client.get("/api/v2/accounts", headers=headers(alice)))["accounts"]
    assert [a["accountType"] for a in accounts] == ["Savings"]


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        ({"bank": {"id": 280001}, "accountTypes": ["CREDIT_CARD", "LOAN"]}, {}),
        ({"bank": {"id": 280001}, "allowedInterfaces": ["WEB_SCRAPER"]}, {}),
        ({"bank": {"id": 280001}, "accountTypes": ["CHECKING"]}, {"accountTypes": ["SAVINGS"]}),
    ],
)
def test_no_account_of_the_requested_types_ends_completed_with_error_without_a_connection(
    client: httpx.Client, alice: str, body: dict[str, Any], extra: dict[str, Any]
) -> None:
    form = new_form(client, alice, body)
    done = web_form(
        form["id"],
        status="COMPLETED_WITH_ERROR",
        errorCode="NO_ACCOUNTS_FOR_TYPE_LIST",
        errorMessage="The bank connection has no account of the requested account types",
    )
    assert ok(complete(client, form["id"], **extra)) == done
    assert get_form(client, alice, form["id"]) == done
    assert ok(client.get("/api/v2/bankConnections", headers=headers(alice))) == {"connections": []}


def test_a_second_import_of_the_same_bank_and_login_ends_entity_exists(client: httpx.Client, user: str) -> None:
    form = new_form(client, user, {"bank": {"id": 280001}})  # username has a DEMO0001 connection of login demo
    done = web_form(
        form["id"],
        status="COMPLETED_WITH_ERROR",
        errorCode="ENTITY_EXISTS",
        errorMessage="The bank connection exists already: the user has a connection of this bank with the same "
        "Onlinebanking-ID",
    )
    assert ok(complete(client, form["id"])) == done
    connections = ok(client.get("/api/v2/bankConnections", headers=headers(user)))["connections"]
    assert len(connections) == 4


@pytest.mark.parametrize(
    ("status", "extra", "payload"),
    [
        (
            "COMPLETED_WITH_ERROR",
            {},
            {
                "errorCode": "BANK_SERVER_REJECTION",
                "errorMessage": "The bank rejected the login: the credentials are wrong",
            },
        ),
        (
            "COMPLETED_WITH_ERROR",
            {"errorCode": "INTERNAL_ERROR"},
            {"errorCode": "INTERNAL_ERROR", "errorMessage": "An internal error occurred"},
        ),
        ("ABORTED", {}, {}),
        ("EXPIRED", {}, {}),
    ],
)
def test_forms_ending_without_success_create_no_connection(
    client: httpx.Client,
    alice: str,
    receiver: CallbackReceiver,
    status: str,
    extra: dict[str, Any],
    payload: dict[str, Any],
) -> None:
    form = new_form(client, alice, {"bank": {"id": 280001}, "callbacks": {"finalised": receiver.url}})
    done = web_form(form["id"], status=status, **payload)
    assert ok(complete(client, form["id"], status, **extra)) == done
    assert get_form(client, alice, form["id"]) == done
    assert ok(client.get("/api/v2/bankConnections", headers=headers(alice))) == {"connections": []}
    assert receiver.wait_for(webFormId=form["id"]) == {"webFormId": form["id"], "status": status}


def test_a_final_form_refuses_completion_and_stays_as_it_is(
    client: httpx.Client, alice: str, clock: AdminClock
) -> None:
    form = new_form(client, alice, {"bank": {"id": 280001}})
    ok(complete(client, form["id"], "ABORTED"))
    response = complete(client, form["id"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "ILLEGAL_ENTITY_STATE"
    assert get_form(client, alice, form["id"])["status"] == "ABORTED"
    late = new_form(client, alice, {"bank": {"id": 280001}})
    clock.advance(1200)
    assert complete(client, late["id"]).status_code == 422  # its 20 minutes are over: it expired
    assert get_form(client, alice, late["id"]) == web_form(late["id"], status="EXPIRED")
    assert ok(client.get("/api/v2/bankConnections", headers=headers(alice))) == {"connections": []}
