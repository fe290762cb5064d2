"""What a reader yields: threads with their comments, warnings, and the fatal error."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

BodyFormat = Literal["html", "markdown"]


class SourceStatus(enum.StrEnum):
    """A comment's state in the file, in words common to every format."""

    APPROVED = "approved"  # -> published
    PENDING = "pending"  # -> held for a moderator
    REJECTED = "rejected"  # a moderator said no -> rejected (kept, never shown)
    SPAM = "spam"  # -> skipped
    TRASH = "trash"  # -> skipped
    DELETED = "deleted"  # -> "[deleted]" when replies hang under it, else skipped


class Kind(enum.StrEnum):
    COMMENT = "comment"
    PINGBACK = "pingback"
    TRACKBACK = "trackback"


@dataclass(frozen=True, slots=True)
class Problem:
    """A warning about part of a file: what was wrong and where (line, element)."""

    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class ImportFileError(Exception):
    """The file cannot be read on from here: bad XML or JSON, a forbidden entity, a bad
    encoding, a truncated file. Threads yielded before it are whole."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.message = message
        self.line = line


@dataclass(frozen=True, slots=True)
class SourceComment:
    source_id: str
    parent_id: str | None
    name: str
    email: str
    website: str | None
    created_at: datetime | None  # UTC; None when the file gives no readable date
    status: SourceStatus
    body: str
    body_format: BodyFormat
    kind: Kind = Kind.COMMENT
    line: int | None = None


@dataclass(frozen=True, slots=True)
class SourceThread:
    """A page's discussion as the file names it: by page id, URL, or both."""

    page_id: str | None
    url: str | None
    title: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class ThreadBatch:
    thread: SourceThread
    comments: tuple[SourceComment, ...]
    problems: tuple[Problem, ...] = field(default=())
