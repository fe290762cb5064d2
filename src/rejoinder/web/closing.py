"""Whether a discussion takes comments, as the page and the API show it, at each request.

The rule is `core.discussion.openness`; this module feeds it the time of the request and the
site's `close_after_days`, kept per worker and read again once something was written (the
change counter moved: a policy saved announces itself) or, whatever happens, after
`REREAD_SECONDS`. Cached pages and threads hold the stored article; the answer here replaces
its `comments_open`, so a discussion closes by age on time without any write.
"""

from __future__ import annotations

import time
from dataclasses import replace

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from rejoinder.changes import ChangeCounter
from rejoinder.core import discussion as rules
from rejoinder.core.models import Article
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import discussion

REREAD_SECONDS = 5.0


class ClosingRules:
    """Each site's close_after_days in this worker (see the module)."""

    def __init__(self, changes: ChangeCounter) -> None:
        self._changes = changes
        self._known: dict[int, tuple[int, float, int | None]] = {}  # site: token, when, days

    async def close_after_days(self, rt: Runtime, site_id: int) -> int | None:
        token = self._changes.token()
        found = self._known.get(site_id)
        now = time.monotonic()
        if found is not None and found[0] == token and now - found[1] < REREAD_SECONDS:
            return found[2]
        days = await run_in_threadpool(discussion.close_after_days, rt.db, site_id)
        self._known[site_id] = (token, now, days)
        return days


async def as_shown(request: Request, rt: Runtime, article: Article) -> Article:
    """The article with `comments_open` as it is now (its flag, its age and the site's rule)."""
    closing: ClosingRules = request.app.state.closing
    days = await closing.close_after_days(rt, article.site_id)
    state = rules.of_article(article, days, utcnow())
    if state.is_open == article.comments_open:
        return article
    return replace(article, comments_open=state.is_open)
