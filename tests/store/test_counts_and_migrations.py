"""Migrations are idempotent, SQLite is configured safely, and comment counts never drift."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import event, func, inspect, select

from rejoinder.core.errors import Closed, Forbidden, Invalid, NotFound
from rejoinder.core.models import Article, ArticleDraft, Comment, CommentInput, Status
from rejoinder.events import COMMENT_POSTED, Events
from rejoinder.runtime import Runtime, open_runtime
from rejoinder.settings import Settings
from rejoinder.store import articles as article_store
from rejoinder.store import comments as comment_store
from rejoinder.store.database import Database
from rejoinder.store.migrate import MIGRATIONS, current, upgrade
from rejoinder.store.schema import articles, comments, metadata, sites
from rejoinder.usecases import discussion, publishing
from tests.conftest import BACKEND, Databases

WINDOW = timedelta(minutes=15)


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


@pytest.fixture(scope="module")
def runtime(databases: Databases) -> Iterator[Runtime]:
    """One migrated database for the tests that need no empty one; each uses its own slugs."""
    rt = open_runtime(Settings(database_url=databases.new()))
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A fresh, empty database."""
    database = Database(db_url)
    try:
        yield database
    finally:
        database.dispose()


# --- migrations -------------------------------------------------------------------------


def test_upgrade_reaches_head_and_a_second_upgrade_changes_nothing(db: Database) -> None:
    assert current(db) is None
    upgrade(db)
    assert current(db) == _head()
    now = datetime.now(UTC)
    with db.write() as conn:
        conn.execute(sites.insert().values(name="kept", title="Kept", created_at=now))

    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        upgrade(db)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    ddl = [s for s in sent if s.lstrip().split()[0].upper() in ("CREATE", "ALTER", "DROP")]
    assert ddl == []
    assert current(db) == _head()
    with db.read() as conn:
        assert conn.execute(select(sites.c.title).where(sites.c.name == "kept")).scalar() == "Kept"
        versions = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    assert [row[0] for row in versions] == [_head()]


def test_migrations_build_every_table_the_schema_describes(runtime: Runtime) -> None:
    found = inspect(runtime.db.engine)
    assert set(metadata.tables) <= set(found.get_table_names())
    for name, table in metadata.tables.items():
        assert {c["name"] for c in found.get_columns(name)} == set(table.columns.keys()), name
        wanted = {index.name for index in table.indexes}
        assert wanted <= {index["name"] for index in found.get_indexes(name)}, name
    fks = {
        (fk["referred_table"], tuple(fk["constrained_columns"]))
        for fk in found.get_foreign_keys("comments")
    }
    assert {
        ("articles", ("article_id",)),
        ("comments", ("parent_id",)),
        ("comments", ("root_id",)),
    } <= fks


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite pragmas")
def test_sqlite_connections_use_wal_and_enforce_foreign_keys(runtime: Runtime) -> None:
    with runtime.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 1000


def test_workers_starting_together_on_a_new_database_all_start(db: Database, db_url: str) -> None:
    """Each worker opens its runtime at once; they must agree on one site and one secret."""
    upgrade(db)
    starters = 6
    together = threading.Barrier(starters)
    opened: list[Runtime] = []
    failed: list[BaseException] = []
    lock = threading.Lock()

    def start() -> None:
        together.wait(timeout=30)
        try:
            rt = open_runtime(Settings(database_url=db_url), migrate=False)
        except BaseException as error:  # any failure is the finding
            with lock:
                failed.append(error)
            return
        with lock:
            opened.append(rt)

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert failed == []
        assert len(opened) == starters
        assert len({rt.default_site.id for rt in opened}) == 1
        assert len({rt.secret_key for rt in opened}) == 1
        with db.read() as conn:
            assert conn.execute(select(func.count()).select_from(sites)).scalar_one() == 1
    finally:
        for rt in opened:
            rt.close()


# --- counts through the use cases ---------------------------------------------------------


def _article(rt: Runtime, slug: str, *, comments_open: bool = True) -> Article:
    draft = ArticleDraft(
        slug=slug,
        title=slug.title(),
        dek="",
        author="",
        body_markdown="Body.",
        published_at=datetime.now(UTC),
        comments_open=comments_open,
    )
    return publishing.add_article(rt.db, rt.events, rt.default_site.id, draft, datetime.now(UTC))


def _post(rt: Runtime, slug: str, body: str, parent: Comment | None = None) -> Comment:
    raw = CommentInput(
        body=body,
        name="Ada Reader",
        email="ada@example.org",
        parent_id=parent.id if parent else None,
    )
    return discussion.post_comment(
        rt.db,
        rt.events,
        site_id=rt.default_site.id,
        slug=slug,
        raw=raw,
        limits=rt.limits,
        now=datetime.now(UTC),
    ).comment


def _delete(rt: Runtime, comment: Comment) -> None:
    discussion.delete_comment(
        rt.db,
        rt.events,
        comment_id=comment.id,
        owned=frozenset({comment.id}),
        window=WINDOW,
        now=datetime.now(UTC),
    )


def _state(rt: Runtime, article_id: int) -> tuple[int, int, int, int]:
    """(stored count, published rows, all rows of the article, version)."""
    with rt.db.read() as conn:
        article = article_store.get_article_by_id(conn, article_id)
        assert article is not None
        published = comment_store.count_published(conn, article_id)
        rows = conn.execute(
            select(func.count()).where(comments.c.article_id == article_id)
        ).scalar_one()
    return article.comment_count, published, rows, article.version


def _status(rt: Runtime, comment: Comment) -> Status:
    with rt.db.read() as conn:
        found = comment_store.get_comment(conn, comment.id)
    assert found is not None
    return found.status


def test_a_listener_within_the_post_that_fails_leaves_no_comment(runtime: Runtime) -> None:
    """What listens `within` a post (a reply's notices) commits with it, or neither does."""
    article = _article(runtime, "within-fails")
    parent = _post(runtime, article.slug, "First.")

    def broken(_name: str, **_arguments: Any) -> None:
        raise RuntimeError("the notice could not be written")

    failing = Events()
    failing.connect_within(COMMENT_POSTED, broken)
    raw = CommentInput(
        body="A reply not stored.", name="Ada", email="a@example.org", parent_id=parent.id
    )
    with pytest.raises(RuntimeError, match="notice"):
        discussion.post_comment(
            runtime.db,
            failing,
            site_id=runtime.default_site.id,
            slug=article.slug,
            raw=raw,
            limits=runtime.limits,
            now=datetime.now(UTC),
        )
    with runtime.db.read() as conn:
        stored = conn.execute(
            select(func.count()).select_from(comments).where(comments.c.article_id == article.id)
        ).scalar_one()
        counted = article_store.get_article_by_id(conn, article.id)
    assert stored == 1
    assert counted is not None and counted.comment_count == 1


def test_the_count_follows_posts_replies_edits_and_deletes(runtime: Runtime) -> None:
    rt = runtime
    article = _article(rt, "counted")

    def count() -> int:
        stored, published, _rows, _version = _state(rt, article.id)
        assert stored == published
        return stored

    first = _post(rt, "counted", "First.")
    second = _post(rt, "counted", "Second.")
    third = _post(rt, "counted", "Third.")
    assert count() == 3
    reply = _post(rt, "counted", "A reply.", parent=first)
    deeper = _post(rt, "counted", "A reply to the reply.", parent=reply)
    assert count() == 5

    version = _state(rt, article.id)[3]
    discussion.edit_comment(
        rt.db,
        rt.events,
        comment_id=second.id,
        body="Second, edited.",
        owned=frozenset({second.id}),
        limits=rt.limits,
        window=WINDOW,
        now=datetime.now(UTC),
    )
    assert count() == 5
    assert _state(rt, article.id)[3] > version  # an edit still moves the version

    _delete(rt, third)  # no replies: withdrawn, gone
    assert _status(rt, third) is Status.WITHDRAWN
    assert count() == 4
    _delete(rt, first)  # with replies: "[deleted]" keeps its place, and leaves the count
    assert _status(rt, first) is Status.DELETED
    assert count() == 3
    _delete(rt, reply)  # its own reply keeps it in place too
    assert _status(rt, reply) is Status.DELETED
    assert count() == 2
    _delete(rt, deeper)
    assert count() == 1

    with pytest.raises(NotFound):  # deleting twice does not count twice
        _delete(rt, third)
    with pytest.raises(NotFound):
        discussion.edit_comment(
            rt.db,
            rt.events,
            comment_id=first.id,
            body="Back from the dead.",
            owned=frozenset({first.id}),
            limits=rt.limits,
            window=WINDOW,
            now=datetime.now(UTC),
        )
    assert count() == 1
    assert _state(rt, article.id)[2] == 5  # the rows stay, for the thread's shape


def test_failing_writes_leave_no_row_and_the_count_unchanged(runtime: Runtime) -> None:
    rt = runtime
    here = _article(rt, "here")
    there = _article(rt, "there")
    closed = _article(rt, "closed", comments_open=False)
    kept = _post(rt, "here", "Kept.")
    elsewhere = _post(rt, "there", "Elsewhere.")
    gone = _post(rt, "here", "Gone soon.")
    _delete(rt, gone)
    before = {a.id: _state(rt, a.id) for a in (here, there, closed)}

    with pytest.raises(Closed):
        _post(rt, "closed", "Into a closed discussion.")
    with pytest.raises(Invalid) as other_article:
        _post(rt, "here", "A reply across articles.", parent=elsewhere)
    assert other_article.value.field == "parent_id"
    with pytest.raises(Invalid):
        _post(rt, "here", "A reply to a withdrawn comment.", parent=gone)
    with pytest.raises(NotFound):
        _post(rt, "nowhere", "To no article.")
    with pytest.raises(Forbidden):  # not this writer's comment
        discussion.delete_comment(
            rt.db,
            rt.events,
            comment_id=kept.id,
            owned=frozenset(),
            window=WINDOW,
            now=datetime.now(UTC),
        )
    with pytest.raises(Forbidden):  # past the edit window
        discussion.delete_comment(
            rt.db,
            rt.events,
            comment_id=kept.id,
            owned=frozenset({kept.id}),
            window=WINDOW,
            now=datetime.now(UTC) + timedelta(hours=1),
        )

    assert {a.id: _state(rt, a.id) for a in (here, there, closed)} == before
    assert _status(rt, kept) is Status.PUBLISHED


def test_a_write_that_raises_midway_is_rolled_back_whole(runtime: Runtime) -> None:
    rt = runtime
    article = _article(rt, "rolled-back")
    before = _state(rt, article.id)
    with pytest.raises(RuntimeError), rt.db.write() as conn:
        comment_store.add_comment(
            conn,
            article_id=article.id,
            parent=None,
            number=1,
            name="Half",
            email="",
            website=None,
            body_markdown="Half written.",
            body_html="<p>Half written.</p>",
            status=Status.PUBLISHED,
            created_at=datetime.now(UTC),
        )
        article_store.touch_article(conn, article.id, +1, datetime.now(UTC))
        raise RuntimeError("the process dies here")
    assert _state(rt, article.id) == before
    with rt.db.read() as conn:
        half = select(func.count()).where(comments.c.body_markdown == "Half written.")
        assert conn.execute(half).scalar_one() == 0
        count = select(articles.c.comment_count).where(articles.c.id == article.id)
        assert conn.execute(count).scalar_one() == 0


def test_a_nul_in_a_lookup_finds_nothing_on_either_database(runtime: Runtime) -> None:
    """PostgreSQL refuses a NUL even as a query parameter; the store sends it as U+FFFD, so a
    lookup with one finds nothing there too, as on SQLite, instead of failing the request."""
    from rejoinder.store import sites as site_store

    with runtime.db.read() as conn:
        assert site_store.get_site(conn, "default\x00") is None
        assert site_store.get_site(conn, "\x00") is None
        assert site_store.get_site(conn, "default") is not None
        assert article_store.get_article(conn, runtime.default_site.id, "a\x00b") is None
