"""Two real `rejoinder serve` processes on one database (SQLite's file, or PostgreSQL with
Redis): a site added, changed or removed through one, or by a command, is served by the other
within seconds and without a restart, and an article posted for it lands in it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import ADMIN_HEADERS, parse_html
from tests.conftest import TEST_ENV, Databases, Server, add_staff, add_token, cli, rejoinder


def eventually(check: Callable[[], bool], seconds: float = 20) -> bool:
    """Whether `check` comes true within `seconds`: a worker reads the sites again about a
    second after a write; the margin is for a busy machine, not a promise."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


@pytest.fixture(scope="module")
def servers(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    tmp: Path = tmp_path_factory.mktemp("sites-live")
    db_url = databases.new()
    first = Server(db_url, log=tmp / "first.log").start()
    try:
        second = Server(db_url, log=tmp / "second.log").start()
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


def title_on(server: Server, host: str) -> str:
    page = server.get("/", headers={"Host": host})
    assert page.status_code == 200, page.text
    return " ".join(parse_html(page.text).xpath("//title")[0].text_content().split())


def test_a_site_added_through_one_server_is_served_by_the_other(
    servers: tuple[Server, Server],
) -> None:
    first, second = servers
    add_staff(first.db_url, "root", "admin")
    token = add_token(first.db_url, "root")
    auth = {"Authorization": f"Bearer {token}"}
    # The second server has read its sites (and cached the default site's front page).
    before = title_on(second, "kilo.test")
    made = first.post(
        "/api/v1/admin/sites",
        json={"name": "kilo", "title": "Kilo Gazette", "domain": "kilo.test"},
        headers=auth,
    )
    assert made.status_code == 201, made.text
    assert "Kilo Gazette" not in before
    assert eventually(lambda: "Kilo Gazette" in title_on(second, "kilo.test"))

    posted = second.post(
        "/api/v1/articles",
        json={"title": "Kilo news", "body": "Text."},
        headers={**ADMIN_HEADERS, "Host": "kilo.test"},
    )
    assert posted.status_code == 201, posted.text
    slug = posted.json()["slug"]
    assert first.get(f"/articles/{slug}", headers={"Host": "kilo.test"}).status_code == 200
    assert first.get(f"/articles/{slug}").status_code == 404  # not in the default site

    # A change by a command reaches both: the new base URL is in the second's links.
    # (A command runs with the servers' settings, their Redis among them, as in production.)
    update = ("site", "update", "kilo", "--base-url", "https://kilo.example.org")
    cli(*update, db_url=first.db_url, env=TEST_ENV)

    def url_on_second() -> str:
        found = second.get(f"/api/v1/articles/{slug}", headers={"Host": "kilo.test"})
        return str(found.json()["url"])

    assert eventually(lambda: url_on_second() == f"https://kilo.example.org/articles/{slug}")


def test_a_site_removed_through_one_server_is_gone_from_the_other(
    servers: tuple[Server, Server],
) -> None:
    first, second = servers
    cli(
        "site",
        "add",
        "lima",
        "--title",
        "Lima Ledger",
        "--domain",
        "lima.test",
        db_url=first.db_url,
        env=TEST_ENV,
    )
    assert eventually(lambda: "Lima Ledger" in title_on(second, "lima.test"))
    assert eventually(lambda: "Lima Ledger" in title_on(first, "lima.test"))
    token = add_token(first.db_url, "root")
    gone = first.request(
        "DELETE", "/api/v1/admin/sites/lima", headers={"Authorization": f"Bearer {token}"}
    )
    assert gone.status_code == 204, gone.text
    assert eventually(lambda: "Lima Ledger" not in title_on(second, "lima.test"))


def test_the_command_names_each_wrong_option_and_exits_non_zero(
    servers: tuple[Server, Server],
) -> None:
    first, _second = servers
    ran = rejoinder(
        "site",
        "add",
        "mike",
        "--origin",
        "https://www.mike.example/news",
        "--language",
        "fr",
        db_url=first.db_url,
        check=False,
    )
    assert ran.returncode == 1
    assert "--origin: The origin 'https://www.mike.example/news' has a path" in ran.stderr
    assert "--language: The language 'fr' is not one this server speaks: en, de." in ran.stderr
    assert "Traceback" not in ran.stderr
    listed = rejoinder("site", "list", db_url=first.db_url).stdout
    assert "mike" not in listed
