"""remark42's backup (what its `backup` command and the admin's export write), plain or
gzip: JSON, one value per line. The first line is the site's meta, `{"version": 1, "users":
[...], "posts": [...]}` (version 0 is the older spelling of the same); each further line is
one comment, written page by page, so consecutive comments with the same `locator.url` are
one thread.

A comment: `id`, `pid` (the parent's id; empty at top level), `text` (HTML, as remark42
rendered it), `user` (`name`, `id`, `block`...), `locator` (`site`, `url`), `time` (RFC
3339), `title` (the page's), `delete` (deleted). remark42 has no queue of held comments: a
comment is shown unless deleted; a blocked user's comments are hidden, so they come in
rejected. Emails are not in the comments: the meta's `users[].details.email` gives them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from rejoinder.core.imports.generic import gunzipped, json_lines
from rejoinder.core.imports.records import (
    ImportFileError,
    SourceComment,
    SourceStatus,
    SourceThread,
    ThreadBatch,
)

VERSIONS = (0, 1)


def _string(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{where}: {key!r} must be a string")
    return value


def _date(value: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{where}: 'time' {value!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"{where}: 'time' {value!r} has no offset")
    return moment.astimezone(UTC)


def _emails(meta: dict[str, Any]) -> dict[str, str]:
    """User id -> email, from the meta's users that have one."""
    found: dict[str, str] = {}
    users = meta.get("users") or []
    if not isinstance(users, list):
        raise ValueError("the meta's 'users' must be a list")
    for user in users:
        if not isinstance(user, dict):
            continue
        details = user.get("details")
        email = details.get("email") if isinstance(details, dict) else None
        if isinstance(user.get("id"), str) and isinstance(email, str) and email:
            found[user["id"]] = email
    return found


def _comment(data: Any, line: int, emails: dict[str, str]) -> tuple[str, str, SourceComment]:
    """The comment of a line, with its page's URL and title."""
    if not isinstance(data, dict):
        raise ValueError("a comment line must be an object")
    source_id = _string(data, "id", "comment")
    where = f"comment {source_id!r}" if source_id else "comment"
    if not source_id:
        raise ValueError("comment: 'id' is required")
    user = data.get("user") or {}
    locator = data.get("locator") or {}
    if not isinstance(user, dict) or not isinstance(locator, dict):
        raise ValueError(f"{where}: 'user' and 'locator' must be objects")
    url = _string(locator, "url", f"{where}.locator")
    if not url:
        raise ValueError(f"{where}: 'locator.url' is required")
    status = SourceStatus.APPROVED
    if data.get("delete") is True:
        status = SourceStatus.DELETED
    elif user.get("block") is True:
        status = SourceStatus.REJECTED
    user_id = _string(user, "id", f"{where}.user")
    comment = SourceComment(
        source_id=source_id,
        parent_id=_string(data, "pid", where) or None,
        name=_string(user, "name", f"{where}.user"),
        email=emails.get(user_id, ""),
        website=None,
        created_at=_date(_string(data, "time", where), where),
        status=status,
        body=_string(data, "text", where),
        body_format="html",
        line=line,
    )
    return url, _string(data, "title", where), comment


def read_remark42(chunks: Iterable[bytes]) -> Iterator[ThreadBatch]:
    """The threads of a remark42 backup, one page at a time."""
    emails: dict[str, str] | None = None
    url: str | None = None
    title = ""
    first_line = 0
    comments: list[SourceComment] = []

    def batch() -> ThreadBatch:
        return ThreadBatch(SourceThread(None, url, title, first_line), tuple(comments))

    for number, data in json_lines(gunzipped(chunks)):
        try:
            if emails is None:
                if not isinstance(data, dict) or "version" not in data:
                    raise ValueError(
                        "this is not a remark42 backup: its first line must be the meta,"
                        ' {"version": 1, "users": [...], "posts": [...]}'
                    )
                if data.get("version") not in VERSIONS:
                    raise ValueError(
                        f"version {data.get('version')!r} of remark42's backup is not known"
                        " here (this Rejoinder reads 0 and 1)"
                    )
                emails = _emails(data)
                continue
            page, page_title, comment = _comment(data, number, emails)
        except ValueError as error:
            raise ImportFileError(str(error), number) from None
        if page != url:
            if comments:
                yield batch()
            url, title, first_line, comments = page, page_title, number, []
        title = title or page_title
        comments.append(comment)
    if emails is None:
        raise ImportFileError("the file is empty")
    if comments:
        yield batch()
