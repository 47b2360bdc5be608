"""The hosted web form page at `/wf/{id}` (WEBFORM.md §3, §5.4, §7.15): the end user's part of a Web Form 2.0
flow, in plain HTML forms (no script), English or German.

`GET /wf/{id}` opens the form (`WebFormService.open`: the first open marks it IN_PROGRESS) and shows the step the
user is at; every step POSTs to `/wf/{id}/<step>` and is answered with a redirect (303) back to `GET /wf/{id}`, so a
reload never sends a step twice. The page's progress is the form's `PageState` (`store.update_page`); the rules are
`services/webform_flow.py`'s, the HTML `http/webform_html.py`'s. Steps: bank search (when the form names no bank) →
login → SCA (procedure choice and TAN, decoupled confirmation, or redirect to the bank) → accounts → finished
through `WebFormService.finish`.

**(decided)**, besides the flow rules of `services/webform_flow.py`:
- One-time URL: the first open sets a cookie for `/wf/{id}` (HttpOnly, SameSite=Lax) naming this browser; that
  browser may reload any step (and sees the outcome once the form is final). A browser without it (another
  device, a shared link, a second open) gets the one-time error page, 410, and the form's status does not change.
- Unknown form → 404 page; used URL, or a form that is final → 410 page (expired forms say so), a styled page in
  the user's language either way; the browser that ran the form sees its outcome (200; EXPIRED: 410).
- A step POSTed out of order (back button, a second tab, a double click) changes nothing: the user is sent back to
  the step they are at with a notice (the flow resumes; it never ends INTERRUPTED from the page).
- A wrong TAN shows an error and the TAN field again, as often as the user tries (within the form's 20 minutes);
  a wrong login ends the form at once: COMPLETED_WITH_ERROR/BANK_SERVER_REJECTION.
- Redirects after the end: COMPLETED → 303 to `redirectUrl` when given, else "You can close this window";
  ABORTED → 303 to `abortRedirectUrl` when given, else a cancelled page (with `customerSupportUrl`);
  COMPLETED_WITH_ERROR → an error page offering `errorRedirectUrl` and `customerSupportUrl` as links (not
  automatic).
- Language: `?lang=en|de` (kept on every step), else the one stored for the form, else `Accept-Language`, else
  English.
- The PIN goes in a field named `password` and the TAN in `tan_secret`, so that the journal masks both.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from mock_finapi import errors
from mock_finapi.http import webform_html as html
from mock_finapi.http.context import RequestContext, context
from mock_finapi.http.routes import Endpoint, route
from mock_finapi.http.webform_texts import Texts
from mock_finapi.services import webform_flow as flow
from mock_finapi.services.webforms import Outcome
from mock_finapi.state.banking import Bank
from mock_finapi.state.webforms import PageState, WebForm
from mock_finapi.world import World

COOKIE = "wf_session"
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
"""Every page: never cached (it shows a user's flow), nothing loaded from elsewhere, the form's id never sent on."""
MSG_CANCELLED_AT_BANK = "The user cancelled the authorisation at the bank"
"""`errorMessage` of a form cancelled at the redirect bank (other errors take the web form service's texts)."""
MAX_FIELD = 200
"""Characters of a submitted field that are looked at."""
SCA_STEPS = ("sca", "tan", "decoupled", "redirect", "bank_site")


class Visit:
    """One request of the page: its context, form (None: unknown), page parameters and language."""

    def __init__(self, request: Request, form: WebForm | None, *, first: bool = False) -> None:
        self.request = request
        self.ctx: RequestContext = context(request)
        self.world: World = self.ctx.world
        self.form = form
        self.web_form_id: str = request.path_params["id"]
        self.params = flow.page_params(parse_qsl(request.scope["query_string"].decode("latin-1"), True))
        stored = form.page.language if form is not None and not first else None
        accepted = flow.accepted_language(self.ctx.header(b"accept-language"))
        self.lang: str = self.params.lang or stored or accepted or flow.DEFAULT_LANGUAGE
        self.t = Texts(self.lang)
        if form is not None:  # the journal shows the page's requests under the form's mandator
            self.ctx.mandator_id, self.ctx.user_id = form.mandator_id, form.user_id

    @property
    def now(self) -> float:
        return self.ctx.now

    def has_session(self) -> bool:
        if self.form is None:
            return False
        expected = flow.session_key(self.world.seed, self.form.id)
        return flow.same_key(self.request.cookies.get(COOKIE), expected)

    def bank(self) -> Bank | None:
        form = self.form
        if form is None:
            return None
        bank_id = form.page.bank_id if form.page.bank_id is not None else form.request.bank_id
        return self.world.banks.get(bank_id) if bank_id is not None else None

    def view(self, *, with_progress: bool = True) -> html.View:
        form = self.form
        if form is None:
            return html.View(self.t, self.web_form_id, self.params)
        bank = self.bank()
        steps: list[str] = []
        if form.request.bank_id is None and form.type == "BANK_CONNECTION_IMPORT":
            steps.append("bank")
        steps.append("login")
        if bank is None or flow.sca(bank, form.request) != "none":
            steps.append("sca")
        if form.type == "BANK_CONNECTION_IMPORT":
            steps.append("accounts")
        step = form.page.step.partition(":")[0]
        current = "sca" if step in SCA_STEPS else step
        minutes = max(0, int((form.expires_at - self.now) // 60)) if not form.final else None
        return html.View(
            self.t,
            self.web_form_id,
            self.params,
            update=form.type == "BANK_CONNECTION_UPDATE",
            bank=bank,
            steps=tuple(steps) if with_progress else (),
            current=current,
            minutes_left=minutes,
        )

    def home(self, **extra: str) -> str:
        return f"/wf/{quote(self.web_form_id, safe='')}" + self.params.query(self.lang, **extra)


def page(body: str, status: int = 200) -> Response:
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers=HEADERS)


# ---------------------------------------------------------------------------------------------------- GET


async def show(request: Request) -> Response:
    """Open the form (the first time) and show the step the user is at, or the outcome."""
    ctx = context(request)
    web_form_id: str = request.path_params["id"]
    if request.method == "HEAD":  # a link preview must not use up the one-time URL
        visit = Visit(request, await ctx.world.store.web_form(web_form_id))
        return page("", _peek_status(visit))
    form, first = await ctx.world.webforms.open(web_form_id, ctx.now)
    visit = Visit(request, form, first=first)
    if form is None:
        return unknown(visit)
    if first:
        response = await show_step(visit, first=True)
        secure = "; Secure" if request.url.scheme == "https" else ""
        response.headers.append(
            "Set-Cookie",
            f"{COOKIE}={flow.session_key(visit.world.seed, form.id)}; Path=/wf/{form.id}; HttpOnly; SameSite=Lax"
            + secure,
        )
        return response
    if not visit.has_session():
        return used(visit)
    if form.final:
        return outcome(visit)
    if visit.params.lang is not None and visit.params.lang != form.page.language:
        updated = await visit.world.store.update_page(form.id, form.page._replace(language=visit.params.lang))
        visit.form = updated or form
    return await show_step(visit)


def _peek_status(visit: Visit) -> int:
    form = visit.form
    if form is None:
        return 404
    if form.status == "EXPIRED" or form.expires_at <= visit.now or (form.opened and not visit.has_session()):
        return 410
    return 200


async def show_step(visit: Visit, *, first: bool = False) -> Response:
    form = visit.form
    assert form is not None
    page_state = form.page
    if first or page_state.step == "start":
        step = "login" if form.request.bank_id is not None else "bank"
        page_state = PageState(step, form.request.bank_id, language=visit.lang)
        store = visit.world.store
        visit.form = form = await store.update_page(form.id, page_state) or await store.web_form(form.id) or form
        if form.final:  # ended meanwhile (the admin, a scenario's outcome)
            return outcome(visit)
    query = dict(parse_qsl(visit.request.scope["query_string"].decode("latin-1"), True))
    notice = html.alert(visit.t.html("resumed"), "info") if query.get("resumed") else ""
    step, _, argument = form.page.step.partition(":")
    bank = visit.bank()
    if step == "bank":
        search = query.get("q", "")[: flow.MAX_SEARCH]
        banks, more = flow.search_banks(visit.world.banks, form.request, search)
        return page(html.bank_search(visit.view(), search, banks, more, notice=notice))
    if bank is None:  # the form's bank left the catalog (another scenario): nothing to log in to
        return await finish_error(visit, "UNDETERMINED_BANK")
    if step == "login":
        return page(login_page(visit, bank, notice=notice))
    if step == "sca":
        return page(html.procedures(visit.view(), flow.procedures(bank, form.request), notice=notice))
    if step in ("tan", "decoupled"):
        chosen = flow.procedure(bank, form.request, argument)
        name = chosen.procedure_name if chosen else argument
        if step == "tan":
            return page(html.tan(visit.view(), name, notice=notice))
        return page(html.decoupled(visit.view(), name, notice=notice))
    if step == "redirect":
        return page(html.redirect(visit.view(), notice=notice))
    if step == "bank_site":
        return page(html.bank_site(visit.view(), notice=notice))
    if step == "accounts":
        return page(html.accounts(visit.view(), flow.offered_accounts(form.request), notice=notice))
    # a step this page does not know (a state of another version): start the flow again
    await visit.world.store.update_page(form.id, PageState(language=visit.lang))
    return see_other(visit.home())


def login_page(visit: Visit, bank: Bank, *, login_value: str = "", error: str | None = None, notice: str = "") -> str:
    form = visit.form
    assert form is not None
    return html.login(
        visit.view(),
        login_value=login_value,
        error=error,
        test_logins=bank.logins,
        can_change_bank=form.request.bank_id is None and form.type == "BANK_CONNECTION_IMPORT",
        notice=notice,
    )


# ---------------------------------------------------------------------------------------------------- outcomes


def unknown(visit: Visit) -> Response:
    view = visit.view()
    return page(html.outcome(view, "error", "unknown_h", visit.t.html("unknown_text")), 404)


def used(visit: Visit) -> Response:
    """The one-time error page: the URL was opened before (or the form ended) and this browser is not the one."""
    form = visit.form
    view = html.View(visit.t, visit.web_form_id, visit.params)
    urls = visit.params.urls
    back, support = urls.get("errorRedirectUrl"), urls.get("customerSupportUrl")
    if form is not None and form.status == "EXPIRED":
        body = html.outcome(view, "expired", "expired_h", visit.t.html("expired_text"), back=back, support=support)
    else:
        body = html.outcome(view, "error", "used_h", visit.t.html("used_text"), back=back, support=support)
    return page(body, 410)


def outcome(visit: Visit) -> Response:
    """What the browser that ran a final form sees of it."""
    form = visit.form
    assert form is not None
    t, urls = visit.t, visit.params.urls
    view = visit.view(with_progress=False)
    support = urls.get("customerSupportUrl")
    if form.status == "COMPLETED":
        heading = "done_update_h" if form.type == "BANK_CONNECTION_UPDATE" else "done_h"
        body = html.outcome(view, "ok", heading, t.html("done_text"), back=urls.get("redirectUrl"))
        return page(body)
    if form.status == "ABORTED":
        back = urls.get("abortRedirectUrl")
        return page(
            html.outcome(view, "cancelled", "cancelled_h", t.html("cancelled_text"), back=back, support=support)
        )
    if form.status == "EXPIRED":
        back = urls.get("errorRedirectUrl")
        body = html.outcome(view, "expired", "expired_h", t.html("expired_text"), back=back, support=support)
        return page(body, 410)
    code = form.error_code or "INTERNAL_ERROR"
    if form.error_message == MSG_CANCELLED_AT_BANK:
        text = t.html("error_cancelled_at_bank")
    elif f"error_{code}" in t.table:
        text = t.html(f"error_{code}")
    else:
        text = t.html("error_other")
    back = urls.get("errorRedirectUrl")
    return page(html.outcome(view, "error", "failed_h", text, back=back, support=support, code=code))


# ---------------------------------------------------------------------------------------------------- POST steps


class Submitted:
    """A step's form fields (urlencoded; the first of repeated ones, all of `accountType`)."""

    def __init__(self, body: bytes | None) -> None:
        text = body.decode("utf-8", "replace") if body else ""
        self.pairs = parse_qsl(text, keep_blank_values=True)[:100]
        self.fields: dict[str, str] = {}
        for key, value in self.pairs:
            self.fields.setdefault(key, value[:MAX_FIELD])

    def get(self, key: str) -> str:
        return self.fields.get(key, "")

    def all(self, key: str) -> list[str]:
        return [value for name, value in self.pairs if name == key]


async def step_visit(request: Request, *steps: str) -> tuple[Visit, Response | None]:
    """The visit of a step POST, or the answer when the step cannot be taken here: unknown form (404), not this
    browser's (410), final already (back to its outcome), another step (back to it, with a notice)."""
    ctx = context(request)
    visit = Visit(request, await ctx.world.store.web_form(request.path_params["id"]))
    form = visit.form
    if form is None:
        return visit, unknown(visit)
    if not visit.has_session():
        return visit, used(visit)
    if not form.final and form.expires_at <= ctx.now:  # the lifecycle's expiry (WebFormService) before any step
        visit.form = form = (await ctx.world.webforms.open(form.id, ctx.now))[0] or form
    if form.final:
        return visit, see_other(visit.home())
    if form.page.step.partition(":")[0] not in steps:
        return visit, see_other(visit.home(resumed="1"))
    return visit, None


class BankStep(NamedTuple):
    visit: Visit
    form: WebForm
    bank: Bank


async def bank_step(request: Request, *steps: str) -> BankStep | Response:
    """A step POST at the form's bank: `step_visit`'s checks, then back to the page when the bank left the catalog
    (another scenario)."""
    visit, answer = await step_visit(request, *steps)
    if answer is not None:
        return answer
    form, bank = visit.form, visit.bank()
    assert form is not None
    if bank is None:
        return see_other(visit.home())
    return BankStep(visit, form, bank)


async def move(visit: Visit, state: PageState) -> Response:
    """Save the page's progress and show it."""
    assert visit.form is not None
    await visit.world.store.update_page(visit.form.id, state)
    return see_other(visit.home())


async def finish(visit: Visit, result: Outcome) -> WebForm | None:
    """Finish through the web form service; None when the form was final already (a race: its outcome shows)."""
    assert visit.form is not None
    try:
        visit.form = await visit.world.webforms.finish(visit.form.id, result, visit.now)
    except (errors.IllegalEntityState, errors.UnknownEntity, errors.IllegalFieldValue):
        return None
    return visit.form


async def finish_error(visit: Visit, code: str, message: str | None = None) -> Response:
    await finish(visit, Outcome("COMPLETED_WITH_ERROR", error_code=code, error_message=message))
    return see_other(visit.home())


async def choose_bank(request: Request) -> Response:
    visit, answer = await step_visit(request, "bank")
    if answer is not None:
        return answer
    assert visit.form is not None
    chosen = Submitted(visit.ctx.body).get("bank")
    bank = visit.world.banks.get(int(chosen)) if chosen.isdigit() and len(chosen) < 19 else None
    if bank is None or not flow.offered(bank, visit.form.request):
        return see_other(visit.home())
    return await move(visit, visit.form.page._replace(step="login", bank_id=bank.id, login=None))


async def change_bank(request: Request) -> Response:
    visit, answer = await step_visit(request, "login")
    if answer is not None:
        return answer
    assert visit.form is not None
    if visit.form.request.bank_id is not None or visit.form.type != "BANK_CONNECTION_IMPORT":
        return see_other(visit.home(resumed="1"))
    return await move(visit, visit.form.page._replace(step="bank", bank_id=None, login=None))


async def submit_login(request: Request) -> Response:
    at = await bank_step(request, "login")
    if isinstance(at, Response):
        return at
    visit, form, bank = at
    fields = Submitted(visit.ctx.body)
    user, pin = fields.get("login").strip(), fields.get("password")
    if not user or not pin:
        body = login_page(visit, bank, login_value=user, error=visit.t.text("missing_login"))
        return page(body, 422)
    if not flow.login_accepted(bank, user, pin):
        return await finish_error(visit, "BANK_SERVER_REJECTION")
    if not flow.needs_sca(bank, form.request, user):
        return await sca_passed(visit, bank, user)
    step = "redirect" if flow.sca(bank, form.request) == "redirect" else "sca"
    return await move(visit, form.page._replace(step=step, bank_id=bank.id, login=user))


async def choose_procedure(request: Request) -> Response:
    at = await bank_step(request, "sca")
    if isinstance(at, Response):
        return at
    visit, form, bank = at
    chosen = flow.procedure(bank, form.request, Submitted(visit.ctx.body).get("procedure"))
    if chosen is None:
        body = html.procedures(
            visit.view(), flow.procedures(bank, form.request), error=visit.t.text("choose_procedure")
        )
        return page(body, 422)
    kind = "decoupled" if chosen.procedure_name == flow.DECOUPLED else "tan"
    return await move(visit, form.page._replace(step=f"{kind}:{chosen.procedure_id}"))


async def submit_tan(request: Request) -> Response:
    at = await bank_step(request, "tan")
    if isinstance(at, Response):
        return at
    visit, form, bank = at
    if Submitted(visit.ctx.body).get("tan_secret").strip() != flow.TAN:
        chosen = flow.procedure(bank, form.request, form.page.step.partition(":")[2])
        name = chosen.procedure_name if chosen else ""
        return page(html.tan(visit.view(), name, error=visit.t.text("tan_wrong")), 422)
    return await sca_passed(visit, bank, form.page.login)


async def confirm_decoupled(request: Request) -> Response:
    at = await bank_step(request, "decoupled")
    if isinstance(at, Response):
        return at
    visit, form, bank = at
    return await sca_passed(visit, bank, form.page.login)


async def to_bank(request: Request) -> Response:
    visit, answer = await step_visit(request, "redirect")
    if answer is not None:
        return answer
    assert visit.form is not None
    return await move(visit, visit.form.page._replace(step="bank_site"))


async def consent(request: Request) -> Response:
    """The bank's consent page: allowing passes the SCA; cancelling at the bank sends the user back like success,
    and the next step fails (WEBFORM.md §5.4): COMPLETED_WITH_ERROR/BANK_SERVER_REJECTION."""
    at = await bank_step(request, "bank_site")
    if isinstance(at, Response):
        return at
    visit, form, bank = at
    if Submitted(visit.ctx.body).get("consent") != "allow":
        return await finish_error(visit, "BANK_SERVER_REJECTION", MSG_CANCELLED_AT_BANK)
    return await sca_passed(visit, bank, form.page.login)


async def sca_passed(visit: Visit, bank: Bank, login: str | None) -> Response:
    """Logged in (and authenticated): an update form is done; an import goes on to its accounts, unless the bank has
    none of the types asked for."""
    form = visit.form
    assert form is not None
    if form.type == "BANK_CONNECTION_UPDATE":
        return await completed(visit, Outcome("COMPLETED", bank_id=bank.id))
    if not flow.offered_accounts(form.request):
        return await finish_error(visit, "NO_ACCOUNTS_FOR_TYPE_LIST")
    return await move(visit, form.page._replace(step="accounts", bank_id=bank.id, login=login))


async def choose_accounts(request: Request) -> Response:
    at = await bank_step(request, "accounts")
    if isinstance(at, Response):
        return at
    visit, form, bank = at
    offered = flow.offered_accounts(form.request)
    kinds = {group.account_type for group in offered}
    chosen = [kind for kind in dict.fromkeys(Submitted(visit.ctx.body).all("accountType")) if kind in kinds]
    if not chosen:
        body = html.accounts(visit.view(), offered, checked=(), error=visit.t.text("accounts_none"))
        return page(body, 422)
    return await completed(visit, Outcome("COMPLETED", bank_id=bank.id, account_types=tuple(chosen)))


async def completed(visit: Visit, result: Outcome) -> Response:
    """COMPLETED (the import may still end COMPLETED_WITH_ERROR: ENTITY_EXISTS): `redirectUrl` or the done page."""
    done = await finish(visit, result)
    target = visit.params.urls.get("redirectUrl")
    if done is not None and done.status == "COMPLETED" and target is not None:
        return see_other(target)
    return see_other(visit.home())


async def cancel(request: Request) -> Response:
    """Cancel at any step: ABORTED, then `abortRedirectUrl` or the cancelled page."""
    visit, answer = await step_visit(request, "bank", "login", *SCA_STEPS, "accounts")
    if answer is not None:
        return answer
    if await finish(visit, Outcome("ABORTED")) is not None:
        target = visit.params.urls.get("abortRedirectUrl")
        if target is not None:
            return see_other(target)
    return see_other(visit.home())


PREFIX = "/wf/{id}"


def openapi_paths() -> dict[str, Any]:
    """The page's part of /openapi.json: HTML pages, not JSON (`http/openapi.py` adds the 403 every path has)."""
    html_page = {"content": {"text/html": {"schema": {"type": "string"}}}}
    query = [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string", "format": "uri"}}
        for name in flow.PAGE_PARAMS
    ]
    query.append({"name": "lang", "in": "query", "required": False, "schema": {"type": "string", "enum": ["en", "de"]}})
    parameters = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}, *query]
    pages = {
        "404": {"description": "No such web form (an HTML page)", **html_page},
        "410": {"description": "The one-time URL was used, or the form expired (an HTML page)", **html_page},
    }
    found: dict[str, Any] = {
        PREFIX: {
            "get": {
                "summary": "The hosted web form page: opens the form (first time) and shows the user's step",
                "security": [],
                "parameters": [
                    *parameters,
                    {"name": "q", "in": "query", "required": False, "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "The step or outcome (an HTML page)", **html_page}, **pages},
            }
        }
    }
    form_body = {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}}
    for step, (_, summary) in STEPS.items():
        found[f"{PREFIX}/{step}"] = {
            "post": {
                "summary": f"Web form page: {summary}",
                "security": [],
                "parameters": parameters,
                "requestBody": {"required": False, **form_body},
                "responses": {
                    "303": {"description": "On to the next step, the outcome or the integrator's redirect URL"},
                    "422": {"description": "The step again, with what to correct (an HTML page)", **html_page},
                    **pages,
                },
            }
        }
    return found


STEPS: dict[str, tuple[Endpoint, str]] = {
    "bank": (choose_bank, "Pick the bank (field bank: its id)"),
    "change-bank": (change_bank, "Back to the bank search (forms that name no bank)"),
    "login": (submit_login, "Log in (fields login, password: the Onlinebanking-ID and PIN)"),
    "procedure": (choose_procedure, "Choose the SCA procedure (field procedure: its id)"),
    "tan": (submit_tan, "Enter the TAN (field tan_secret; 123456)"),
    "decoupled": (confirm_decoupled, "Confirm the decoupled SCA"),
    "redirect": (to_bank, "Go to the redirect bank's consent page"),
    "consent": (consent, "The bank's consent page (field consent: allow, or anything else to cancel at the bank)"),
    "accounts": (choose_accounts, "Keep accounts by type (field accountType, repeated) and complete the form"),
    "cancel": (cancel, "Cancel the web form (ABORTED)"),
}
"""The steps' POST endpoints (`/wf/{id}/<step>`) and what /openapi.json says of them."""
routes = [route(PREFIX, GET=show), *(route(f"{PREFIX}/{step}", POST=handler) for step, (handler, _) in STEPS.items())]
