"""WordPress's export (WXR: RSS 2.0 with the `wp:` namespace of export 1.0, 1.1 or 1.2),
read item by item: each post or page with comments is one thread, keyed by its link.

A comment's fields are `wp:comment_*`; its date is `comment_date_gmt`, or `comment_date`
(the blog's local time, read as UTC, with a warning) when WordPress wrote zeros there.
`comment_approved` is 1, 0, spam, trash or post-trashed; `comment_type` empty or
`comment`, `pingback`, `trackback` (other types are read as comments). The body is HTML as
WordPress stores it (paragraphs from blank lines).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from rejoinder.core.imports import xmlstream
from rejoinder.core.imports.records import (
    ImportFileError,
    Kind,
    Problem,
    SourceComment,
    SourceStatus,
    SourceThread,
    ThreadBatch,
)

WP_PREFIX = "{http://wordpress.org/export/"
_APPROVED = {
    "1": SourceStatus.APPROVED,
    "approve": SourceStatus.APPROVED,
    "0": SourceStatus.PENDING,
    "hold": SourceStatus.PENDING,
    "spam": SourceStatus.SPAM,
    "trash": SourceStatus.TRASH,
    "post-trashed": SourceStatus.TRASH,
}
_KINDS = {"": Kind.COMMENT, "comment": Kind.COMMENT, "pingback": Kind.PINGBACK}
_KINDS["trackback"] = Kind.TRACKBACK
_COMMENT_FIELDS = {
    "comment_id",
    "comment_author",
    "comment_author_email",
    "comment_author_url",
    "comment_author_IP",
    "comment_date",
    "comment_date_gmt",
    "comment_content",
    "comment_approved",
    "comment_type",
    "comment_parent",
    "comment_user_id",
    "commentmeta",
    "meta_key",
    "meta_value",
}


def _local(tag: str) -> tuple[bool, str]:
    """Whether the tag is in a WXR namespace, and its local name."""
    if tag.startswith(WP_PREFIX):
        return True, tag.split("}", 1)[1]
    return False, tag.rsplit("}", 1)[-1]


def parse_date(value: str) -> datetime | None:
    value = value.strip()
    if not value or value.startswith("0000-00-00"):
        return None
    try:
        return datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


class _Reader:
    def __init__(self) -> None:
        self.ready: list[ThreadBatch | Problem] = []
        self.depth = 0
        self.item_depth: int | None = None
        self.item: dict[str, str] = {}
        self.item_line = 0
        self.comments: list[SourceComment] = []
        self.problems: list[Problem] = []
        self.comment: dict[str, str] | None = None
        self.comment_line = 0
        self.seen_root = False
        self.warned: set[str] = set()

    def start(self, tag: str, attrs: dict[str, str], line: int) -> None:
        self.depth += 1
        if not self.seen_root:
            self.seen_root = True
            if tag != "rss":
                raise ImportFileError(f"this is not a WordPress export: it starts with <{tag}>")
        is_wp, name = _local(tag)
        if name == "item" and not is_wp and self.item_depth is None:
            self.item_depth = self.depth
            self.item, self.comments, self.problems = {}, [], []
            self.item_line = line
        elif is_wp and name == "comment" and self.item_depth is not None:
            self.comment = {}
            self.comment_line = line
        elif (
            self.comment is not None
            and (not is_wp or name not in _COMMENT_FIELDS)
            and name not in self.warned
        ):
            self.warned.add(name)
            self.problems.append(Problem(f"unknown element <{tag}> in a wp:comment, ignored", line))

    def end(self, tag: str, text: str) -> None:
        self.depth -= 1
        is_wp, name = _local(tag)
        if self.comment is not None:
            if is_wp and name == "comment":
                self._close_comment()
            elif is_wp and name in _COMMENT_FIELDS and self.depth == self.item_depth_plus(1):
                self.comment[name] = text
        elif self.item_depth is not None:
            if self.depth == self.item_depth - 1 and name == "item":
                self._close_item()
            elif self.depth == self.item_depth:
                self.item[f"wp:{name}" if is_wp else name] = text

    def item_depth_plus(self, levels: int) -> int:
        assert self.item_depth is not None
        return self.item_depth + levels

    def _close_comment(self) -> None:
        fields, self.comment = self.comment or {}, None
        line = self.comment_line
        source_id = fields.get("comment_id", "").strip()
        if not source_id:
            self.problems.append(Problem("a wp:comment without wp:comment_id, skipped", line))
            return
        approved = fields.get("comment_approved", "1").strip()
        status = _APPROVED.get(approved)
        if status is None:
            self.problems.append(
                Problem(
                    f"comment {source_id!r}: unknown wp:comment_approved {approved!r},"
                    " held for a moderator",
                    line,
                )
            )
            status = SourceStatus.PENDING
        kind = _KINDS.get(fields.get("comment_type", "").strip(), Kind.COMMENT)
        created = parse_date(fields.get("comment_date_gmt", ""))
        if created is None:
            created = parse_date(fields.get("comment_date", ""))
            if created is not None:
                self.problems.append(
                    Problem(
                        f"comment {source_id!r} has no wp:comment_date_gmt; its local"
                        " wp:comment_date is read as UTC",
                        line,
                    )
                )
        parent = fields.get("comment_parent", "").strip()
        self.comments.append(
            SourceComment(
                source_id=source_id,
                parent_id=parent if parent and parent != "0" else None,
                name=fields.get("comment_author", "").strip(),
                email=fields.get("comment_author_email", "").strip(),
                website=fields.get("comment_author_url", "").strip() or None,
                created_at=created,
                status=status,
                body=fields.get("comment_content", ""),
                body_format="html",
                kind=kind,
                line=line,
            )
        )

    def _close_item(self) -> None:
        self.item_depth = None
        if not self.comments:
            self.ready.extend(self.problems)
            return
        link = self.item.get("link", "").strip()
        guid = self.item.get("guid", "").strip()
        url = link or (guid if guid.startswith(("http://", "https://")) else "")
        self.ready.append(
            ThreadBatch(
                thread=SourceThread(
                    page_id=None,
                    url=url or None,
                    title=self.item.get("title", "").strip(),
                    line=self.item_line,
                ),
                comments=tuple(self.comments),
                problems=tuple(self.problems),
            )
        )


def read_wordpress(chunks: Iterable[bytes]) -> Iterator[ThreadBatch | Problem]:
    """The threads of a WXR file, one item at a time."""
    reader = _Reader()
    for _ in xmlstream.feed(chunks, reader):
        yield from reader.ready
        reader.ready.clear()
    if not reader.seen_root:
        raise ImportFileError("the file is empty")
