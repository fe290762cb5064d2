"""One thread of a file as it will be stored: which comments are kept, under which parent,
with which status, in which order; and why the others are skipped.

The rules (docs/IMPORT.md says them to operators):
- approved -> published, pending -> held, rejected -> rejected; spam and trash are skipped
  (nothing of a spammer's is kept, their email least of all).
- pingbacks and trackbacks are skipped unless asked for.
- deleted -> "[deleted]" when a kept comment replies to it, else skipped.
- a reply whose parent is not in the file is kept at top level, with a warning; a reply
  whose parent is skipped hangs under the nearest kept ancestor (top level if none).
- a published reply under a held or rejected comment is held: it waits with its parent.
- comments are stored in the order of their dates (file order breaks ties), each after its
  parent, so numbering follows the original order.
- a comment without a readable date, or whose id came before in the thread, is skipped with
  a warning.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rejoinder.core.imports.records import Kind, Problem, SourceComment, SourceStatus, ThreadBatch
from rejoinder.core.models import Status

SOURCE_ID_MAX = 200  # the column's length
_STATUS = {
    SourceStatus.APPROVED: Status.PUBLISHED,
    SourceStatus.PENDING: Status.HELD,
    SourceStatus.REJECTED: Status.REJECTED,
    SourceStatus.DELETED: Status.DELETED,
}


@dataclass(frozen=True, slots=True)
class PlannedComment:
    source: SourceComment
    parent_id: str | None  # the source id of the kept comment it hangs under
    status: Status


@dataclass(slots=True)
class ThreadPlan:
    comments: list[PlannedComment] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: list[Problem] = field(default_factory=list)


def _where(comment: SourceComment) -> str:
    """The comment, by its id (its line goes with the Problem, which says it first)."""
    return f"comment {comment.source_id!r}"


def plan_thread(batch: ThreadBatch, *, with_pingbacks: bool = False) -> ThreadPlan:
    plan = ThreadPlan(warnings=list(batch.problems))
    by_id: dict[str, SourceComment] = {}
    position: dict[str, int] = {}
    kept: set[str] = set()
    for index, comment in enumerate(batch.comments):
        if not comment.source_id or len(comment.source_id) > SOURCE_ID_MAX:
            plan.skipped["bad id"] += 1
            plan.warnings.append(
                Problem(
                    f"a comment's id is empty or longer than {SOURCE_ID_MAX} characters; skipped",
                    comment.line,
                )
            )
            continue
        if comment.source_id in by_id:
            plan.skipped["duplicate id"] += 1
            plan.warnings.append(Problem(f"{_where(comment)} repeats an id; skipped", comment.line))
            continue
        by_id[comment.source_id] = comment
        position[comment.source_id] = index
        if comment.kind is not Kind.COMMENT and not with_pingbacks:
            plan.skipped[comment.kind.value] += 1
        elif comment.status in (SourceStatus.SPAM, SourceStatus.TRASH):
            plan.skipped[comment.status.value] += 1
        elif comment.created_at is None:
            plan.skipped["no date"] += 1
            plan.warnings.append(
                Problem(f"{_where(comment)} has no readable date; skipped", comment.line)
            )
        else:
            kept.add(comment.source_id)

    parents: dict[str, str | None] = {}
    for source_id in kept:
        comment = by_id[source_id]
        parents[source_id] = _kept_ancestor(comment, by_id, kept, plan)

    _break_loops(parents, by_id, position, plan)
    children: Counter[str | None] = Counter(parents.values())
    order = _parents_first(kept, parents, by_id, position)
    for source_id in reversed(order):  # children before parents
        if by_id[source_id].status is SourceStatus.DELETED and not children[source_id]:
            kept.discard(source_id)
            children[parents[source_id]] -= 1
            plan.skipped["deleted"] += 1

    status_of: dict[str, Status] = {}
    for source_id in order:
        if source_id not in kept:
            continue
        comment = by_id[source_id]
        status = _STATUS[comment.status]
        parent = parents[source_id]
        if (
            status is Status.PUBLISHED
            and parent is not None
            and status_of[parent] in (Status.HELD, Status.REJECTED)
        ):
            status = Status.HELD
        status_of[source_id] = status
        plan.comments.append(PlannedComment(comment, parent, status))
    return plan


def _kept_ancestor(
    comment: SourceComment, by_id: dict[str, SourceComment], kept: set[str], plan: ThreadPlan
) -> str | None:
    seen = {comment.source_id}
    parent_id = comment.parent_id
    while parent_id is not None:
        if parent_id not in by_id:
            plan.warnings.append(
                Problem(
                    f"{_where(comment)} replies to {parent_id!r}, which is not in this thread;"
                    " imported at top level",
                    comment.line,
                )
            )
            return None
        if parent_id in seen:
            plan.warnings.append(
                Problem(
                    f"{_where(comment)} is in a loop of replies; imported at top level",
                    comment.line,
                )
            )
            return None
        if parent_id in kept:
            return parent_id
        seen.add(parent_id)
        parent_id = by_id[parent_id].parent_id
    return None


def _break_loops(
    parents: dict[str, str | None],
    by_id: dict[str, SourceComment],
    position: dict[str, int],
    plan: ThreadPlan,
) -> None:
    """Replies that answer each other in a ring: the first of the ring in the file goes to
    top level, so every comment has a way up."""
    done: set[str] = set()
    for start in sorted(parents, key=position.__getitem__):
        path: list[str] = []
        on_path: set[str] = set()
        current: str | None = start
        while current is not None and current not in done:
            if current in on_path:
                ring = path[path.index(current) :]
                first = min(ring, key=position.__getitem__)
                parents[first] = None
                plan.warnings.append(
                    Problem(
                        f"{_where(by_id[first])} is in a loop of replies; imported at top level",
                        by_id[first].line,
                    )
                )
                break
            path.append(current)
            on_path.add(current)
            current = parents[current]
        done.update(path)


_EARLIEST = datetime.min.replace(tzinfo=UTC)


def _parents_first(
    kept: set[str],
    parents: dict[str, str | None],
    by_id: dict[str, SourceComment],
    position: dict[str, int],
) -> list[str]:
    """By date then file order, each comment after its parent: a reply dated before its
    parent (clocks differ) waits for it, so every other comment keeps its place."""
    ranked = sorted(kept, key=lambda i: (by_id[i].created_at or _EARLIEST, position[i]))
    order: list[str] = []
    done: set[str] = set()
    waiting: dict[str, list[str]] = {}
    for source_id in ranked:
        parent = parents[source_id]
        if parent is not None and parent not in done:
            waiting.setdefault(parent, []).append(source_id)
            continue
        ready = [source_id]
        while ready:
            current = ready.pop(0)
            done.add(current)
            order.append(current)
            ready[:0] = waiting.pop(current, [])
    return order


def rewrite_url(url: str | None, rewrites: tuple[tuple[str, str], ...]) -> str | None:
    """The URL with the first matching old prefix replaced by its new one (a moved site)."""
    if url is None:
        return None
    for old, new in rewrites:
        if url.startswith(old):
            return new + url[len(old) :]
    return url
