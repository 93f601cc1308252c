"""living-docs.html, opened from disk in headless Chromium (Debian's, via Playwright).

Aspects:
- every task of the workplan is on the page with its title and "Done when"
- the goal, the verdict, who must act, and the since-last-green comparison are shown
- the status filter hides and shows scenarios; the tag filter and "only not done" work
- no request leaves the page (every non-file URL is routed and counted as a failure)
- no console error, no page error
- evidence: tables, <pre> manifests, screenshots inline as data: URIs
- everything from the record is escaped (a scenario named like a script stays text)
- a screenshot of the page is saved to /tmp/living-docs.png for a human look
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from suite.reports import living_docs, write_all

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: Where a person looks at the page after the run (the path is fixed so it is easy to find).
SCREENSHOT = Path(os.environ.get("LIVING_DOCS_SCREENSHOT", "/tmp/living-docs.png"))  # noqa: S108

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"expected Chromium at {CHROMIUM}; install Debian's "
                                       "chromium package (scripts/debian-packages.txt)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Watched:
    """A page with every outgoing request and every console/page error recorded."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.route("**/*", self._route)
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(("file://", "data:")):
            route.continue_()
            return
        self.requests.append(url)
        route.abort()


@pytest.fixture
def opened(browser: Browser, rich: tuple[dict[str, Any], Path]) -> Iterator[Watched]:
    record, reports = rich
    write_all(record, reports, [])
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    watched = Watched(context.new_page())
    watched.page.goto((reports / "living-docs.html").as_uri())
    watched.page.wait_for_load_state("load")
    yield watched
    context.close()


def visible_outcomes(page: Page) -> set[str]:
    return set(page.eval_on_selector_all(
        ".scenario:not([hidden])", "nodes => nodes.map(n => n.dataset.outcome)"))


def test_every_task_is_shown_with_title_and_done_when(opened: Watched,
                                                      rich: tuple[dict[str, Any], Path]) -> None:
    record, _ = rich
    page = opened.page

    for task in record["workplan"]["tasks"]:
        article = page.locator(f"#task-{task['id']}")
        assert article.count() == 1, f"expected one section for {task['id']}, found none"
        assert task["title"] in article.locator("h3").inner_text()
        assert task["done_when"] in article.inner_text()

    assert "Deploy the vergabe-teilnahme Django application" in page.locator("#goal").inner_text()
    assert page.locator("#verdict").inner_text() == "FAIL"


def test_blocked_work_names_who_must_act(opened: Watched) -> None:
    act = opened.page.locator("#act")

    assert "DNS owner of whywhynot.de" in act.inner_text()
    assert "add the A record" in act.inner_text()


def test_since_last_green_shows_the_changed_digest(opened: Watched) -> None:
    text = opened.page.locator("#since-green").inner_text()

    assert "image digest" in text and "sha256:" + "1" * 64 in text and "changed" in text
    assert "certificate serial" in text and "same" in text


def test_status_filter_hides_and_shows_scenarios(opened: Watched) -> None:
    page = opened.page
    assert {"passed", "missing", "blocked", "not_evaluated"} <= visible_outcomes(page)

    page.locator('input[name="status"][value="passed"]').uncheck()
    assert "passed" not in visible_outcomes(page)
    assert "missing" in visible_outcomes(page)
    assert page.locator('.scenario[data-outcome="passed"]').first.is_hidden()

    page.locator('input[name="status"][value="passed"]').check()
    assert "passed" in visible_outcomes(page)
    assert page.locator('.scenario[data-outcome="passed"]').first.is_visible()


def test_tag_filter_and_only_not_done(opened: Watched) -> None:
    page = opened.page

    page.select_option("#tag-filter", "browser")
    shown = page.eval_on_selector_all(".scenario:not([hidden])",
                                      "nodes => nodes.map(n => n.dataset.tags)")
    assert shown and all("browser" in tags.split() for tags in shown)
    assert page.locator("#task-T01 .empty-filter").is_visible()

    page.click("#only-open")
    assert visible_outcomes(page) == {"missing", "blocked", "not_evaluated"}

    page.click("#reset-filters")
    assert "passed" in visible_outcomes(page)
    assert re.match(r"\d+ of \d+", page.locator("#filter-count").inner_text())


def test_evidence_is_inline(opened: Watched) -> None:
    page = opened.page

    image = page.locator("figure.k-image img")
    assert (image.get_attribute("src") or "").startswith("data:image/png;base64,")
    assert page.evaluate("img => img.naturalWidth", image.element_handle()) == 24
    assert "gitea-db" in (page.locator("figure.k-table table").text_content() or "")
    assert "kind: Secret" in (page.locator("figure.k-text pre").text_content() or "")


def test_no_request_leaves_the_page_and_no_console_error(opened: Watched) -> None:
    page = opened.page
    page.click("#only-open")
    page.click("#reset-filters")
    page.locator("#task-T04 details.scenario").first.click()

    assert opened.requests == [], f"expected no request, found {opened.requests}"
    assert opened.errors == [], f"expected no console error, found {opened.errors}"


def test_page_markup_references_nothing_outside(rich: tuple[dict[str, Any], Path]) -> None:
    record, reports = rich
    html = living_docs.render(record, reports)

    assert "<link" not in html
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#|data:)""", html)
    assert "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html


def test_everything_from_the_record_is_escaped(browser: Browser, converged: dict[str, Any],
                                               tmp_path: Path) -> None:
    hostile = '<script>window.__pwned = 1</script><img src="https://127.0.0.1/x.png">'
    converged["scenarios"][0]["name"] = hostile
    converged["scenarios"][0]["evidence"] = [{"title": hostile, "kind": "text", "data": hostile}]
    write_all(converged, tmp_path, [])
    context = browser.new_context()
    watched = Watched(context.new_page())

    watched.page.goto((tmp_path / "living-docs.html").as_uri())

    assert watched.page.evaluate("window.__pwned") is None
    assert hostile in watched.page.locator("#task-T01 .scenario .name").first.inner_text()
    assert watched.requests == []
    context.close()


def test_screenshot_reads_well(opened: Watched) -> None:
    page = opened.page
    page.locator("#task-T04 details.scenario").first.evaluate("d => d.open = true")

    page.screenshot(path=str(SCREENSHOT), full_page=True)

    assert SCREENSHOT.stat().st_size > 10_000
