"""Deleted and moderator-removed comments hold their place only while replies hang under them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rejoinder.core.models import PublicComment, Status
from rejoinder.core.threads import build_tree

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def comment(
    cid: int, parent: int | None, status: Status = Status.PUBLISHED, depth: int = 0
) -> PublicComment:
    return PublicComment(
        id=cid,
        article_id=1,
        parent_id=parent,
        depth=depth,
        number=cid,
        author_name=f"N{cid}",
        author_website=None,
        body_html=f"<p>{cid}</p>",
        status=status,
        created_at=T0 + timedelta(minutes=cid),
        edited_at=None,
        imported=False,
    )


def test_removed_comment_with_a_reply_stays_as_a_placeholder() -> None:
    roots = [comment(1, None, Status.REJECTED), comment(2, None)]
    nodes = build_tree(roots, [comment(3, 1, depth=1)], max_level=5)
    assert [n.comment.id for n in nodes] == [1, 2]
    assert nodes[0].comment.placeholder == "[removed by a moderator]"
    assert [c.comment.id for c in nodes[0].children] == [3]


def test_placeholders_without_replies_are_dropped_bottom_up() -> None:
    roots = [comment(1, None, Status.DELETED), comment(2, None, Status.REJECTED), comment(5, None)]
    replies = [comment(3, 1, Status.REJECTED, depth=1), comment(4, 3, Status.DELETED, depth=2)]
    nodes = build_tree(roots, replies, max_level=5)
    assert [n.comment.id for n in nodes] == [5]


def test_placeholder_at_the_last_level_keeps_its_flattened_replies_company() -> None:
    chain = [comment(1, None)]
    chain += [comment(i, i - 1, depth=i - 1) for i in range(2, 4)]
    chain.append(comment(4, 3, Status.DELETED, depth=3))
    chain.append(comment(5, 4, depth=4))
    nodes = build_tree(chain[:1], chain[1:], max_level=3)
    flat = nodes[0].children[0].children  # the last level: 3, then 4 and 5 flattened
    assert [n.comment.id for n in flat] == [3, 4, 5]
    assert flat[2].in_reply_to == "[deleted]"
