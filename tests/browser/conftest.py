"""Browser-test fixtures: one chromium per module, and a site that shows every kind of page."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests import post
from tests.conftest import ROOT, SEED, Databases, Server, cli

from .chromium import launch, require_chromium

NODE_MODULES = ROOT / "tests" / "js" / "node_modules"
VNU_JAR = Path(os.environ.get("REJOINDER_VNU_JAR", NODE_MODULES / "vnu-jar/build/dist/vnu.jar"))
AXE_JS = Path(os.environ.get("REJOINDER_AXE_JS", NODE_MODULES / "axe-core/axe.min.js"))

# Every kind of page a reader or a commenter can meet; the seed page needs the seed file.
KINDS = (
    "index",
    "thread",
    "thread-newest",
    "reply-to",
    "form-errors",
    "edit",
    "closed",
    "not-found",
    "seed",
)


def require_vnu() -> None:
    if shutil.which("java") is None:
        pytest.skip("no java to run the Nu HTML checker: run scripts/install-test-deps")
    if not VNU_JAR.is_file():
        pytest.skip(f"no Nu HTML checker at {VNU_JAR}: set REJOINDER_VNU_JAR or install test deps")


def require_axe() -> None:
    if not AXE_JS.is_file():
        pytest.skip(
            f"no axe-core at {AXE_JS}: set REJOINDER_AXE_JS or run scripts/install-test-deps"
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium for all the tests of a module. Not for the whole session:
    Playwright's sync API keeps its event loop marked as running in this thread while it is
    open, and every later test that runs a loop of its own (asyncio.run) would fail."""
    require_chromium()
    with sync_playwright() as playwright:
        running = launch(playwright)
        try:
            yield running
        finally:
            running.close()


def screenshot_dir(tmp_path: Path) -> Path:
    """Where screenshots for people to look at go: $REJOINDER_SCREENSHOTS, else the test's tmp."""
    folder = Path(os.environ.get("REJOINDER_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class PageKind:
    """How to reach one kind of page: GET `path`, or fill `form` into its form and post it."""

    name: str
    base: str
    path: str
    status: int
    cookies: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] | None = None

    @property
    def url(self) -> str:
        return self.base + self.path

    def fetch_html(self) -> str:
        """The page's HTML as the server sends it."""
        with httpx.Client(base_url=self.base, cookies=self.cookies, timeout=10) as http:
            if self.form is None:
                response = http.get(self.path)
            else:
                response = http.post(self.path.split("?")[0] + "/comments", data=self.form)
        assert response.status_code == self.status, (
            self.name,
            response.status_code,
            response.text[:500],
        )
        assert response.headers["content-type"].startswith("text/html"), self.name
        return response.text

    def open(self, browser: Browser, *, bypass_csp: bool = False) -> Page:
        """The page loaded in a fresh browser context; the caller closes `page.context`.
        The page must break none of its Content-Security-Policy; with `bypass_csp`, a test's
        own tooling (axe) may add a script the policy would refuse."""
        context = browser.new_context(bypass_csp=bypass_csp)
        if self.cookies:
            context.add_cookies(
                [{"name": k, "value": v, "url": self.base} for k, v in self.cookies.items()]
            )
        page = context.new_page()
        refused: list[str] = []
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        response = page.goto(self.url)
        if self.form is not None:
            for name, value in self.form.items():
                page.fill(f"#commentform [name={name}]", value)
            with page.expect_navigation() as navigation:
                page.click("#commentform button[type=submit]")
            response = navigation.value
        assert response is not None and response.status == self.status, (self.name, response)
        assert refused == [], (self.name, refused)
        return page


def comment(http: httpx.Client, slug: str, **fields: object) -> int:
    """Post through the JSON API with `http`'s cookie jar, which then owns the comment."""
    return int(post(http, slug, **fields)["id"])


ARTICLE_BODY = """\
The council met on *Tuesday* and voted on the [bridge plan](https://example.org/plan).

> We will not build a bridge to nowhere.

Work starts in `2026`, the clerk said.
"""


@pytest.fixture(scope="session")
def seed_server(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, str] | None]:
    """A separate server whose database holds the seed page, imported with the real CLI."""
    if not SEED.is_file():
        yield None  # the seed's page kind is left out; its tests say so
        return
    db_url = databases.new(lasting=True)
    output = cli("import-page", str(SEED), db_url=db_url).stdout
    match = re.search(r"Imported /articles/(\S+)", output)
    assert match, output
    log = tmp_path_factory.mktemp("seed-server") / "server.log"
    running = Server(db_url, log=log).start()
    try:
        yield running, match.group(1)
    finally:
        running.stop()


@pytest.fixture(scope="session")
def page_kinds(server: Server, seed_server: tuple[Server, str] | None) -> dict[str, PageKind]:
    """Articles and comments on the session server that show every kind of page, by name."""
    base = server.url
    thread = str(
        server.publish(
            title="Council votes on the bridge",
            dek="A long night at the town hall.",
            author="Jo Reporter",
            body=ARTICLE_BODY,
        )["slug"]
    )
    closed = str(
        server.publish(title="An old story", body="A paragraph.", comments_open=False)["slug"]
    )
    with (
        httpx.Client(base_url=base, timeout=10) as owner,
        httpx.Client(base_url=base, timeout=10) as other,
    ):
        ada = comment(
            other,
            thread,
            name="Ada Lovelace",
            website="https://example.org/ada",
            body="The *numbers* do not add up.\n\n> a bridge to nowhere\n\nSee `page 4`.",
        )
        grace = comment(
            other, thread, name="Grace Hopper", parent_id=ada, body="They do, if you read on."
        )
        parent = comment(other, thread, name="Ada Lovelace", parent_id=grace, body="Page 5, then.")
        for level in range(5):  # deeper than the display depth: shows "in reply to"
            parent = comment(
                other, thread, name=f"Deep {level}", parent_id=parent, body=f"Level {level + 4}."
            )
        doomed = comment(owner, thread, name="Second Thoughts", body="I take it back.")
        comment(other, thread, name="Quick Reply", parent_id=doomed, body="Too late!")
        deleted = owner.delete(f"/api/v1/comments/{doomed}")
        assert deleted.status_code == 204, deleted.text
        editable = comment(owner, thread, name="Sam Editor", body="Tpyo here & there <b>.")
        own_cookie = owner.cookies["rj_own"]
    bad_form = {"body": "", "name": "Typed Name", "email": "not-an-email", "website": ""}
    kinds = [
        PageKind("index", base, "/", 200),
        PageKind("thread", base, f"/articles/{thread}", 200),
        PageKind("thread-newest", base, f"/articles/{thread}?sort=newest", 200),
        PageKind("reply-to", base, f"/articles/{thread}?replytocom={grace}", 200),
        PageKind("form-errors", base, f"/articles/{thread}", 422, form=bad_form),
        PageKind("edit", base, f"/comments/{editable}/edit", 200, cookies={"rj_own": own_cookie}),
        PageKind("closed", base, f"/articles/{closed}", 200),
        PageKind("not-found", base, "/articles/no-such-article-here", 404),
    ]
    if seed_server is not None:
        seed, seed_slug = seed_server
        kinds.append(PageKind("seed", seed.url, f"/articles/{seed_slug}", 200))
    assert tuple(kind.name for kind in kinds) == KINDS[: len(kinds)]
    return {kind.name: kind for kind in kinds}
