"""Disqus's XML export, read in two passes: Disqus writes every <thread> first and the
<post>s after, in no particular order (a reply may come before its parent, and a thread's
posts may be spread through the file).

The first pass keeps only each thread's key (identifier, link, title) and how many posts
name it; the second reads the posts, holding a thread's posts until its last one has come,
and yields the thread then. Memory is per-thread metadata plus the posts of threads not yet
complete.

A post is spam when <isSpam> is true, deleted when <isDeleted> is true, held when
<isApproved> is false (where the export has it), else approved. Its <message> is HTML.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from rejoinder.core.imports import xmlstream
from rejoinder.core.imports.records import (
    ImportFileError,
    Problem,
    SourceComment,
    SourceStatus,
    SourceThread,
    ThreadBatch,
)

DSQ_ID = "{http://disqus.com/disqus-internals}id"
_TOP = {"category", "thread", "post"}
_POST_FIELDS = {
    "id",
    "message",
    "createdAt",
    "isDeleted",
    "isSpam",
    "isApproved",
    "isFlagged",
    "isHighlighted",
    "isClosed",
    "author",
    "ipAddress",
    "thread",
    "parent",
    "forum",
    "likes",
    "dislikes",
    "points",
}


def _name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_date(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


@dataclass(slots=True)
class _Element:
    """The open top-level element: its name, dsq:id, line, and the fields read so far."""

    name: str
    dsq_id: str
    line: int
    fields: dict[str, str]


class _Reader:
    def __init__(self, *, posts: bool) -> None:
        self.posts = posts  # the second pass: read posts; the first: threads and counts
        self.depth = 0
        self.seen_root = False
        self.open: _Element | None = None
        self.threads: dict[str, SourceThread] = {}
        self.counts: Counter[str] = Counter()
        self.ready: list[SourceComment | Problem] = []
        self.thread_of: dict[str, str] = {}  # post id -> thread dsq:id, for the open post
        self.warned: set[str] = set()

    def _warn(self, key: str, message: str, line: int) -> None:
        if key not in self.warned and self.posts:
            self.warned.add(key)
            self.ready.append(Problem(message, line))

    def start(self, tag: str, attrs: dict[str, str], line: int) -> None:
        self.depth += 1
        name = _name(tag)
        if not self.seen_root:
            self.seen_root = True
            if name != "disqus":
                raise ImportFileError(f"this is not a Disqus export: it starts with <{tag}>")
            return
        if self.depth == 2:
            if name not in _TOP:
                self._warn(f"top:{name}", f"unknown element <{name}>, ignored", line)
            self.open = _Element(name, attrs.get(DSQ_ID, ""), line, {})
        elif self.open is not None and self.depth == 3:
            if self.open.name == "post" and name not in _POST_FIELDS:
                self._warn(f"post:{name}", f"unknown element <{name}> in a <post>, ignored", line)
            if name in ("thread", "parent"):
                self.open.fields[name] = attrs.get(DSQ_ID, "")

    def end(self, tag: str, text: str) -> None:
        self.depth -= 1
        name = _name(tag)
        element = self.open
        if element is None:
            return
        if self.depth == 1:
            self.open = None
            if element.name == "thread":
                self._thread(element)
            elif element.name == "post":
                self._post(element)
        elif self.depth == 2 and name not in ("thread", "parent", "author"):
            element.fields[name] = text
        elif self.depth == 3 and element.name == "post":
            element.fields[f"author.{name}"] = text

    def _thread(self, element: _Element) -> None:
        if self.posts or not element.dsq_id:
            return
        fields = element.fields
        self.threads[element.dsq_id] = SourceThread(
            page_id=fields.get("id", "").strip() or None,
            url=fields.get("link", "").strip() or None,
            title=fields.get("title", "").strip(),
            line=element.line,
        )

    def _post(self, element: _Element) -> None:
        fields = element.fields
        thread = fields.get("thread", "")
        if not self.posts:
            self.counts[thread] += 1
            return
        status = SourceStatus.APPROVED
        if _true(fields.get("isSpam")):
            status = SourceStatus.SPAM
        elif _true(fields.get("isDeleted")):
            status = SourceStatus.DELETED
        elif fields.get("isApproved", "").strip().lower() == "false":
            status = SourceStatus.PENDING
        name = fields.get("author.name", "").strip() or fields.get("author.username", "")
        self.thread_of[element.dsq_id] = thread
        self.ready.append(
            SourceComment(
                source_id=element.dsq_id,
                parent_id=fields.get("parent") or None,
                name=name.strip(),
                email=fields.get("author.email", "").strip(),
                website=None,
                created_at=parse_date(fields.get("createdAt", "")),
                status=status,
                body=fields.get("message", ""),
                body_format="html",
                line=element.line,
            )
        )


def read_disqus(open_chunks: Callable[[], Iterable[bytes]]) -> Iterator[ThreadBatch | Problem]:
    """The threads of a Disqus export, each yielded once its last post has been read.
    `open_chunks` gives the file's bytes from the start, once per pass. A file that cannot
    be read to its end is refused before anything is yielded: which posts a thread has is
    known only then."""
    first = _Reader(posts=False)
    for _ in xmlstream.feed(open_chunks(), first):
        pass
    if not first.seen_root:
        raise ImportFileError("the file is empty")
    counts = first.counts
    threads = first.threads
    pending: dict[str, list[SourceComment]] = {}
    second = _Reader(posts=True)
    for _ in xmlstream.feed(open_chunks(), second):
        for item in second.ready:
            if isinstance(item, Problem):
                yield item
                continue
            thread_id = second.thread_of.pop(item.source_id, "")
            if not item.source_id:
                yield Problem("a <post> without dsq:id, skipped", item.line)
                counts[thread_id] -= 1
            else:
                pending.setdefault(thread_id, []).append(item)
            if len(pending.get(thread_id, ())) >= counts[thread_id]:
                posts = pending.pop(thread_id, [])
                if not posts:
                    continue
                thread = threads.get(thread_id)
                if thread is None:
                    yield Problem(
                        f"{len(posts)} post(s) name the thread {thread_id!r}, which the file"
                        " does not have; skipped",
                        posts[0].line,
                    )
                    continue
                yield ThreadBatch(thread, tuple(posts))
        second.ready.clear()
