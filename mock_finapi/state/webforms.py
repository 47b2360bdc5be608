"""The records of Web Form 2.0 (WEBFORM.md §2-§4): web forms, background-update tasks and the callbacks the emulator
sent. Immutable values, no rules and no HTTP, like `state/models.py`.

A web form and a task belong to a user (mandator id and the user's lower-cased id), not to the token that made them.
Times are virtual epoch seconds. Statuses only move forward; a final status never changes.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

WebFormType = Literal["BANK_CONNECTION_IMPORT", "BANK_CONNECTION_UPDATE"]
WebFormStatus = Literal["NOT_YET_OPENED", "IN_PROGRESS", "COMPLETED", "COMPLETED_WITH_ERROR", "EXPIRED", "ABORTED"]
FINAL_WEB_FORM: tuple[WebFormStatus, ...] = ("COMPLETED", "COMPLETED_WITH_ERROR", "EXPIRED", "ABORTED")
TaskStatus = Literal["NOT_YET_STARTED", "IN_PROGRESS", "WEB_FORM_REQUIRED", "COMPLETED", "COMPLETED_WITH_ERROR"]
FINAL_TASK: tuple[TaskStatus, ...] = ("WEB_FORM_REQUIRED", "COMPLETED", "COMPLETED_WITH_ERROR")
WEB_FORM_SECONDS = 20 * 60
"""A web form's URL is good for 20 minutes from its creation (WEBFORM.md §3)."""


class ImportRequest(NamedTuple):
    """What `POST /api/webForms/bankConnectionImport` asked for (validated), or what a task's update form updates.
    Account types and interfaces use the Web Form API's names (`CHECKING`, `XS2A`)."""

    bank_id: int | None = None
    """The bank the form is for; None: the user picks one in the form."""
    connection_name: str | None = None
    account_types: tuple[str, ...] | None = None
    """None: all."""
    allowed_interfaces: tuple[str, ...] | None = None
    skip_balances_download: bool = False
    skip_positions_download: bool = False
    load_owner_data: bool = False
    max_days_for_download: int = 0
    allow_test_bank: bool = True
    callback_url: str | None = None
    """`callbacks.finalised`."""
    redirect_url: str | None = None
    """The body's `redirectUrl` (bank SCA return, licensed mandators only)."""
    profile_id: str | None = None


class PageState(NamedTuple):
    """How far the end user got in the hosted page (`/wf/{id}`)."""

    step: str = "start"
    """start, bank, login, sca, accounts, done."""
    bank_id: int | None = None
    login: str | None = None
    """The Onlinebanking-ID the bank accepted."""
    language: str = "en"


class WebForm(NamedTuple):
    id: str
    """36 characters (a UUID from the seeded source)."""
    mandator_id: str
    user_key: str
    user_id: str
    """As the user spells it (admin views)."""
    type: WebFormType
    status: WebFormStatus
    created_at: float
    expires_at: float
    request: ImportRequest
    opened: bool = False
    """Its URL was opened once: opening it again shows the one-time error page."""
    page: PageState = PageState()
    connection_id: int | None = None
    """Set on COMPLETED (the new or updated connection); on COMPLETED_WITH_ERROR only if a connection exists."""
    error_code: str | None = None
    error_message: str | None = None
    task_id: str | None = None
    """A BANK_CONNECTION_UPDATE form: the task it was made for."""
    finalised_at: float | None = None
    outcome_at: float | None = None
    """When the scenario's decided-ahead outcome (`webforms.outcomes`) finishes it; None: none does."""

    @property
    def final(self) -> bool:
        return self.status in FINAL_WEB_FORM


class TaskRequest(NamedTuple):
    """What `POST /api/tasks/backgroundUpdate` asked for (validated)."""

    connection_id: int
    import_new_accounts_mode: str = "SKIP"
    account_types: tuple[str, ...] | None = None
    allowed_interfaces: tuple[str, ...] | None = None
    skip_balances_download: bool = False
    skip_positions_download: bool = False
    load_owner_data: bool = False
    manage_saved_settings: tuple[str, ...] = ()
    finalised_url: str | None = None
    web_form_required_url: str | None = None
    profile_id: str | None = None
    redirect_url: str | None = None
    base_url: str | None = None
    """The public URL or the request's `scheme://host:port` the task was asked for at: the base of its update form's
    URL in the `webFormRequired` callback."""


class Task(NamedTuple):
    id: str
    mandator_id: str
    user_key: str
    user_id: str
    created_at: float
    status: TaskStatus
    request: TaskRequest
    starts_at: float
    """NOT_YET_STARTED until then, IN_PROGRESS from then until `ends_at`."""
    ends_at: float
    web_form_id: str | None = None
    """WEB_FORM_REQUIRED: the update form the user has to go through."""
    error_code: str | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL_TASK


class CallbackAttempt(NamedTuple):
    """One callback the emulator sent (or tried to): the outbound journal (`GET /__admin/callbacks`)."""

    time: float
    """Virtual epoch seconds when it was sent."""
    kind: str
    """`webForm.finalised`, `task.webFormRequired`, `task.finalised`, `user.deleted`."""
    url: str
    body: bytes
    status: int | None
    """The receiver's HTTP status; None: no answer (`error` says why)."""
    error: str | None
    duration: float
    """Real seconds it took."""
    mandator_id: str | None = None
    fault: str | None = None
    """The outbound fault rule that delayed or failed it."""
