"""Named events, fired after a write commits; mail, webhooks and live updates listen.

    comment_posted(comment: Comment, article: Article)
    comment_edited(comment: Comment, article: Article)
    comment_deleted(comment_id: int, article: Article)
    article_published(article: Article)
    site_changed(site: Site)           a site was added, changed or removed

A listener that raises is logged and skipped: the write it follows has already happened.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

log = logging.getLogger("rejoinder.events")

Listener = Callable[..., None]

COMMENT_POSTED = "comment_posted"
COMMENT_EDITED = "comment_edited"
COMMENT_DELETED = "comment_deleted"
ARTICLE_PUBLISHED = "article_published"
SITE_CHANGED = "site_changed"
NAMES = (COMMENT_POSTED, COMMENT_EDITED, COMMENT_DELETED, ARTICLE_PUBLISHED, SITE_CHANGED)


class Events:
    """A registry of listeners per event name, one per running server or command."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Listener]] = defaultdict(list)

    def connect(self, name: str, listener: Listener) -> None:
        if name not in NAMES:
            raise ValueError(f"unknown event {name!r}")
        self._listeners[name].append(listener)

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
