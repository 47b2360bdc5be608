"""With `MOCK_FINAPI_CI=1` (.ci/run sets it) a contract test that skips is a failure.

The contract facts are committed (tests/contract/facts/), so no contract test has a reason to skip in CI. The only
one that may skip elsewhere is the facts' drift check, without finAPI's specs in ../shared beside the repository;
CI has them, so a skip there means the check did not run.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

CI_VARIABLE = "MOCK_FINAPI_CI"


def _strict() -> bool:
    return os.environ.get(CI_VARIABLE) == "1"


def _reason(longrepr: object) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (path, line, "Skipped: reason")
        return str(longrepr[2])
    return str(longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if _strict() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"a contract test skipped with {CI_VARIABLE}=1: {_reason(report.longrepr)}"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    if _strict() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"contract tests skipped with {CI_VARIABLE}=1: {_reason(report.longrepr)}"
    return report
