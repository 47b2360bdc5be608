"""Web Form 2.0 (WEBFORM.md §2-§4): web forms for bank connection imports, background update tasks with their update
forms, and their lifecycles on the virtual clock. `WebFormService` lives on `world.webforms`; the API's handlers
(`http/routes/webforms.py`), the hosted page (`http/routes/webform_page.py`) and the admin API call it.

Lifecycle (all **(decided)** where WEBFORM.md says so):
- A form is NOT_YET_OPENED until its URL is opened (`open`: IN_PROGRESS), then ends COMPLETED,
  COMPLETED_WITH_ERROR, ABORTED (`finish`, by the page, the admin or a scenario's `webforms.outcomes`) or EXPIRED
  20 minutes after its creation, also when IN_PROGRESS. Final statuses never change: finishing a final form is
  `IllegalEntityState` (422); finishing a form that was never opened is allowed.
- Time moves forms and tasks: `sweep(now)` expires due forms, applies due scenario outcomes and moves due tasks; the
  sandbox's upkeep calls it at least once a second of real time and every API answer first, so a clock move shows
  at once. Every final status sends the form's `finalised` callback (`{"webFormId", "status"}`), timer expiry too.
- COMPLETED imports a connection in Access (`bankgen.imported_connection`): DEMO0001 connects its XS2A interface
  only (the bank's first interface the form allows), consent for 90 days without `supportsImportNewAccounts`, the
  form's `accountTypes` (and, for the admin or a scenario, the account types the user keeps) filter the accounts
  (none left: COMPLETED_WITH_ERROR/NO_ACCOUNTS_FOR_TYPE_LIST), a connection of the same bank with the same
  Onlinebanking-ID ends COMPLETED_WITH_ERROR/ENTITY_EXISTS. The connection shows `updateStatus` IN_PROGRESS for
  IMPORT_SECONDS, then READY. The payload is `{"bankConnectionId": null}` until final, the new id on COMPLETED,
  `errorCode`/`errorMessage` added on COMPLETED_WITH_ERROR only.
- A task is NOT_YET_STARTED for TASK_START_SECONDS, IN_PROGRESS until TASK_END_SECONDS (its connection IN_PROGRESS,
  so 423 LOCKED for other updates), then COMPLETED when an interface the task may use has stored credentials and,
  for XS2A, a PRESENT consent (not in mode FORCED: the consent cannot import new accounts) and no
  `manageSavedSettings` was asked for; else WEB_FORM_REQUIRED with a BANK_CONNECTION_UPDATE form. A scenario's
  `webforms.task_outcome` forces one. The run sets the connection's `lastManualUpdate`; completing the update form
  sets it again. Callbacks: `webFormRequired` (with `webForm`), `finalised` on COMPLETED/COMPLETED_WITH_ERROR (no
  `webForm`); nothing when the update form finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from mock_finapi import errors
from mock_finapi.randomness import Randomness
from mock_finapi.scenarios.schema import OutcomeSpec, WebFormsSpec
from mock_finapi.services import bankgen
from mock_finapi.services.banks import BankCatalog
from mock_finapi.services.callbacks import TASK_FINALISED, TASK_WEB_FORM_REQUIRED, WEB_FORM_FINALISED
from mock_finapi.services.webform_requests import ImportDetails
from mock_finapi.state.bank_tables import CATEGORIZATION_SECONDS
from mock_finapi.state.banking import Bank, Connection, NewAccount, UpdateResult
from mock_finapi.state.models import Client, User
from mock_finapi.state.protocol import Store
from mock_finapi.state.webforms import (
    FINAL_WEB_FORM,
    WEB_FORM_SECONDS,
    ImportRequest,
    Task,
    TaskRequest,
    WebForm,
    WebFormStatus,
)

log = logging.getLogger("mock_finapi")

STREAM = "webforms"
"""The seeded stream web form and task ids are drawn from."""
IMPORT_SECONDS = 5.0
"""Virtual seconds a connection a web form imported stays `updateStatus` IN_PROGRESS (decided)."""
TASK_START_SECONDS = 1.0
"""A task is NOT_YET_STARTED this long after its creation (decided)."""
TASK_END_SECONDS = 3.0
"""A task reaches its final status this long after its creation (decided)."""
LICENSED = ("FULLY_LICENSED", "AISP")
"""`mandatorLicense` values whose web forms must name a `redirectUrl` (WEBFORM.md §2.1 [LIC])."""

ACCESS_TYPES = {
    "CHECKING": "Checking",
    "SAVINGS": "Savings",
    "CREDIT_CARD": "CreditCard",
    "SECURITY": "Security",
    "LOAN": "Loan",
    "MEMBERSHIP": "Membership",
    "BAUSPAREN": "Bausparen",
}
"""Web Form `AccountType` -> Access `AccountType` (WEBFORM.md §1: same meaning, 1:1)."""
ACCOUNT_TYPES = tuple(sorted(ACCESS_TYPES))
INTERFACES = ("XS2A", "FINTS_SERVER", "WEB_SCRAPER")
ERROR_MESSAGES = {
    "ENTITY_EXISTS": "The bank connection exists already: the user has a connection of this bank with the same "
    "Onlinebanking-ID",
    "BANK_SERVER_REJECTION": "The bank rejected the login: the credentials are wrong",
    "INTERRUPTED": "The web form was interrupted: it was reloaded at a step that cannot be resumed",
    "INVALID_TOKEN": "The user's access token expired or was revoked during the web form",
    "MANDATOR_MISCONFIGURATION": "The mandator is not configured correctly to use Web Form 2.0",
    "NO_ACCOUNTS_FOR_TYPE_LIST": "The bank connection has no account of the requested account types",
    "UNDETERMINED_BANK": "The bank could not be determined: the criteria match no bank or several",
    "UNEXPECTED_ACCESS_RESPONSE": "finAPI Access answered unexpectedly",
    "INTERNAL_ERROR": "An internal error occurred",
    "UNSUPPORTED_FEATURE": "The feature is not supported",
    "UNSUPPORTED_ORDER": "The order is not supported",
}
"""`payload.errorMessage` by `errorCode` (decided wording)."""
DEFAULT_ERROR_CODE = "BANK_SERVER_REJECTION"

# Web Form API error texts (WEBFORM.md §6.1: free text, decided wording)
MSG_FORBIDDEN_MANDATOR = "The mandator '{mandator}' is not allowed to use Web Form 2.0"
MSG_UNKNOWN_WEB_FORM = "Web form with id '{id}' not found"
MSG_UNKNOWN_TASK = "Task with id '{id}' not found"
MSG_UNKNOWN_PROFILE = "Profile with id '{id}' not found"
MSG_UNKNOWN_CONNECTION = "Bank connection with id '{id}' not found"
MSG_CONNECTION_LOCKED = "Bank connection with id '{id}' is locked: an import or update is running"
MSG_UNKNOWN_BANK = "Bank with id '{id}' is not supported"
MSG_TEST_BANK = "Bank with id '{id}' is a test bank, and allowTestBank is false"
MSG_NO_BANK = "No supported bank matches the search '{search}'"
MSG_BANKS = "{count} banks match the search '{search}': narrow it down"
MSG_REDIRECT_REQUIRED = "redirectUrl is required: the mandator is licensed (mandatorLicense {license})"
MSG_REDIRECT_FORBIDDEN = "redirectUrl must not be given: the mandator is not licensed (mandatorLicense {license})"
MSG_FINAL = "Web form with id '{id}' is final already ({status})"
MSG_FORM_BANK = "The web form is for bank {bank}; the user cannot pick bank {picked}"
MSG_NOT_OFFERED = "Bank {bank} is not one the web form offers"
MSG_NOT_FINAL = "'{status}' is not a final status of a web form"


class Outcome(NamedTuple):
    """How a form ends: as the page, the admin (`POST /__admin/webForms/{id}/complete`) or a scenario ends it."""

    status: str
    """COMPLETED, COMPLETED_WITH_ERROR, ABORTED or EXPIRED."""
    error_code: str | None = None
    """COMPLETED_WITH_ERROR: the payload's errorCode (default BANK_SERVER_REJECTION)."""
    error_message: str | None = None
    """Default: ERROR_MESSAGES' text of the code."""
    bank_id: int | None = None
    """The bank the user picked when the form names none (default: the page's pick, else the first test bank the
    form offers)."""
    account_types: tuple[str, ...] | None = None
    """Web Form account types the user keeps, among the form's (default: all the form allows)."""


class CallbackSender(Protocol):
    """What the service needs of `services/callbacks.py`'s `Callbacks`."""

    def url_problem(self, url: str | None) -> str | None: ...

    def send(self, kind: str, url: str, body: Mapping[str, Any], mandator_id: str | None) -> None: ...

    def drop(self, web_form_id: str) -> int: ...


def access_types(web_form_types: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if web_form_types is None else tuple(ACCESS_TYPES[name] for name in web_form_types)


def base_url(public_url: str | None, scheme: str, host: str) -> str:
    """The base of web form URLs: the public URL when one is set (`--public-url`), else the request's own
    `scheme://host[:port]` (its Host header)."""
    if public_url:
        return public_url.rstrip("/")
    return f"{scheme}://{host}"


class WebFormService:
    """The web forms and tasks of one world over its store (`world.webforms`)."""

    def __init__(
        self,
        store: Store,
        banks: BankCatalog,
        rng: Randomness,
        spec: WebFormsSpec,
        callbacks: CallbackSender,
        public_url: str | None = None,
    ) -> None:
        self.store, self.banks, self.rng, self.spec, self.callbacks = store, banks, rng, spec, callbacks
        self.public_url = public_url.rstrip("/") if public_url else None
        self._sweeping = asyncio.Lock()

    # ------------------------------------------------------------------------------------------------ URLs

    def web_form_url(self, form: WebForm, base_url: str) -> str:
        """`<base>/wf/<id>`: `base_url` is the public URL or the request's scheme://host:port."""
        return f"{(self.public_url or base_url).rstrip('/')}/wf/{form.id}"

    # ------------------------------------------------------------------------------------------------ access

    def check_mandator(self, mandator_id: str) -> None:
        """403 FORBIDDEN for a mandator the scenario keeps from Web Form 2.0 (`webforms.disabled_mandators`)."""
        if mandator_id in self.spec.disabled_mandators:
            raise errors.WebFormError(403, "FORBIDDEN", MSG_FORBIDDEN_MANDATOR.format(mandator=mandator_id))

    # ------------------------------------------------------------------------------------------------ web forms

    async def create_import(self, user: User, client: Client, details: ImportDetails, now: float) -> WebForm:
        """`POST /api/webForms/bankConnectionImport` after its body's validation: 404 for a profile (none exists but
        the default, decided), 422 INVALID_REDIRECT_URL, then 422 for the bank (`bank.id`, `bank.search`)."""
        request = details.request
        if request.profile_id is not None:
            raise errors.WebFormError(404, "NOT_FOUND", MSG_UNKNOWN_PROFILE.format(id=request.profile_id))
        check_redirect_url(client, request.redirect_url)
        if details.search is not None:
            request = request._replace(bank_id=self.search_bank(details.search, request.allow_test_bank))
        else:
            request = request._replace(bank_id=self.resolve_bank(request))
        await self.sweep(now)
        form_id = self.rng.uuid(STREAM, await self.store.draw(STREAM))
        form = WebForm(
            form_id,
            user.mandator_id,
            user.key,
            user.id,
            "BANK_CONNECTION_IMPORT",
            "NOT_YET_OPENED",
            now,
            now + WEB_FORM_SECONDS,
            request,
        )
        return await self.store.create_web_form(self._with_outcome(form))

    def resolve_bank(self, request: ImportRequest) -> int | None:
        """The bank of `bank.id` (422 BANK_NOT_SUPPORTED when unknown or a test bank the form may not offer)."""
        if request.bank_id is None:
            return None
        bank = self.banks.get(request.bank_id)
        if bank is None:
            raise errors.WebFormError(422, "BANK_NOT_SUPPORTED", MSG_UNKNOWN_BANK.format(id=request.bank_id))
        if bank.is_test_bank and not request.allow_test_bank:
            raise errors.WebFormError(422, "BANK_NOT_SUPPORTED", MSG_TEST_BANK.format(id=bank.id))
        return bank.id

    def search_bank(self, search: str, allow_test_bank: bool) -> int:
        """The one bank `bank.search` names: 422 BANK_NOT_SUPPORTED for none, BANK_NOT_UNIQUE for several."""
        found = [bank for bank in self.banks.find(search) if allow_test_bank or not bank.is_test_bank]
        if not found:
            raise errors.WebFormError(422, "BANK_NOT_SUPPORTED", MSG_NO_BANK.format(search=search))
        if len(found) > 1:
            raise errors.WebFormError(422, "BANK_NOT_UNIQUE", MSG_BANKS.format(count=len(found), search=search))
        return found[0].id

    async def web_form(self, user: User, web_form_id: str, now: float) -> WebForm:
        """The user's form (404 for another user's, a deleted or an unknown one), as it stands at `now`."""
        await self.sweep(now)
        form = await self.store.web_form(web_form_id)
        if form is None or (form.mandator_id, form.user_key) != (user.mandator_id, user.key):
            raise errors.WebFormError(404, "NOT_FOUND", MSG_UNKNOWN_WEB_FORM.format(id=web_form_id))
        return form

    async def web_forms(self, user: User, descending: bool, now: float) -> list[WebForm]:
        await self.sweep(now)
        return await self.store.web_forms(user.mandator_id, user.id, descending)

    async def delete(self, user: User, web_form_id: str, now: float) -> None:
        """Removes the form record only: a connection it created stays; a callback of it still waiting (a fault
        rule delays it) is dropped (decided)."""
        await self.sweep(now)
        if not await self.store.delete_web_form(user.mandator_id, user.id, web_form_id):
            raise errors.WebFormError(404, "NOT_FOUND", MSG_UNKNOWN_WEB_FORM.format(id=web_form_id))
        self.callbacks.drop(web_form_id)

    async def open(self, web_form_id: str, now: float) -> tuple[WebForm | None, bool]:
        """The page opens the form's URL: the form as it stands (expired first when due; None: unknown) and whether
        this was the first open (NOT_YET_OPENED -> IN_PROGRESS). A later open changes nothing (one-time URL)."""
        await self.sweep(now)
        return await self.store.open_web_form(web_form_id, now)

    async def finish(self, web_form_id: str, outcome: Outcome, now: float) -> WebForm:
        """End the form as `outcome` says (the page, the admin, a scenario); answers the final form. Raises
        UnknownEntity (no such form), IllegalEntityState (final already, also when its 20 minutes are over by `now`:
        then it expires first) or IllegalFieldValue (a bank the form does not offer)."""
        if outcome.status not in FINAL_WEB_FORM:
            raise errors.IllegalFieldValue(MSG_NOT_FINAL.format(status=outcome.status))
        form = await self.store.web_form(web_form_id)
        if form is None:
            raise errors.UnknownEntity(MSG_UNKNOWN_WEB_FORM.format(id=web_form_id))
        if not form.final and form.expires_at <= now and outcome.status != "EXPIRED":
            form = await self._finish(form, Outcome("EXPIRED"), form.expires_at)
        if form.final:
            raise errors.IllegalEntityState(MSG_FINAL.format(id=form.id, status=form.status))
        return await self._finish(form, outcome, now)

    async def _finish(self, form: WebForm, outcome: Outcome, now: float) -> WebForm:
        if form.type == "BANK_CONNECTION_UPDATE":
            return await self._finish_update(form, outcome, now)
        changes = form._replace(status=_final(outcome.status), finalised_at=now)
        connection: tuple[Connection, Sequence[NewAccount]] | None = None
        if outcome.status == "COMPLETED":
            made = await self._import(form, outcome, now)
            if isinstance(made, str):
                changes = _failed(changes, made, None)
            else:
                connection = made
        elif outcome.status == "COMPLETED_WITH_ERROR":
            changes = _failed(changes, outcome.error_code or DEFAULT_ERROR_CODE, outcome.error_message)
        done = await self.store.finish_web_form(form.id, changes, connection, now)
        return self._finished(form, done)

    async def _finish_update(self, form: WebForm, outcome: Outcome, now: float) -> WebForm:
        """An update form: COMPLETED (and COMPLETED_WITH_ERROR) name the task's connection and set its
        `lastManualUpdate`; EXPIRED and ABORTED change nothing in Access."""
        task = await self.store.task(form.task_id) if form.task_id else None
        changes = form._replace(status=_final(outcome.status), finalised_at=now)
        connection_id = task.request.connection_id if task else None
        result: UpdateResult | None = None
        if outcome.status == "COMPLETED":
            changes = changes._replace(connection_id=connection_id)
            result = UpdateResult("OK", now)
        elif outcome.status == "COMPLETED_WITH_ERROR":
            code = outcome.error_code or DEFAULT_ERROR_CODE
            changes = _failed(changes, code, outcome.error_message)._replace(connection_id=connection_id)
            if code == "BANK_SERVER_REJECTION":
                result = UpdateResult("BANK_SERVER_REJECTION", now, changes.error_message, "BUSINESS")
            else:
                result = UpdateResult("INTERNAL_SERVER_ERROR", now, changes.error_message, "TECHNICAL")
        done = await self.store.finish_web_form(form.id, changes, None, now)
        finished = self._finished(form, done)
        if result is not None and task is not None:
            connection_id = task.request.connection_id
            await self.store.record_manual_update(task.mandator_id, task.user_key, connection_id, result, now)
        return finished

    def _finished(self, form: WebForm, done: WebForm | None) -> WebForm:
        if done is None:  # finished (or deleted) meanwhile
            raise errors.IllegalEntityState(MSG_FINAL.format(id=form.id, status="finished meanwhile"))
        url = done.request.callback_url
        if url is not None:
            body = {"webFormId": done.id, "status": done.status}
            self.callbacks.send(WEB_FORM_FINALISED, url, body, done.mandator_id)
        return done

    async def _import(self, form: WebForm, outcome: Outcome, now: float) -> tuple[Connection, list[NewAccount]] | str:
        """The connection a COMPLETED import form makes, or the error code it ends with instead."""
        request = form.request
        bank = self._bank_of(form, outcome)
        if bank is None:
            return "UNDETERMINED_BANK"
        allowed = request.allowed_interfaces
        interfaces = tuple(i for i in bank.interfaces if allowed is None or i.banking_interface in allowed)
        if not interfaces:
            return "NO_ACCOUNTS_FOR_TYPE_LIST"
        kept = request.account_types
        if outcome.account_types is not None:
            kept = tuple(t for t in outcome.account_types if kept is None or t in kept)
        login = form.page.login or (bank.logins[0][0] if bank.logins else form.user_key)
        pin = dict(bank.logins).get(login, bankgen.SCENARIO_PIN)
        existing = await self.store.connections(form.mandator_id, form.user_key, None, now)
        if any(c.bank_id == bank.id and _login_of(c) == login for c in existing):
            return "ENTITY_EXISTS"
        position = await self.store.draw(bankgen.STREAM)
        connection, accounts = bankgen.imported_connection(
            bank._replace(interfaces=interfaces),
            self.rng,
            position,
            now,
            form.mandator_id,
            form.user_key,
            account_types=access_types(kept),
            load_owner_data=request.load_owner_data,
        )
        if not accounts:
            return "NO_ACCOUNTS_FOR_TYPE_LIST"
        if request.skip_positions_download:
            accounts = [new._replace(transactions=()) for new in accounts]
        if request.skip_balances_download:
            accounts = [
                new._replace(account=new.account._replace(balance=None, available_funds=None)) for new in accounts
            ]
        ready = now + IMPORT_SECONDS
        interface = connection.interfaces[0]._replace(
            credentials=(("Onlinebanking-ID", login), ("PIN", pin)),
            max_days_for_download=request.max_days_for_download,
        )
        connection = connection._replace(
            name=request.connection_name,
            interfaces=(interface,),
            ready_at=ready,
            categorized_at=ready + CATEGORIZATION_SECONDS,
        )
        return connection, accounts

    def _bank_of(self, form: WebForm, outcome: Outcome) -> Bank | None:
        """The bank a completed import connects: the form's, else the one the user picked (the outcome's, the
        page's), else the first test bank the form offers (else its first bank). Raises IllegalFieldValue for a pick
        the form does not allow."""
        request = form.request
        if request.bank_id is not None:
            if outcome.bank_id is not None and outcome.bank_id != request.bank_id:
                raise errors.IllegalFieldValue(MSG_FORM_BANK.format(bank=request.bank_id, picked=outcome.bank_id))
            return self.banks.get(request.bank_id)
        offered = sorted(
            (bank for bank in self.banks.all() if offers(request, bank)), key=lambda bank: not bank.is_test_bank
        )
        picked = outcome.bank_id if outcome.bank_id is not None else form.page.bank_id
        if picked is None:
            return offered[0] if offered else None
        bank = self.banks.get(picked)
        if bank is None or bank not in offered:
            raise errors.IllegalFieldValue(MSG_NOT_OFFERED.format(bank=picked))
        return bank

    # ------------------------------------------------------------------------------------------------ tasks

    async def create_task(self, user: User, client: Client, request: TaskRequest, now: float) -> Task:
        """`POST /api/tasks/backgroundUpdate` after its body's validation: 404 profile or connection, 422 redirect
        URL, 423 while the connection is busy."""
        if request.profile_id is not None:
            raise errors.WebFormError(404, "NOT_FOUND", MSG_UNKNOWN_PROFILE.format(id=request.profile_id))
        await self.sweep(now)
        found = await self.store.connection(user.mandator_id, user.id, request.connection_id, now)
        if found is None:
            raise errors.WebFormError(404, "NOT_FOUND", MSG_UNKNOWN_CONNECTION.format(id=request.connection_id))
        check_redirect_url(client, request.redirect_url)
        task_id = self.rng.uuid(STREAM, await self.store.draw(STREAM))
        task = Task(
            task_id,
            user.mandator_id,
            user.key,
            user.id,
            now,
            "NOT_YET_STARTED",
            request,
            now + TASK_START_SECONDS,
            now + TASK_END_SECONDS,
        )
        outcome = await self.store.create_task(task, now)
        if outcome == "unknown":
            raise errors.WebFormError(404, "NOT_FOUND", MSG_UNKNOWN_CONNECTION.format(id=request.connection_id))
        if outcome == "locked":
            raise errors.WebFormError(423, "LOCKED", MSG_CONNECTION_LOCKED.format(id=request.connection_id))
        return task

    async def task(self, user: User, task_id: str, now: float) -> tuple[Task, WebForm | None]:
        """The user's task with its update form (None: none yet, or deleted)."""
        await self.sweep(now)
        task = await self.store.task(task_id)
        if task is None or (task.mandator_id, task.user_key) != (user.mandator_id, user.key):
            raise errors.WebFormError(404, "NOT_FOUND", MSG_UNKNOWN_TASK.format(id=task_id))
        return task, await self._form_of(task)

    async def tasks(self, user: User, descending: bool, now: float) -> list[tuple[Task, WebForm | None]]:
        await self.sweep(now)
        found = await self.store.tasks(user.mandator_id, user.id, descending)
        return [(task, await self._form_of(task)) for task in found]

    async def _form_of(self, task: Task) -> WebForm | None:
        return None if task.web_form_id is None else await self.store.web_form(task.web_form_id)

    def _task_outcome(self, task: Task, connection: Connection | None, now: float) -> str:
        forced = self.spec.task_outcome
        if forced is not None:
            return forced
        if connection is None:
            return "COMPLETED_WITH_ERROR"
        return "COMPLETED" if background_possible(task.request, connection, now) else "WEB_FORM_REQUIRED"

    async def _end_task(self, task: Task, now: float) -> None:
        """The run is over (at `task.ends_at`): its final status, Access's `lastManualUpdate`, the callbacks."""
        at = task.ends_at
        request = task.request
        connection = await self.store.connection(task.mandator_id, task.user_key, request.connection_id, now)
        status = self._task_outcome(task, connection, at)
        form: WebForm | None = None
        if status == "WEB_FORM_REQUIRED":
            form_id = self.rng.uuid(STREAM, await self.store.draw(STREAM))
            bank_id = connection.bank_id if connection is not None else None
            form = WebForm(
                form_id,
                task.mandator_id,
                task.user_key,
                task.user_id,
                "BANK_CONNECTION_UPDATE",
                "NOT_YET_OPENED",
                at,
                at + WEB_FORM_SECONDS,
                ImportRequest(
                    bank_id=bank_id,
                    account_types=request.account_types,
                    allowed_interfaces=request.allowed_interfaces,
                    skip_balances_download=request.skip_balances_download,
                    skip_positions_download=request.skip_positions_download,
                    load_owner_data=request.load_owner_data,
                    redirect_url=request.redirect_url,
                    profile_id=request.profile_id,
                ),
                task_id=task.id,
            )
            form = self._with_outcome(form)
            changes = task._replace(status="WEB_FORM_REQUIRED", web_form_id=form_id)
        elif status == "COMPLETED":
            changes = task._replace(status="COMPLETED")
        else:
            code = "BANK_SERVER_REJECTION" if connection is not None else "UNEXPECTED_ACCESS_RESPONSE"
            changes = task._replace(status="COMPLETED_WITH_ERROR", error_code=code)
        updated = await self.store.update_task(task.id, changes, form)
        if updated is None:  # another sweep ended it
            return
        if connection is not None and status != "WEB_FORM_REQUIRED":
            result = (
                UpdateResult("OK", at)
                if status == "COMPLETED"
                else UpdateResult("BANK_SERVER_REJECTION", at, ERROR_MESSAGES["BANK_SERVER_REJECTION"], "BUSINESS")
            )
            await self.store.record_manual_update(task.mandator_id, task.user_key, connection.id, result, now)
        if status == "WEB_FORM_REQUIRED":
            url = request.web_form_required_url
            if url is not None and form is not None:
                info = {"id": form.id, "url": self.web_form_url(form, request.base_url or ""), "status": form.status}
                body = {"taskId": task.id, "status": status, "webForm": info}
                self.callbacks.send(TASK_WEB_FORM_REQUIRED, url, body, task.mandator_id)
        elif request.finalised_url is not None:
            body = {"taskId": task.id, "status": status}
            self.callbacks.send(TASK_FINALISED, request.finalised_url, body, task.mandator_id)

    # ------------------------------------------------------------------------------------------------ time

    def _outcome(self, form: WebForm) -> OutcomeSpec | None:
        """The scenario outcome of the form: the first `webforms.outcomes` entry matching it, if any."""
        for spec in self.spec.outcomes:
            if spec.user is not None and spec.user.lower() != form.user_key.lower():
                continue
            if spec.mandator_id is not None and spec.mandator_id != form.mandator_id:
                continue
            return spec
        return None

    def _with_outcome(self, form: WebForm) -> WebForm:
        """The new form with the time its scenario outcome is due (kept in the store, so a snapshot or another
        worker finishes it too)."""
        spec = self._outcome(form)
        return form if spec is None else form._replace(outcome_at=form.created_at + spec.after)

    async def sweep(self, now: float) -> int:
        """Everything due at `now`: tasks' transitions (with their callbacks), then forms, oldest first: a scenario
        outcome due before the form's expiry, else the expiry (each form finished at the instant it was due).
        Answers how many tasks and forms were due."""
        async with self._sweeping:
            tasks = await self.store.due_tasks(now)
            for task in tasks:
                if now >= task.ends_at:
                    await self._end_task(task, now)
                elif task.status == "NOT_YET_STARTED":
                    await self.store.update_task(task.id, task._replace(status="IN_PROGRESS"), None)
            forms = await self.store.due_web_forms(now)
            for form in forms:
                spec = self._outcome(form)
                if spec is not None and form.outcome_at is not None and form.outcome_at < form.expires_at:
                    await self._finish_scheduled(form, spec, form.outcome_at)
                elif form.expires_at <= now:
                    await self._finish_quietly(form, Outcome("EXPIRED"), form.expires_at)
            return len(tasks) + len(forms)

    async def _finish_scheduled(self, form: WebForm, spec: OutcomeSpec, at: float) -> None:
        outcome = Outcome(spec.status, spec.error_code, None, spec.bank, spec.account_types)
        try:
            await self._finish(form, outcome, at)
        except errors.IllegalFieldValue as exc:  # a bank the form does not offer: the user finds none
            log.warning("scenario outcome of web form %s: %s", form.id, exc.message)
            await self._finish_quietly(form, Outcome("COMPLETED_WITH_ERROR", "UNDETERMINED_BANK"), at)
        except errors.CapacityReached as exc:  # no room for the connection's transactions
            log.warning("scenario outcome of web form %s: %s", form.id, exc.message)
            await self._finish_quietly(form, Outcome("COMPLETED_WITH_ERROR", "INTERNAL_ERROR"), at)
        except errors.IllegalEntityState:
            pass  # finished meanwhile

    async def _finish_quietly(self, form: WebForm, outcome: Outcome, now: float) -> None:
        with contextlib.suppress(errors.IllegalEntityState):  # finished or deleted meanwhile
            await self._finish(form, outcome, now)


# ---------------------------------------------------------------------------------------------------- rules


def offers(request: ImportRequest, bank: Bank) -> bool:
    """Whether a form without a bank offers `bank` in its search: an interface it allows, a test bank only with
    `allowTestBank` (decided)."""
    if bank.is_test_bank and not request.allow_test_bank:
        return False
    allowed = request.allowed_interfaces
    return any(allowed is None or i.banking_interface in allowed for i in bank.interfaces)


def check_redirect_url(client: Client, redirect_url: str | None) -> None:
    """Licensed mandators (`mandatorLicense` FULLY_LICENSED or AISP) must give a `redirectUrl`, others must not
    (WEBFORM.md §2.1 [LIC]): else 422 INVALID_REDIRECT_URL."""
    license_ = str(client.config.get("mandatorLicense") or "UNLICENSED")
    if license_ in LICENSED and redirect_url is None:
        raise errors.WebFormError(422, "INVALID_REDIRECT_URL", MSG_REDIRECT_REQUIRED.format(license=license_))
    if license_ not in LICENSED and redirect_url is not None:
        raise errors.WebFormError(422, "INVALID_REDIRECT_URL", MSG_REDIRECT_FORBIDDEN.format(license=license_))


def background_possible(request: TaskRequest, connection: Connection, now: float) -> bool:
    """Whether a task can update without the user (WEBFORM.md §4, decided): no `manageSavedSettings`, and an
    interface it may use with stored credentials and, for XS2A, a consent PRESENT at `now` that mode FORCED does not
    delete (the emulator's consents never support importing new accounts)."""
    if request.manage_saved_settings:
        return False
    for interface in connection.interfaces:
        allowed = request.allowed_interfaces
        if allowed is not None and interface.banking_interface not in allowed:
            continue
        if not all(value is not None for _, value in interface.credentials):
            continue
        if interface.banking_interface == "XS2A":
            consent = interface.consent_expires_at
            if consent is None or consent <= now or request.import_new_accounts_mode == "FORCED":
                continue
        return True
    return False


def _login_of(connection: Connection) -> str | None:
    for interface in connection.interfaces:
        for label, value in interface.credentials:
            if label == "Onlinebanking-ID" and value is not None:
                return value
    return None


def _final(status: str) -> WebFormStatus:
    if status not in FINAL_WEB_FORM:
        raise errors.IllegalFieldValue(MSG_NOT_FINAL.format(status=status))
    return status


def _failed(form: WebForm, code: str, message: str | None) -> WebForm:
    return form._replace(
        status="COMPLETED_WITH_ERROR", error_code=code, error_message=message or ERROR_MESSAGES.get(code, code)
    )
