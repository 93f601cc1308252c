"""Steps in the browser: the smoke checklist a person clicks through after a deploy.

Login at /admin/, the dashboard, its stylesheets and scripts, the Tailwind styles, the HTMX
filter and the HTMX form.  The only write is one smoke Ausschreibung (Titel and
Vergabenummer start with SMOKE-): its removal is registered before it is created, and the
last step deletes it through the admin's delete view, so a run leaves no rows behind, in
production too.  A refusal names its cause: the CSRF check that failed and what the app
trusts, the redirect chain, the missing static file from the app's log.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Request, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from pytest_bdd import given, parsers, then, when

from fixtures.browser import (
    AppSide,
    Credentials,
    LoginAttempt,
    SharedLogin,
    WebSession,
    csrf_token,
    post_form,
)
from fixtures.run import Evidence
from suite.check import expect, fail
from suite.targets import Target

log = logging.getLogger("suite.browser")

LOGIN_PATHS = ("/accounts/login/", "/admin/login/")
LIST = "#ausschreibungen-liste"
SEARCH = "#filter input[name=q]"
FORM = "#ausschreibung-formular"
ADMIN_MODEL = "/admin/ausschreibungen/ausschreibung/"
YEAR_S = 365 * 24 * 3600
HASHED = re.compile(r"\.[0-9a-f]{12}\.(?:css|js)$")
MEDIA_TYPES = {"stylesheet": ("text/css",),
               "script": ("text/javascript", "application/javascript")}
MISSING_ASSET = re.compile(r"[Mm]issing staticfiles manifest entry for '([^']+)'|"
                           r"[Tt]he file '([^']+)' could not be found")
ORIGIN_FAILURE = re.compile(r"Origin checking failed|Herkunft der Anfrage")
TOKEN_FAILURE = re.compile(r"CSRF token (?:missing|from \S+ incorrect)|CSRF-Token fehlt")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
ENTRY = re.compile(r"[\w./-]+\.(?:js|ts|css)\b")

HEADLINE_JS = """() => {
  const e = document.querySelector('#seitentitel') || document.querySelector('main h1, h1');
  return e ? e.innerText.trim() : null;
}"""
ADMIN_JS = """() => ({
  header: (document.querySelector('#site-name') || {innerText: ''}).innerText.trim(),
  title: (document.querySelector('#content h1') || {innerText: ''}).innerText.trim(),
  models: [...document.querySelectorAll('#content-main th[scope=row]')]
    .map(e => e.innerText.trim()).slice(0, 12)})"""
ASSETS_JS = """() => {
  const walker = document.createTreeWalker(document, NodeFilter.SHOW_COMMENT);
  const notes = [];
  while (walker.nextNode()) {
    const text = walker.currentNode.nodeValue.trim();
    if (/vite/i.test(text)) notes.push(text);
  }
  return {styles: [...document.querySelectorAll('link[rel~=stylesheet]')].map(e => e.href),
          scripts: [...document.querySelectorAll('script[src]')].map(e => e.src), notes};
}"""
STYLE_JS = """() => {
  const el = document.querySelector('#seitentitel') || document.querySelector('main h1, h1');
  if (!el) return null;
  const props = ['font-size', 'color', 'letter-spacing', 'font-weight', 'line-height'];
  const read = () => Object.fromEntries(props.map(p => [p, getComputedStyle(el)
    .getPropertyValue(p)]));
  const sheets = [...document.styleSheets];
  const styled = read();
  const before = sheets.map(s => s.disabled);
  sheets.forEach(s => { s.disabled = true; });
  const plain = read();
  sheets.forEach((s, i) => { s.disabled = before[i]; });
  return {styled, plain, classes: el.className, sheets: sheets.length};
}"""
MARK_ROWS_JS = """(list) => [...document.querySelectorAll(list + ' > tr')].map(tr => {
  tr.setAttribute('data-smoke-vorher', '');
  return {id: tr.id, first: ((tr.cells[0] || {}).innerText || '').trim()};
})"""
SWAPPED_JS = """(list) => {
  const body = document.querySelector(list);
  return !!body && body.children.length > 0 && !body.querySelector('[data-smoke-vorher]');
}"""
ROW_TEXTS_JS = """(list) => [...document.querySelectorAll(list + ' > tr')]
  .map(tr => tr.innerText.replace(/\\s+/g, ' ').trim())"""
CHANGE_LINKS_JS = """() => [...document.querySelectorAll('#result_list a[href*="/change/"]')]
  .map(a => [a.innerText.trim(), a.getAttribute('href')])"""


# -- judging what came back ----------------------------------------------------------------

def origin_verdict(origin: str, trusted: list[str]) -> str:
    """Why ORIGIN does or does not match TRUSTED, compared as Django does (scheme://host:port)."""
    sent = urlsplit(origin)
    for entry in trusted:
        listed = urlsplit(entry if "://" in entry else f"//{entry}")
        host = (listed.hostname or "").removeprefix("*.")
        same_host = host == sent.hostname or (entry.split("://")[-1].startswith("*.")
                                              and (sent.hostname or "").endswith("." + host))
        if not same_host:
            continue
        if "://" not in entry:
            return (f"the list holds {entry!r} without a scheme; Django compares whole origins, "
                    f"so it must read {origin}")
        if listed.scheme != sent.scheme:
            return (f"the list holds {entry} with {listed.scheme}:// where the browser sends "
                    f"{sent.scheme}://")
        if listed.port != sent.port:
            return f"the list holds {entry}, with another port than the browser's {origin}"
        return (f"{origin} is in the list ({entry}), so the app compared it with another "
                f"origin: it does not see the request as {sent.scheme}")
    return f"no entry names the host {sent.hostname}; the list must hold {origin}"


def trusted_origins(app_side: AppSide, origin: str) -> str:
    """What the running app and the deployment values trust, and how ORIGIN fares."""
    parts = []
    settings, where = app_side.settings()
    if settings is not None:
        trusted = list(settings.get("CSRF_TRUSTED_ORIGINS") or [])
        parts.append(f"the app trusts {trusted} ({where}): {origin_verdict(origin, trusted)}")
        if settings.get("SECURE_PROXY_SSL_HEADER") is None:
            parts.append("the app does not trust X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER is "
                         "None), so it takes the https request for http")
    else:
        parts.append(where)
    values, source = app_side.values_origins()
    if values is not None:
        parts.append(f"the deployment values trust {values} ({source})"
                     + (f": {origin_verdict(origin, values)}" if settings is None else ""))
    else:
        parts.append(source)
    return "; ".join(parts)


def visible_text(response: Response) -> str:
    """The answer's text without tags, for a refusal HTMX did not render."""
    try:
        text = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", response.text(),
                      flags=re.DOTALL)
    except Exception:  # noqa: BLE001 - the body may be gone; the status still speaks
        return ""
    return " ".join(text.split())[:300]


def csrf_refusal(web: WebSession, request: Request, answer: Response, app_side: AppSide,
                 what: str) -> tuple[str, str, str]:
    """(expected, found, next step) for a request the app answered with 403."""
    headers = request.all_headers()
    who = "the hx request" if headers.get("hx-request") == "true" else what
    origin = headers.get("origin", "(no Origin header)")
    lines, source = app_side.log_lines(r"Forbidden \(|CSRF")
    page_said = web.screen() if request.is_navigation_request() else visible_text(answer)
    said = " ".join([web.screen(), visible_text(answer), *lines])
    expected = f"{what} ({request.method} {web.path_of(request.url)}) to be accepted"
    log_part = f"{source}: {' | '.join(lines) or 'no Forbidden line'}"
    if request.method in UNSAFE and ORIGIN_FAILURE.search(said):
        return (expected,
                f"{who} got 403: CSRF origin check failed. The browser sent Origin {origin}; "
                f"{trusted_origins(app_side, origin)}. The page said: {page_said}; {log_part}",
                "CSRF_TRUSTED_ORIGINS (csrfTrustedOrigins in the values) must hold the origin "
                "exactly as browsers send it, scheme included: https://<app host>; and behind "
                "TLS that ends at the ingress Django must see https (SECURE_PROXY_SSL_HEADER, "
                "gunicorn's FORWARDED_ALLOW_IPS).")
    has_header = "x-csrftoken" in headers
    has_field = "csrfmiddlewaretoken=" in (request.post_data or "")
    if request.method in UNSAFE and (TOKEN_FAILURE.search(said) or not (has_header or
                                                                          has_field)):
        missing = ("the header X-CSRFToken was missing" if not has_header else
                   "the X-CSRFToken header it sent was not accepted")
        return (expected,
                f"{who} got 403: {missing}" + ("" if has_field else
                                                " (and there was no csrfmiddlewaretoken "
                                                "field)") + f"; {log_part}",
                "every HTMX request must carry the token: <body hx-headers='{\"X-CSRFToken\": "
                "\"{{ csrf_token }}\"}'> in the base template (or a {% csrf_token %} field).")
    return (expected, f"{who} got 403: {page_said}; {log_part}",
            "read the reason in the app log; for CSRF compare token, cookie, origin and "
            "referer with Django's checks.")


def judge_login(web: WebSession, attempt: LoginAttempt, superuser: Credentials,
                app_side: AppSide) -> None:
    __tracebackhide__ = True
    if attempt.request is None or attempt.answer is None:
        fail(f"a login form at {web.path_of(attempt.form_url)}", web.screen(),
             "the login page must show a form with username and password fields.")
    assert attempt.request is not None and attempt.answer is not None
    status = attempt.answer.status
    if status == 403:
        fail(*csrf_refusal(web, attempt.request, attempt.answer, app_side, "the login form"))
    if status == 200:
        fail(f"the superuser {superuser.username} to be logged in",
             f"the login form came back: {web.screen()}",
             f"the password in {superuser.source} and the user in the app's database differ: "
             "run the superuser Job again (T07 'The first superuser exists') or `manage.py "
             f"changepassword {superuser.username}` in the app pod.")
    expect(status in (302, 303), "the login form to answer with a redirect (302)",
           f"HTTP {status}: {web.screen()}", "read the app pod's log for the login request.")


def missing_static_file(lines: list[str]) -> str | None:
    """The static file the newest of LINES says the storage's manifest does not know."""
    for line in reversed(lines):
        found = MISSING_ASSET.search(line)
        name = (found.group(1) or found.group(2)) if found else ""
        if name and "%" not in name:  # not the source line of the traceback
            return name
    return None


def expect_page_ok(web: WebSession, app_side: AppSide, path: str) -> None:
    """The page at PATH answered 200 and the browser stayed there; a 500 names its cause."""
    __tracebackhide__ = True
    if (web.status or 0) >= 500:
        lines, source = app_side.log_lines(r"Error|Exception|manifest", most=8)
        asset = missing_static_file(lines)
        if asset:
            fail(f"{path} to answer 200",
                 f"server error {web.status} on the page ({web.screen()}); {source} names the "
                 f"missing static file '{asset}'",
                 f"the template references '{asset}', which collectstatic never saw: add "
                 "the file under static/ or fix the reference, then rebuild and deploy.")
        fail(f"{path} to answer 200", f"server error {web.status} on the page "
             f"({web.screen()}); {source}: {' | '.join(lines[-3:]) or 'no error line'}",
             "read the traceback in the app pod's log (kubectl logs).")
    expect(web.status == 200, f"{path} to answer 200", f"HTTP {web.status}: {web.screen()}",
           "open the screenshot; a 403 or 404 page names its reason.")
    expect(urlsplit(web.page.url).path == urlsplit(web.url(path)).path,
           f"the browser to stay at {path}", f"it ended at {web.path}: {web.screen()}",
           "a redirect to the login page means the session was lost (cookie flags, "
           "SESSION_COOKIE_SECURE without https); else follow the redirect in the trace.")


def htmx_state(web: WebSession) -> str:
    try:
        kind = web.page.evaluate("() => typeof window.htmx")
    except Exception:  # noqa: BLE001 - only for the message
        return "unknown"
    return "loaded" if kind == "object" else f"not loaded (window.htmx is {kind})"


def expect_htmx(web: WebSession, expected: str) -> None:
    """Fail at once, not after a timeout, when HTMX never started on the page."""
    __tracebackhide__ = True
    state = htmx_state(web)
    expect(state == "loaded", f"{expected} (HTMX running on the page)", f"HTMX is {state}",
           "the page's script did not load: see the static assets scenario (Vite manifest, "
           "the script tag in the page).")


def is_hx(method: str) -> Any:
    def match(response: Response) -> bool:
        request = response.request
        return request.method == method and request.headers.get("hx-request") == "true"
    return match


# -- login and admin -----------------------------------------------------------------------

@when(parsers.parse('I log in at "{path}" as the superuser'))
def log_in_at(web: WebSession, superuser: Credentials, app_side: AppSide,
              shared_login: SharedLogin, path: str) -> None:
    judge_login(web, web.login(path, superuser), superuser, app_side)
    web.share(shared_login)


@given("I am logged in as the superuser")
def logged_in(web: WebSession, superuser: Credentials, app_side: AppSide,
              shared_login: SharedLogin, evidence: Evidence) -> None:
    if web.borrow(shared_login):
        evidence.text("login", f"the run's superuser session, opened by {shared_login.opened_by}")
        return
    attempt = web.login(LOGIN_PATHS[0], superuser)
    if attempt.request is None and web.status == 404:
        attempt = web.login(LOGIN_PATHS[1], superuser)
    judge_login(web, attempt, superuser, app_side)
    web.share(shared_login)


@then(parsers.parse('I see the admin index "{title}"'))
def admin_index(web: WebSession, app_side: AppSide, evidence: Evidence, title: str) -> None:
    expect_page_ok(web, app_side, "/admin/")
    seen = web.page.evaluate(ADMIN_JS)
    evidence.table("admin index", [{"URL": web.page.url, "site header": seen["header"],
                                    "index title": seen["title"],
                                    "models": ", ".join(seen["models"])}])
    expect(title in (seen["header"], seen["title"]),
           f"the admin index with {title!r} as its header or title",
           f"header {seen['header']!r}, title {seen['title']!r} ({web.screen()})",
           "if the app renamed its admin, update the quote in features/t07_smoke.feature.")
    expect(bool(seen["models"]), "the admin index to list the app's models", "none listed",
           "the superuser lacks permissions, or the app registers no model with the admin.")


# -- the dashboard -------------------------------------------------------------------------

@when(parsers.parse('I open the dashboard "{path}"'))
def open_dashboard(web: WebSession, path: str) -> None:
    web.open(path)
    web.notes["page"] = path


@then(parsers.parse('the page answers {status:d} with the headline "{headline}"'))
def page_headline(web: WebSession, app_side: AppSide, evidence: Evidence, status: int,
                  headline: str) -> None:
    path = web.notes.get("page", "/")
    if status == 200:
        expect_page_ok(web, app_side, path)
    else:
        expect(web.status == status, f"HTTP {status}", f"HTTP {web.status}: {web.screen()}",
               "see the screenshot.")
    seen = web.page.evaluate(HEADLINE_JS)
    evidence.text("dashboard", f"{web.page.url}: HTTP {web.status}, headline {seen!r}")
    expect(seen == headline, f"the headline {headline!r}", f"{seen!r} ({web.screen()})",
           "a different page was served: look at the screenshot.")


@then("the page logged no console errors and no failed requests")
def page_clean(web: WebSession) -> None:
    web.settle(limit_s=min(web.timeout_s, 10))
    expect(not web.console and not web.failed,
           f"no console errors and no failed requests on {web.notes.get('page', web.path)}",
           f"console errors: {web.console[:6] or 'none'}; failed requests: "
           f"{web.failed[:6] or 'none'}",
           "each entry names the script or resource; open the trace for the details.")


@then("every stylesheet and script answers 200 with the right content type, a hashed name and "
      "long cache headers")
def assets_served(web: WebSession, app_side: AppSide, evidence: Evidence) -> None:
    expect_page_ok(web, app_side, web.notes.get("page", "/"))
    seen = web.page.evaluate(ASSETS_JS)
    if not seen["styles"] or not seen["scripts"] or seen["notes"]:
        lines, source = app_side.log_lines(r"vite|[Mm]anifest")
        absent = [kind for kind, found in (("stylesheet", seen["styles"]),
                                           ("script", seen["scripts"])) if not found]
        entries = sorted({name for note in seen["notes"] for name in ENTRY.findall(note)})
        fail("the page to link the stylesheet and script of its Vite entry",
             (f"the page has no {' and no '.join(absent)}" if absent else
              "the page links only part of its assets")
             + (f"; the Vite entry {', '.join(entries)} is not included" if entries else "")
             + f"; the template says: {seen['notes'] or 'nothing'}; {source}: "
             f"{' | '.join(lines) or 'no vite line'}",
             "the Vite manifest (static/dist/.vite/manifest.json) maps each entry to its "
             "hashed files: it must be in the image (the Dockerfile's COPY of static/dist/) "
             "and name the entry the template asks for.")
    rows, problems = [], []
    for kind, urls in (("stylesheet", seen["styles"]), ("script", seen["scripts"])):
        for url in urls:
            row, issues = asset_row(web, kind, url)
            rows.append(row)
            if issues:
                problems.append(f"{row['file']}: {', '.join(issues)}")
    evidence.table("stylesheets and scripts", rows)
    expect(not problems, "every stylesheet and script: HTTP 200, the right content type, a "
           "hashed name, Cache-Control max-age of a year or more", "; ".join(problems),
           "serve static files with WhiteNoise and CompressedManifestStaticFilesStorage, and "
           "run collectstatic in the image build; a 404 means the file is not in STATIC_ROOT.")


def asset_row(web: WebSession, kind: str, url: str) -> tuple[dict[str, str], list[str]]:
    """One stylesheet or script as the page loaded it, and what is wrong with it."""
    name = web.path_of(url)
    response = web.response_for(url)
    if response is None:
        return {"file": name, "status": "not loaded"}, ["the page never loaded it"]
    headers = response.all_headers()
    media = headers.get("content-type", "").split(";")[0].strip()
    cache = headers.get("cache-control", "")
    age = re.search(r"max-age=(\d+)", cache)
    issues = []
    if response.status != 200:
        issues.append(f"HTTP {response.status}")
    if media not in MEDIA_TYPES[kind]:
        issues.append(f"content type {media or 'none'} (expected {MEDIA_TYPES[kind][0]})")
    if not HASHED.search(urlsplit(url).path):
        issues.append("no content hash in its name")
    if not age or int(age.group(1)) < YEAR_S:
        issues.append(f"Cache-Control {cache or 'none'!r}")
    return {"file": name, "status": str(response.status), "content type": media,
            "cache-control": cache}, issues


@then("the Tailwind styles take effect on the headline")
def tailwind_applies(web: WebSession, evidence: Evidence) -> None:
    seen = web.page.evaluate(STYLE_JS)
    expect(seen is not None, "a headline on the page", web.screen(), "see the screenshot.")
    changed = {p: (seen["plain"][p], seen["styled"][p]) for p in seen["styled"]
               if seen["plain"][p] != seen["styled"][p]}
    evidence.table("headline style", [{"property": p, "without stylesheets": plain,
                                       "with the page's stylesheets": styled}
                                      for p, (plain, styled) in changed.items()])
    expect(bool({"font-size", "color"} & set(changed)),
           f"the headline's classes ({seen['classes']}) to change its font size or colour",
           f"the same computed style with and without the page's {seen['sheets']} "
           f"stylesheet(s){' - the page has no stylesheet' if not seen['sheets'] else ''}",
           "the built CSS must contain the classes the templates use: Tailwind's @source "
           "must cover templates/ and the app's template folders.")


# -- HTMX ------------------------------------------------------------------------------------

@when("I filter the list of Ausschreibungen")
def filter_list(web: WebSession, app_side: AppSide) -> None:
    expect_page_ok(web, app_side, web.notes.get("page", "/"))
    search = web.page.locator(SEARCH)
    try:
        search.wait_for(state="visible")
    except PlaywrightTimeout:
        fail(f"the search field of the list ({SEARCH})", web.screen(),
             "see the screenshot: the dashboard did not render its filter.")
    rows = web.page.evaluate(MARK_ROWS_JS, LIST)
    first = next((row["first"] for row in rows if row["id"].startswith("ausschreibung-")), "")
    term = first or f"SMOKE-FILTER-{secrets.token_hex(3).upper()}"
    expect_htmx(web, "typing into the search field to send an HTMX request")
    began = time.monotonic()
    try:
        with web.page.expect_response(is_hx("GET")) as exchange:
            search.fill(term)
    except PlaywrightTimeout:
        fail("typing into the search field to send an HTMX request (HX-Request: true)",
             f"no such request within {web.timeout_s:.0f}s; HTMX is {htmx_state(web)}",
             "without the page's script HTMX does not run: check the static assets.")
    web.notes["htmx"] = exchange.value
    log.info("GET %s (HX-Request) -> %s in %.2fs", web.path_of(exchange.value.url),
             exchange.value.status, time.monotonic() - began)
    web.notes["filter"] = (term, bool(first))


@then("the HTMX request gets a fragment that varies on HX-Request")
def htmx_fragment(web: WebSession, app_side: AppSide, evidence: Evidence) -> None:
    response: Response = web.notes["htmx"]
    headers = response.all_headers()
    body = response.text() if response.status < 400 else visible_text(response)
    vary = [token.strip().lower() for token in headers.get("vary", "").split(",")]
    evidence.text("HTMX exchange", f"GET {web.path_of(response.url)} with HX-Request: true -> "
                  f"HTTP {response.status}; Vary: {headers.get('vary', '(none)')}; body begins "
                  f"{' '.join(body.split())[:120]!r}")
    if response.status == 403:
        fail(*csrf_refusal(web, response.request, response, app_side, "the hx request"))
    expect(response.status == 200, "the hx request to answer 200",
           f"the hx request got {response.status}: {body[:200]!r}", "read the app pod's log.")
    expect("hx-request" in vary, "the fragment's Vary header to name HX-Request",
           f"Vary: {headers.get('vary') or '(none)'}", "decorate the view with "
           "vary_on_headers('HX-Request'), so no cache serves the fragment as the page.")
    expect("<html" not in body.lower(), "a fragment (no <html>)",
           f"a whole page: {body.strip()[:120]!r}", "answer HX-Request with the partial only.")


@then("the list on the page is swapped")
def list_swapped(web: WebSession) -> None:
    term, real = web.notes["filter"]
    try:
        web.page.wait_for_function(SWAPPED_JS, arg=LIST)
    except PlaywrightTimeout:
        fail(f"the list {LIST} to be replaced by the fragment",
             f"it still shows the old rows after {web.timeout_s:.0f}s ({web.screen()})",
             "HTMX swaps only 2xx answers into hx-target: check the answer and the console.")
    rows = web.page.evaluate(ROW_TEXTS_JS, LIST)
    strays = [row for row in rows if term.lower() not in row.lower()]
    if real:
        expect(bool(rows) and not strays, f"only rows matching {term!r}",
               f"rows: {rows[:4]}", "the list view must filter by the search term.")
    else:
        expect(len(rows) <= 1 and not any(term in row for row in rows),
               f"no row for the unknown term {term!r}", f"rows: {rows[:4]}",
               "the list view must filter by the search term.")


# -- the smoke Ausschreibung ----------------------------------------------------------------

@dataclass
class SmokeRecord:
    titel: str
    vergabenummer: str
    sent: bool = False
    pk: int | None = None
    removed: bool = False

    @classmethod
    def new(cls) -> SmokeRecord:
        token = secrets.token_hex(4).upper()
        return cls(f"SMOKE-{token} Rauchtest nach dem Deployment", f"SMOKE-{token}")


def find_in_admin(web: WebSession, record: SmokeRecord) -> int | None:
    """The id of the row with the record's Vergabenummer, looked up in the admin."""
    path = f"{ADMIN_MODEL}?q={quote(record.vergabenummer)}"
    web.open(path)
    expect(web.status == 200 and web.page.url.startswith(web.url(ADMIN_MODEL)),
           f"the admin list {path}", f"HTTP {web.status}: {web.screen()}",
           "the superuser must be logged in and see the model in the admin.")
    for text, href in web.page.evaluate(CHANGE_LINKS_JS):
        found = re.search(r"/(\d+)/change/", href or "")
        if text == record.vergabenummer and found:
            return int(found.group(1))
    return None


def post_delete(web: WebSession, path: str) -> bool:
    """Confirm the admin's delete view by one POST from the page; whether it deleted.

    This is what the confirmation page's button sends, without loading that page first.
    Only a redirect to the model's list counts: the admin also redirects a lost session
    to the login page and a missing object to its index.
    """
    token = csrf_token(web.context.cookies(web.url("/")))
    if not token or not web.page.url.startswith(web.endpoint.origin):
        return False
    answer = post_form(web.page, web.url(path), token, "post=yes")
    return answer.redirected and answer.status == 200 and answer.path == ADMIN_MODEL


def remove_smoke(web: WebSession, record: SmokeRecord, app_side: AppSide) -> None:
    """Delete the record through the admin's delete view (works wherever the app does).

    One POST from the page when the CSRF cookie is readable; else (or when that POST is
    refused) through the confirmation page and its button, which names what went wrong.
    """
    pk = record.pk or find_in_admin(web, record)
    expect(pk is not None, f"the smoke Ausschreibung {record.vergabenummer} in the admin",
           "no such row", "it was not stored: see the step that created it.")
    if post_delete(web, f"{ADMIN_MODEL}{pk}/delete/"):
        record.removed = True
        return
    web.open(f"{ADMIN_MODEL}{pk}/delete/")
    button = web.page.locator("#content form [type=submit]")
    expect(web.status == 200 and button.count() > 0, "the admin's delete confirmation",
           web.screen(), "the superuser needs the delete permission on Ausschreibung.")
    began = time.monotonic()
    with web.page.expect_navigation(wait_until="load") as navigation:
        button.first.click()
    request = web.first_post(navigation.value)
    answer = request.response() if request else None
    log.info("POST %s -> %s in %.2fs", web.path_of(request.url if request else ""),
             answer.status if answer else None, time.monotonic() - began)
    if request is not None and answer is not None and answer.status == 403:
        fail(*csrf_refusal(web, request, answer, app_side, "the admin's delete form"))
    expect(answer is not None and answer.status in (302, 303),
           "the delete to answer with a redirect to the list",
           f"HTTP {answer.status if answer else None}: {web.screen()}", "read the app log.")
    record.removed = True


def leftover(web: WebSession, record: SmokeRecord, app_side: AppSide) -> str | None:
    """At the end of the scenario: remove the record if a failed step left it behind."""
    if not record.sent or record.removed:
        return None
    record.pk = record.pk or find_in_admin(web, record)
    if record.pk is None:
        return None
    remove_smoke(web, record, app_side)
    return None


@when("I create a smoke Ausschreibung through the form")
def create_smoke(web: WebSession, app_side: AppSide) -> None:
    expect_page_ok(web, app_side, web.notes.get("page", "/"))
    record = SmokeRecord.new()
    web.notes["smoke"] = record
    web.on_close(f"the smoke Ausschreibung {record.vergabenummer}",
                 lambda: leftover(web, record, app_side))
    form = web.page.locator(FORM)
    try:
        form.wait_for(state="visible")
    except PlaywrightTimeout:
        fail(f"the form {FORM} on the dashboard", web.screen(), "see the screenshot.")
    form.locator("[name=titel]").fill(record.titel)
    form.locator("[name=vergabenummer]").fill(record.vergabenummer)
    for name in ("auftraggeber", "verfahrensart"):
        choice = form.locator(f"select[name={name}] option:not([value=''])")
        expect(choice.count() > 0, f"choices for {name}", "none",
               "the seed's reference data is missing: run the seed (T07).")
        form.locator(f"select[name={name}]").select_option(choice.first.get_attribute("value"))
    deadline = dt.datetime.now() + dt.timedelta(days=14)
    form.locator("[name=abgabefrist]").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    expect_htmx(web, "the form to be sent by HTMX")
    record.sent = True
    began = time.monotonic()
    try:
        with web.page.expect_response(is_hx("POST")) as exchange:
            form.locator("[type=submit]").first.click()
    except PlaywrightTimeout:
        fail("the form to be sent by HTMX (a POST with HX-Request: true)",
             f"no such request within {web.timeout_s:.0f}s; HTMX is {htmx_state(web)}; "
             f"{web.screen()}", "without the page's script HTMX does not run.")
    answer = exchange.value
    log.info("POST %s (HX-Request) -> %s in %.2fs", web.path_of(answer.url), answer.status,
             time.monotonic() - began)
    if answer.status == 403:
        fail(*csrf_refusal(web, answer.request, answer, app_side, "the form"))
    trigger = answer.all_headers().get("hx-trigger", "")
    with contextlib.suppress(PlaywrightTimeout):
        web.page.wait_for_selector(f"{FORM} [role=status], {FORM} .text-red-700", timeout=3000)
    expect(answer.status == 200 and bool(trigger), "the form to answer 200 with an HX-Trigger "
           "event for the list", f"HTTP {answer.status}, HX-Trigger {trigger or '(none)'}: "
           f"{web.screen()}", "the messages above name the fields the app refused.")


@then("the new Ausschreibung appears in the list")
def smoke_listed(web: WebSession) -> None:
    record: SmokeRecord = web.notes["smoke"]
    row = web.page.locator(f"{LIST} > tr", has_text=record.vergabenummer).first
    try:
        row.wait_for(state="visible")
    except PlaywrightTimeout:
        fail(f"a row for {record.vergabenummer} in the list {LIST}",
             f"after {web.timeout_s:.0f}s the rows are "
             f"{web.page.evaluate(ROW_TEXTS_JS, LIST)[:3]} ({web.screen()})",
             "the list reloads on the form's HX-Trigger event (hx-trigger ... from:body).")
    found = re.search(r"(\d+)$", row.get_attribute("id") or "")
    record.pk = int(found.group(1)) if found else None


def stored_row(request: pytest.FixtureRequest, target: Target,
               record: SmokeRecord) -> tuple[bool, list[tuple[Any, ...]]]:
    """(whether the database was asked, the rows with the record's Vergabenummer)."""
    if not target.get("database.suite_host"):
        return False, []
    connection = request.getfixturevalue("database").connect()
    if connection is None:
        return False, []
    with connection:
        rows = connection.execute(
            "SELECT a.id, a.titel, u.username FROM ausschreibungen_ausschreibung a JOIN "
            "auth_user u ON u.id = a.erstellt_von_id WHERE a.vergabenummer = %s",
            (record.vergabenummer,)).fetchall()
    return True, [tuple(row) for row in rows]


@then("the smoke Ausschreibung is stored and removed again")
def smoke_removed(web: WebSession, app_side: AppSide, target: Target,
                  request: pytest.FixtureRequest, superuser: Credentials,
                  evidence: Evidence) -> None:
    record: SmokeRecord = web.notes["smoke"]
    asked, rows = stored_row(request, target, record)
    if asked:
        expect(len(rows) == 1 and rows[0][1] == record.titel and
               rows[0][2] == superuser.username,
               f"one row {record.vergabenummer} with its Titel, created by {superuser.username}",
               f"{rows}", "the form answered but the row is not as sent: read the app log.")
    remove_smoke(web, record, app_side)
    # the database is the better witness; the admin list is the one left without a route to it
    _, after = stored_row(request, target, record)
    again = None if asked else find_in_admin(web, record)
    evidence.table("smoke Ausschreibung", [{
        "Vergabenummer": record.vergabenummer, "id": str(record.pk),
        "stored": f"{len(rows)} row(s) in the database" if asked else "seen in the list "
        "(no route to the database from here)", "removed": "admin delete view",
        "left behind": str(len(after) + (again is not None))}])
    expect(again is None and not after, f"no row {record.vergabenummer} after the delete",
           f"admin finds id {again}, database rows {after}",
           "remove it in /admin/ and find out why the delete did not remove it.")
