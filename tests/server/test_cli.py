"""The real `rejoinder` command: help, migrations, adding articles, importing a page dump."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from rejoinder.core.pagedump import parse_page_dump
from tests import comment_li, has_class, parse_html, words
from tests.conftest import SEED, Databases, Server, rejoinder

WIDE = {"COLUMNS": "400", "NO_COLOR": "1"}  # help on one line per paragraph, no colour codes


@pytest.fixture
def served(db_url: str) -> Iterator[Callable[[], Server]]:
    """A server started later, on `db_url`, once the CLI has written to it."""
    holder: list[Server] = []

    def start() -> Server:
        holder.append(Server(db_url).start())
        return holder[0]

    yield start
    for running in holder:
        running.stop()


def test_the_installed_command_starts_and_prints_its_help(tmp_path: Path) -> None:
    """The command as a process (every command's help is read in tests/unit/test_cli_help.py)."""
    result = rejoinder("--help", db_url=f"sqlite:///{tmp_path / 'unused.db'}", env=WIDE)
    shown = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.stdout).split())
    assert "Usage: rejoinder [OPTIONS] COMMAND" in shown, shown[:300]
    assert all(f" {name} " in shown for name in ("serve", "demo", "db", "article")), shown


def test_db_upgrade_twice_is_fine_and_current_prints_the_revision(db_url: str) -> None:
    before = rejoinder("db", "current", db_url=db_url).stdout.strip()
    assert before.startswith("empty")
    first = rejoinder("db", "upgrade", db_url=db_url).stdout
    second = rejoinder("db", "upgrade", db_url=db_url).stdout
    match = re.search(r"revision (\S+)", first)
    assert match, first
    revision = match.group(1)
    assert f"revision {revision}" in second
    assert rejoinder("db", "current", db_url=db_url).stdout.strip() == revision
    versions = Path(__file__).parents[2] / "src" / "rejoinder" / "store" / "migrations" / "versions"
    assert any(revision in p.read_text(encoding="utf-8") for p in versions.glob("*.py"))


ARTICLE = """---
title: The Quarry Road Crossing, Again
slug: quarry-road-crossing
dek: A third survey says what the first two did
author: Morgan Field
published: 2024-03-05T08:30:00Z
source_name: The Valley Ledger
source_url: https://ledger.example/quarry-crossing
comments_open: true
---
The council has a third survey.

It says what the first *two* said.
"""


def test_article_add_publishes_a_markdown_file_with_front_matter(
    db_url: str, served: Callable[[], Server], tmp_path: Path
) -> None:
    path = tmp_path / "crossing.md"
    path.write_text(ARTICLE, encoding="utf-8")
    result = rejoinder("article", "add", str(path), db_url=db_url)
    assert "Published /articles/quarry-road-crossing" in result.stdout
    server = served()
    got = httpx.get(server.url + "/api/v1/articles/quarry-road-crossing", timeout=10).json()
    assert got["title"] == "The Quarry Road Crossing, Again"
    assert got["dek"] == "A third survey says what the first two did"
    assert got["author"] == "Morgan Field"
    assert got["published_at"].startswith("2024-03-05T08:30:00")
    assert got["source"] == {
        "name": "The Valley Ledger",
        "url": "https://ledger.example/quarry-crossing",
    }
    assert got["comments_open"] is True
    assert "<em>two</em>" in got["body_html"]
    page = httpx.get(server.url + "/articles/quarry-road-crossing", timeout=10)
    assert "Source: The Valley Ledger" in words(parse_html(page.text))


def test_article_add_refuses_a_file_without_front_matter_and_stores_nothing(
    db_url: str, served: Callable[[], Server], tmp_path: Path
) -> None:
    path = tmp_path / "plain.md"
    path.write_text("# Just a heading\n\nNo front matter here.\n", encoding="utf-8")
    result = rejoinder("article", "add", str(path), db_url=db_url, check=False)
    assert result.returncode == 1
    assert "front matter" in result.stderr
    assert "Traceback" not in result.stderr
    missing = rejoinder("article", "add", str(tmp_path / "absent.md"), db_url=db_url, check=False)
    assert missing.returncode == 1
    assert "No such file" in missing.stderr
    server = served()
    assert httpx.get(server.url + "/api/v1/articles", timeout=10).json() == {"articles": []}


def test_import_page_shows_the_seed_discussion_as_it_was(
    db_url: str, served: Callable[[], Server], seed_text: str
) -> None:
    dump = parse_page_dump(seed_text)
    result = rejoinder("import-page", str(SEED), db_url=db_url)
    match = re.search(r"Imported /articles/(\S+) with (\d+) comments", result.stdout)
    assert match, result.stdout
    slug, imported = match.group(1), int(match.group(2))
    assert imported == len(dump.comments)
    server = served()
    page = parse_html(httpx.get(f"{server.url}/articles/{slug}", timeout=10).text)

    assert words(page.xpath("//article//h1")[0]) == dump.title
    assert words(page.xpath(f"//p[{has_class('dek')}]")[0]) == dump.dek
    assert (
        words(page.xpath(f"//p[{has_class('source')}]")[0]) == "Source: The American Conservative"
    )
    assert dump.source_name == "The American Conservative"

    tops = page.xpath(f"//ol[{has_class('comment-list')}]/li")
    expected = [c.author for c in dump.comments if c.depth == 0]
    assert len(tops) == len(expected) == 7
    headers = [words(li.xpath("./article/header")[0]) for li in tops]
    for number, (header, author) in enumerate(zip(headers, expected, strict=True), start=1):
        assert header.startswith(f"{number}. {author} says"), header
    for li, comment in zip(tops, [c for c in dump.comments if c.depth == 0], strict=True):
        shown = re.findall(
            r"\w+", li.xpath(f"./article/div[{has_class('text')}]")[0].text_content()
        )
        assert shown[:8] == re.findall(r"\w+", comment.body)[:8]

    replies = tops[1].xpath(f"./ol[{has_class('children')}]/li")
    assert [words(li.xpath("./article/header")[0]).split(" says")[0] for li in replies] == [
        "1. Linda Wren"
    ]
    assert not any(
        li.xpath(f"./ol[{has_class('children')}]") for i, li in enumerate(tops) if i != 1
    )

    assert expected[6] == "CHUCKMAN"
    assert words(tops[6].xpath(f"./article/div[{has_class('text')}]")[0]) == ""

    thread = httpx.get(f"{server.url}/api/v1/articles/{slug}/comments", timeout=10).json()
    everyone = [thread["comments"][i] for i in range(7)] + thread["comments"][1]["replies"]
    assert len(everyone) == thread["article"]["comment_count"] == len(dump.comments) == 8
    assert all(c["imported"] is True for c in everyone)
    assert comment_li(page, everyone[-1]["id"]) is not None
    assert thread["comments"][6]["body_html"] == ""


def test_export_of_an_unmigrated_database_fails_with_a_message(databases: Databases) -> None:
    done = rejoinder("audit", "export", db_url=databases.new(empty=True), check=False)
    assert done.returncode == 1
    assert "rejoinder db upgrade" in done.stderr and "Traceback" not in done.stderr
