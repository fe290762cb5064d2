"""`rejoinder import`: WordPress, Disqus and JSON exports written as those systems write
them, imported through the real command, and read back through the real app's API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from subprocess import PIPE
from typing import Any

import pytest
from sqlalchemy import func, select

from rejoinder.core.embed import page_ref, page_slug
from rejoinder.store.database import Database
from rejoinder.store.schema import articles, audit_log, comments
from tests import MODERATION_ON
from tests.conftest import App, Ran, cli, rejoinder

EMAILS = ("ann@example.com", "bob@example.net", "cy@example.org", "guest@example.com")


def _wp_comment(
    cid: int,
    author: str,
    date: str,
    body: str,
    *,
    parent: int = 0,
    approved: str = "1",
    kind: str = "",
    email: str = "",
    url: str = "",
    extra: str = "",
) -> str:
    return f"""
    <wp:comment>
      <wp:comment_id>{cid}</wp:comment_id>
      <wp:comment_author><![CDATA[{author}]]></wp:comment_author>
      <wp:comment_author_email><![CDATA[{email}]]></wp:comment_author_email>
      <wp:comment_author_url>{url}</wp:comment_author_url>
      <wp:comment_author_IP><![CDATA[192.0.2.7]]></wp:comment_author_IP>
      <wp:comment_date><![CDATA[{date}]]></wp:comment_date>
      <wp:comment_date_gmt><![CDATA[{date}]]></wp:comment_date_gmt>
      <wp:comment_content><![CDATA[{body}]]></wp:comment_content>
      <wp:comment_approved><![CDATA[{approved}]]></wp:comment_approved>
      <wp:comment_type><![CDATA[{kind}]]></wp:comment_type>
      <wp:comment_parent>{parent}</wp:comment_parent>
      <wp:comment_user_id>0</wp:comment_user_id>{extra}
    </wp:comment>"""


def _wp_item(
    title: str, link: str, post_id: int, comments_xml: str, post_type: str = "post"
) -> str:
    return f"""
  <item>
    <title><![CDATA[{title}]]></title>
    <link>{link}</link>
    <pubDate>Wed, 12 May 2010 10:00:00 +0000</pubDate>
    <dc:creator><![CDATA[admin]]></dc:creator>
    <guid isPermaLink="false">https://old.example.com/?p={post_id}</guid>
    <content:encoded><![CDATA[<p>The post.</p>]]></content:encoded>
    <wp:post_id>{post_id}</wp:post_id>
    <wp:post_type><![CDATA[{post_type}]]></wp:post_type>
    <wp:status><![CDATA[publish]]></wp:status>
    <wp:postmeta><wp:meta_key><![CDATA[_edit_last]]></wp:meta_key><wp:meta_value><![CDATA[1]]></wp:meta_value></wp:postmeta>{comments_xml}
  </item>"""


HELLO = "https://old.example.com/2010/05/hello-world/"
HELLO_COMMENTS = "".join(
    [
        # WordPress writes comments in id order; Eve's (8) is later than Ann's by date.
        _wp_comment(
            8, "Eve", "2010-05-12 16:00:00", "Second at the top.", url="javascript:alert(1)"
        ),
        _wp_comment(
            1,
            "Ann",
            "2010-05-12 14:03:22",
            'First line.\nsame paragraph.\n\nSecond <a href="https://a.example">link</a>'
            "<script>alert(1)</script>",
            email="ann@example.com",
            url="https://ann.example.org",
            extra="\n      <wp:commentmeta><wp:meta_key>akismet_result</wp:meta_key>"
            "<wp:meta_value>false</wp:meta_value></wp:commentmeta>",
        ),
        _wp_comment(2, "Bob", "2010-05-12 15:00:00", "A reply.", parent=1, email="bob@example.net"),
        _wp_comment(3, "Cy", "2010-05-13 09:00:00", "Deeper.", parent=2, email="cy@example.org"),
        _wp_comment(4, "Dee", "2010-05-14 09:00:00", "Waiting.", approved="0"),
        _wp_comment(5, "Cheap pills", "2010-05-14 10:00:00", "Buy now", approved="spam"),
        _wp_comment(6, "Binned", "2010-05-14 11:00:00", "Gone", approved="trash"),
        _wp_comment(7, "Other blog", "2010-05-14 12:00:00", "[...] linked [...]", kind="pingback"),
        _wp_comment(
            9,
            "Lost",
            "2010-05-15 08:00:00",
            "My parent is gone.",
            parent=404,
            extra="\n      <wp:comment_karma>0</wp:comment_karma>",
        ),
    ]
)


def wxr(items: str, version: str = "1.2") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0"
  xmlns:excerpt="http://wordpress.org/export/{version}/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:wfw="http://wellformedweb.org/CommentAPI/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/{version}/">
<channel>
  <title>Old blog</title>
  <link>https://old.example.com</link>
  <wp:wxr_version>{version}</wp:wxr_version>
  <wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[admin]]></wp:author_login></wp:author>
{items}
</channel>
</rss>
"""


WORDPRESS = wxr(
    _wp_item("Hello world", HELLO, 1, HELLO_COMMENTS)
    + _wp_item("A picture", "https://old.example.com/pic/", 2, "", post_type="attachment")
    + _wp_item(
        "Second post",
        "https://old.example.com/2010/06/second/",
        3,
        _wp_comment(10, "Ann", "2010-06-01 10:00:00", "Again.", email="ann@example.com"),
    )
)


def disqus_post(
    pid: str,
    thread: str,
    created: str,
    message: str,
    *,
    parent: str | None = None,
    name: str = "",
    email: str = "",
    anonymous: bool = False,
    deleted: bool = False,
    spam: bool = False,
    extra: str = "",
) -> str:
    parent_xml = f'\n    <parent dsq:id="{parent}" />' if parent else ""
    return f"""
  <post dsq:id="{pid}">
    <id />
    <message><![CDATA[{message}]]></message>
    <createdAt>{created}</createdAt>
    <isDeleted>{str(deleted).lower()}</isDeleted>
    <isSpam>{str(spam).lower()}</isSpam>
    <author>
      <email>{email}</email>
      <name>{name}</name>
      <isAnonymous>{str(anonymous).lower()}</isAnonymous>
      <username>{name.lower().replace(" ", "_") if name and not anonymous else ""}</username>
    </author>
    <ipAddress>192.0.2.9</ipAddress>
    <thread dsq:id="{thread}" />{parent_xml}{extra}
  </post>"""


DISQUS = f"""<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://disqus.com/api/schemas/1.0/disqus.xsd http://disqus.com/api/schemas/1.0/disqus-internals.xsd">
  <category dsq:id="100">
    <forum>oldforum</forum>
    <title>General</title>
    <isDefault>true</isDefault>
  </category>
  <thread dsq:id="201">
    <id>post-1</id>
    <forum>oldforum</forum>
    <category dsq:id="100" />
    <link>https://example.com/a</link>
    <title>Page A</title>
    <message />
    <createdAt>2015-01-01T00:00:00Z</createdAt>
    <author><email>owner@example.com</email><name>Owner</name><isAnonymous>false</isAnonymous><username>owner</username></author>
    <isClosed>false</isClosed>
    <isDeleted>false</isDeleted>
  </thread>
  <thread dsq:id="202">
    <id />
    <forum>oldforum</forum>
    <category dsq:id="100" />
    <link>https://example.com/b</link>
    <title>Page B</title>
    <createdAt>2015-02-01T00:00:00Z</createdAt>
    <isClosed>false</isClosed>
    <isDeleted>false</isDeleted>
  </thread>
  <thread dsq:id="203">
    <id>empty-page</id>
    <link>https://example.com/c</link>
    <title>Page C</title>
  </thread>
{
    disqus_post(
        "3003",
        "201",
        "2015-01-03T10:00:00Z",
        "<p>Reply to a reply.</p>",
        parent="3002",
        name="Cy",
        email="cy@example.org",
    )
}
{
    disqus_post(
        "3001",
        "201",
        "2015-01-02T10:00:00Z",
        "<p>Top one.</p><p>Two paragraphs.</p>",
        name="Ann",
        email="ann@example.com",
    )
}
{
    disqus_post(
        "3008",
        "202",
        "2015-02-02T10:00:00Z",
        "<p>Anonymous here.</p>",
        name="Guest",
        email="guest@example.com",
        anonymous=True,
    )
}
{
    disqus_post(
        "3002",
        "201",
        "2015-01-02T12:00:00Z",
        "<p>Reply.</p>",
        parent="3001",
        name="Bob",
        email="bob@example.net",
    )
}
{
    disqus_post(
        "3004",
        "201",
        "2015-01-04T10:00:00Z",
        "<p>Regret.</p>",
        name="Dan",
        email="dan@example.com",
        deleted=True,
    )
}
{
    disqus_post(
        "3005",
        "201",
        "2015-01-05T10:00:00Z",
        "<p>Answer to the deleted.</p>",
        parent="3004",
        name="Bob",
        email="bob@example.net",
    )
}
{
    disqus_post(
        "3006",
        "201",
        "2015-01-06T10:00:00Z",
        "<p>Deleted alone.</p>",
        name="Dan",
        email="dan@example.com",
        deleted=True,
    )
}
{
    disqus_post(
        "3007",
        "201",
        "2015-01-07T10:00:00Z",
        "<p>spam spam</p>",
        name="Spammer",
        email="spam@example.com",
        spam=True,
    )
}
{
    disqus_post(
        "3009",
        "201",
        "2015-01-08T10:00:00Z",
        "<p>Orphan.</p>",
        parent="9999",
        name="Ann",
        email="ann@example.com",
        extra='''
    <sparkle>yes</sparkle>''',
    )
}
</disqus>
"""


def generic(*threads: dict[str, Any]) -> str:
    lines = [json.dumps({"format": "rejoinder-import", "version": 1})]
    lines += [json.dumps(thread) for thread in threads]
    return "\n".join(lines) + "\n"


JSON_THREAD_1: dict[str, Any] = {
    "thread": {"page_id": "essay-1", "url": "https://example.com/essay", "title": "An essay"},
    "comments": [
        {
            "id": "j1",
            "author": {
                "name": "Ann",
                "email": "ann@example.com",
                "website": "https://ann.example.org",
            },
            "created_at": "2021-03-01T10:00:00+01:00",
            "status": "approved",
            "body": "Hello *there*",
            "body_format": "markdown",
        },
        {
            "id": "j2",
            "parent": "j1",
            "author": {"name": "Bob"},
            "created_at": "2021-03-01T11:00:00Z",
            "body": "<p>An <em>HTML</em> reply<img src=x onerror=alert(1)></p>",
            "body_format": "html",
        },
        {
            "id": "j3",
            "author": {"name": "Cy"},
            "created_at": "2021-03-02T11:00:00Z",
            "status": "pending",
            "body": "Held",
        },
        {
            "id": "j4",
            "author": {"name": "Dee"},
            "created_at": "2021-03-03T11:00:00Z",
            "status": "rejected",
            "body": "No",
        },
    ],
}
JSON_THREAD_2 = {
    "thread": {"url": "https://example.com/second"},
    "comments": [
        {
            "id": "k1",
            "author": {"name": "Eve"},
            "created_at": "2021-04-01T10:00:00Z",
            "body": "One",
        },
        {
            "id": "k2",
            "author": {"name": "Fay"},
            "created_at": "2021-04-01T11:00:00Z",
            "body": "Two",
        },
    ],
}


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def run_import(db_url: str, *args: str, check: bool = True) -> Ran:
    return cli("import", *args, db_url=db_url, check=check)


@pytest.fixture
def served(db_url: str) -> Iterator[App]:
    app = App(db_url).start()
    try:
        yield app
    finally:
        app.stop()


def thread_of(app: App, page_id: str | None, url: str | None, title: str) -> dict[str, Any]:
    slug = page_slug(page_ref(page_id, title, url))
    response = app.get(f"/api/v1/articles/{slug}/comments")
    assert response.status_code == 200, response.text
    for email in EMAILS:
        assert email not in response.text
    return dict(response.json())


def summary_of(app: App) -> list[tuple[str, int]]:
    db = Database(app.db_url)
    try:
        with db.read() as conn:
            rows = conn.execute(
                select(articles.c.title, func.count(comments.c.id))
                .join(comments, comments.c.article_id == articles.c.id, isouter=True)
                .group_by(articles.c.title)
                .order_by(articles.c.title)
            ).all()
    finally:
        db.dispose()
    return [(row[0], row[1]) for row in rows]


def stored(db_url: str) -> list[dict[str, Any]]:
    db = Database(db_url)
    try:
        with db.read() as conn:
            rows = conn.execute(select(comments).order_by(comments.c.id)).mappings().all()
    finally:
        db.dispose()
    return [dict(row) for row in rows]


def shape(node: dict[str, Any]) -> tuple[Any, ...]:
    return (
        node["number"],
        node["author"]["name"],
        node["created_at"].replace("+00:00", "Z"),
        node["deleted"],
        tuple(shape(reply) for reply in node["replies"]),
    )


def test_a_wordpress_export_keeps_threading_order_dates_and_states(
    served: App, tmp_path: Path
) -> None:
    file = write(tmp_path, "export.xml", WORDPRESS)
    ran = run_import(
        served.db_url,
        "wordpress",
        str(file),
        "--rewrite-url",
        "https://old.example.com/=https://example.com/",
    )
    assert "Imported 2 threads, 7 comments" in ran.stdout
    assert "skipped: pingback 1, spam 1, trash 1" in ran.stdout
    assert "line 141: comment '9' replies to '404'" in ran.stderr and "top level" in ran.stderr
    assert "comment_karma" in ran.stderr
    for email in EMAILS:
        assert email not in ran.stdout + ran.stderr

    thread = thread_of(served, None, "https://example.com/2010/05/hello-world/", "Hello world")
    assert thread["article"]["title"] == "Hello world"
    assert thread["article"]["comment_count"] == 5  # Dee's waits for a moderator
    tops = thread["comments"]
    assert [shape(c) for c in tops] == [
        (
            1,
            "Ann",
            "2010-05-12T14:03:22Z",
            False,
            (
                (
                    1,
                    "Bob",
                    "2010-05-12T15:00:00Z",
                    False,
                    ((1, "Cy", "2010-05-13T09:00:00Z", False, ()),),
                ),
            ),
        ),
        (2, "Eve", "2010-05-12T16:00:00Z", False, ()),
        (3, "Lost", "2010-05-15T08:00:00Z", False, ()),
    ]
    assert all(c["imported"] for c in tops)
    ann = tops[0]
    assert ann["author"]["website"] == "https://ann.example.org"
    assert tops[1]["author"]["website"] is None  # a javascript: address is dropped
    assert "<script>" not in ann["body_html"] and "alert" not in ann["body_html"]
    assert ann["body_html"].startswith("<p>First line.<br>")
    assert 'href="https://a.example"' in ann["body_html"]
    assert 'rel="nofollow ugc noopener"' in ann["body_html"]

    rows = {row["author_name"]: row for row in stored(served.db_url)}
    assert rows["Dee"]["status"] == "held" and rows["Dee"]["imported"]
    assert rows["Ann"]["author_email"] == "ann@example.com"  # kept, privately
    assert not {"Cheap pills", "Binned", "Other blog"} & set(rows)
    # The attachment had no comments: no discussion is made for it.
    assert [title for title, _ in summary_of(served)] == ["Hello world", "Second post"]


def test_importing_the_same_file_twice_changes_nothing(served: App, tmp_path: Path) -> None:
    file = write(tmp_path, "export.xml", WORDPRESS)
    run_import(served.db_url, "wordpress", str(file))
    before = stored(served.db_url)
    first = thread_of(served, None, HELLO, "Hello world")
    again = run_import(served.db_url, "wordpress", str(file))
    assert "Imported 0 threads, 0 comments; 7 already imported" in again.stdout
    assert stored(served.db_url) == before
    assert thread_of(served, None, HELLO, "Hello world") == first


def test_pingbacks_come_in_when_asked(served: App, tmp_path: Path) -> None:
    file = write(tmp_path, "export.xml", WORDPRESS)
    ran = run_import(served.db_url, "wordpress", str(file), "--with-pingbacks")
    assert "8 comments" in ran.stdout
    assert "Other blog" in {row["author_name"] for row in stored(served.db_url)}


def test_older_wxr_versions_with_a_bom_and_crlf_lines(served: App, tmp_path: Path) -> None:
    text = wxr(_wp_item("Hello world", HELLO, 1, HELLO_COMMENTS), version="1.0")
    file = write(tmp_path, "old.xml", b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    ran = run_import(served.db_url, "wordpress", str(file), "--with-pingbacks")
    assert "Imported 1 threads, 7 comments" in ran.stdout
    tops = thread_of(served, None, HELLO, "Hello world")["comments"]
    assert [c["author"]["name"] for c in tops] == ["Ann", "Eve", "Other blog", "Lost"]


def test_a_disqus_export_with_parents_after_children(served: App, tmp_path: Path) -> None:
    file = write(tmp_path, "disqus.xml", DISQUS)
    ran = run_import(served.db_url, "disqus", str(file))
    assert "Imported 2 threads, 7 comments" in ran.stdout
    assert "skipped: deleted 1, spam 1" in ran.stdout
    assert "'3009'" in ran.stderr and "'9999'" in ran.stderr and "top level" in ran.stderr
    assert "<sparkle>" in ran.stderr
    for email in (*EMAILS, "dan@example.com", "spam@example.com"):
        assert email not in ran.stdout + ran.stderr

    page_a = thread_of(served, "post-1", "https://example.com/a", "Page A")
    assert page_a["article"]["title"] == "Page A"
    assert [shape(c) for c in page_a["comments"]] == [
        (
            1,
            "Ann",
            "2015-01-02T10:00:00Z",
            False,
            (
                (
                    1,
                    "Bob",
                    "2015-01-02T12:00:00Z",
                    False,
                    ((1, "Cy", "2015-01-03T10:00:00Z", False, ()),),
                ),
            ),
        ),
        (
            2,
            "[deleted]",
            "2015-01-04T10:00:00Z",
            True,
            ((1, "Bob", "2015-01-05T10:00:00Z", False, ()),),
        ),
        (3, "Ann", "2015-01-08T10:00:00Z", False, ()),
    ]
    assert page_a["comments"][0]["body_html"] == "<p>Top one.</p><p>Two paragraphs.</p>"
    assert "Regret" not in json.dumps(page_a)
    page_b = thread_of(served, None, "https://example.com/b", "Page B")
    assert [c["author"]["name"] for c in page_b["comments"]] == ["Guest"]
    deleted = [row for row in stored(served.db_url) if row["status"] == "deleted"]
    assert [(r["author_name"], r["author_email"], r["body_html"]) for r in deleted] == [
        ("", "", "")
    ]
    # The thread without posts makes no discussion.
    assert [title for title, _ in summary_of(served)] == ["Page A", "Page B"]

    again = run_import(served.db_url, "disqus", str(file))
    assert "Imported 0 threads, 0 comments; 7 already imported" in again.stdout


def test_the_json_format_carries_markdown_html_and_every_status(
    served: App, tmp_path: Path
) -> None:
    file = write(tmp_path, "comments.jsonl", generic(JSON_THREAD_1, JSON_THREAD_2))
    ran = run_import(served.db_url, "json", str(file))
    assert "Imported 2 threads, 6 comments; 0 warnings" in ran.stdout
    essay = thread_of(served, "essay-1", "https://example.com/essay", "An essay")
    (ann,) = essay["comments"]
    assert ann["created_at"] == "2021-03-01T09:00:00+00:00"
    assert ann["body_html"] == "<p>Hello <em>there</em></p>"
    (bob,) = ann["replies"]
    assert bob["body_html"] == "<p>An <em>HTML</em> reply</p>"
    statuses = {row["author_name"]: row["status"] for row in stored(served.db_url)}
    assert statuses == {
        "Ann": "published",
        "Bob": "published",
        "Cy": "held",
        "Dee": "rejected",
        "Eve": "published",
        "Fay": "published",
    }
    second = thread_of(served, None, "https://example.com/second", "")
    assert [(c["number"], c["author"]["name"]) for c in second["comments"]] == [
        (1, "Eve"),
        (2, "Fay"),
    ]


def test_a_truncated_file_imports_whole_threads_and_resumes(served: App, tmp_path: Path) -> None:
    whole = generic(JSON_THREAD_1, JSON_THREAD_2)
    cut = whole[: whole.index('"k2"')]  # in the middle of the second thread's line
    file = write(tmp_path, "comments.jsonl", cut)
    ran = run_import(served.db_url, "json", str(file), check=False)
    assert ran.returncode == 1
    assert "line 3" in ran.stderr and "truncated" in ran.stderr
    assert "run the import again" in ran.stderr
    assert "Imported 1 threads, 4 comments" in ran.stdout
    assert [title for title, _ in summary_of(served)] == ["An essay"]

    file.write_text(whole, encoding="utf-8")
    resumed = run_import(served.db_url, "json", str(file))
    assert "Imported 1 threads, 2 comments; 4 already imported" in resumed.stdout
    assert summary_of(served) == [("An essay", 4), ("https://example.com/second", 2)]


def test_a_wxr_file_cut_inside_an_item_keeps_the_items_before(served: App, tmp_path: Path) -> None:
    cut = WORDPRESS[: WORDPRESS.index("Again.")]
    file = write(tmp_path, "cut.xml", cut)
    ran = run_import(served.db_url, "wordpress", str(file), check=False)
    assert ran.returncode == 1
    assert "ends early" in ran.stderr and "line " in ran.stderr
    assert summary_of(served) == [("Hello world", 7 - 1)]  # the pingback is skipped


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
]>
<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><title>&lol2;</title>
<link>https://example.com/x</link><wp:comment><wp:comment_id>1</wp:comment_id>
<wp:comment_content>&lol2;</wp:comment_content></wp:comment></item></channel></rss>
"""
EXTERNAL = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE disqus [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
<thread dsq:id="1"><link>https://example.com/x</link><title>&secret;</title></thread>
</disqus>
"""


def test_entity_expansion_is_refused_by_the_real_command(db_url: str, tmp_path: Path) -> None:
    file = write(tmp_path, "lol.xml", BILLION_LAUGHS)
    result = rejoinder("import", "wordpress", str(file), db_url=db_url, check=False)
    assert result.returncode == 1
    assert "line 3" in result.stderr and "entities are refused" in result.stderr
    assert "Traceback" not in result.stderr
    assert stored(db_url) == []


@pytest.mark.parametrize("dry", [False, True])
def test_external_entities_are_refused(db_url: str, tmp_path: Path, dry: bool) -> None:
    file = write(tmp_path, "xxe.xml", EXTERNAL)
    args = ["disqus", str(file)] + (["--dry-run"] if dry else [])
    ran = run_import(db_url, *args, check=False)
    assert ran.returncode == 1
    assert "'secret'" in ran.stderr and "refused" in ran.stderr
    assert "root:" not in ran.stdout + ran.stderr
    assert stored(db_url) == []


def test_bad_encodings_name_the_line(db_url: str, tmp_path: Path) -> None:
    latin = WORDPRESS.replace("Second at the top.", "Caf\udce9").encode("utf-8", "surrogateescape")
    file = write(tmp_path, "latin.xml", latin)
    ran = run_import(db_url, "wordpress", str(file), check=False)
    assert ran.returncode == 1
    line = WORDPRESS[: WORDPRESS.index("Second at the top.")].count("\n") + 1
    assert f"line {line}:" in ran.stderr and "encoding" in ran.stderr
    assert stored(db_url) == []

    text = generic(JSON_THREAD_1).encode() + b'{"thread": {"url": "https://e.com/\xff"}}\n'
    ran = run_import(db_url, "json", str(write(tmp_path, "bad.jsonl", text)), check=False)
    assert ran.returncode == 1
    assert "line 3: not UTF-8" in ran.stderr


def test_a_json_thread_that_breaks_the_format_names_its_field(db_url: str, tmp_path: Path) -> None:
    broken = {"thread": {"page_id": "p"}, "comments": [{"id": "1", "created_at": "yesterday"}]}
    file = write(tmp_path, "bad.jsonl", generic(broken))
    ran = run_import(db_url, "json", str(file), check=False)
    assert ran.returncode == 1
    assert "line 2: comments[0]: 'created_at' 'yesterday' is not an ISO 8601 time" in ran.stderr
    file.write_text('{"format": "rejoinder-import", "version": 9}\n', encoding="utf-8")
    ran = run_import(db_url, "json", str(file), check=False)
    assert ran.returncode == 1 and "version 9" in ran.stderr


def test_a_dry_run_reports_everything_and_writes_nothing(db_url: str, tmp_path: Path) -> None:
    file = write(tmp_path, "disqus.xml", DISQUS)
    ran = run_import(db_url, "disqus", str(file), "--dry-run")
    assert "Page A: 6 comments to import" in ran.stdout
    assert "Page B: 1 comments to import" in ran.stdout
    assert "Would import 2 threads, 7 comments" in ran.stdout
    assert "nothing written" in ran.stdout
    assert "'9999'" in ran.stderr and "<sparkle>" in ran.stderr
    assert stored(db_url) == []
    db = Database(db_url)
    try:
        with db.read() as conn:
            assert conn.execute(select(func.count()).select_from(articles)).scalar_one() == 0
    finally:
        db.dispose()


def test_a_bad_rewrite_and_a_missing_file_are_clear(db_url: str, tmp_path: Path) -> None:
    file = write(tmp_path, "export.xml", WORDPRESS)
    ran = run_import(db_url, "wordpress", str(file), "--rewrite-url", "nothing", check=False)
    assert ran.returncode == 1 and "OLD=NEW" in ran.stderr
    ran = run_import(db_url, "wordpress", str(tmp_path / "none.xml"), check=False)
    assert ran.returncode == 1 and "No such file" in ran.stderr
    ran = run_import(db_url, "disqus", str(file), check=False)
    assert ran.returncode == 1 and "not a Disqus export" in ran.stderr


def test_moderate_holds_what_the_pipeline_would_not_publish(db_url: str, tmp_path: Path) -> None:
    thread = {
        "thread": {"page_id": "judged", "title": "Judged"},
        "comments": [
            {
                "id": "m1",
                "author": {"name": "Kind"},
                "created_at": "2022-01-01T10:00:00Z",
                "body": "Thanks for the careful piece, I learnt a lot.",
            },
            {
                "id": "m2",
                "author": {"name": "Rude"},
                "created_at": "2022-01-01T11:00:00Z",
                "body": "Only brain dead halfwits would write this.",
            },
        ],
    }
    file = write(tmp_path, "judged.jsonl", generic(thread))
    ran = cli("import", "json", str(file), "--moderate", db_url=db_url, env=MODERATION_ON)
    assert "Imported 1 threads, 2 comments; 1 held by moderation" in ran.stdout
    rows = {row["author_name"]: row for row in stored(db_url)}
    assert rows["Kind"]["status"] == "published" and rows["Kind"]["number"] == 1
    assert rows["Rude"]["status"] == "held" and rows["Rude"]["moderation"]
    db = Database(db_url)
    try:
        with db.read() as conn:
            verdicts = conn.execute(
                select(audit_log.c.comment_id, audit_log.c.after).where(
                    audit_log.c.action == "verdict"
                )
            ).all()
    finally:
        db.dispose()
    assert sorted(verdicts) == [(rows["Kind"]["id"], "publish"), (rows["Rude"]["id"], "hold")]


def test_without_a_terminal_progress_comes_as_plain_lines(db_url: str, tmp_path: Path) -> None:
    threads = [
        {
            "thread": {"page_id": f"page-{n}"},
            "comments": [{"id": f"c{n}", "created_at": "2022-01-01T10:00:00Z", "body": "Hi"}],
        }
        for n in range(100)
    ]
    ran = run_import(db_url, "json", str(write(tmp_path, "many.jsonl", generic(*threads))))
    assert "... 100 threads, 100 comments (" in ran.stderr
    assert "\x1b[" not in ran.stderr  # no bar drawn, no terminal codes
    assert "Imported 100 threads, 100 comments" in ran.stdout


def test_comments_join_the_discussion_the_widget_already_has(served: App, tmp_path: Path) -> None:
    made = cli(
        "discussion", "add", "essay-1", "--title", "Made by the widget", db_url=served.db_url
    )
    assert made.returncode == 0
    file = write(tmp_path, "comments.jsonl", generic(JSON_THREAD_1))
    run_import(served.db_url, "json", str(file))
    assert summary_of(served) == [("Made by the widget", 4)]
    slug = page_slug(page_ref("essay-1", "Made by the widget", None))
    thread = served.get(f"/api/v1/articles/{slug}/comments").json()
    assert [c["author"]["name"] for c in thread["comments"]] == ["Ann"]
    counts = served.get("/api/v1/counts", params={"page_id": "essay-1"}).json()
    assert counts["pages"] == {"essay-1": 2}  # Ann and Bob's reply are shown and counted


def test_a_broken_disqus_file_imports_nothing(db_url: str, tmp_path: Path) -> None:
    cut = DISQUS[: DISQUS.index('<post dsq:id="3004"')]
    ran = run_import(db_url, "disqus", str(write(tmp_path, "cut.xml", cut)), check=False)
    assert ran.returncode == 1
    assert "ends early" in ran.stderr and "line " in ran.stderr
    assert stored(db_url) == []


def test_two_blogs_with_the_same_comment_ids_both_come_in(served: App, tmp_path: Path) -> None:
    run_import(served.db_url, "wordpress", str(write(tmp_path, "one.xml", WORDPRESS)))
    other = WORDPRESS.replace("https://old.example.com/", "https://other.example.net/")
    ran = run_import(served.db_url, "wordpress", str(write(tmp_path, "two.xml", other)))
    assert "Imported 2 threads, 7 comments" in ran.stdout
    assert len(stored(served.db_url)) == 14


def test_comments_added_to_an_imported_thread_number_on_and_link_to_their_parents(
    db_url: str, tmp_path: Path
) -> None:
    """A thread's comments are written in one statement: replies to comments of the same
    statement, and to comments stored by an earlier import, get their parent, branch and
    depth, and numbers count on from the discussion's."""
    first: dict[str, Any] = {
        "thread": {"page_id": "essay-9"},
        "comments": JSON_THREAD_1["comments"][:2],
    }
    run_import(db_url, "json", str(write(tmp_path, "one.jsonl", generic(first))))
    more = [
        {"id": "k1", "parent": "j1", "created_at": "2021-04-01T10:00:00Z", "body": "Under Ann"},
        {"id": "k2", "created_at": "2021-04-02T10:00:00Z", "body": "Top again"},
        {"id": "k3", "parent": "k1", "created_at": "2021-04-03T10:00:00Z", "body": "Deeper"},
        {"id": "k4", "parent": "k3", "created_at": "2021-04-04T10:00:00Z", "body": "Deepest"},
        {
            "id": "k5",
            "parent": "k2",
            "created_at": "2021-04-05T10:00:00Z",
            "status": "pending",
            "body": "Waits",
        },
        {"id": "k6", "parent": "k5", "created_at": "2021-04-06T10:00:00Z", "body": "Waits too"},
    ]
    second = {"thread": {"page_id": "essay-9"}, "comments": [*first["comments"], *more]}
    ran = run_import(db_url, "json", str(write(tmp_path, "two.jsonl", generic(second))))
    assert "Imported 1 threads, 6 comments; 2 already imported" in ran.stdout
    rows = stored(db_url)
    by_text = {row["body_markdown"]: row for row in rows}
    ann = by_text["Hello *there*"]
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    assert [row["body_markdown"] for row in rows][2:] == [c["body"] for c in more]

    def link(text: str) -> tuple[Any, ...]:
        row = by_text[text]
        return (row["parent_id"], row["root_id"], row["depth"], row["number"], row["status"])

    assert link("Under Ann") == (ann["id"], ann["id"], 1, 2, "published")  # Bob's reply is 1
    assert link("Top again") == (None, None, 0, 2, "published")
    assert link("Deeper") == (by_text["Under Ann"]["id"], ann["id"], 2, 1, "published")
    assert link("Deepest") == (by_text["Deeper"]["id"], ann["id"], 3, 1, "published")
    top = by_text["Top again"]["id"]
    assert link("Waits") == (top, top, 1, 0, "held")
    assert link("Waits too") == (by_text["Waits"]["id"], top, 2, 0, "held")  # with its parent


def test_a_thread_the_database_refuses_keeps_the_threads_before_it(
    db_url: str, tmp_path: Path
) -> None:
    """Threads are written a group to a transaction; a refused thread (here its discussion's
    address is taken by a hosted article) still leaves the threads before it stored."""
    taken = page_slug(page_ref("page-b", "B", None))
    article = write(tmp_path, "b.md", f"---\ntitle: Hosted\nslug: {taken}\n---\nBody.\n")
    cli("article", "add", str(article), db_url=db_url)
    threads = [
        {
            "thread": {"page_id": f"page-{key}", "title": key.upper()},
            "comments": [{"id": f"{key}1", "created_at": "2022-01-01T10:00:00Z", "body": key}],
        }
        for key in ("a", "b", "c")
    ]
    ran = run_import(
        db_url, "json", str(write(tmp_path, "t.jsonl", generic(*threads))), check=False
    )
    assert ran.returncode == 1
    assert taken in ran.stderr and "already exists" in ran.stderr
    assert [row["body_markdown"] for row in stored(db_url)] == ["a"]


def _counts_by_discussion(db: Database) -> list[int]:
    with db.read() as conn:
        rows = conn.execute(select(func.count(comments.c.id)).group_by(comments.c.article_id)).all()
    return [row[0] for row in rows]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill"])
def test_an_import_stopped_half_way_keeps_whole_threads_and_resumes(
    db_url: str, tmp_path: Path, stop: signal.Signals
) -> None:
    """The real command, stopped while it writes (Ctrl-C, or killed outright): each thread
    is there whole or not at all, and running it again brings in the rest, once."""
    per_thread = 20
    threads: list[dict[str, Any]] = [
        {
            "thread": {"page_id": f"page-{n}"},
            "comments": [
                {
                    "id": f"{n}-{k}",
                    "parent": f"{n}-{k - 1}" if k % 3 else None,
                    "created_at": f"2022-01-01T10:{k:02d}:00Z",
                    "body": f"Comment {k} of thread {n}",
                }
                for k in range(per_thread)
            ],
        }
        for n in range(800)
    ]
    file = write(tmp_path, "many.jsonl", generic(*threads))
    total = len(threads) * per_thread
    cli("db", "upgrade", db_url=db_url)
    command = [sys.executable, "-m", "rejoinder", "import", "json", str(file)]
    env = {**os.environ, "REJOINDER_DATABASE_URL": db_url}
    db = Database(db_url)
    process: subprocess.Popen[str] | None = None
    try:
        process = subprocess.Popen(command, env=env, stdout=PIPE, stderr=PIPE, text=True)
        deadline = time.monotonic() + 60
        while not _counts_by_discussion(db):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        process.send_signal(stop)
        out, err = process.communicate(timeout=60)
        counts = _counts_by_discussion(db)
        assert counts and set(counts) == {per_thread}  # no thread in part
        assert sum(counts) < total, "the import ended before it was stopped"
        if stop is signal.SIGINT:
            assert process.returncode == 130
            assert "Stopped." in err and "run the same import again" in err
            # (the summary may miss the last group when the stop came just after its commit)
            assert "Imported " in out and "comments" in out
            assert "Traceback" not in err
        resumed = run_import(db_url, "json", str(file))
        assert f"{sum(counts)} already imported" in resumed.stdout
        assert _counts_by_discussion(db) == [per_thread] * len(threads)
    finally:
        if process is not None and process.poll() is None:  # a failed check left it running
            process.kill()
            process.communicate()
        db.dispose()


def test_on_a_terminal_progress_is_a_bar(db_url: str, tmp_path: Path) -> None:
    """The real command with its standard error on a terminal (a pseudo-terminal here)
    draws rich's bar there, and prints no plain progress lines."""
    import pty

    threads = [
        {
            "thread": {"page_id": f"page-{n}"},
            "comments": [{"id": f"c{n}", "created_at": "2022-01-01T10:00:00Z", "body": "Hi"}],
        }
        for n in range(150)
    ]
    file = write(tmp_path, "many.jsonl", generic(*threads))
    cli("db", "upgrade", db_url=db_url)
    leader, follower = pty.openpty()
    try:
        ran = subprocess.run(
            [sys.executable, "-m", "rejoinder", "import", "json", str(file)],
            env={**os.environ, "REJOINDER_DATABASE_URL": db_url, "COLUMNS": "100"},
            stdout=PIPE,
            stderr=follower,
            text=True,
            timeout=120,
            check=False,
        )
        os.close(follower)
        drawn = b""
        while True:
            try:
                piece = os.read(leader, 65536)
            except OSError:  # the terminal is closed once everything is read
                break
            if not piece:
                break
            drawn += piece
    finally:
        os.close(leader)
    assert ran.returncode == 0
    assert "Imported 150 threads, 150 comments" in ran.stdout
    text = drawn.decode("utf-8", "replace")
    assert "Importing" in text and "\x1b[" in text  # the bar, drawn with terminal codes
    assert "... 100 threads" not in text
