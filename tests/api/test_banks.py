"""GET /api/v2/banks and /api/v2/banks/{id} (WEBFORM.md §5.4; issue 18, point 1): the built-in test banks and the
scenario's (tests/scenarios/bank-data.yaml), every filter, the order, paging and its limits, for user and app
client tokens; exact bodies."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_finapi import errors
from tests.api.bank_helpers import (
    ALL_BANKS,
    AUTH,
    CLIENT_AUTH,
    INT64_TOO_BIG,
    MANDATOR,
    RID,
    SCENARIO,
    TEST_BANK,
    admin_client_token,
    client_token,
    get,
    ok,
    user_token,
)
from tests.helpers import assert_error_message


@pytest.fixture
def scenario_name() -> str:
    return SCENARIO


def search(client: httpx.Client, params: Any = None, token: str | None = None) -> httpx.Response:
    return get(client, "/api/v2/banks", token or user_token(client), params)


def page(banks: list[dict[str, Any]], total: int, page: int = 1, per_page: int = 20) -> dict[str, Any]:
    count = -(-total // per_page)
    return {"banks": banks, "paging": {"page": page, "perPage": per_page, "pageCount": count, "totalCount": total}}


def ids_of(response: httpx.Response) -> list[int]:
    return [found["id"] for found in ok(response)["banks"]]


# ---------------------------------------------------------------------------------------------------- search


def test_all_banks_by_id_with_the_built_in_test_banks_exactly(client: httpx.Client) -> None:
    assert ok(search(client)) == page(ALL_BANKS, 5)


@pytest.mark.parametrize("bank_id", [280001, 280002, 12345, 23456, 34567])
def test_get_a_bank(client: httpx.Client, bank_id: int) -> None:
    expected = next(found for found in ALL_BANKS if found["id"] == bank_id)
    assert ok(get(client, f"/api/v2/banks/{bank_id}", user_token(client))) == expected


def test_an_app_client_token_reads_banks_too(client: httpx.Client) -> None:
    token = client_token(client)
    assert ok(search(client, token=token)) == page(ALL_BANKS, 5)
    assert ok(get(client, "/api/v2/banks/280001", token)) == TEST_BANK


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"ids": "280002,12345"}, [12345, 280002]),
        ([("ids", "280002"), ("ids", "34567")], [34567, 280002]),
        ({"ids": "99999"}, []),
        ({"search": "test"}, [34567, 280001, 280002]),
        ({"search": "TEST bank"}, [34567, 280001, 280002]),  # apoBank Testinstitut too
        ({"search": "redirect"}, [280002]),
        ({"search": "demo0001"}, [280001]),
        ({"search": "beladebe"}, [12345]),
        ({"search": "zürich"}, [23456]),
        ({"search": "münchen redirect"}, [280002]),
        ({"search": "sparkasse zürich"}, []),
        ({"search": "DE35100500003000000001"}, [12345]),  # an IBAN of the BLZ 10050000
        ({"search": "DE89002800011000000001"}, [280001]),  # the test bank's IBANs carry 00280001
        ({"search": "DE89370400440532013000"}, []),  # a valid IBAN of no bank here
        ({"supportedBankingInterfaces": "WEB_SCRAPER"}, [23456]),
        ({"supportedBankingInterfaces": "FINTS_SERVER,WEB_SCRAPER"}, [12345, 23456, 280001]),
        ({"location": "DE"}, [12345, 34567, 280001, 280002]),  # banks without location always match
        ({"location": "ch"}, [23456, 34567, 280001, 280002]),
        ({"location": "DE,CH"}, [12345, 23456, 34567, 280001, 280002]),
        ({"location": "FR"}, [34567, 280001, 280002]),
        ({"tppAuthenticationGroupIds": "1"}, []),  # no bank here has a TPP authentication group
        ({"isTestBank": "true"}, [34567, 280001, 280002]),
        ({"isTestBank": "false"}, [12345, 23456]),
        ({"isTestBank": "true", "supportedBankingInterfaces": "FINTS_SERVER"}, [280001]),
        ({"search": "", "ids": ""}, [12345, 23456, 34567, 280001, 280002]),  # empty parameters are absent
    ],
)
def test_each_filter(client: httpx.Client, params: Any, expected: list[int]) -> None:
    assert ids_of(search(client, params)) == expected


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (["id,desc"], [280002, 280001, 34567, 23456, 12345]),
        (["name"], [34567, 280001, 280002, 12345, 23456]),  # case-insensitive: apoBank, finAPI ..., Sparkasse, Z
        (["name,desc"], [23456, 12345, 280002, 280001, 34567]),
        (["blz,asc"], [12345, 34567, 23456, 280001, 280002]),  # 1005..., 3006..., 7007..., DEMO0001, DEMO0002
        (["bic"], [12345, 280001, 280002, 23456, 34567]),  # no BIC last ascending
        (["bic,desc"], [34567, 23456, 280002, 280001, 12345]),  # and first descending
        (["popularity,desc"], [12345, 23456, 34567, 280001, 280002]),  # ties by id ascending
        (["popularity,desc", "id,desc"], [12345, 23456, 280002, 280001, 34567]),
        (["isTestBank"], None),
    ],
)
def test_order(client: httpx.Client, order: list[str], expected: list[int] | None) -> None:
    response = search(client, [("order", value) for value in order])
    if expected is None:
        message = errors.MSG_QUERY_ORDER.format(allowed="id, name, blz, bic, popularity")
        assert_error_message(response, 400, "BAD_REQUEST", "TECHNICAL", message, auth=AUTH, request_id=RID)
    else:
        assert ids_of(response) == expected


def test_paging_counts_all_pages_and_echoes_a_page_beyond_the_last(client: httpx.Client) -> None:
    token = user_token(client)
    assert ok(search(client, {"perPage": 2}, token)) == page(ALL_BANKS[:2], 5, 1, 2)
    assert ok(search(client, {"perPage": 2, "page": 3}, token)) == page(ALL_BANKS[4:], 5, 3, 2)
    assert ok(search(client, {"perPage": 2, "page": 4}, token)) == page([], 5, 4, 2)
    assert ok(search(client, {"perPage": 500, "ids": "1"}, token)) == {
        "banks": [],
        "paging": {"page": 1, "perPage": 500, "pageCount": 0, "totalCount": 0},
    }


# ---------------------------------------------------------------------------------------------------- refused


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ({"perPage": "0"}, "ILLEGAL_PAGE_SIZE", errors.MSG_PAGE_SIZE.format(limit=500)),
        ({"perPage": "501"}, "ILLEGAL_PAGE_SIZE", errors.MSG_PAGE_SIZE.format(limit=500)),
        ({"perPage": "x"}, "BAD_REQUEST", errors.MSG_QUERY_INTEGER.format(name="perPage")),
        ({"page": "0"}, "BAD_REQUEST", errors.MSG_QUERY_PAGE),
        ({"page": "1.5"}, "BAD_REQUEST", errors.MSG_QUERY_INTEGER.format(name="page")),
        ({"ids": "1,x"}, "BAD_REQUEST", errors.MSG_QUERY_INTEGERS.format(name="ids")),
        ({"ids": INT64_TOO_BIG}, "BAD_REQUEST", errors.MSG_QUERY_INTEGERS.format(name="ids")),
        (
            {"ids": ",".join(["1"] * 1001)},
            "TOO_MANY_IDS",
            errors.MSG_TOO_MANY_FILTER_IDS.format(name="ids", limit=1000),
        ),
        ({"location": "XX"}, "BAD_REQUEST", errors.MSG_QUERY_LOCATION),
        ({"location": "DEU"}, "BAD_REQUEST", errors.MSG_QUERY_LOCATION),
        ({"isTestBank": "wahr"}, "BAD_REQUEST", errors.MSG_QUERY_BOOLEAN.format(name="isTestBank")),
        (
            {"supportedBankingInterfaces": "HBCI"},
            "BAD_REQUEST",
            errors.MSG_QUERY_ENUM.format(name="supportedBankingInterfaces", allowed="WEB_SCRAPER, FINTS_SERVER, XS2A"),
        ),
        ({"order": "name,up"}, "BAD_REQUEST", errors.MSG_QUERY_ORDER.format(allowed="id, name, blz, bic, popularity")),
    ],
)
def test_bad_parameters_are_400(client: httpx.Client, params: dict[str, str], code: str, message: str) -> None:
    response = search(client, params)
    type_ = "BUSINESS" if code == "TOO_MANY_IDS" else "TECHNICAL"
    assert_error_message(response, 400, code, type_, message, auth=AUTH, request_id=RID)


def test_a_thousand_ids_are_taken(client: httpx.Client) -> None:
    assert ids_of(search(client, {"ids": ",".join(str(280001 + i) for i in range(1000))})) == [280001, 280002]


@pytest.mark.parametrize("value", ["abc", "1.0", INT64_TOO_BIG, "%20"])
def test_a_bank_id_that_is_no_int64_is_400(client: httpx.Client, value: str) -> None:
    response = get(client, f"/api/v2/banks/{value}", user_token(client))
    assert_error_message(response, 400, "BAD_REQUEST", "TECHNICAL", errors.MSG_PATH_ID, auth=AUTH, request_id=RID)


@pytest.mark.parametrize("bank_id", ["99999", "-1", "0"])
def test_an_unknown_bank_is_404(client: httpx.Client, bank_id: str) -> None:
    response = get(client, f"/api/v2/banks/{bank_id}", client_token(client))
    message = errors.MSG_UNKNOWN_BANK.format(id=int(bank_id))
    assert_error_message(response, 404, "UNKNOWN_ENTITY", "BUSINESS", message, auth=CLIENT_AUTH, request_id=RID)


@pytest.mark.parametrize("path", ["/api/v2/banks", "/api/v2/banks/280001"])
def test_without_a_token_401(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": errors.MSG_MISSING_TOKEN}


@pytest.mark.parametrize("path", ["/api/v2/banks", "/api/v2/banks/280001"])
def test_a_mandator_admin_client_token_is_403(client: httpx.Client, path: str) -> None:
    response = get(client, path, admin_client_token(client))
    auth = f"{MANDATOR}/bank-admin"
    assert_error_message(
        response, 403, "UNAUTHORIZED_ACCESS", "BUSINESS", errors.MSG_ROLE_APP, auth=auth, request_id=RID
    )
