"""Proves the browser plumbing: Playwright drives Debian's chromium and a click changes a page."""

from urllib.parse import quote

import pytest
from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

PAGE = "data:text/html," + quote(
    "<!doctype html><title>probe</title>"
    "<button id=b onclick=\"this.textContent = 'clicked'\">click me</button>"
)


def test_chromium_clicks_a_button(browser: Browser) -> None:
    page = browser.new_page()
    try:
        page.goto(PAGE)
        assert page.text_content("#b") == "click me"
        page.click("#b")
        assert page.text_content("#b") == "clicked"
    finally:
        page.close()
