"""One scenario's browser against the fake app: login, evidence, refusals, cleanup.

Aspects:
- the login sends the form, reports the POST's own answer (302) and the landing page, and
  starts tracing only afterwards: the password is in no saved trace, screenshot name or
  log line, while the trace still records what came after the login;
- a failed scenario leaves a screenshot (attached as evidence, relative to the reports
  dir) and a trace; a passed one leaves neither unless screenshots are asked for always;
- the session is ended on the server at the end (the admin's logout form);
- the first good login is shared with the run: a later scenario starts with its cookie
  and sends no form, neither logs out, and the run ends the shared session once; a refused
  login shares nothing, and a second form login ends its own session;
- a refused login comes back as the form with its message, a redirect loop fails with the
  chain of Location headers, a certificate outside the trust root is refused;
- a form post refused for its origin says "CSRF origin check failed", the Origin sent and
  the trusted list with what is wrong in it; an HTMX post without the token says "the hx
  request got 403" and names the missing X-CSRFToken header;
- cleanups run after the evidence is taken, and one that fails is reported as a leftover;
- the origin verdict catches the whole kind: no scheme, wrong scheme, wrong port, another
  host, and a listed origin the app still refuses (it does not see https);
- the missing static file is read from the newest log line that names one.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from fixtures.browser import (
    CHROMIUM,
    Credentials,
    Endpoint,
    SharedLogin,
    WebSession,
    browser_env,
    launch_args,
    trusting_home,
)
from fixtures.run import Evidence
from steps.browser import (
    csrf_refusal,
    judge_login,
    logged_in,
    missing_static_file,
    origin_verdict,
)
from suite import redact
from tests.browser.conftest import HOST, PASSWORD, SESSION, FakeApp

SUPERUSER = Credentials("admin", PASSWORD, "the fake app")


class FakeAppSide:
    """What the app side would say: canned settings, values and log lines."""

    def __init__(self, trusted: list[str], lines: list[str]) -> None:
        self.trusted = trusted
        self.lines = lines

    def log_lines(self, pattern: str, since_s: int = 900, most: int = 5
                  ) -> tuple[list[str], str]:
        return self.lines, "log of pod fake-0"

    def settings(self) -> tuple[dict[str, Any] | None, str]:
        return {"CSRF_TRUSTED_ORIGINS": self.trusted, "SECURE_PROXY_SSL_HEADER": None}, \
            "the settings of pod fake-0"

    def values_origins(self) -> tuple[list[str] | None, str]:
        return [f"https://{HOST}"], "csrfTrustedOrigins of values.sops.yaml"


def evidence() -> tuple[Evidence, list[dict[str, Any]]]:
    items: list[dict[str, Any]] = []
    return Evidence({"evidence": items}), items


def test_login_then_trace_without_the_password(session: WebSession, tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    redact.register(PASSWORD)
    caplog.set_level(logging.DEBUG)

    attempt = session.login("/accounts/login/", SUPERUSER)
    session.open("/")
    proof, items = evidence()
    leftovers = session.finish(failed=True, reports=tmp_path, screenshot=False,
                               evidence=proof)

    assert attempt.answer is not None and attempt.answer.status == 302
    assert attempt.landing is not None and attempt.landing.status == 200
    assert session.logged_in and not leftovers
    trace = tmp_path / "traces" / "login-at-admin-succeeds.zip"
    screenshot = tmp_path / "screenshots" / "login-at-admin-succeeds.png"
    assert trace.is_file() and screenshot.is_file()
    with zipfile.ZipFile(trace) as archive:
        contents = b"".join(archive.read(name) for name in archive.namelist())
    assert PASSWORD.encode() not in contents
    assert b"seitentitel" in contents
    assert {"title": "screenshot: /", "kind": "image",
            "data": "screenshots/login-at-admin-succeeds.png"} in items
    assert PASSWORD not in caplog.text and PASSWORD not in str(items)
    assert FakeApp.posts[-1][0] == "/admin/logout/"


def scenario(browser: Browser, where: Endpoint, name: str) -> WebSession:
    context = browser.new_context(locale="de-DE")
    context.set_default_timeout(10_000)
    return WebSession(context, where, 10, name)


def test_the_first_good_login_is_shared_and_ended_once_by_the_run(
        session: WebSession, test_browser: Browser, fake_app: Endpoint,
        tmp_path: Path) -> None:
    shared = SharedLogin()
    FakeApp.posts.clear()
    FakeApp.gets.clear()
    FakeApp.csrf_headers.clear()

    session.login("/accounts/login/", SUPERUSER)
    session.share(shared)
    session.finish(failed=False, reports=tmp_path, screenshot=False, evidence=evidence()[0])
    later = scenario(test_browser, fake_app, "The dashboard renders without errors")
    borrowed = later.borrow(shared)
    later.open("/")
    leftovers = later.finish(failed=False, reports=tmp_path, screenshot=False,
                             evidence=evidence()[0])
    logouts_before_the_end = [p for p, _ in FakeApp.posts if p == "/admin/logout/"]
    gets_before_the_end = list(FakeApp.gets)
    shared.end(test_browser, fake_app)

    assert borrowed and later.logged_in and not leftovers
    cookies = [cookie for path, cookie in gets_before_the_end[-1:] if path == "/"]
    assert cookies and f"sessionid={SESSION}" in cookies[0], (
        f"expected the later scenario's page load to carry the shared session cookie; the "
        f"requests were {gets_before_the_end}")
    assert [p for p, _ in FakeApp.posts] == ["/accounts/login/", "/admin/logout/"]
    assert FakeApp.csrf_headers[-1] == "tok-4711", (
        f"expected the run's logout sent with the CSRF cookie's token; the POSTs carried "
        f"{FakeApp.csrf_headers}")
    assert not logouts_before_the_end
    assert "Login at /admin/ succeeds" in shared.opened_by
    assert not shared.cookies() and SESSION not in repr(shared.__dict__)


def test_a_refused_login_shares_nothing(session: WebSession, test_browser: Browser,
                                        fake_app: Endpoint) -> None:
    shared = SharedLogin()
    with pytest.raises(AssertionError, match="the login form came back"):
        logged_in(session, Credentials("admin", "wrong-Hq2", "the test"),
                  FakeAppSide([], []), shared, evidence()[0])  # type: ignore[arg-type]
    later = scenario(test_browser, fake_app, "HTMX partial requests succeed")

    assert not later.borrow(shared) and not later.logged_in
    later.context.close()


def test_a_second_form_login_ends_its_own_session(session: WebSession, test_browser: Browser,
                                                  fake_app: Endpoint, tmp_path: Path) -> None:
    shared = SharedLogin()
    shared.keep([{"name": "sessionid", "value": "earlier", "domain": HOST, "path": "/"}],
                "an earlier scenario")
    FakeApp.posts.clear()

    session.login("/accounts/login/", SUPERUSER)
    session.share(shared)
    session.finish(failed=False, reports=tmp_path, screenshot=False, evidence=evidence()[0])

    assert not session.borrowed
    assert [p for p, _ in FakeApp.posts] == ["/accounts/login/", "/admin/logout/"]
    assert shared.cookies()[0]["value"] == "earlier"


def test_a_passed_scenario_leaves_no_files_unless_asked(session: WebSession,
                                                        tmp_path: Path) -> None:
    session.login("/accounts/login/", SUPERUSER)
    proof, items = evidence()
    session.finish(failed=False, reports=tmp_path, screenshot=False, evidence=proof)
    assert not list(tmp_path.rglob("*.*")) and not items


def test_screenshots_always_on_success(session: WebSession, tmp_path: Path) -> None:
    session.open("/")
    proof, items = evidence()
    session.finish(failed=False, reports=tmp_path, screenshot=True, evidence=proof)
    assert [p.name for p in tmp_path.rglob("*.png")] == ["login-at-admin-succeeds.png"]
    assert not list(tmp_path.rglob("*.zip"))


def test_a_refused_login_shows_the_form_and_its_message(session: WebSession) -> None:
    wrong = Credentials("admin", "wrong-password-Tq55", "the test")
    side: Any = FakeAppSide([], [])
    attempt = session.login("/accounts/login/", wrong)
    with pytest.raises(AssertionError) as raised:
        judge_login(session, attempt, wrong, side)
    message = str(raised.value)
    assert "the login form came back" in message
    assert "gültigen Benutzernamen" in message
    assert "wrong-password-Tq55" not in message


def test_a_redirect_loop_names_the_chain(session: WebSession) -> None:
    with pytest.raises(AssertionError) as raised:
        session.open("/loop/")
    message = str(raised.value)
    assert "redirect loop" in message
    assert f"301 /loop/ -> https://{HOST}/loop/ (x" in message
    assert "SECURE_PROXY_SSL_HEADER" in message


def test_a_certificate_outside_the_trust_root_is_refused(tmp_path: Path, fake_app: Endpoint,
                                                          test_browser: Browser) -> None:
    trusting_home(tmp_path, None)
    untrusting = test_browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=launch_args(fake_app),
        env=browser_env(tmp_path))
    try:
        web = WebSession(untrusting.new_context(), fake_app, 10, "untrusted")
        with pytest.raises(AssertionError) as raised:
            web.open("/")
    finally:
        untrusting.close()
    assert "the browser refused it (ERR_CERT_AUTHORITY_INVALID)" in str(raised.value)


def test_an_origin_refusal_names_origin_and_trusted_list(session: WebSession) -> None:
    session.open("/")
    with session.page.expect_navigation() as navigation:
        session.page.click("#origin-form button")
    answer = navigation.value
    line = (f"WARNING django.security.csrf: Forbidden (Origin checking failed - https://{HOST} "
            "does not match any trusted origins.): /csrf/")
    side: Any = FakeAppSide([f"http://{HOST}"], [line])

    _, found, next_step = csrf_refusal(session, answer.request, answer, side, "the form")

    assert "CSRF origin check failed" in found
    assert f"The browser sent Origin https://{HOST}" in found
    assert f"the app trusts ['http://{HOST}']" in found
    assert "with http:// where the browser sends https://" in found
    assert "SECURE_PROXY_SSL_HEADER is None" in found
    assert line in found and "https://<app host>" in next_step


def test_an_hx_post_without_token_names_the_header(session: WebSession) -> None:
    session.open("/")
    with session.page.expect_response(lambda r: r.url.endswith("/hx/")) as exchange:
        session.page.click("#hx")
    answer = exchange.value
    side: Any = FakeAppSide([], ["Forbidden (CSRF token missing.): /hx/"])

    _, found, next_step = csrf_refusal(session, answer.request, answer, side, "the form")

    assert found.startswith("the hx request got 403: the header X-CSRFToken was missing")
    assert "hx-headers" in next_step


def test_cleanups_run_after_the_evidence_and_report_leftovers(session: WebSession,
                                                              tmp_path: Path) -> None:
    session.open("/")
    order: list[str] = []

    def remove() -> str | None:
        order.append("cleanup")
        session.open("/admin/")
        return "the smoke Ausschreibung SMOKE-1: still there"

    session.on_close("the smoke Ausschreibung SMOKE-1", remove)
    proof, items = evidence()
    leftovers = session.finish(failed=True, reports=tmp_path, screenshot=False,
                               evidence=proof)
    assert leftovers == ["the smoke Ausschreibung SMOKE-1: still there"]
    assert items[0]["title"] == "screenshot: /" and order == ["cleanup"]


@pytest.mark.parametrize(("trusted", "words"), [
    ([HOST], "without a scheme"),
    ([f"http://{HOST}"], "with http:// where the browser sends https://"),
    ([f"https://{HOST}:8443"], "another port"),
    (["https://other.example"], f"no entry names the host {HOST}"),
    ([f"https://{HOST}"], "it does not see the request as https"),
    (["https://*.smoke.test"], "it does not see the request as https"),
])
def test_the_origin_verdict_covers_the_kind(trusted: list[str], words: str) -> None:
    assert words in origin_verdict(f"https://{HOST}", trusted)


def test_the_missing_static_file_comes_from_the_newest_line() -> None:
    lines = ["ERROR django.request: Internal Server Error: /",
             "ValueError: Missing staticfiles manifest entry for 'img/alt.svg'",
             "ValueError: Missing staticfiles manifest entry for 'img/symbol-2026.svg'",
             '''"Missing staticfiles manifest entry for '%s'" % clean_name''']
    assert missing_static_file(lines) == "img/symbol-2026.svg"
    assert missing_static_file(["ValueError: The file 'css/x.css' could not be found with "
                                "<storage>."]) == "css/x.css"
    assert missing_static_file(["nothing"]) is None
