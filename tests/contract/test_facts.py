"""The committed contract facts (tests/contract/facts/) are what tests/contract/generate.py makes of finAPI's
published specs, they carry the models of every finAPI operation the emulator serves, and under CI a contract test
that skips fails (tests/contract/conftest.py)."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from mock_finapi.http import openapi
from tests.contract import generate
from tests.contract.validator import METHODS, OWN_OPERATIONS, surface_of, v2_facts, web_form_facts

pytest_plugins = ["pytester"]


@pytest.mark.slow  # reads the 1 MB v1 spec
@pytest.mark.needs_specs
@pytest.mark.skipif(
    not generate.SPECS.is_dir(),
    reason=f"finAPI's specs are not beside the repository ({generate.SPECS}), so the committed facts cannot be "
    "compared with them here; every other contract test runs on the committed facts",
)
def test_the_committed_facts_are_what_the_generator_makes_of_finapis_specs() -> None:
    generated = generate.generate()
    committed = {path.name: path.read_text("utf-8") for path in generate.FACTS.glob("*.json")}
    assert sorted(committed) == sorted(generated), "a facts file without a source, or a source without facts"
    for name, text in generated.items():
        diff = difflib.unified_diff(
            committed[name].splitlines(), text.splitlines(), "committed", "generated", n=1, lineterm=""
        )
        shown = "\n".join(list(diff)[:40])
        assert committed[name] == text, f"{name} is stale: run python tests/contract/generate.py\n{shown}"


def test_the_facts_carry_the_models_of_every_finapi_operation_the_emulator_serves() -> None:
    facts = {"v1": generate.load("access-v1"), "v2": v2_facts(), "webform": web_form_facts()}
    problems = []
    for path, item in json.loads(openapi.document_bytes())["paths"].items():
        surface = surface_of(path)
        if surface == "emulator":
            continue
        known = {(op["method"], op["path"]): op for op in facts[surface]["operations"]}
        models = {*facts[surface]["models"], *facts[surface]["missing_models"]}
        for method in (m for m in item if m in METHODS and (m, path) not in OWN_OPERATIONS):
            op = known.get((method, path))
            if op is None:
                problems.append(f"{method.upper()} {path}: not in finAPI's contract")
            elif not path.startswith(tuple(facts[surface]["emulated"])):
                problems.append(f"{method.upper()} {path}: not among the emulated paths of tests/contract/generate.py")
            else:
                problems += [
                    f"{method.upper()} {path} {status}: no model {model} in the facts"
                    for status, model in op["responses"].items()
                    if model is not None and model not in models
                ]
    assert problems == []


def test_the_facts_hold_the_mandator_admin_models() -> None:
    v1, v2 = generate.load("access-v1"), generate.load("access-v2")
    operations = {(op["method"], op["path"]): op for facts in (v1, v2) for op in facts["operations"]}
    for version in (1, 2):
        assert operations["get", f"/api/v{version}/mandatorAdmin/getUserList"]["responses"]["200"] == (
            "PageableUserInfoList"
        )
        delete = operations["post", f"/api/v{version}/mandatorAdmin/deleteUsers"]
        assert (delete["request"], delete["responses"]["200"]) == ("UserIdentifiersParams", "UserIdentifiersList")
    assert v1["models"]["PageableUserInfoList"]["required"] == ["paging", "users"]
    assert v1["models"]["UserIdentifiersList"]["required"] == ["deletedUsers", "nonDeletedUsers"]
    assert set(v1["models"]["UserInfo"]["properties"]) == set(v2["models"]["UserInfo"]["properties"])
    assert "PageableUserInfoList" in v2["missing_models"]  # the digest lacks it: the emulator's schema stands in
    per_page = next(
        p for p in operations["get", "/api/v1/mandatorAdmin/getUserList"]["parameters"] if p["name"] == "perPage"
    )
    assert per_page["schema"]["maximum"] == 500


SKIPPING = """
import pytest

def test_skips() -> None:
    pytest.skip("no specs here")
"""


@pytest.mark.parametrize(("ci", "outcome"), [("1", {"failed": 1}), ("", {"skipped": 1})])
def test_a_contract_test_that_skips_fails_under_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, outcome: dict[str, int]
) -> None:
    contract = pytester.mkdir("contract")
    (contract / "conftest.py").write_text((Path(__file__).parent / "conftest.py").read_text("utf-8"))
    (contract / "test_skipping.py").write_text(SKIPPING)
    monkeypatch.setenv("MOCK_FINAPI_CI", ci)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist", "contract")
    result.assert_outcomes(**outcome)
    if ci:
        result.stdout.fnmatch_lines(["*a contract test skipped with MOCK_FINAPI_CI=1: Skipped: no specs here*"])
