"""Named events, fired after a write commits; mail, webhooks and live updates listen.

    comment_posted(comment: Comment, article: Article)      published, or held for a moderator
                                                            (one that waited for its writer to
                                                            confirm the address: then)
    comment_approved(comment: Comment, article: Article)    a held comment published by the desk
    comment_edited(comment: Comment, article: Article)
    comment_deleted(comment_id: int, article: Article)
    comment_reported(comment_id: int, article: Article)     a reader's report was stored
    article_published(article: Article)
    discussion_changed(article: Article)   closed, reopened, edited or deleted by staff
    site_changed(site: Site)           a site was added, changed or removed

A listener that raises is logged and skipped: the write it follows has already happened.

Some listeners write with the change itself: connected with `connect_within`, they are called
by `within(conn, name, ...)` inside the write's transaction, before it commits, with the
connection as `conn` (so what they add commits, or not, with it: a reply's notices with the
reply). One that raises rolls the write back. Only these are fired so:

    comment_posted(conn, comment: Comment, article: Article, parent: Comment | None)
                                published or held, as after the commit; `parent` as the
                                write read it (None: not read, or no parent)
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

log = logging.getLogger("rejoinder.events")

Listener = Callable[..., None]

COMMENT_POSTED = "comment_posted"
COMMENT_APPROVED = "comment_approved"
COMMENT_EDITED = "comment_edited"
COMMENT_DELETED = "comment_deleted"
COMMENT_REPORTED = "comment_reported"
ARTICLE_PUBLISHED = "article_published"
DISCUSSION_CHANGED = "discussion_changed"
SITE_CHANGED = "site_changed"
NAMES = (
    COMMENT_POSTED,
    COMMENT_APPROVED,
    COMMENT_EDITED,
    COMMENT_DELETED,
    COMMENT_REPORTED,
    ARTICLE_PUBLISHED,
    DISCUSSION_CHANGED,
    SITE_CHANGED,
)


class Events:
    """A registry of listeners per event name, one per running server or command."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Listener]] = defaultdict(list)
        self._within: dict[str, list[Listener]] = defaultdict(list)

    def connect(self, name: str, listener: Listener) -> None:
        if name not in NAMES:
            raise ValueError(f"unknown event {name!r}")
        self._listeners[name].append(listener)

    def connect_within(self, name: str, listener: Listener) -> None:
        """A listener called inside the write's transaction (`within`)."""
        if name not in NAMES:
            raise ValueError(f"unknown event {name!r}")
        self._within[name].append(listener)

    def within(self, conn: Any, name: str, **arguments: Any) -> None:
        """Inside a write's transaction: its listeners, with the connection; an exception
        goes up to the write, which rolls back."""
        for listener in self._within.get(name, ()):
            listener(name, conn=conn, **arguments)

    def connect_all(self, listener: Listener) -> None:
        for name in NAMES:
            self.connect(name, listener)

    def fire(self, name: str, **arguments: Any) -> None:
        if name not in NAMES:
            raise ValueError(f"unknown event {name!r}")
        for listener in self._listeners.get(name, ()):
            try:
                listener(name, **arguments)
            except Exception:
                log.exception("listener of %s failed", name)
