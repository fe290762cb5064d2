"""The rules that turn one thread of an export into what is stored (core/imports/plan.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rejoinder.core.imports.plan import plan_thread, rewrite_url
from rejoinder.core.imports.records import (
    Kind,
    SourceComment,
    SourceStatus,
    SourceThread,
    ThreadBatch,
)
from rejoinder.core.models import Status

START = datetime(2020, 1, 1, tzinfo=UTC)


def comment(
    source_id: str,
    minute: int,
    parent: str | None = None,
    status: SourceStatus = SourceStatus.APPROVED,
    kind: Kind = Kind.COMMENT,
) -> SourceComment:
    return SourceComment(
        source_id=source_id,
        parent_id=parent,
        name=source_id,
        email="",
        website=None,
        created_at=START + timedelta(minutes=minute),
        status=status,
        body="text",
        body_format="markdown",
        kind=kind,
        line=minute + 1,
    )


def plan(*comments: SourceComment, pingbacks: bool = False) -> list[tuple[str, str | None, Status]]:
    batch = ThreadBatch(SourceThread(page_id="p", url=None, title="T"), comments)
    result = plan_thread(batch, with_pingbacks=pingbacks)
    return [(c.source.source_id, c.parent_id, c.status) for c in result.comments]


def test_children_come_after_their_parents_even_when_dated_before() -> None:
    assert plan(comment("b", 1, parent="a"), comment("a", 5), comment("c", 3)) == [
        ("c", None, Status.PUBLISHED),
        ("a", None, Status.PUBLISHED),
        ("b", "a", Status.PUBLISHED),
    ]


def test_a_chain_of_deleted_comments_without_replies_goes_entirely() -> None:
    deleted = SourceStatus.DELETED
    result = plan(
        comment("a", 0, status=deleted),
        comment("b", 1, parent="a", status=deleted),
        comment("c", 2),
    )
    assert result == [("c", None, Status.PUBLISHED)]


def test_a_reply_to_spam_hangs_under_the_nearest_kept_ancestor() -> None:
    result = plan(
        comment("a", 0),
        comment("s", 1, parent="a", status=SourceStatus.SPAM),
        comment("r", 2, parent="s"),
        comment("p", 3, kind=Kind.PINGBACK),
    )
    assert result == [("a", None, Status.PUBLISHED), ("r", "a", Status.PUBLISHED)]


def test_a_published_reply_under_a_pending_comment_waits_with_it() -> None:
    result = plan(comment("a", 0, status=SourceStatus.PENDING), comment("b", 1, parent="a"))
    assert result == [("a", None, Status.HELD), ("b", "a", Status.HELD)]


def test_loops_and_repeated_ids_are_broken_with_warnings() -> None:
    batch = ThreadBatch(
        SourceThread(page_id="p", url=None, title="T"),
        (comment("a", 0, parent="b"), comment("b", 1, parent="a"), comment("a", 2)),
    )
    result = plan_thread(batch)
    assert result.skipped["duplicate id"] == 1
    assert any("loop" in str(w) for w in result.warnings)
    assert {c.source.source_id for c in result.comments} == {"a", "b"}
    assert any(c.parent_id is None for c in result.comments)


def test_pingbacks_are_kept_when_asked() -> None:
    assert plan(comment("p", 0, kind=Kind.PINGBACK), pingbacks=True) == [
        ("p", None, Status.PUBLISHED)
    ]


def test_url_rewrites_take_the_first_matching_prefix() -> None:
    rules = (("http://old.example/", "https://new.example/"), ("http://", "https://"))
    assert rewrite_url("http://old.example/a?b", rules) == "https://new.example/a?b"
    assert rewrite_url("http://other.example/", rules) == "https://other.example/"
    assert rewrite_url("ftp://x/", rules) == "ftp://x/"
