"""axe-core in chromium finds no serious or critical accessibility problem on any kind of page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from .conftest import AXE_JS, KINDS, PageKind, require_axe

pytestmark = [pytest.mark.browser, pytest.mark.one_backend]

BLOCKING = {"serious", "critical"}


def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now."""
    page.add_script_tag(path=str(AXE_JS))
    result: dict[str, Any] = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def report(name: str, violations: list[dict[str, Any]]) -> list[str]:
    """One line per violation and node, printed so a failure says what and where."""
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            lines.append(
                f"{name}: {violation['impact']}: {violation['id']}: {violation['help']}"
                f" at {' '.join(map(str, node['target']))}: {node.get('failureSummary', '')!r}"
            )
    for line in lines:
        print(line)
    return lines


@pytest.mark.parametrize("name", KINDS)
def test_page_has_no_serious_accessibility_violations(
    name: str, page_kinds: dict[str, PageKind], browser: Browser
) -> None:
    require_axe()
    if name not in page_kinds:
        pytest.skip(f"no {name} page here: the seed file is missing")
    page = page_kinds[name].open(browser, bypass_csp=True)
    try:
        violations = run_axe(page)
    finally:
        page.context.close()
    report(name, violations)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert report(name, blocking) == []


def test_reply_form_moved_under_a_comment_stays_accessible(
    page_kinds: dict[str, PageKind], browser: Browser
) -> None:
    """With the script, Reply moves the form into the thread; the moved form is checked too."""
    require_axe()
    page = page_kinds["thread"].open(browser, bypass_csp=True)
    try:
        page.locator("a.reply").first.click()
        assert page.locator(".comment #commentform").count() == 1
        violations = run_axe(page)
    finally:
        page.context.close()
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert report("thread, replying", blocking) == []


def test_axe_finds_a_known_problem(browser: Browser) -> None:
    """The checks above can fail: axe reports unlabelled inputs and grey-on-white text."""
    require_axe()
    page = browser.new_page()
    try:
        page.set_content(
            '<!DOCTYPE html><html lang="en"><head><title>x</title></head><body><main>'
            '<input type="text"><p style="color:#ccc;background:#fff">faint</p>'
            "</main></body></html>"
        )
        found = {v["id"] for v in run_axe(page) if v["impact"] in BLOCKING}
    finally:
        page.close()
    assert {"label", "color-contrast"} <= found
