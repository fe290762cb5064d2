"""`rejoinder backup` of a live SQLite database while the app in this process takes comments,
`rejoinder restore` of the copy into a new database, and the refusals of both: PostgreSQL
(pointed at pg_dump), a file that is not a Rejoinder database, a database that holds data."""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests import comment_payload
from tests.conftest import BACKEND, App, Databases, cli

SQLITE_ONLY = pytest.mark.skipif(
    BACKEND != "sqlite",
    reason="the backup command copies SQLite files; PostgreSQL's refusal is tested beside",
)


def _rows(path: Path, query: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(query).fetchall()


@SQLITE_ONLY
def test_a_backup_under_write_load_restores_every_acknowledged_comment(
    app: App, tmp_path: Path
) -> None:
    slug = app.publish()["slug"]
    acknowledged: list[tuple[float, int, str]] = []  # when, id, body
    stop = threading.Event()
    problems: list[str] = []

    def write() -> None:
        with app.client() as http:
            while not stop.is_set():
                payload = comment_payload()
                answer = http.post(f"/api/v1/articles/{slug}/comments", json=payload)
                if answer.status_code != 201:
                    problems.append(answer.text)
                    return
                acknowledged.append((time.monotonic(), answer.json()["id"], payload["body"]))

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 30
        while len(acknowledged) < count and not problems and time.monotonic() < deadline:
            time.sleep(0.01)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        wait_for(20)
        started = time.monotonic()
        copy = tmp_path / "copy.db"
        done = cli("backup", str(copy), db_url=app.db_url)
        finished = time.monotonic()
        wait_for(len(acknowledged) + 5)  # the writer went on after the copy
    finally:
        stop.set()
        writer.join(timeout=30)
    assert not problems, problems
    assert "Backed up" in done.stdout
    before = {cid: body for at, cid, body in acknowledged if at < started}
    assert len(before) >= 20

    restored = tmp_path / "restored.db"
    ran = cli("restore", str(copy), db_url=f"sqlite:///{restored}")
    assert "Restored" in ran.stdout
    # Through the app, as readers would see it: every comment acknowledged before the backup
    # began is there, with its text.
    back = App(f"sqlite:///{restored}").start()
    try:
        shown = back.get(f"/api/v1/articles/{slug}/comments", params={"limit": 100})
        assert shown.status_code == 200, shown.text
    finally:
        back.stop()
    rows: dict[int, str] = {
        int(str(cid)): str(body)
        for cid, body in _rows(
            restored,
            f"SELECT c.id, c.body_markdown FROM comments c JOIN articles a "
            f"ON a.id = c.article_id WHERE a.slug = '{slug}'",
        )
    }
    assert {cid: rows.get(cid) for cid in before} == before
    # One snapshot: nothing but what was posted, and the article's count agrees with its rows.
    posted = {cid for _, cid, _ in acknowledged}
    assert set(rows) <= posted
    after = {cid for at, cid, _ in acknowledged if at > finished}
    assert after and not after <= set(rows)  # the copy did not follow the writes after it
    count = _rows(restored, f"SELECT comment_count FROM articles WHERE slug = '{slug}'")
    assert count == [(len(rows),)]


@SQLITE_ONLY
def test_restore_refuses_a_database_with_data_unless_forced(
    databases: Databases, tmp_path: Path
) -> None:
    source = databases.new()
    cli("site", "add", "keep", "--title", "Keep", "--domain", "keep.test", db_url=source)
    copy = tmp_path / "copy.db"
    cli("backup", str(copy), db_url=source)
    refused = cli("backup", str(copy), db_url=source, check=False)
    assert refused.returncode == 1 and "exists already" in refused.stderr

    target = databases.new()
    article = tmp_path / "a.md"
    article.write_text("---\ntitle: Kept here\n---\nBody.\n", encoding="utf-8")
    cli("article", "add", str(article), db_url=target)
    refused = cli("restore", str(copy), db_url=target, check=False)
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert _rows(Path(target.removeprefix("sqlite:///")), "SELECT count(*) FROM articles") == [(1,)]
    cli("restore", str(copy), "--force", db_url=target)
    path = Path(target.removeprefix("sqlite:///"))
    assert _rows(path, "SELECT count(*) FROM articles") == [(0,)]
    assert ("keep",) in _rows(path, "SELECT name FROM sites")


@SQLITE_ONLY
def test_restore_names_what_is_wrong_with_the_file(databases: Databases, tmp_path: Path) -> None:
    target = databases.new(empty=True)
    cases: dict[str, str] = {}
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all, just bytes" * 200)
    cases[str(junk)] = "is not a SQLite database"
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    cases[str(other)] = "not Rejoinder's"
    future = tmp_path / "future.db"
    with closing(sqlite3.connect(future)) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
        conn.execute("INSERT INTO alembic_version VALUES ('9999')")
        conn.commit()
    cases[str(future)] = "'9999', which this version of Rejoinder does not know"
    cases[str(tmp_path / "missing.db")] = "No such file"
    for file, expected in cases.items():
        ran = cli("restore", file, db_url=target, check=False)
        assert ran.returncode == 1, file
        assert expected in ran.stderr, (file, ran.stderr)
        assert "Traceback" not in ran.stderr + ran.stdout


@pytest.mark.skipif(BACKEND == "sqlite", reason="the refusal of a PostgreSQL database")
def test_backup_and_restore_point_postgresql_at_pg_dump(db_url: str, tmp_path: Path) -> None:
    for args in (("backup", str(tmp_path / "x.db")), ("restore", str(tmp_path / "x.db"))):
        ran = cli(*args, db_url=db_url, check=False)
        assert ran.returncode == 1
        assert "pg_dump" in ran.stderr and "docs/OPERATIONS.md" in ran.stderr
    assert not (tmp_path / "x.db").exists()


@pytest.mark.one_backend  # a document's text
def test_the_operations_document_gives_the_commands_the_refusal_points_at() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "OPERATIONS.md").read_text("utf-8")
    section = text.split("## Backups", 1)[1]
    for command in ("rejoinder backup", "rejoinder restore", "--force", "pg_dump", "pg_restore"):
        assert command in section, command
