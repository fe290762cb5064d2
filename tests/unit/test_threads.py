"""Tests for building the displayed comment tree: nesting, order and the depth cap."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from rejoinder.core.models import PublicComment, Status, ThreadNode
from rejoinder.core.threads import build_tree, count_nodes

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def comment(
    id: int, parent: int | None = None, *, minute: int | None = None, author: str | None = None
) -> PublicComment:
    """A published comment; by default written `id` minutes after T0 and signed "u<id>"."""
    return PublicComment(
        id=id,
        article_id=1,
        parent_id=parent,
        depth=0,
        number=id,
        author_name=author or f"u{id}",
        author_website=None,
        body_html=f"<p>comment {id}</p>",
        status=Status.PUBLISHED,
        created_at=T0 + timedelta(minutes=id if minute is None else minute),
        edited_at=None,
        imported=False,
    )


def chain(length: int, start: int = 1) -> list[PublicComment]:
    """`start` is a top-level comment; each of the next `length` answers the one before."""
    return [comment(start)] + [comment(i, i - 1) for i in range(start + 1, start + length + 1)]


def walk(nodes: Sequence[ThreadNode]) -> Iterator[ThreadNode]:
    """Nodes in reading order (depth first, as the page shows them), without recursion."""
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def shape(nodes: Sequence[ThreadNode]) -> list[tuple[int, int, str | None]]:
    """(id, level, in_reply_to) for every shown comment in reading order."""
    return [(n.comment.id, n.level, n.in_reply_to) for n in walk(nodes)]


def test_replies_nest_under_their_roots() -> None:
    roots = [comment(1), comment(2)]
    replies = [comment(3, 1), comment(4, 2), comment(5, 3)]
    tree = build_tree(roots, replies, max_level=5)
    assert [n.comment.id for n in tree] == [1, 2]
    assert [c.comment.id for c in tree[0].children] == [3]
    assert [c.comment.id for c in tree[0].children[0].children] == [5]
    assert [c.comment.id for c in tree[1].children] == [4]
    assert shape(tree) == [(1, 0, None), (3, 1, None), (5, 2, None), (2, 0, None), (4, 1, None)]


def test_roots_keep_page_order_and_replies_read_oldest_first() -> None:
    # Roots arrive newest first (sort=newest); replies arrive in any order.
    roots = [comment(30), comment(20), comment(10)]
    replies = [comment(25, 10), comment(11, 10), comment(35, 30), comment(31, 30), comment(15, 10)]
    tree = build_tree(roots, replies, max_level=5)
    assert [n.comment.id for n in tree] == [30, 20, 10]
    assert [c.comment.id for c in tree[0].children] == [31, 35]
    assert tree[1].children == []
    assert [c.comment.id for c in tree[2].children] == [11, 15, 25]


def test_replies_are_ordered_by_time_not_by_id() -> None:
    roots = [comment(1)]
    replies = [comment(2, 1, minute=50), comment(3, 1, minute=40), comment(4, 1, minute=45)]
    tree = build_tree(roots, replies, max_level=5)
    assert [c.comment.id for c in tree[0].children] == [3, 4, 2]


def test_replies_written_in_the_same_instant_are_ordered_by_id() -> None:
    roots = [comment(1)]
    replies = [comment(9, 1, minute=5), comment(7, 1, minute=5), comment(8, 1, minute=5)]
    tree = build_tree(roots, replies, max_level=5)
    assert [c.comment.id for c in tree[0].children] == [7, 8, 9]


def test_chain_deeper_than_the_cap_continues_at_the_last_level_with_in_reply_to() -> None:
    rows = chain(10)  # 1 is top level; 2..11 are ten nested replies
    tree = build_tree(rows[:1], rows[1:], max_level=5)
    assert shape(tree) == [
        (1, 0, None),
        (2, 1, None),
        (3, 2, None),
        (4, 3, None),
        (5, 4, None),  # its parent is shown right above it, one level up
        (6, 4, "u5"),
        (7, 4, "u6"),
        (8, 4, "u7"),
        (9, 4, "u8"),
        (10, 4, "u9"),
        (11, 4, "u10"),
    ]
    assert max(n.level for n in walk(tree)) == 4
    # The flattened replies sit beside the first last-level reply, under the level-3 comment.
    level3 = tree[0].children[0].children[0].children[0]
    assert level3.comment.id == 4
    assert [c.comment.id for c in level3.children] == [5, 6, 7, 8, 9, 10, 11]
    assert all(c.children == [] for c in level3.children)


def test_in_reply_to_names_the_parents_author() -> None:
    rows = [
        comment(1, author="Ada"),
        comment(2, 1, author="Ben"),
        comment(3, 2, author="Cleo"),
        comment(4, 3, author="Dev"),
    ]
    tree = build_tree(rows[:1], rows[1:], max_level=2)
    assert shape(tree) == [(1, 0, None), (2, 1, None), (3, 1, "Ben"), (4, 1, "Cleo")]


def test_branches_below_the_cap_are_flattened_depth_first() -> None:
    # 1 > 2 > 3 > 4 > 5 (level 4); 5 has replies 6 and 8; 6 has reply 7; 8 has reply 9.
    rows = [*chain(4), comment(6, 5), comment(7, 6), comment(8, 5), comment(9, 8)]
    tree = build_tree(rows[:1], rows[1:], max_level=5)
    assert shape(tree) == [
        (1, 0, None),
        (2, 1, None),
        (3, 2, None),
        (4, 3, None),
        (5, 4, None),
        (6, 4, "u5"),
        (7, 4, "u6"),
        (8, 4, "u5"),
        (9, 4, "u8"),
    ]


def test_several_branches_each_keep_their_own_subtree() -> None:
    roots = [comment(1), comment(100)]
    replies = [
        comment(2, 1),
        comment(3, 1),
        comment(4, 2),
        comment(5, 3),
        comment(6, 4),
        comment(101, 100),
        comment(102, 101),
        comment(103, 100),
    ]
    tree = build_tree(roots, replies, max_level=3)
    assert shape(tree) == [
        (1, 0, None),
        (2, 1, None),
        (4, 2, None),
        (6, 2, "u4"),
        (3, 1, None),
        (5, 2, None),
        (100, 0, None),
        (101, 1, None),
        (102, 2, None),
        (103, 1, None),
    ]
    assert count_nodes(tree) == 10


def test_reply_whose_parent_is_missing_is_not_shown() -> None:
    roots = [comment(1)]
    replies = [comment(2, 1), comment(3, 999), comment(4, 3)]  # 999 is not in the rows
    tree = build_tree(roots, replies, max_level=5)
    assert shape(tree) == [(1, 0, None), (2, 1, None)]
    assert count_nodes(tree) == 2


def test_reply_to_a_root_on_another_page_is_not_shown() -> None:
    tree = build_tree([comment(1)], [comment(3, 2), comment(4, 1)], max_level=5)
    assert shape(tree) == [(1, 0, None), (4, 1, None)]


def test_count_nodes_counts_roots_and_every_reply() -> None:
    rows = chain(10)
    assert count_nodes([]) == 0
    assert count_nodes(build_tree([comment(50)], [], max_level=5)) == 1
    assert count_nodes(build_tree(rows[:1], rows[1:], max_level=5)) == 11
    assert count_nodes(build_tree(rows[:1], rows[1:], max_level=100)) == 11


def test_no_roots_gives_an_empty_tree() -> None:
    assert build_tree([], [comment(2, 1)], max_level=5) == []


def test_chain_of_five_thousand_replies_does_not_hit_the_recursion_limit() -> None:
    rows = chain(5000)
    capped = build_tree(rows[:1], list(reversed(rows[1:])), max_level=5)
    assert count_nodes(capped) == 5001
    levels = [n.level for n in walk(capped)]
    assert levels[:5] == [0, 1, 2, 3, 4]
    assert set(levels[5:]) == {4}
    assert [n.comment.id for n in walk(capped)] == list(range(1, 5002))

    uncapped = build_tree(rows[:1], rows[1:], max_level=10_000)
    assert count_nodes(uncapped) == 5001
    deepest = max(walk(uncapped), key=lambda n: n.level)
    assert (deepest.comment.id, deepest.level, deepest.in_reply_to) == (5001, 5000, None)


@pytest.mark.parametrize("max_level", [1, 0, -3])
def test_max_level_below_two_is_refused(max_level: int) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        build_tree([comment(1)], [], max_level=max_level)


def test_max_level_two_is_the_smallest_allowed() -> None:
    rows = chain(3)
    tree = build_tree(rows[:1], rows[1:], max_level=2)
    assert shape(tree) == [(1, 0, None), (2, 1, None), (3, 1, "u2"), (4, 1, "u3")]
