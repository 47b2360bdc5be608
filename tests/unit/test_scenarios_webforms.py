"""The scenario section `webforms:` (issue 19): callbacks, outcomes decided ahead, the task outcome and mandators
without Web Form 2.0. Strict like the rest of the loader: each mistake names its file, line, key path and problem,
a misspelt key gets a suggestion, and every problem of a file is reported in one run."""

from __future__ import annotations

import pytest

from mock_finapi.errors import ScenarioError
from mock_finapi.scenarios import loader
from mock_finapi.scenarios.schema import CallbackSpec, OutcomeSpec, Scenario, WebFormsSpec

HEAD = (
    "name: t\n"
    "clients:\n"
    "  - {client_id: c, client_secret: s, mandator_id: m1}\n"
    "  - {client_id: d, client_secret: s, mandator_id: m2}\n"
    "banks: [{id: 12345, name: Sparkasse, blz: '10050000'}]\n"
    "webforms:\n"
)
LINE = 7
"""The line of the first line under `webforms:`."""


def webforms(*lines: str) -> str:
    return HEAD + "".join(f"  {line}\n" for line in lines)


def outcome(text: str) -> str:
    """A scenario whose only web form outcome is this YAML flow mapping."""
    return webforms("outcomes:", f"  - {text}")


def loaded(text: str) -> Scenario:
    return loader.load_text(text, "wf.yaml")


def refused(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        loaded(text)
    return caught.value


def test_a_scenario_without_webforms_gets_finapis_rules() -> None:
    scenario = loaded(HEAD.removesuffix("webforms:\n"))
    assert scenario.webforms == WebFormsSpec()
    assert scenario.webforms.callbacks == CallbackSpec(allow_http=False, verify_tls=False, timeout=5.0)
    assert scenario.banks[0].id == 12345  # the section before webforms keeps its place


def test_an_empty_webforms_section_is_the_default() -> None:
    assert loaded(HEAD).webforms == WebFormsSpec()  # `webforms:` with nothing under it
    assert loaded(HEAD.replace("webforms:\n", "webforms: {}\n")).webforms == WebFormsSpec()


def test_every_key_is_read() -> None:
    text = webforms(
        "callbacks: {allow_http: true, verify_tls: true, timeout: 0.5}",
        "outcomes:",
        "  - {status: COMPLETED, after: 5, user: Alice, mandator: m1, bank: 12345, account_types: [CHECKING]}",
        "  - {status: COMPLETED_WITH_ERROR, after: 1199.5, error_code: NO_ACCOUNTS_FOR_TYPE_LIST}",
        "  - {status: COMPLETED_WITH_ERROR}",
        "  - {status: ABORTED, user: bob}",
        "  - {status: EXPIRED, mandator: m2}",
        "task_outcome: WEB_FORM_REQUIRED",
        "disabled_mandators: [m2]",
    )
    assert loaded(text).webforms == WebFormsSpec(
        callbacks=CallbackSpec(allow_http=True, verify_tls=True, timeout=0.5),
        outcomes=(
            OutcomeSpec("COMPLETED", 5.0, "Alice", "m1", None, 12345, ("CHECKING",)),
            OutcomeSpec("COMPLETED_WITH_ERROR", 1199.5, error_code="NO_ACCOUNTS_FOR_TYPE_LIST"),
            OutcomeSpec("COMPLETED_WITH_ERROR", 0.0, error_code="BANK_SERVER_REJECTION"),  # the default code
            OutcomeSpec("ABORTED", user="bob"),
            OutcomeSpec("EXPIRED", mandator_id="m2"),
        ),
        task_outcome="WEB_FORM_REQUIRED",
        disabled_mandators=("m2",),
    )


@pytest.mark.parametrize("task_outcome", ["COMPLETED", "WEB_FORM_REQUIRED", "COMPLETED_WITH_ERROR"])
def test_each_task_outcome_is_taken(task_outcome: str) -> None:
    assert loaded(webforms(f"task_outcome: {task_outcome}")).webforms.task_outcome == task_outcome


def test_a_built_in_test_bank_may_be_the_outcomes_bank() -> None:
    [spec] = loaded(outcome("{status: COMPLETED, bank: 280002}")).webforms.outcomes
    assert spec.bank == 280002


WEB_FORMS_KEYS = "allowed: callbacks, outcomes, task_outcome, disabled_mandators"
OUTCOME_KEYS = "allowed: status, after, user, mandator, error_code, bank, account_types"
ERROR_CODES = (
    "BANK_SERVER_REJECTION, ENTITY_EXISTS, INTERNAL_ERROR, INTERRUPTED, INVALID_TOKEN, MANDATOR_MISCONFIGURATION, "
    "NO_ACCOUNTS_FOR_TYPE_LIST, UNDETERMINED_BANK or UNEXPECTED_ACCESS_RESPONSE"
)
ACCOUNT_TYPES = "CHECKING, SAVINGS, CREDIT_CARD, SECURITY, LOAN, MEMBERSHIP, BAUSPAREN"
OUTCOME = "webforms.outcomes[0]"
BROKEN = [
    (
        "webforms not a mapping",
        HEAD.replace("webforms:\n", "webforms: [a]\n"),
        6,
        "webforms",
        "must be a mapping, not a list",
    ),
    (
        "a misspelt key",
        webforms("outcome: []"),
        LINE,
        "webforms.outcome",
        f"unknown key (did you mean 'outcomes'? {WEB_FORMS_KEYS})",
    ),
    (
        "callbacks not a mapping",
        webforms("callbacks: true"),
        LINE,
        "webforms.callbacks",
        "must be a mapping, not a boolean",
    ),
    (
        "a misspelt callbacks key",
        webforms("callbacks: {allow_https: true}"),
        LINE,
        "webforms.callbacks.allow_https",
        "unknown key (did you mean 'allow_http'? allowed: allow_http, verify_tls, timeout)",
    ),
    (
        "allow_http as text",
        webforms("callbacks: {allow_http: 'yes'}"),
        LINE,
        "webforms.callbacks.allow_http",
        "must be a boolean, not a string",
    ),
    (
        "verify_tls as a number",
        webforms("callbacks: {verify_tls: 1}"),
        LINE,
        "webforms.callbacks.verify_tls",
        "must be a boolean, not an integer",
    ),
    *(
        (
            f"a timeout of {value}",
            webforms(f"callbacks: {{timeout: {value}}}"),
            LINE,
            "webforms.callbacks.timeout",
            "must be a number of seconds above 0, at most 60",
        )
        for value in ("0", "-1", "60.5", ".nan", ".inf")
    ),
    (
        "a timeout as text",
        webforms("callbacks: {timeout: 5s}"),
        LINE,
        "webforms.callbacks.timeout",
        "must be a number, not a string",
    ),
    (
        "outcomes not a list",
        webforms("outcomes: {status: COMPLETED}"),
        LINE,
        "webforms.outcomes",
        "must be a list, not a mapping",
    ),
    ("an outcome not a mapping", outcome("COMPLETED"), LINE + 1, OUTCOME, "must be a mapping, not a string"),
    ("an outcome without status", outcome("{after: 5}"), LINE + 1, f"{OUTCOME}.status", "is required"),
    (
        "a misspelt outcome key",
        outcome("{status: ABORTED, afer: 5}"),
        LINE + 1,
        f"{OUTCOME}.afer",
        f"unknown key (did you mean 'after'? {OUTCOME_KEYS})",
    ),
    (
        "an unknown status",
        outcome("{status: IN_PROGRESS}"),
        LINE + 1,
        f"{OUTCOME}.status",
        "must be COMPLETED, COMPLETED_WITH_ERROR, ABORTED or EXPIRED",
    ),
    (
        "a status in lower case",
        outcome("{status: completed}"),
        LINE + 1,
        f"{OUTCOME}.status",
        "must be COMPLETED, COMPLETED_WITH_ERROR, ABORTED or EXPIRED",
    ),
    *(
        (
            f"after {value}",
            outcome(f"{{status: COMPLETED, after: {value}}}"),
            LINE + 1,
            f"{OUTCOME}.after",
            "must be a number of seconds from 0 to below 1200 (forms expire after 20 minutes)",
        )
        for value in ("-1", "1200", ".nan")
    ),
    (
        "after as a duration",
        outcome("{status: COMPLETED, after: 5s}"),
        LINE + 1,
        f"{OUTCOME}.after",
        "must be a number, not a string",
    ),
    ("an empty user", outcome("{status: COMPLETED, user: ''}"), LINE + 1, f"{OUTCOME}.user", "must not be empty"),
    (
        "a user as a number",
        outcome("{status: COMPLETED, user: 7}"),
        LINE + 1,
        f"{OUTCOME}.user",
        "must be a string, not an integer",
    ),
    (
        "an unknown mandator",
        outcome("{status: COMPLETED, mandator: m3}"),
        LINE + 1,
        f"{OUTCOME}.mandator",
        "must be the mandator_id of one of the scenario's clients",
    ),
    (
        "an unknown error code",
        outcome("{status: COMPLETED_WITH_ERROR, error_code: WRONG_PIN}"),
        LINE + 1,
        f"{OUTCOME}.error_code",
        f"must be one of {ERROR_CODES}",
    ),
    (
        "a payment-only error code",
        outcome("{status: COMPLETED_WITH_ERROR, error_code: UNSUPPORTED_ORDER}"),
        LINE + 1,
        f"{OUTCOME}.error_code",
        f"must be one of {ERROR_CODES}",
    ),
    *(
        (
            f"an error code on {status}",
            outcome(f"{{status: {status}, error_code: BANK_SERVER_REJECTION}}"),
            LINE + 1,
            f"{OUTCOME}.error_code",
            "only a COMPLETED_WITH_ERROR outcome has an error code",
        )
        for status in ("COMPLETED", "ABORTED", "EXPIRED")
    ),
    (
        "an unknown bank",
        outcome("{status: COMPLETED, bank: 99}"),
        LINE + 1,
        f"{OUTCOME}.bank",
        "must be the id of a built-in test bank (280001, 280002) or of a bank under banks",
    ),
    (
        "a bank as text",
        outcome("{status: COMPLETED, bank: DEMO0001}"),
        LINE + 1,
        f"{OUTCOME}.bank",
        "must be an integer, not a string",
    ),
    (
        "a bank of an aborted form",
        outcome("{status: ABORTED, bank: 280001}"),
        LINE + 1,
        f"{OUTCOME}.bank",
        "only a COMPLETED outcome imports from a bank",
    ),
    *(
        (
            f"account types {value}",
            outcome(f"{{status: COMPLETED, account_types: {value}}}"),
            LINE + 1,
            f"{OUTCOME}.account_types",
            f"must be a non-empty list of account types, each once ({ACCOUNT_TYPES})",
        )
        for value in ("[]", "[Checking]", "[CHECKING, CHECKING]", "[[CHECKING]]")
    ),
    (
        "account types as text",
        outcome("{status: COMPLETED, account_types: CHECKING}"),
        LINE + 1,
        f"{OUTCOME}.account_types",
        "must be a list, not a string",
    ),
    (
        "account types of a failed form",
        outcome("{status: COMPLETED_WITH_ERROR, account_types: [CHECKING]}"),
        LINE + 1,
        f"{OUTCOME}.account_types",
        "only a COMPLETED outcome imports accounts",
    ),
    (
        "an unknown task outcome",
        webforms("task_outcome: IN_PROGRESS"),
        LINE,
        "webforms.task_outcome",
        "must be COMPLETED, WEB_FORM_REQUIRED or COMPLETED_WITH_ERROR",
    ),
    (
        "a task outcome as a list",
        webforms("task_outcome: [COMPLETED]"),
        LINE,
        "webforms.task_outcome",
        "must be a string, not a list",
    ),
    (
        "disabled mandators as text",
        webforms("disabled_mandators: m1"),
        LINE,
        "webforms.disabled_mandators",
        "must be a list, not a string",
    ),
    *(
        (
            f"disabled mandators {value}",
            webforms(f"disabled_mandators: {value}"),
            LINE,
            "webforms.disabled_mandators",
            "must be a list of mandator ids, each once",
        )
        for value in ("[m1, m1]", "['']", "[1]")
    ),
    (
        "an unknown disabled mandator",
        webforms("disabled_mandators: [m1, m9]"),
        LINE,
        "webforms.disabled_mandators",
        "'m9' is not the mandator_id of one of the scenario's clients",
    ),
]


@pytest.mark.parametrize(("text", "line", "path", "problem"), [case[1:] for case in BROKEN], ids=[c[0] for c in BROKEN])
def test_a_mistake_in_webforms_names_its_line_key_path_and_problem(
    text: str, line: int, path: str, problem: str
) -> None:
    error = refused(text)
    assert [(error.line, error.path, error.problem)] == [(line, path, problem)]


def test_all_problems_of_webforms_are_reported_at_once_in_file_order() -> None:
    text = webforms(
        "callbacks: {timeout: 0, retries: 3}",
        "outcomes:",
        "  - {status: DONE, after: -1}",
        "  - {status: COMPLETED}",
        "  - {stauts: COMPLETED}",
        "  - {status: ABORTED, error_code: INTERRUPTED, bank: 280001}",
        "task_outcome: DONE",
        "disabled_mandators: [m9]",
        "callback: {}",
    )
    error = refused(text)
    assert error.lines() == [
        "wf.yaml:7: webforms.callbacks.retries: unknown key (allowed: allow_http, verify_tls, timeout)",
        "wf.yaml:7: webforms.callbacks.timeout: must be a number of seconds above 0, at most 60",
        "wf.yaml:9: webforms.outcomes[0].status: must be COMPLETED, COMPLETED_WITH_ERROR, ABORTED or EXPIRED",
        "wf.yaml:9: webforms.outcomes[0].after: must be a number of seconds from 0 to below 1200 (forms expire "
        "after 20 minutes)",
        f"wf.yaml:11: webforms.outcomes[2].stauts: unknown key (did you mean 'status'? {OUTCOME_KEYS})",
        "wf.yaml:12: webforms.outcomes[3].error_code: only a COMPLETED_WITH_ERROR outcome has an error code",
        "wf.yaml:12: webforms.outcomes[3].bank: only a COMPLETED outcome imports from a bank",
        "wf.yaml:13: webforms.task_outcome: must be COMPLETED, WEB_FORM_REQUIRED or COMPLETED_WITH_ERROR",
        "wf.yaml:14: webforms.disabled_mandators: 'm9' is not the mandator_id of one of the scenario's clients",
        f"wf.yaml:15: webforms.callback: unknown key (did you mean 'callbacks'? {WEB_FORMS_KEYS})",
    ]


def test_problems_of_webforms_come_with_those_of_other_sections() -> None:
    text = HEAD.replace("mandator_id: m2}", "mandator_id: m2, colour: red}") + "  task_outcome: DONE\n"
    assert [(line, path) for line, path, _ in refused(text).problems] == [
        (4, "clients[1].colour"),
        (LINE, "webforms.task_outcome"),
    ]


def test_mandators_and_banks_are_not_checked_while_the_clients_or_banks_have_problems() -> None:
    """A client or a bank with a problem: which mandators and banks exist is not known, so outcomes are not
    checked against them (only the problem itself is reported)."""
    outcomes = "  outcomes: [{status: COMPLETED, bank: 99, mandator: m9}]\n  disabled_mandators: [m9]\n"
    text = HEAD.replace("blz: '10050000'", "blz: 10050000") + outcomes
    assert [path for _, path, _ in refused(text).problems] == [
        "banks[0].blz",
        f"{OUTCOME}.mandator",
        "webforms.disabled_mandators",
    ]
    text = HEAD.replace("client_secret: s, mandator_id: m1", "mandator_id: m1") + outcomes
    assert [path for _, path, _ in refused(text).problems] == ["clients[0].client_secret", f"{OUTCOME}.bank"]


def test_self_registering_clients_may_name_mandators_the_scenario_does_not_list() -> None:
    text = "name: t\nclients: {auto_register: true}\nwebforms:\n  disabled_mandators: [later]\n"
    text += "  outcomes: [{status: ABORTED, mandator: later}]\n"
    spec = loaded(text).webforms
    assert (spec.disabled_mandators, spec.outcomes[0].mandator_id) == (("later",), "later")


def test_at_most_1000_outcomes() -> None:
    many = "  outcomes: [" + ", ".join(["{status: ABORTED}"] * 1001) + "]\n"
    error = refused(HEAD + many)
    assert (error.line, error.path, error.problem) == (
        LINE,
        "webforms.outcomes",
        "the scenario has 1001 web form outcomes, at most 1000",
    )
    assert len(loaded(HEAD + many.replace("{status: ABORTED}, ", "", 1)).webforms.outcomes) == 1000


def test_the_built_in_scenarios_of_web_forms_load() -> None:
    expires = loader.load("webform-expires").webforms
    assert (expires.callbacks.allow_http, expires.outcomes) == (True, ())
    [bank_error] = loader.load("webform-bank-error").webforms.outcomes
    assert bank_error == OutcomeSpec("COMPLETED_WITH_ERROR", 5.0, error_code="BANK_SERVER_REJECTION")
    assert loader.load("task-needs-user").webforms.task_outcome == "WEB_FORM_REQUIRED"
    down = loader.load("callback-receiver-down").webforms
    assert down.callbacks.allow_http
    assert [(o.status, o.after) for o in down.outcomes] == [("COMPLETED", 5.0)]
