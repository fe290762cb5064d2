"""`rejoinder import isso|remark42|commento`: files in each system's own shape (Isso's
SQLite database, remark42's backup, Commento's export), imported through the real command
and read back through the real app's API and the database."""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.app.test_imports import run_import, shape, stored, summary_of, thread_of, write
from tests.conftest import App

EMAILS = ("ann@example.com", "bob@example.net", "cy@example.org", "dee@example.com")


@pytest.fixture
def served(db_url: str) -> Iterator[App]:
    app = App(db_url).start()
    try:
        yield app
    finally:
        app.stop()


def _no_email_in(*texts: str) -> None:
    for email in EMAILS:
        for text in texts:
            assert email not in text


# --- Isso: its SQLite database, with the tables as Isso creates them ----------------------

ISSO_SCHEMA = """
CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
CREATE TABLE comments (
    tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
    created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
    text VARCHAR NOT NULL, author VARCHAR, email VARCHAR, website VARCHAR,
    likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
    notification INTEGER DEFAULT 0);
CREATE TABLE preferences (key VARCHAR PRIMARY KEY, value VARCHAR);
"""
T0 = 1_600_000_000.0  # 2020-09-13T12:26:40Z
ISSO_COMMENTS: list[tuple[Any, ...]] = [
    # tid, id, parent, created, mode, text, author, email, website
    (1, 1, None, T0, 1, "Hello *world*", "Ann", "ann@example.com", "https://ann.example.org"),
    (1, 2, 1, T0 + 60, 1, "A reply", "Bob", "bob@example.net", None),
    (1, 3, 2, T0 + 120, 1, "Deeper", "Cy", "cy@example.org", "javascript:alert(1)"),
    (1, 4, 3, T0 + 180, 1, "Deepest", None, None, None),
    (1, 5, None, T0 + 240, 4, "", None, "dee@example.com", None),  # deleted, with a reply
    (1, 6, 5, T0 + 300, 1, "Under a deleted one", "Bob", "bob@example.net", None),
    (1, 7, None, T0 + 360, 2, "Waiting", "Dee", "dee@example.com", None),
    (1, 8, 404, T0 + 420, 1, "Lost parent", "Eve", "", None),
    (2, 9, None, T0 + 500, 1, "On the custom id page", "Ann", "ann@example.com", None),
    (3, 10, None, T0 + 600, 1, "Its thread row is gone", "Zed", "", None),
]


def isso_db(path: Path, comments: list[tuple[Any, ...]] = ISSO_COMMENTS) -> Path:
    db = sqlite3.connect(path)
    db.executescript(ISSO_SCHEMA)
    db.executemany(
        "INSERT INTO threads (id, uri, title) VALUES (?, ?, ?)",
        [(1, "/2020/hello/", "Hello"), (2, "custom-page", "Custom")],
    )
    db.executemany(
        "INSERT INTO comments (tid, id, parent, created, mode, remote_addr, text, author,"
        " email, website, voters) VALUES (?, ?, ?, ?, ?, '192.0.2.0', ?, ?, ?, ?, x'00')",
        [(t, i, p, c, m, text, a, e, w) for t, i, p, c, m, text, a, e, w in comments],
    )
    db.commit()
    db.close()
    return path


def test_an_isso_database_keeps_threads_states_and_pages(served: App, tmp_path: Path) -> None:
    file = isso_db(tmp_path / "comments.db")
    rewrite = ("--rewrite-url", "/=https://example.com/")
    ran = run_import(served.db_url, "isso", str(file), *rewrite)
    assert "Imported 2 threads, 9 comments" in ran.stdout
    assert "'8'" in ran.stderr and "'404'" in ran.stderr and "top level" in ran.stderr
    assert "1 comment(s) of thread 3, which the threads table does not have" in ran.stderr
    _no_email_in(ran.stdout, ran.stderr)

    hello = thread_of(served, None, "https://example.com/2020/hello/", "Hello")
    assert [shape(c) for c in hello["comments"]] == [
        (
            1,
            "Ann",
            "2020-09-13T12:26:40Z",
            False,
            (
                (
                    1,
                    "Bob",
                    "2020-09-13T12:27:40Z",
                    False,
                    (
                        (
                            1,
                            "Cy",
                            "2020-09-13T12:28:40Z",
                            False,
                            ((1, "Anonymous", "2020-09-13T12:29:40Z", False, ()),),
                        ),
                    ),
                ),
            ),
        ),
        (
            2,
            "[deleted]",
            "2020-09-13T12:30:40Z",
            True,
            ((1, "Bob", "2020-09-13T12:31:40Z", False, ()),),
        ),
        (3, "Eve", "2020-09-13T12:33:40Z", False, ()),
    ]
    ann = hello["comments"][0]
    assert ann["body_html"] == "<p>Hello <em>world</em></p>"
    assert ann["author"]["website"] == "https://ann.example.org"
    assert ann["replies"][0]["replies"][0]["author"]["website"] is None  # javascript: dropped
    _no_email_in(json.dumps(hello))
    custom = thread_of(served, "custom-page", None, "Custom")
    assert [c["author"]["name"] for c in custom["comments"]] == ["Ann"]

    rows = {row["author_name"]: row for row in stored(served.db_url) if row["author_name"]}
    assert rows["Dee"]["status"] == "held"
    assert rows["Ann"]["author_email"] == "ann@example.com" and rows["Ann"]["imported"]
    again = run_import(served.db_url, "isso", str(file), *rewrite)
    assert "Imported 0 threads, 0 comments; 9 already imported" in again.stdout


def test_isso_paths_need_the_sites_address(db_url: str, tmp_path: Path) -> None:
    file = isso_db(tmp_path / "comments.db")
    ran = run_import(db_url, "isso", str(file), "--dry-run")
    assert "Custom: 1 comments to import" in ran.stdout
    assert "Would import 1 threads, 1 comments" in ran.stdout
    assert "'Hello'" in ran.stderr and "--rewrite-url /=https://" in ran.stderr
    assert stored(db_url) == []


def test_hostile_isso_files_are_named_and_import_no_half_thread(
    db_url: str, tmp_path: Path
) -> None:
    bad = [*ISSO_COMMENTS]
    bad[3] = (1, 4, 3, T0 + 180, 1, "Deepest", b"Caf\xe9", None, None)  # Latin-1 bytes
    file = isso_db(tmp_path / "latin.db", bad)
    ran = run_import(db_url, "isso", str(file), "--rewrite-url", "/=https://e.com/", check=False)
    assert ran.returncode == 1
    assert "comment 4 (thread 1): its author is not UTF-8" in ran.stderr
    assert "Traceback" not in ran.stderr
    assert stored(db_url) == []  # thread 1 broke: nothing of it; thread 2 comes after

    whole = isso_db(tmp_path / "whole.db").read_bytes()
    cut = write(tmp_path, "cut.db", whole[: len(whole) // 2])
    ran = run_import(db_url, "isso", str(cut), check=False)
    assert ran.returncode == 1 and "cannot be read" in ran.stderr and "cut short" in ran.stderr
    other = write(tmp_path, "other.db", b"")
    sqlite3.connect(other).executescript("CREATE TABLE posts (id INTEGER);")
    ran = run_import(db_url, "isso", str(other), check=False)
    assert ran.returncode == 1 and "not Isso's database" in ran.stderr
    text = write(tmp_path, "text.db", "not a database at all\n" * 100)
    ran = run_import(db_url, "isso", str(text), check=False)
    assert ran.returncode == 1 and "cannot be read" in ran.stderr
    assert stored(db_url) == []


# --- remark42: its backup, meta line first, one comment per line ------------------------


def r42(
    cid: str,
    url: str,
    time: str,
    text: str,
    *,
    pid: str = "",
    name: str = "",
    user_id: str = "",
    title: str = "",
    deleted: bool = False,
    blocked: bool = False,
) -> dict[str, Any]:
    comment: dict[str, Any] = {
        "id": cid,
        "pid": pid,
        "text": text,
        "user": {
            "name": name,
            "id": user_id or f"github_{name.lower()}",
            "picture": "",
            "ip": "b2f1f8a3c2d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9",
            "admin": False,
            **({"block": True} if blocked else {}),
        },
        "locator": {"site": "blog", "url": url},
        "score": 0,
        "vote": 0,
        "time": time,
        **({"title": title} if title else {}),
        **({"delete": True} if deleted else {}),
    }
    return comment


R42_META = {
    "version": 1,
    "users": [
        {
            "id": "github_ann",
            "blocked": {"status": False, "until": "0001-01-01T00:00:00Z"},
            "verified": True,
            "details": {"user_id": "github_ann", "email": "ann@example.com"},
        }
    ],
    "posts": [{"url": "https://example.com/one/", "read_only": False}],
}
ONE = "https://example.com/one/"
TWO = "https://example.com/two/"
R42_COMMENTS = [
    r42("a1", ONE, "2019-03-01T10:00:00+01:00", "<p>Top</p>", name="Ann", title="Page one"),
    r42("a2", ONE, "2019-03-01T10:05:00Z", "<p>Reply</p>", pid="a1", name="Bob"),
    r42("a3", ONE, "2019-03-01T10:06:00Z", "<p>Deeper</p>", pid="a2", name="Cy"),
    r42("a4", ONE, "2019-03-01T10:07:00Z", "", name="deleted", deleted=True),
    r42("a5", ONE, "2019-03-01T10:08:00Z", "<p>Under it</p>", pid="a4", name="Bob"),
    r42("a6", ONE, "2019-03-01T10:09:00Z", "<p>Troll</p>", name="Troll", blocked=True),
    r42("a7", ONE, "2019-03-01T10:10:00Z", "<p>Orphan</p>", pid="gone", name="Eve"),
    r42("b1", TWO, "2019-04-01T10:00:00Z", "<p>Two<script>x()</script></p>", name="Ann"),
    r42("b2", TWO, "2019-04-01T11:00:00Z", "<p>Also</p>", name="Fay"),
]


def backup(meta: dict[str, Any], comments: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(line) + "\n" for line in [meta, *comments])


def test_a_remark42_backup_keeps_threads_states_and_private_emails(
    served: App, tmp_path: Path
) -> None:
    file = write(tmp_path, "backup.gz", gzip.compress(backup(R42_META, R42_COMMENTS).encode()))
    ran = run_import(served.db_url, "remark42", str(file))
    assert "Imported 2 threads, 9 comments" in ran.stdout
    assert "'a7'" in ran.stderr and "'gone'" in ran.stderr and "line 8" in ran.stderr
    one = thread_of(served, None, ONE, "Page one")
    assert one["article"]["title"] == "Page one"
    assert [shape(c) for c in one["comments"]] == [
        (
            1,
            "Ann",
            "2019-03-01T09:00:00Z",
            False,
            (
                (
                    1,
                    "Bob",
                    "2019-03-01T10:05:00Z",
                    False,
                    ((1, "Cy", "2019-03-01T10:06:00Z", False, ()),),
                ),
            ),
        ),
        (
            2,
            "[deleted]",
            "2019-03-01T10:07:00Z",
            True,
            ((1, "Bob", "2019-03-01T10:08:00Z", False, ()),),
        ),
        (3, "Eve", "2019-03-01T10:10:00Z", False, ()),
    ]
    two = thread_of(served, None, TWO, "")
    assert [c["body_html"] for c in two["comments"]] == ["<p>Two</p>", "<p>Also</p>"]
    rows = {row["author_name"]: row for row in stored(served.db_url)}
    assert rows["Troll"]["status"] == "rejected"
    assert rows["Ann"]["author_email"] == "ann@example.com"
    _no_email_in(json.dumps(one), json.dumps(two), ran.stdout, ran.stderr)


def test_a_cut_remark42_backup_keeps_whole_pages_and_resumes(served: App, tmp_path: Path) -> None:
    whole = backup(R42_META, R42_COMMENTS)
    cut = whole[: whole.index('"b2"') + 10]  # inside the second page's last comment
    file = write(tmp_path, "backup.json", cut)
    ran = run_import(served.db_url, "remark42", str(file), check=False)
    assert ran.returncode == 1
    assert "line 10" in ran.stderr and "truncated" in ran.stderr
    assert summary_of(served) == [("Page one", 7)]  # the second page is not half there
    file.write_text(whole, encoding="utf-8")
    resumed = run_import(served.db_url, "remark42", str(file))
    assert "Imported 1 threads, 2 comments; 7 already imported" in resumed.stdout

    gz = gzip.compress(whole.encode())
    ran = run_import(served.db_url, "remark42", str(write(tmp_path, "c.gz", gz[:-20])), check=False)
    assert ran.returncode == 1 and "gzip" in ran.stderr
    meta = {**R42_META, "version": 7}
    ran = run_import(
        served.db_url, "remark42", str(write(tmp_path, "v7", backup(meta, []))), check=False
    )
    assert ran.returncode == 1 and "line 1: version 7" in ran.stderr
    latin = backup(R42_META, R42_COMMENTS[:2]).encode() + b'{"id": "x", "text": "Caf\xe9"}\n'
    ran = run_import(served.db_url, "remark42", str(write(tmp_path, "l", latin)), check=False)
    assert ran.returncode == 1 and "line 4: not UTF-8" in ran.stderr
    bad = backup(R42_META, [{**R42_COMMENTS[0], "time": "last week"}])
    ran = run_import(served.db_url, "remark42", str(write(tmp_path, "t", bad)), check=False)
    assert ran.returncode == 1 and "line 2: comment 'a1': 'time' 'last week'" in ran.stderr


# --- Commento: one JSON document, commenters after comments ------------------------------


def cm(
    hex_id: str,
    path: str,
    date: str,
    markdown: str,
    *,
    parent: str = "root",
    commenter: str = "anonymous",
    state: str = "approved",
    deleted: bool | None = None,
) -> dict[str, Any]:
    comment: dict[str, Any] = {
        "commentHex": hex_id,
        "domain": "example.com",
        "url": path,
        "commenterHex": commenter,
        "markdown": markdown,
        "parentHex": parent,
        "score": 0,
        "state": state,
        "creationDate": date,
    }
    if deleted is not None:
        comment["deleted"] = deleted
    return comment


COMMENTO: dict[str, Any] = {
    "version": 1,
    "comments": [
        cm("c1", "/post/", "2021-05-01T10:00:00Z", "First **bold**", commenter="ann"),
        cm("c2", "/post/", "2021-05-01T11:00:00Z", "Reply", parent="c1", commenter="bob"),
        cm("c3", "/post/", "2021-05-01T12:00:00.5Z", "Deeper", parent="c2"),
        cm("c4", "/post/", "2021-05-02T10:00:00Z", "Held", commenter="bob", state="unapproved"),
        cm("c5", "/post/", "2021-05-02T11:00:00Z", "Spammy?", state="flagged"),
        cm("c6", "/post/", "2021-05-03T10:00:00Z", "", commenter="ann", deleted=True),
        cm("c7", "/post/", "2021-05-03T11:00:00Z", "Under", parent="c6", commenter="bob"),
        cm("c8", "/other", "2021-06-01T10:00:00Z", "Elsewhere", commenter="ann"),
        cm("c9", "/other", "2021-06-01T11:00:00Z", "Dangling", parent="cx", commenter="bob"),
    ],
    "commenters": [
        {
            "commenterHex": "ann",
            "email": "ann@example.com",
            "name": "Ann",
            "link": "https://ann.example.org",
            "photo": "undefined",
            "provider": "commento",
            "joinDate": "2020-01-01T00:00:00Z",
            "isModerator": False,
        },
        {
            "commenterHex": "bob",
            "email": "bob@example.net",
            "name": "Bob",
            "link": "undefined",
            "photo": "undefined",
            "provider": "google",
            "joinDate": "2020-01-01T00:00:00Z",
            "isModerator": False,
        },
    ],
}


def test_a_commento_export_keeps_threads_states_and_commenters(served: App, tmp_path: Path) -> None:
    file = write(tmp_path, "commento.json.gz", gzip.compress(json.dumps(COMMENTO).encode()))
    ran = run_import(served.db_url, "commento", str(file))
    assert "Imported 2 threads, 9 comments" in ran.stdout
    assert "'c9'" in ran.stderr and "'cx'" in ran.stderr
    post = thread_of(served, None, "https://example.com/post/", "")
    assert [shape(c) for c in post["comments"]] == [
        (
            1,
            "Ann",
            "2021-05-01T10:00:00Z",
            False,
            (
                (
                    1,
                    "Bob",
                    "2021-05-01T11:00:00Z",
                    False,
                    ((1, "Anonymous", "2021-05-01T12:00:00.500000Z", False, ()),),
                ),
            ),
        ),
        (
            2,
            "[deleted]",
            "2021-05-03T10:00:00Z",
            True,
            ((1, "Bob", "2021-05-03T11:00:00Z", False, ()),),
        ),
    ]
    first = post["comments"][0]
    assert first["body_html"] == "<p>First <strong>bold</strong></p>"
    assert first["author"]["website"] == "https://ann.example.org"
    assert first["replies"][0]["author"]["website"] is None  # Commento's "undefined"
    other = thread_of(served, None, "https://example.com/other", "")
    assert [c["author"]["name"] for c in other["comments"]] == ["Ann", "Bob"]
    statuses = {row["body_markdown"]: row["status"] for row in stored(served.db_url)}
    assert statuses["Held"] == "held" and statuses["Spammy?"] == "held"
    _no_email_in(json.dumps(post), json.dumps(other), ran.stdout, ran.stderr)
    again = run_import(served.db_url, "commento", str(file))
    assert "Imported 0 threads, 0 comments; 9 already imported" in again.stdout


def test_broken_commento_exports_import_nothing(db_url: str, tmp_path: Path) -> None:
    text = json.dumps(COMMENTO, indent=1)
    ran = run_import(db_url, "commento", str(write(tmp_path, "cut.json", text[:-40])), check=False)
    assert ran.returncode == 1 and "truncated" in ran.stderr and "line " in ran.stderr
    bad = {**COMMENTO, "comments": [*COMMENTO["comments"], cm("z", "/p", "yesterday", "x")]}
    ran = run_import(
        db_url, "commento", str(write(tmp_path, "bad.json", json.dumps(bad))), check=False
    )
    assert ran.returncode == 1 and "comments[9] (z): 'creationDate' 'yesterday'" in ran.stderr
    odd = {**COMMENTO, "comments": [cm("y", "/p", "2021-01-01T00:00:00Z", "x", state="weird")]}
    ran = run_import(
        db_url, "commento", str(write(tmp_path, "odd.json", json.dumps(odd))), check=False
    )
    assert ran.returncode == 1 and "comments[0] (y): 'state' 'weird'" in ran.stderr
    latin = (
        json.dumps(COMMENTO).replace("Elsewhere", "Caf\udce9").encode("utf-8", "surrogateescape")
    )
    ran = run_import(db_url, "commento", str(write(tmp_path, "latin.json", latin)), check=False)
    assert ran.returncode == 1 and "not UTF-8" in ran.stderr
    ran = run_import(db_url, "commento", str(write(tmp_path, "wp.xml", "<rss/>")), check=False)
    assert ran.returncode == 1 and "not JSON" in ran.stderr
    assert stored(db_url) == []


def test_comentarios_spelling_of_the_commento_export(served: App, tmp_path: Path) -> None:
    zeros = "0" * 64

    def item(hex_id: str, date: str, markdown: str, **extra: Any) -> dict[str, Any]:
        return {
            "commentHex": hex_id,
            "host": "blog.example.org",
            "path": "/entry",
            "markdown": markdown,
            "html": "",
            "parentHex": "root",
            "state": "approved",
            "creationDate": date,
            **extra,
        }

    document = {
        "version": 1,
        "comments": [
            item("d1", "2022-02-01T10:00:00Z", "[deleted]", commenterHex="ann"),
            item("d2", "2022-02-01T11:00:00Z", "Reply", commenterHex=zeros, parentHex="d1"),
            item("d3", "2022-02-01T12:00:00Z", "Mine", commenterHex="ann"),
        ],
        "commenters": [
            {
                "commenterHex": "ann",
                "name": "Ann",
                "email": "ann@example.com",
                "websiteUrl": "https://ann.example.org",
            },
        ],
    }
    file = write(tmp_path, "comentario.json", json.dumps(document))
    ran = run_import(served.db_url, "commento", str(file))
    assert "Imported 1 threads, 3 comments" in ran.stdout
    page = thread_of(served, None, "https://blog.example.org/entry", "")
    assert [shape(c) for c in page["comments"]] == [
        (
            1,
            "[deleted]",
            "2022-02-01T10:00:00Z",
            True,
            ((1, "Anonymous", "2022-02-01T11:00:00Z", False, ()),),
        ),
        (2, "Ann", "2022-02-01T12:00:00Z", False, ()),
    ]
    assert page["comments"][1]["author"]["website"] == "https://ann.example.org"


# --- Comentario's own export, version 3: pages, comments by UUID, commenters --------------

PAGE_POST = "6f1c3e52-0d7a-4b8e-9c41-2a5d7e9f0b13"
PAGE_ABOUT = "0b9e4d21-7c3a-4f65-8e12-5d6c7b8a9f04"
ANN_ID = "3a7d9c1e-52b4-4e8f-a6d0-1c2b3e4f5a6b"
BOB_ID = "9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4"
GUEST = "00000000-0000-0000-0000-000000000000"


def cv3(
    number: int,
    page: str,
    created: str,
    markdown: str,
    *,
    parent: int | None = None,
    user: str | None = ANN_ID,
    approved: bool = True,
    pending: bool = False,
    deleted: bool = False,
    author_name: str = "",
) -> dict[str, Any]:
    """A comment as Comentario 3 writes it (Go's json.Marshal of its Comment model: empty
    strings and null ids left out, the booleans and score always there)."""
    comment_id = f"c0000000-0000-4000-8000-{number:012d}"
    path = "/blog/first-post/" if page == PAGE_POST else "/about"
    comment: dict[str, Any] = {
        "createdTime": created,
        "html": f"<p>{markdown}</p>" if markdown else "",
        "id": comment_id,
        "isApproved": approved,
        "isDeleted": deleted,
        "isPending": pending,
        "isSticky": False,
        "markdown": markdown,
        "pageId": page,
        "score": 2,
        "url": f"https://blog.example.org{path}#comentario-{comment_id}",
    }
    if not markdown:
        del comment["markdown"], comment["html"]
    if parent is not None:
        comment["parentId"] = f"c0000000-0000-4000-8000-{parent:012d}"
    if user is not None:
        comment["userCreated"] = user
    if author_name:
        comment["authorName"] = author_name
    if deleted:
        comment["deletedTime"] = "2023-03-05T09:00:00Z"
        comment["userDeleted"] = user
    if not pending:
        comment["moderatedTime"] = created
    return comment


COMENTARIO_V3: dict[str, Any] = {
    "version": 3,
    "pages": [
        {
            "countComments": 6,
            "countViews": 40,
            "createdTime": "2023-03-01T08:00:00.123456Z",
            "domainId": "d1d2d3d4-0000-4000-8000-000000000001",
            "id": PAGE_POST,
            "isReadonly": False,
            "path": "/blog/first-post/",
            "title": "My first post",
        },
        {
            "countComments": 1,
            "countViews": -1,
            "createdTime": "2023-03-02T08:00:00Z",
            "domainId": "d1d2d3d4-0000-4000-8000-000000000001",
            "id": PAGE_ABOUT,
            "isReadonly": True,
            "path": "/about",
            "title": "About",
        },
    ],
    "comments": [
        cv3(1, PAGE_POST, "2023-03-01T10:00:00.5+02:00", "Hello **world**"),
        cv3(2, PAGE_ABOUT, "2023-03-02T09:00:00Z", "About you", user=BOB_ID),
        cv3(3, PAGE_POST, "2023-03-01T11:00:00Z", "A reply", parent=1, user=BOB_ID),
        cv3(
            4,
            PAGE_POST,
            "2023-03-01T12:00:00Z",
            "As a guest",
            parent=3,
            user=GUEST,
            author_name="Passer-by",
        ),
        cv3(5, PAGE_POST, "2023-03-02T10:00:00Z", "", user=ANN_ID, deleted=True),
        cv3(6, PAGE_POST, "2023-03-02T11:00:00Z", "Under a deleted one", parent=5, user=BOB_ID),
        cv3(7, PAGE_POST, "2023-03-03T10:00:00Z", "Waiting", approved=False, pending=True),
        cv3(
            8,
            PAGE_POST,
            "2023-03-03T11:00:00Z",
            "Turned down",
            approved=False,
            user=None,
            author_name="Rude",
        ),
    ],
    "commenters": [
        {
            "colourIndex": 12,
            "createdTime": "2022-12-01T00:00:00Z",
            "email": "ann@example.com",
            "hasAvatar": False,
            "id": ANN_ID,
            "isCommenter": True,
            "isModerator": True,
            "name": "Ann",
            "websiteUrl": "https://ann.example.org",
        },
        {
            "colourIndex": 40,
            "createdTime": "2022-12-02T00:00:00Z",
            "email": "bob@example.net",
            "federatedIdP": "github",
            "hasAvatar": True,
            "id": BOB_ID,
            "isCommenter": True,
            "isModerator": False,
            "name": "Bob",
        },
    ],
}


def test_comentarios_own_export_version_3(served: App, tmp_path: Path) -> None:
    raw = gzip.compress(json.dumps(COMENTARIO_V3, separators=(",", ":")).encode())
    file = write(tmp_path, "comentario-export.json.gz", raw)
    ran = run_import(served.db_url, "commento", str(file))
    assert "Imported 2 threads, 8 comments; 0 warnings" in ran.stdout
    post = thread_of(served, None, "https://blog.example.org/blog/first-post/", "My first post")
    assert [shape(c) for c in post["comments"]] == [
        (
            1,
            "Ann",
            "2023-03-01T08:00:00.500000Z",
            False,
            (
                (
                    1,
                    "Bob",
                    "2023-03-01T11:00:00Z",
                    False,
                    ((1, "Passer-by", "2023-03-01T12:00:00Z", False, ()),),
                ),
            ),
        ),
        (
            2,
            "[deleted]",
            "2023-03-02T10:00:00Z",
            True,
            ((1, "Bob", "2023-03-02T11:00:00Z", False, ()),),
        ),
    ]
    first = post["comments"][0]
    assert first["body_html"] == "<p>Hello <strong>world</strong></p>"
    assert first["author"]["website"] == "https://ann.example.org"
    assert first["replies"][0]["author"]["website"] is None
    about = thread_of(served, None, "https://blog.example.org/about", "About")
    assert [(c["author"]["name"], c["body_html"]) for c in about["comments"]] == [
        ("Bob", "<p>About you</p>")
    ]
    rows = {row["body_markdown"]: row for row in stored(served.db_url)}
    assert rows["Waiting"]["status"] == "held"
    assert rows["Turned down"]["status"] == "rejected"
    assert rows["Turned down"]["author_name"] == "Rude"
    assert rows["Hello **world**"]["author_email"] == "ann@example.com"
    assert rows["A reply"]["author_email"] == "bob@example.net"
    assert rows["As a guest"]["author_email"] == ""
    assert all(row["imported"] for row in rows.values())
    _no_email_in(json.dumps(post), json.dumps(about), ran.stdout, ran.stderr)
    again = run_import(served.db_url, "commento", str(file))
    assert "Imported 0 threads, 0 comments; 8 already imported" in again.stdout


def test_a_comentario_export_of_an_unknown_version_is_refused(db_url: str, tmp_path: Path) -> None:
    document = {**COMENTARIO_V3, "version": 2}
    ran = run_import(
        db_url, "commento", str(write(tmp_path, "v2.json", json.dumps(document))), check=False
    )
    assert ran.returncode == 1 and "version 2" in ran.stderr and "versions 1" in ran.stderr
    broken = {
        **COMENTARIO_V3,
        "comments": [
            *COMENTARIO_V3["comments"],
            {"id": "x", "pageId": PAGE_POST, "createdTime": "soon", "markdown": "m"},
        ],
    }
    ran = run_import(
        db_url, "commento", str(write(tmp_path, "v3.json", json.dumps(broken))), check=False
    )
    assert ran.returncode == 1 and "comments[8] (x): 'createdTime' 'soon'" in ran.stderr
    assert stored(db_url) == []
