"""`rejoinder export`: a site's discussions with their comments, as Rejoinder's own import
format (JSON Lines, versioned; an export imported into an empty database exports the same
again) or as WordPress's WXR. Text comes one discussion at a time, each read in its own
short transaction, so an export of any size holds one discussion in memory.

Emails go only where the caller asks: the command is run by the site's staff, and the file
is the site's own data; nothing public is made from it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from rejoinder.core.errors import NotFound
from rejoinder.core.exports import generic, wordpress
from rejoinder.core.exports.threads import export_thread
from rejoinder.core.models import Site
from rejoinder.store import exports as export_store
from rejoinder.store.database import Database

IMPORTED_FROM = "json"  # the import source whose ids an export writes back


class Format(enum.StrEnum):
    json = "json"
    wxr = "wxr"


@dataclass(slots=True)
class Counts:
    threads: int = 0
    comments: int = 0


def export_comments(
    db: Database,
    site: Site,
    address: Callable[[str], str],
    fmt: Format,
    counts: Counts,
    now: datetime,
    *,
    discussion: str | None = None,
    with_emails: bool = True,
    zone: tzinfo = UTC,
) -> Iterator[str]:
    """The export's text, piece by piece. `address` makes a path of the site a full URL;
    `discussion` (a page id or a slug) limits it to one discussion."""
    with db.read() as conn:
        only = None
        if discussion is not None:
            only = export_store.find_discussion(conn, site.id, discussion)
            if only is None:
                raise NotFound(
                    f"The site {site.name!r} has no discussion with the page id or slug"
                    f" {discussion!r}."
                )
        ids = export_store.discussion_ids(conn, site.id, only)
    if fmt is Format.json:
        yield generic.header()
    else:
        yield wordpress.head(site.title, address("/"), site.language, now)
    for article_id in ids:
        with db.read() as conn:
            article, comments, imported = export_store.read_discussion(
                conn, article_id, IMPORTED_FROM
            )
        thread = export_thread(article, comments, imported, address(f"/articles/{article.slug}"))
        if not thread.comments:
            continue
        counts.threads += 1
        counts.comments += len(thread.comments)
        if fmt is Format.json:
            yield generic.thread_line(thread, with_emails=with_emails)
        else:
            yield wordpress.item(thread, zone, with_emails=with_emails)
    if fmt is Format.wxr:
        yield wordpress.tail()
