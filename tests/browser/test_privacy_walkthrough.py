"""A reader's data in chromium, as a person does it: from the discussion's footer to the
privacy page, the address typed, the link taken from the mail (a real SMTP server), the
export downloaded, erasure asked for and confirmed; the discussion no longer shows them.
Each of the privacy pages passes axe on the way (the page has no script of its own, so the
context may bypass CSP to load axe), and the Nu HTML checker."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, expect

from tests import post
from tests.conftest import Databases, Server
from tests.smtp import SmtpServer, body_text

from .conftest import AXE_JS, VNU_JAR
from .test_accessibility import BLOCKING, report, run_axe
from .test_html_validity import describe, run_vnu

pytestmark = pytest.mark.browser


def valid_html(server: Server, link: str, folder: Path) -> None:
    """Every state of the privacy page, as the server sends it, passes the Nu HTML checker."""
    if shutil.which("java") is None or not VNU_JAR.is_file():
        return
    with server.client() as http:
        sent = {
            "ask": http.get("/privacy"),
            "errors": http.post("/privacy", data={"email": "not an address"}),
            "asked": http.post("/privacy", data={"email": "nobody@example.org"}),
            "choose": http.get(link),
            "confirm": http.get(f"{link}/erase"),
        }
    files = []
    for name, response in sent.items():
        assert response.status_code in (200, 422), (name, response.status_code)
        files.append(folder / f"privacy-{name}.html")
        files[-1].write_text(response.text, encoding="utf-8")
    problems = [describe(m) for m in run_vnu(files) if m["type"] in ("error", "non-document-error")]
    assert problems == []


def test_a_reader_downloads_their_data_then_erases_it(
    browser: Browser, databases: Databases, tmp_path: Path
) -> None:
    email = f"rita.{uuid.uuid4().hex[:8]}@example.org"
    words = f"Rita's thoughts on the bridge {uuid.uuid4().hex[:8]}"
    with SmtpServer() as smtp:
        smtp.start()
        server = Server(databases.new(), env=smtp.env, log=tmp_path / "server.log").start()
        try:
            slug = server.publish(title="The bridge")["slug"]
            with server.client() as http:
                post(http, slug, body=words, name="Rita Reader", email=email)
            context = browser.new_context(accept_downloads=True, bypass_csp=True)
            page = context.new_page()

            def accessible(name: str) -> None:
                if AXE_JS.is_file():
                    blocking = [v for v in run_axe(page) if v["impact"] in BLOCKING]
                    assert report(name, blocking) == []

            page.goto(f"{server.url}/articles/{slug}")
            expect(page.get_by_text(words)).to_be_visible()
            page.locator("footer.colophon").get_by_role("link", name="Your data").click()
            accessible("privacy-ask")
            page.get_by_label("Email address").fill(email)
            page.get_by_role("button", name="Send me the link").click()
            expect(page.get_by_role("status")).to_contain_text("If anything is held")

            [mail] = smtp.wait_for(1)
            link = next(line for line in body_text(mail).splitlines() if "/privacy/" in line)
            path = urlsplit(link.strip()).path
            valid_html(server, path, tmp_path)
            page.goto(server.url + path)
            accessible("privacy-choose")
            with page.expect_download() as downloading:
                page.get_by_role("link", name="Download everything held").click()
            exported = json.loads(Path(downloading.value.path()).read_text("utf-8"))
            assert [c["body_markdown"] for c in exported["comments"]] == [words]
            assert exported["comments"][0]["author_email"] == email

            page.get_by_role("link", name="Erase my data").click()
            expect(page.get_by_text("This cannot be undone")).to_be_visible()
            accessible("privacy-confirm")
            page.get_by_role("button", name="Erase my data").click()
            expect(page.get_by_role("status")).to_contain_text("erased")

            page.goto(f"{server.url}/articles/{slug}")
            expect(page.locator("main")).not_to_contain_text(words)
            expect(page.locator("main")).not_to_contain_text("Rita Reader")
            context.close()
        finally:
            server.stop()
