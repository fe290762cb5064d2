"""`rejoinder export`: a site's comments as Rejoinder's own import format (which imports
into an empty database and exports the same again) and as WordPress's WXR (which the
WordPress importer reads back, field by field), through the real commands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import pytest
from defusedxml.ElementTree import fromstring

from rejoinder.core.models import Status
from rejoinder.core.text import render_comment
from rejoinder.store import comments as comment_store
from rejoinder.store.articles import get_article
from rejoinder.store.database import Database
from tests.app.test_imports import (
    DISQUS,
    JSON_THREAD_1,
    JSON_THREAD_2,
    WORDPRESS,
    generic,
    run_import,
    stored,
    write,
)
from tests.conftest import App, Databases, cli

WP = "{http://wordpress.org/export/1.2/}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
EXCERPT = "{http://wordpress.org/export/1.2/excerpt/}"


@pytest.fixture
def served(db_url: str) -> Iterator[App]:
    app = App(db_url).start()
    try:
        yield app
    finally:
        app.stop()


def _native_comments(app: App) -> str:
    """A hosted article with comments posted on it (not imported): one with a reply, one
    withdrawn, one deleted with nothing under it. Returns the article's slug."""
    slug = str(app.publish(title="Hosted here")["slug"])
    db = Database(app.db_url)
    try:
        with db.write() as conn:
            article = get_article(conn, 1, slug)
            assert article is not None

            def add(text: str, status: Status, at: int, parent: Any = None) -> Any:
                return comment_store.add_comment(
                    conn,
                    article_id=article.id,
                    parent=parent,
                    number=at,
                    name="Native",
                    email="native@example.com",
                    website="https://native.example",
                    body_markdown=text,
                    body_html=render_comment(text),
                    status=status,
                    created_at=datetime(2023, 1, at, 12, 0, 0, 123456, tzinfo=UTC),
                )

            top = add("Posted *here*", Status.PUBLISHED, 1)
            add("A reply with a [link](https://e.example)", Status.PUBLISHED, 2, top)
            add("Gone before replies", Status.WITHDRAWN, 3)
            add("", Status.DELETED, 4)
    finally:
        db.dispose()
    return slug


def _everything(app: App, tmp_path: Path) -> None:
    run_import(app.db_url, "json", str(write(tmp_path, "a.jsonl", generic(JSON_THREAD_1))))
    run_import(app.db_url, "json", str(write(tmp_path, "b.jsonl", generic(JSON_THREAD_2))))
    run_import(app.db_url, "wordpress", str(write(tmp_path, "wp.xml", WORDPRESS)))
    run_import(app.db_url, "disqus", str(write(tmp_path, "dq.xml", DISQUS)))
    by_id = {
        "thread": {"page_id": "only-an-id", "title": "Only an id"},
        "comments": [{"id": 7, "created_at": "2024-05-01T08:00:00+02:00", "body": "Hi"}],
    }
    run_import(app.db_url, "json", str(write(tmp_path, "c.jsonl", generic(by_id))))


def test_a_json_export_imports_into_an_empty_database_and_exports_the_same(
    served: App, databases: Databases, tmp_path: Path
) -> None:
    _everything(served, tmp_path)
    slug = _native_comments(served)
    first = cli("export", db_url=served.db_url)
    assert "Exported 8 discussions, 23 comments" in first.stderr
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    assert lines[0] == {"format": "rejoinder-import", "version": 1}
    by_title = {line["thread"]["title"]: line for line in lines[1:]}
    hosted = by_title["Hosted here"]
    assert hosted["thread"]["title"] == "Hosted here" and "page_id" not in hosted["thread"]
    assert hosted["thread"]["url"].endswith(f"/articles/{slug}")  # the CLI's base URL
    assert [(c["status"], c["body_format"], c["parent"]) for c in hosted["comments"]] == [
        ("approved", "markdown", None),
        ("approved", "markdown", hosted["comments"][0]["id"]),
    ]  # the withdrawn one and the empty place holder do not go
    top = hosted["comments"][0]
    assert top["author"] == {
        "name": "Native",
        "email": "native@example.com",
        "website": "https://native.example",
    }
    assert top["created_at"] == "2023-01-01T12:00:00.123456Z"
    assert by_title["Only an id"]["thread"] == {"page_id": "only-an-id", "title": "Only an id"}
    assert by_title["Only an id"]["comments"][0]["id"] == "7"
    essay = by_title["An essay"]
    assert essay["thread"]["page_id"] == "essay-1"
    assert [(c["id"], c["status"]) for c in essay["comments"]] == [
        ("j1", "approved"),
        ("j2", "approved"),
        ("j3", "pending"),
        ("j4", "rejected"),
    ]
    assert essay["comments"][1]["body_format"] == "html"
    page_a = by_title["Page A"]
    deleted = [c for c in page_a["comments"] if c["status"] == "deleted"]
    assert len(deleted) == 1 and "author" not in deleted[0] and "body" not in deleted[0]

    again = databases.new()
    file = write(tmp_path, "export.jsonl", first.stdout)
    ran = run_import(again, "json", str(file))
    assert "Imported 8 threads, 23 comments; 0 warnings" in ran.stdout
    second = cli("export", db_url=again)
    assert second.stdout == first.stdout
    assert len(stored(again)) == 23

    quiet = cli("export", "--no-emails", "--discussion", "essay-1", db_url=served.db_url)
    assert "@" not in quiet.stdout and quiet.stdout.count("\n") == 2
    assert "Exported 1 discussions, 4 comments" in quiet.stderr


def _text(element: Element, name: str) -> str:
    found = element.find(WP + name)
    assert found is not None, name
    return found.text or ""


def _short(tag: str) -> str:
    for prefix, uri in (("wp:", WP), ("dc:", DC), ("content:", CONTENT), ("excerpt:", EXCERPT)):
        tag = tag.replace(uri, prefix)
    return tag


# What WordPress's own exporter writes for a post, in its order (less postmeta and terms).
WP_ITEM = [
    "title",
    "link",
    "pubDate",
    "dc:creator",
    "guid",
    "description",
    "content:encoded",
    "excerpt:encoded",
    "wp:post_id",
    "wp:post_date",
    "wp:post_date_gmt",
    "wp:post_modified",
    "wp:post_modified_gmt",
    "wp:comment_status",
    "wp:ping_status",
    "wp:post_name",
    "wp:status",
    "wp:post_parent",
    "wp:menu_order",
    "wp:post_type",
    "wp:post_password",
    "wp:is_sticky",
]
# The children WordPress's own exporter writes for each comment (wp-admin/includes/export.php).
WP_COMMENT_FIELDS = [
    "comment_id",
    "comment_author",
    "comment_author_email",
    "comment_author_url",
    "comment_author_IP",
    "comment_date",
    "comment_date_gmt",
    "comment_content",
    "comment_approved",
    "comment_type",
    "comment_parent",
    "comment_user_id",
]


def test_a_wxr_export_reads_back_through_the_wordpress_importer(
    served: App, databases: Databases, tmp_path: Path
) -> None:
    _everything(served, tmp_path)
    out = tmp_path / "site.xml"
    ran = cli(
        "export",
        "--format",
        "wxr",
        "--timezone",
        "Europe/Berlin",
        "--output",
        str(out),
        db_url=served.db_url,
    )
    assert f"Exported 7 discussions, 21 comments to {out}" in ran.stderr
    assert not list(tmp_path.glob("*.part"))
    root = fromstring(out.read_bytes())
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    assert _text(channel, "wxr_version") == "1.2"
    items = channel.findall("item")
    assert len(items) == 7
    for item in items:
        assert [_short(child.tag) for child in item if child.tag != WP + "comment"] == WP_ITEM
        assert item.findtext("link", "").startswith(("https://", "http://"))
    comments = [c for item in items for c in item.findall(WP + "comment")]
    assert [child.tag.removeprefix(WP) for child in comments[0]] == WP_COMMENT_FIELDS
    ann = next(c for c in comments if _text(c, "comment_author") == "Ann")
    assert _text(ann, "comment_date_gmt") == "2021-03-01 09:00:00"
    assert _text(ann, "comment_date") == "2021-03-01 10:00:00"  # Berlin, winter time
    assert _text(ann, "comment_author_email") == "ann@example.com"

    before = {row["id"]: row for row in stored(served.db_url)}
    again = databases.new()
    back = run_import(again, "wordpress", str(out))
    # Dee's was rejected: WordPress keeps it in its bin, and a WXR import skips the bin.
    assert "Imported 7 threads, 20 comments" in back.stdout and "trash 1" in back.stdout
    after = stored(again)
    fields = ("author_name", "author_email", "author_website", "created_at", "status")

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return (*(row[f] for f in fields), row["body_html"], row["depth"], row["number"])

    def parent_name(rows: dict[int, dict[str, Any]], row: dict[str, Any]) -> str | None:
        parent = rows.get(row["parent_id"])
        if parent and (parent["status"] == "deleted" or parent["body_html"] == "<p>[deleted]</p>"):
            return "[deleted]"
        return parent["author_name"] if parent else None

    expected = sorted(
        ((key(r), parent_name(before, r)) for r in before.values() if r["status"] != "rejected"),
        key=repr,
    )
    after_by_id = {row["id"]: row for row in after}
    got = sorted(((key(r), parent_name(after_by_id, r)) for r in after), key=repr)
    # The place holder comes back as WordPress shows it: "[deleted]" by no one.
    placeholder = [g for g in got if g[0][5] == "<p>[deleted]</p>"]
    assert len(placeholder) == 1 and placeholder[0][0][0] == "Anonymous"
    assert [g for g in got if g not in placeholder] == [e for e in expected if e[0][4] != "deleted"]


def test_export_mistakes_are_clear(db_url: str, tmp_path: Path) -> None:
    ran = cli("export", "--discussion", "nope", db_url=db_url, check=False)
    assert ran.returncode == 1 and "no discussion" in ran.stderr and "'nope'" in ran.stderr
    ran = cli("export", "--format", "wxr", "--timezone", "Mars/Base", db_url=db_url, check=False)
    assert ran.returncode == 1 and "--timezone" in ran.stderr
    ran = cli("export", "--site", "other", db_url=db_url, check=False)
    assert ran.returncode == 1 and "no site named 'other'" in ran.stderr
    missing = tmp_path / "no" / "such" / "x.jsonl"
    ran = cli("export", "--output", str(missing), db_url=db_url, check=False)
    assert ran.returncode == 1 and "No such folder" in ran.stderr
    empty = cli("export", "--format", "wxr", db_url=db_url)
    assert empty.stdout.rstrip().endswith("</rss>") and "Exported 0 discussions" in empty.stderr
