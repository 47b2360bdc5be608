"""The bank catalog (services/banks.py): the built-in test banks as WEBFORM.md §5.4 documents them, a scenario's banks
beside them, `get`, `all` and `find` (the search the web form's bank search and GET /api/v2/banks build on), and the
IBAN arithmetic bank codes rest on."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mock_finapi.scenarios.schema import BankSpec
from mock_finapi.services import banks
from mock_finapi.services.banks import BankCatalog
from mock_finapi.state.banking import Bank

REFERENCE_IBAN = "DE89370400440532013000"
"""The IBAN of the ECBS / Bundesbank examples: BLZ 37040044, account 532013000."""
SPARKASSE = BankSpec(12345, "Sparkasse Musterstadt", "10050000", "BELADEBEXXX", "Berlin", "DE", 7, False)
NO_BLZ = BankSpec(123_456_789, "Online Bank", "ONLINE1", interfaces=("XS2A", "FINTS_SERVER"))
SMALL = BankSpec(5, "Kleine Bank", "70150000", city="München")


def catalog() -> BankCatalog:
    return BankCatalog.with_scenario([SPARKASSE, NO_BLZ, SMALL])


def ids(found: Sequence[Bank]) -> list[int]:
    return [bank.id for bank in found]


def test_the_finapi_test_bank_is_built_in_as_documented() -> None:
    bank = BankCatalog.with_scenario([]).get(280001)
    assert bank is not None
    assert (bank.name, bank.blz, bank.is_test_bank) == ("finAPI Test Bank", "DEMO0001", True)
    assert [i.banking_interface for i in bank.interfaces] == ["XS2A", "FINTS_SERVER"]
    for interface in bank.interfaces:
        assert interface.properties == ("DECOUPLED_APPROACH",)
        assert [(f.label, f.is_secret) for f in interface.login_fields] == [("Onlinebanking-ID", False), ("PIN", True)]
        procedures = [(p.procedure_name, p.challenge_type) for p in interface.two_step_procedures]
        assert procedures == [
            ("smsTan", "TEXT"),
            ("pushTan", "TEXT"),
            ("chipTan optical", "FLICKER_CODE"),
            ("chipTan QR", "PHOTO"),
            ("Demo Decoupled Auth", "TEXT"),
        ]
    assert bank.logins == (("demo", "demo"), ("demo_no_msa", "demo_no_msa"))


def test_the_redirect_test_bank_is_built_in_as_documented() -> None:
    bank = BankCatalog.with_scenario([]).get(280002)
    assert bank is not None
    assert (bank.name, bank.blz, bank.is_test_bank) == ("finAPI Test Redirect Bank", "DEMO0002", True)
    [interface] = bank.interfaces
    assert (interface.banking_interface, interface.properties) == ("XS2A", ("REDIRECT_APPROACH",))
    assert [f.label for f in interface.login_fields] == ["Onlinebanking-ID", "PIN"]
    assert bank.logins == (("demo", "demo"), ("demo_no_msa", "demo_no_msa"))


def test_the_decided_test_bank_details() -> None:
    first, second = BankCatalog.with_scenario([]).all()
    assert (first.bic, first.city, first.location, first.popularity) == ("DEMODE01XXX", "München", None, 0)
    assert (second.bic, second.city, second.location, second.popularity) == ("DEMODE02XXX", "München", None, 0)
    assert {i.health for bank in (first, second) for i in bank.interfaces} == {100}
    assert (banks.bank_code(first), banks.bank_code(second)) == ("00280001", "00280002")


def test_get_answers_a_bank_by_id_and_none_for_an_unknown_one() -> None:
    found = catalog().get(12345)
    assert found is not None
    assert (found.name, found.blz, found.bic, found.city, found.location, found.popularity) == (
        "Sparkasse Musterstadt",
        "10050000",
        "BELADEBEXXX",
        "Berlin",
        "DE",
        7,
    )
    assert catalog().get(99) is None


def test_all_lists_the_built_in_and_the_scenario_banks_by_id() -> None:
    assert ids(catalog().all()) == [5, 12345, 280001, 280002, 123_456_789]


def test_a_scenario_bank_has_its_interfaces_with_the_two_login_fields_and_accepts_any_login() -> None:
    bank = catalog().get(123_456_789)
    assert bank is not None
    assert [i.banking_interface for i in bank.interfaces] == ["XS2A", "FINTS_SERVER"]
    assert {tuple(f.label for f in i.login_fields) for i in bank.interfaces} == {("Onlinebanking-ID", "PIN")}
    assert (bank.logins, bank.is_test_bank) == ((), False)


def test_ibans_carry_the_blz_or_else_the_ids_last_eight_digits() -> None:
    by_id = {bank.id: bank for bank in catalog().all()}
    assert banks.bank_code(by_id[12345]) == "10050000"
    assert banks.bank_code(by_id[123_456_789]) == "23456789"


def test_bank_ids_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        BankCatalog([*banks.BUILT_IN, banks.TEST_BANK])


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("", [5, 12345, 280001, 280002, 123_456_789]),
        ("finAPI", [280001, 280002]),
        ("FINAPI TEST redirect", [280002]),
        ("demo0001", [280001]),
        ("demode02", [280002]),
        ("münchen", [5, 280001, 280002]),
        ("MÜNCHEN kleine", [5]),
        ("1005", [12345]),
        ("bank sparkasse", []),
        ("unknown", []),
    ],
)
def test_find_matches_every_term_in_name_blz_bic_or_city_ignoring_case(search: str, found: list[int]) -> None:
    assert ids(catalog().find(search)) == found


def test_find_with_an_iban_selects_the_banks_of_its_bank_code() -> None:
    assert ids(catalog().find(banks.german_iban("00280002", 1234567890))) == [280002]
    assert ids(catalog().find(banks.german_iban("10050000", 42))) == [12345]
    assert ids(catalog().find(banks.german_iban("23456789", 42).lower())) == [123_456_789]
    assert ids(catalog().find(REFERENCE_IBAN)) == []  # no bank with BLZ 37040044 here


def test_an_iban_is_only_an_iban_with_valid_check_digits_and_of_german_banks() -> None:
    assert ids(catalog().find("DE00100500000000000042")) == []  # bad check digits: a plain term matching nothing
    assert ids(catalog().find("GB82WEST12345698765432")) == []  # valid, but not a German bank code


def test_german_iban_gives_the_reference_iban() -> None:
    assert banks.german_iban("37040044", 532013000) == REFERENCE_IBAN
    assert banks.iban_check_digits("DE", "370400440532013000") == "89"


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        (REFERENCE_IBAN, True),
        ("GB82WEST12345698765432", True),
        ("DE88370400440532013000", False),  # a check digit off
        ("DE89370400440532013001", False),  # an account digit off
        ("de89370400440532013000", False),  # lower case
        ("DE89 3704 0044 0532 0130 00", False),  # spaces
        ("DE89", False),
    ],
)
def test_iban_valid_checks_shape_and_check_digits(iban: str, valid: bool) -> None:
    assert banks.iban_valid(iban) is valid
