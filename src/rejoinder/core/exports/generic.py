"""Rejoinder's own import format ("rejoinder-import", version 1: docs/IMPORT.md) written
out: the header line, then one line per discussion. Importing the file into an empty
database and exporting again gives the same file: every field the format has is written
as an import reads it back (an HTML body, as an import of HTML stores it, goes as `html`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from rejoinder.core.exports.threads import ExportedComment, ExportedThread
from rejoinder.core.imports.generic import FORMAT, VERSION
from rejoinder.core.models import Status

_STATUS = {
    Status.PUBLISHED: "approved",
    Status.HELD: "pending",
    Status.REJECTED: "rejected",
    Status.DELETED: "deleted",
}


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _line(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def header() -> str:
    return _line({"format": FORMAT, "version": VERSION})


def _comment(item: ExportedComment, with_emails: bool) -> dict[str, Any]:
    comment = item.comment
    out: dict[str, Any] = {
        "id": item.id,
        "parent": item.parent,
        "created_at": _time(comment.created_at),
        "status": _STATUS[comment.status],
    }
    if comment.status is Status.DELETED:
        return out  # a place holder: nothing of its writer is kept
    author: dict[str, Any] = {"name": comment.author_name}
    if with_emails and comment.author_email:
        author["email"] = comment.author_email
    if comment.author_website:
        author["website"] = comment.author_website
    out["author"] = author
    if comment.body_markdown == comment.body_html and comment.body_html:
        out["body"], out["body_format"] = comment.body_html, "html"
    else:
        out["body"], out["body_format"] = comment.body_markdown, "markdown"
    return out


def thread_line(thread: ExportedThread, *, with_emails: bool) -> str:
    head: dict[str, Any] = {}
    if thread.page_id is not None:
        head["page_id"] = thread.page_id
    if thread.url is not None:
        head["url"] = thread.url
    head["title"] = thread.title
    return _line({"thread": head, "comments": [_comment(c, with_emails) for c in thread.comments]})
