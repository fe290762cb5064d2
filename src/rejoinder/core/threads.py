"""Build the displayed tree from flat rows: nesting, the depth cap, "in reply to"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rejoinder.core.models import PublicComment, ThreadNode


def build_tree(
    roots: Sequence[PublicComment],
    replies: Iterable[PublicComment],
    *,
    max_level: int,
) -> list[ThreadNode]:
    """Nest `replies` under `roots` (the roots arrive already in page order).

    Replies read oldest first under their parent whatever the order of the roots, so each
    conversation reads in order. Stored depth is unlimited; levels shown are capped at
    `max_level`: a reply whose parent is already at the last level is shown at that level too,
    right after its parent, with `in_reply_to` naming whom it answers. A reply whose parent is
    missing from the rows is not shown, rather than shown out of place.
    """
    if max_level < 2:
        raise ValueError("max_level must be at least 2")
    children: dict[int, list[PublicComment]] = {}
    for reply in sorted(replies, key=lambda c: (c.created_at, c.id)):
        if reply.parent_id is not None:
            children.setdefault(reply.parent_id, []).append(reply)
    last = max_level - 1
    nodes = [ThreadNode(comment=root, level=0) for root in roots]
    _nest(nodes, children, last)
    return _prune(nodes, children)


def _name(comment: PublicComment) -> str:
    return comment.placeholder if comment.is_deleted else comment.author_name


def _prune(nodes: list[ThreadNode], children: dict[int, list[PublicComment]]) -> list[ThreadNode]:
    """Drop placeholders (deleted, removed) that no reply hangs under, bottom up. At the last
    level replies follow as siblings, so there a placeholder with any reply stays."""

    def dropped(node: ThreadNode) -> bool:
        answered = node.children or (node.in_reply_to is not None and children.get(node.comment.id))
        return node.comment.is_deleted and not answered

    order: list[ThreadNode] = []  # parents before children; walked backwards below
    stack = list(nodes)
    while stack:  # iterative, like the nesting: depth is not bounded in every caller
        node = stack.pop()
        order.append(node)
        stack.extend(node.children)
    for node in reversed(order):
        if node.children:
            node.children = [child for child in node.children if not dropped(child)]
    return [node for node in nodes if not dropped(node)]


def _nest(nodes: list[ThreadNode], children: dict[int, list[PublicComment]], last: int) -> None:
    stack = list(nodes)
    while stack:  # iterative: a long chain of replies must not hit the recursion limit
        node = stack.pop()
        for child in children.get(node.comment.id, ()):
            child_node = ThreadNode(comment=child, level=node.level + 1)
            node.children.append(child_node)
            if child_node.level < last:
                stack.append(child_node)
            else:
                node.children.extend(_flatten_below(child, children, last))


def _flatten_below(
    top: PublicComment, children: dict[int, list[PublicComment]], level: int
) -> list[ThreadNode]:
    """All replies under `top`, in reading order, each at `level` with whom it answers."""
    flat: list[ThreadNode] = []
    stack = [(reply, _name(top)) for reply in reversed(children.get(top.id, ()))]
    while stack:
        reply, parent_name = stack.pop()
        flat.append(ThreadNode(comment=reply, level=level, in_reply_to=parent_name))
        stack.extend((child, _name(reply)) for child in reversed(children.get(reply.id, ())))
    return flat


def count_nodes(nodes: Iterable[ThreadNode]) -> int:
    """How many comments a displayed tree holds, replies included."""
    total = 0
    stack = list(nodes)
    while stack:
        node = stack.pop()
        total += 1
        stack.extend(node.children)
    return total
