"""The hosted web form page's HTML: one self-contained document per step (inline CSS and SVG, no script, no external
asset: it works offline), in English or German (`http/webform_texts.py`).

Everything that comes from outside (bank names, search terms, URLs, ids) is escaped here; a step's forms POST to
`/wf/{id}/<step>` with the page parameters in their query, so every step keeps them. Every input has a `<label>`,
every button a visible name, the steps an `aria-current` progress list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import NamedTuple
from urllib.parse import quote

from mock_finapi.http.webform_texts import LANGUAGE_NAMES, Texts
from mock_finapi.services.webform_flow import LANGUAGES, OfferedAccounts, PageParams
from mock_finapi.state.banking import Bank, TwoStepProcedure

LOCK = (
    '<svg class="icon" aria-hidden="true" focusable="false" width="18" height="18" viewBox="0 0 24 24" fill="none" '
    'stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round">'
    '<rect x="4" y="11" width="16" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 8 0v4"/></svg>'
)
_BIG = (
    '<svg class="status-icon" aria-hidden="true" focusable="false" width="56" height="56" viewBox="0 0 24 24" '
    'fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">'
    '<circle cx="12" cy="12" r="10"/>{}</svg>'
)
ICONS = {
    "ok": _BIG.format('<path d="M7.5 12.5l3 3 6-6.5"/>'),
    "error": _BIG.format('<path d="M12 7v6"/><path d="M12 16.5v.5"/>'),
    "cancelled": _BIG.format('<path d="M8.5 8.5l7 7M15.5 8.5l-7 7"/>'),
    "expired": _BIG.format('<path d="M12 7v5l3 2"/>'),
}

CSS = """
:root{--ink:#17212f;--muted:#5a6677;--line:#dfe4eb;--bg:#edf1f6;--brand:#0d4f9e;--brand-dark:#093c79;
--ok:#12784a;--error:#b42318;--error-bg:#fdeeec;--info-bg:#eaf2fc;--focus:rgba(13,79,158,.28)}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;min-height:100vh;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,
sans-serif;color:var(--ink);background:var(--bg)}
.sandbox{margin:0;padding:7px 12px;text-align:center;font-size:14px;font-weight:600;color:#4a3400;
background:repeating-linear-gradient(135deg,#ffe289 0 14px,#ffd54f 14px 28px);border-bottom:1px solid #e0b83a}
.top,.card,.foot{width:100%;max-width:460px;margin-left:auto;margin-right:auto}
.top{display:flex;justify-content:space-between;align-items:center;gap:12px;padding:20px 4px 12px}
.brand{display:flex;align-items:center;gap:8px;font-weight:700;font-size:18px;color:var(--brand);letter-spacing:.2px}
.brand .product{font-weight:500;color:var(--muted)}
.lang{font-size:14px}
.lang a{color:var(--brand);text-decoration:none;padding:2px 4px;border-radius:4px}
.lang a:hover,.lang a:focus{text-decoration:underline}
.lang [aria-current]{color:var(--ink);font-weight:600}
.card{background:#fff;border:1px solid var(--line);border-radius:14px;box-shadow:0 6px 24px rgba(16,24,40,.08);
padding:26px 28px 18px}
.bankhead{display:flex;gap:12px;align-items:center;padding-bottom:16px;margin-bottom:18px;
border-bottom:1px solid var(--line)}
.logo{flex:none;width:46px;height:46px;border-radius:11px;display:grid;place-items:center;font-weight:700;
color:#fff;background:linear-gradient(135deg,#1d67c1,#0a3f80);letter-spacing:.5px}
.bankname{font-weight:650;line-height:1.3}
.meta{color:var(--muted);font-size:14px}
.badge{display:inline-block;margin-left:6px;padding:0 7px;border-radius:999px;font-size:12px;font-weight:600;
color:#6b4a00;background:#fff1c7;border:1px solid #f0d27a;vertical-align:1px}
.badge.first{margin:0 6px 0 0}
.progress{display:flex;gap:6px;list-style:none;padding:0;margin:0 0 20px}
.progress li{flex:1;min-width:0;padding-top:7px;font-size:12px;color:var(--muted);border-top:4px solid var(--line);
white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.progress li.done{border-top-color:var(--ok);color:var(--ink)}
.progress li[aria-current]{border-top-color:var(--brand);color:var(--brand);font-weight:650}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
h1{font-size:22px;line-height:1.3;margin:0 0 8px;font-weight:700}
h2{font-size:15px;margin:18px 0 8px;color:var(--muted);font-weight:600}
p{margin:0 0 16px}
.intro{color:var(--muted)}
label,.label{display:block;font-weight:600;margin:0 0 6px}
input[type=text],input[type=password],input[type=search]{display:block;width:100%;font:inherit;padding:11px 12px;
margin:0 0 16px;color:var(--ink);background:#fff;border:1px solid #b7c1ce;border-radius:9px}
input:focus,button:focus-visible,a:focus-visible{outline:3px solid var(--focus);outline-offset:1px}
input[aria-invalid=true]{border-color:var(--error)}
.row{display:flex;gap:8px}
.row input{margin:0}
.row .btn{width:auto;flex:none}
.btn{display:block;width:100%;font:inherit;font-weight:650;padding:12px 18px;border-radius:9px;cursor:pointer;
border:1px solid var(--brand);background:var(--brand);color:#fff;text-align:center;text-decoration:none}
.btn:hover{background:var(--brand-dark);border-color:var(--brand-dark)}
.btn.secondary{background:#fff;color:var(--brand)}
.btn.secondary:hover{background:var(--info-bg)}
.btn.danger{background:#fff;color:var(--error);border-color:#e6b3ad}
.btn.danger:hover{background:var(--error-bg)}
.stack>*+*{margin-top:10px}
.cancel{margin-top:14px;text-align:center}
.linkbtn{font:inherit;font-size:15px;color:var(--muted);background:none;border:0;padding:6px 10px;cursor:pointer;
text-decoration:underline;text-underline-offset:3px}
.linkbtn:hover{color:var(--ink)}
.alert{padding:11px 14px;border-radius:9px;margin:0 0 16px;font-size:15px}
.alert.error{background:var(--error-bg);color:var(--error);border:1px solid #f3c4be}
.alert.info{background:var(--info-bg);color:#0b3d75;border:1px solid #c9dcf4}
.hint{margin:0 0 16px;padding:10px 12px;border-radius:9px;font-size:14px;color:#4d5868;background:#f6f8fa;
border:1px dashed #c5ced9}
.hint ul{margin:6px 0 0;padding-left:18px}
.hint code{font:600 13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:var(--ink)}
fieldset{border:0;margin:0 0 16px;padding:0;min-width:0}
legend{font-weight:600;margin:0 0 8px;padding:0}
.choice{display:flex;align-items:flex-start;gap:12px;padding:12px 14px;margin:0 0 8px;font-weight:500;
border:1px solid var(--line);border-radius:10px;cursor:pointer}
.choice:hover{border-color:#a9b8cc;background:#fafcff}
.choice input{margin:4px 0 0;width:18px;height:18px;accent-color:var(--brand);flex:none}
.choice small{display:block;color:var(--muted);font-weight:400;font-size:14px}
.banks{list-style:none;margin:0 0 8px;padding:0}
.banks li+li{margin-top:8px}
.bankbtn{display:flex;width:100%;align-items:center;gap:12px;padding:11px 14px;font:inherit;text-align:left;
color:var(--ink);background:#fff;border:1px solid var(--line);border-radius:10px;cursor:pointer}
.bankbtn:hover{border-color:#a9b8cc;background:#fafcff}
.bankbtn .logo{width:38px;height:38px;border-radius:9px;font-size:14px}
.bankbtn .chev{margin-left:auto;color:#9aa6b6;font-size:22px;line-height:1}
.status{text-align:center;padding:8px 0 4px}
.status-icon{display:block;margin:4px auto 12px}
.status.ok .status-icon{color:var(--ok)}
.status.error .status-icon{color:var(--error)}
.status.cancelled .status-icon,.status.expired .status-icon{color:var(--muted)}
.code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:var(--muted)}
.bank-site .bankhead{margin:-26px -28px 18px;padding:16px 28px;border-radius:14px 14px 0 0;color:#fff;
background:linear-gradient(135deg,#0f6b4f,#0a4a37);border-bottom:0}
.bank-site .bankhead .meta{color:#cfe9de}
.bank-site .logo{background:#fff;color:#0a4a37}
.bank-site .btn{background:#0f6b4f;border-color:#0f6b4f}
.bank-site .btn:hover{background:#0a4a37}
.bank-site .btn.danger{background:#fff;color:var(--error);border-color:#e6b3ad}
.sitebadge{display:block;margin:0 0 14px;font-size:13px;color:#0a4a37;font-weight:600}
.valid{margin:14px 0 0;text-align:center;font-size:13px;color:var(--muted)}
.foot{padding:14px 8px 32px;text-align:center;font-size:13px;color:var(--muted)}
@media (max-width:500px){
.top{padding:14px 14px 10px}
.card{border-radius:0;border-left:0;border-right:0;padding:20px 16px 14px}
.bank-site .bankhead{margin:-20px -16px 16px;padding:14px 16px;border-radius:0}
.brand .product{display:none}
h1{font-size:20px}
}
"""


class View(NamedTuple):
    """What every step's page shows around its content."""

    t: Texts
    web_form_id: str
    params: PageParams
    update: bool = False
    """A BANK_CONNECTION_UPDATE form (a task's): other titles, no account step."""
    bank: Bank | None = None
    steps: tuple[str, ...] = ()
    """The flow's steps (bank, login, sca, accounts) shown as progress; empty: none shown."""
    current: str | None = None
    minutes_left: int | None = None

    def home(self, lang: str | None = None) -> str:
        return f"/wf/{quote(self.web_form_id, safe='')}" + self.params.query(lang or self.t.lang)

    def action(self, step: str) -> str:
        return f"/wf/{quote(self.web_form_id, safe='')}/{step}" + self.params.query(self.t.lang)


def _attr(value: str) -> str:
    return escape(value, quote=True)


def initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    letters = "".join(w[0] for w in words[:2]).upper()
    return letters or "?"


def document(view: View, title: str, main: str, *, card_class: str = "") -> str:
    t = view.t
    switch = " ".join(
        f'<a href="{_attr(view.home(lang))}" lang="{lang}" hreflang="{lang}"'
        + (' aria-current="true"' if lang == t.lang else "")
        + f">{escape(LANGUAGE_NAMES[lang])}</a>"
        for lang in LANGUAGES
    )
    valid = ""
    if view.minutes_left is not None:
        valid = t.html("valid_for_1") if view.minutes_left < 1 else t.html("valid_for", minutes=view.minutes_left)
        valid = f'<p class="valid">{valid}</p>'
    return (
        f'<!doctype html>\n<html lang="{t.lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow"><meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)} · finAPI Web Form</title><style>{CSS}</style></head><body>"
        f'<p class="sandbox" role="note">{t.html("sandbox")}</p>'
        f'<header class="top"><div class="brand">{LOCK}<span>finAPI</span>'
        f'<span class="product">{t.html("brand")}</span></div>'
        f'<nav class="lang" aria-label="{_attr(t.text("language"))}">{switch}</nav></header>'
        f'<main class="card {card_class}">{main}{valid}</main>'
        f'<footer class="foot">{t.html("footer")}</footer>'
        "</body></html>"
    )


def bank_header(t: Texts, bank: Bank) -> str:
    meta = [t.html("blz", blz=bank.blz)]
    if bank.bic:
        meta.append(t.html("bic", bic=bank.bic))
    if bank.city:
        meta.append(escape(bank.city))
    badge = f'<span class="badge">{t.html("test_bank")}</span>' if bank.is_test_bank else ""
    return (
        f'<div class="bankhead"><div class="logo" aria-hidden="true">{escape(initials(bank.name))}</div>'
        f'<div><div class="bankname"><span>{escape(bank.name)}</span>{badge}</div>'
        f'<div class="meta">{" · ".join(meta)}</div></div></div>'
    )


def progress(view: View) -> str:
    if not view.steps or view.current not in view.steps:
        return ""
    t = view.t
    index = view.steps.index(view.current)
    items = []
    for number, step in enumerate(view.steps):
        name = t.html(f"step_{step}")
        if number < index:
            items.append(f'<li class="done">{name}</li>')
        elif number == index:
            items.append(f'<li aria-current="step">{name}</li>')
        else:
            items.append(f"<li>{name}</li>")
    label = t.text("step_of", n=index + 1, total=len(view.steps))
    return f'<ol class="progress" aria-label="{_attr(t.text("progress"))}: {_attr(label)}">{"".join(items)}</ol>'


def alert(text: str | None, kind: str = "error") -> str:
    if not text:
        return ""
    role = "alert" if kind == "error" else "status"
    return f'<p class="alert {kind}" role="{role}">{text}</p>'


def cancel_form(view: View) -> str:
    return (
        f'<form class="cancel" method="post" action="{_attr(view.action("cancel"))}">'
        f'<button class="linkbtn" type="submit" name="cancel" value="1">{view.t.html("cancel")}</button></form>'
    )


def step_page(view: View, heading: str, content: str, *, notice: str = "", card_class: str = "") -> str:
    """A step of the flow: bank, progress, heading, the step's content and the cancel button."""
    t = view.t
    head = bank_header(t, view.bank) if view.bank is not None else ""
    title = t.text("title_update" if view.update else "title_import")
    main = f"{head}{progress(view)}<h1>{escape(heading)}</h1>{notice}{content}{cancel_form(view)}"
    return document(view, title, main, card_class=card_class)


# ---------------------------------------------------------------------------------------------------- steps


def bank_search(view: View, search: str, banks: Sequence[Bank], more: bool, *, notice: str = "") -> str:
    t = view.t
    hidden = "".join(
        f'<input type="hidden" name="{_attr(key)}" value="{_attr(value)}">' for key, value in view.params.urls.items()
    )
    form = (
        f'<form method="get" action="/wf/{_attr(quote(view.web_form_id, safe=""))}" role="search">'
        f'{hidden}<input type="hidden" name="lang" value="{t.lang}">'
        f'<label for="q">{t.html("search_label")}</label>'
        f'<div class="row"><input type="search" id="q" name="q" value="{_attr(search)}" autocomplete="off" '
        f'maxlength="200" autofocus><button class="btn" type="submit">{t.html("search_button")}</button></div></form>'
    )
    heading = t.html("results_for", q=search) if search.strip() else t.html("results_all")
    if banks:
        items = "".join(_bank_choice(t, bank) for bank in banks)
        results = (
            f'<h2 id="results">{heading}</h2><form method="post" action="{_attr(view.action("bank"))}">'
            f'<ul class="banks" aria-labelledby="results">{items}</ul></form>'
        )
    else:
        results = alert(t.html("no_results", q=search), "info")
    if more:
        results += f'<p class="intro">{t.html("more_results", n=len(banks))}</p>'
    content = f'<p class="intro">{t.html("bank_intro")}</p>{form}{results}'
    return step_page(view, t.text("bank_h"), content, notice=notice)


def _bank_choice(t: Texts, bank: Bank) -> str:
    meta = [t.html("blz", blz=bank.blz)]
    if bank.bic:
        meta.append(t.html("bic", bic=bank.bic))
    if bank.city:
        meta.append(escape(bank.city))
    badge = f'<span class="badge first">{t.html("test_bank")}</span>' if bank.is_test_bank else ""
    name_id, meta_id = f"bank-{bank.id}", f"bank-{bank.id}-meta"
    return (
        f'<li><button class="bankbtn" type="submit" name="bank" value="{bank.id}" aria-labelledby="{name_id}" '
        f'aria-describedby="{meta_id}"><span class="logo" aria-hidden="true">{escape(initials(bank.name))}</span>'
        f'<span><span class="bankname" id="{name_id}">{escape(bank.name)}</span>'
        f'<span class="meta" id="{meta_id}" style="display:block">{badge}{" · ".join(meta)}</span></span>'
        '<span class="chev" aria-hidden="true">›</span></button></li>'
    )


def login(
    view: View,
    *,
    login_value: str = "",
    error: str | None = None,
    test_logins: Sequence[tuple[str, str]] = (),
    can_change_bank: bool = False,
    notice: str = "",
) -> str:
    t = view.t
    bank_name = view.bank.name if view.bank else ""
    if test_logins:
        rows = "".join(
            f"<li><code>{escape(user)}</code> / <code>{escape(pin)}</code>: "
            f"{t.html('without_sca' if user == 'demo_no_msa' else 'with_sca')}</li>"
            for user, pin in test_logins
        )
        hint = f'<div class="hint">{t.html("test_logins")}:<ul>{rows}</ul></div>'
    else:
        hint = f'<p class="hint">{t.html("any_login")}</p>'
    invalid = ' aria-invalid="true" aria-describedby="login-error"' if error else ""
    error_html = f'<p class="alert error" role="alert" id="login-error">{escape(error)}</p>' if error else ""
    change = ""
    if can_change_bank:
        change = (
            f'<form method="post" action="{_attr(view.action("change-bank"))}" class="stack" style="margin-top:10px">'
            f'<button class="btn secondary" type="submit" name="changeBank" value="1">{t.html("change_bank")}'
            "</button></form>"
        )
    content = (
        f'<p class="intro">{t.html("login_intro", bank=bank_name)}</p>{error_html}'
        f'<form method="post" action="{_attr(view.action("login"))}">'
        f'<label for="login">Onlinebanking-ID</label><input type="text" id="login" name="login" '
        f'value="{_attr(login_value)}" autocomplete="username" autocapitalize="none" spellcheck="false" required '
        f'maxlength="100" autofocus{invalid}>'
        f'<label for="pin">PIN</label><input type="password" id="pin" name="password" autocomplete="current-password" '
        f'required maxlength="100"{invalid}>{hint}'
        f'<button class="btn" type="submit" name="submitLogin" value="1">{LOCK} {t.html("login_button")}</button>'
        f"</form>{change}"
    )
    return step_page(view, t.text("login_h"), content, notice=notice)


def procedures(view: View, choices: Sequence[TwoStepProcedure], *, error: str | None = None, notice: str = "") -> str:
    t = view.t
    options = "".join(
        f'<label class="choice"><input type="radio" name="procedure" value="{_attr(p.procedure_id)}" required'
        f"{' checked' if index == 0 else ''}><span>{escape(p.procedure_name)}</span></label>"
        for index, p in enumerate(choices)
    )
    content = (
        f'<p class="intro">{t.html("sca_intro")}</p>{alert(escape(error) if error else None)}'
        f'<form method="post" action="{_attr(view.action("procedure"))}">'
        f"<fieldset><legend>{t.html('procedure_legend')}</legend>{options}</fieldset>"
        f'<button class="btn" type="submit" name="chooseProcedure" value="1">{t.html("continue")}</button></form>'
    )
    return step_page(view, t.text("sca_h"), content, notice=notice)


def tan(view: View, procedure_name: str, *, error: str | None = None, notice: str = "") -> str:
    t = view.t
    invalid = ' aria-invalid="true" aria-describedby="tan-error"' if error else ""
    error_html = f'<p class="alert error" role="alert" id="tan-error">{escape(error)}</p>' if error else ""
    content = (
        f'<p class="intro">{t.html("tan_intro", procedure=procedure_name)}</p>{error_html}'
        f'<form method="post" action="{_attr(view.action("tan"))}">'
        f'<label for="tan">{t.html("tan_label")}</label><input type="text" id="tan" name="tan_secret" '
        f'inputmode="numeric" autocomplete="one-time-code" required maxlength="32" autofocus{invalid}>'
        f'<p class="hint">{t.html("tan_hint")}</p>'
        f'<button class="btn" type="submit" name="submitTan" value="1">{t.html("tan_button")}</button></form>'
    )
    return step_page(view, t.text("tan_h"), content, notice=notice)


def decoupled(view: View, procedure_name: str, *, notice: str = "") -> str:
    t = view.t
    content = (
        f'<p class="intro">{escape(procedure_name)}: {t.html("decoupled_intro")}</p>'
        f'<p class="hint">{t.html("decoupled_hint")}</p>'
        f'<form method="post" action="{_attr(view.action("decoupled"))}">'
        f'<button class="btn" type="submit" name="confirmed" value="1">{t.html("decoupled_button")}</button></form>'
    )
    return step_page(view, t.text("decoupled_h"), content, notice=notice)


def redirect(view: View, *, notice: str = "") -> str:
    t = view.t
    bank_name = view.bank.name if view.bank else ""
    content = (
        f'<p class="intro">{t.html("redirect_intro", bank=bank_name)}</p>'
        f'<form method="post" action="{_attr(view.action("redirect"))}">'
        f'<button class="btn" type="submit" name="toBank" value="1">{t.html("redirect_button")} →</button></form>'
    )
    return step_page(view, t.text("redirect_h"), content, notice=notice)


def bank_site(view: View, *, notice: str = "") -> str:
    """The bank's own consent page that the redirect approach sends the user to (played here)."""
    t = view.t
    content = (
        f'<span class="sitebadge">{t.html("bank_site_badge")}</span>'
        f'<p class="intro">{t.html("bank_site_intro")}</p>'
        f'<form method="post" action="{_attr(view.action("consent"))}" class="stack">'
        f'<button class="btn" type="submit" name="consent" value="allow">{LOCK} {t.html("approve_button")}</button>'
        f'<button class="btn danger" type="submit" name="consent" value="cancel">{t.html("cancel_at_bank")}</button>'
        "</form>"
    )
    return step_page(view, t.text("bank_site_h"), content, notice=notice, card_class="bank-site")


def accounts(
    view: View,
    offered: Sequence[OfferedAccounts],
    *,
    checked: Iterable[str] | None = None,
    error: str | None = None,
    notice: str = "",
) -> str:
    t = view.t
    keep = set(checked) if checked is not None else {group.account_type for group in offered}
    options = "".join(
        f'<label class="choice"><input type="checkbox" name="accountType" value="{_attr(group.account_type)}"'
        f"{' checked' if group.account_type in keep else ''}>"
        f"<span>{t.html('type_' + group.account_type)}<small>{escape(', '.join(group.names))}</small></span></label>"
        for group in offered
    )
    content = (
        f'<p class="intro">{t.html("accounts_intro")}</p>{alert(escape(error) if error else None)}'
        f'<form method="post" action="{_attr(view.action("accounts"))}">'
        f"<fieldset><legend>{t.html('accounts_legend')}</legend>{options}</fieldset>"
        f'<button class="btn" type="submit" name="connect" value="1">{t.html("accounts_button")}</button></form>'
    )
    return step_page(view, t.text("accounts_h"), content, notice=notice)


# ---------------------------------------------------------------------------------------------------- outcomes


def _links(t: Texts, back: str | None, support: str | None) -> str:
    links = []
    if back:
        links.append(f'<a class="btn" href="{_attr(back)}">{t.html("back_to_app")}</a>')
    if support:
        links.append(f'<a class="btn secondary" href="{_attr(support)}">{t.html("support")}</a>')
    return f'<div class="stack">{"".join(links)}</div>' if links else ""


def outcome(
    view: View,
    kind: str,
    heading_key: str,
    text: str,
    *,
    back: str | None = None,
    support: str | None = None,
    code: str | None = None,
) -> str:
    """A final page: done, cancelled, failed, used, expired or unknown (`kind` picks the icon)."""
    t = view.t
    head = bank_header(t, view.bank) if view.bank is not None else ""
    code_html = f'<p class="code">{t.html("error_code", code=code)}</p>' if code else ""
    main = (
        f'{head}<div class="status {kind}">{ICONS[kind]}<h1>{t.html(heading_key)}</h1>'
        f"<p>{text}</p>{code_html}</div>{_links(t, back, support)}"
    )
    return document(view, t.text(heading_key), main)
