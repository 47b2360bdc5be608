"""With `MOCK_FINAPI_CI=1` (.ci/run sets it) a contract test that skips is a failure.

The contract facts are committed (tests/contract/facts/), so no contract test has a reason to skip in CI. The one
exception is marked `needs_specs`: the facts' drift check compares them with finAPI's published specs, which only a
checkout with ../shared beside it has.
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
    allowed = item.get_closest_marker("needs_specs") is not None
    if _strict() and report.skipped and not allowed and not hasattr(report, "wasxfail"):
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
