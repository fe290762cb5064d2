"""Whether a discussion takes comments now: the one rule that the moderation phase "closed",
posting and editing, the article page and the JSON API all ask.

A discussion is closed when its own flag says so (set when the article was published, or by
staff closing it from the desk, the admin API or the CLI), or when the site closes
discussions `close_after_days` after publication. Reopening a discussion sets the flag and
restarts that count from the moment it was reopened, so that staff can reopen one that age
had closed. The caller passes the time: nothing here reads a clock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rejoinder.core.messages import N_, Message, Nn_
from rejoinder.core.models import Article


class ClosedBy(enum.StrEnum):
    FLAG = "closed"  # the discussion's own flag: closed by staff, or published closed
    AGE = "closed_by_age"  # the site's close_after_days


@dataclass(frozen=True, slots=True)
class Openness:
    """Open, or closed with the rule that closed it (and, for age, when it closed)."""

    closed_by: ClosedBy | None = None
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_by is None

    def message(self, close_after_days: int | None = None) -> Message:
        """Why it is closed, as a clause that reads after "because"."""
        if self.closed_by is ClosedBy.AGE and self.closed_at is not None:
            return Nn_(
                "comments close {n} day after an article is published, "
                "and this one closed on {date:%d %B %Y}",
                "comments close {n} days after an article is published, "
                "and this one closed on {date:%d %B %Y}",
                close_after_days or 0,
                date=self.closed_at,
            )
        return N_("comments are closed on this article")

    def notice(self, close_after_days: int | None = None) -> Message:
        """Why it is closed, as a sentence for the writer whose post it refuses."""
        if self.closed_by is ClosedBy.AGE and self.closed_at is not None:
            return Nn_(
                "Comments on this article closed on {date:%d %B %Y}: this site "
                "closes them {n} day after publication.",
                "Comments on this article closed on {date:%d %B %Y}: this site "
                "closes them {n} days after publication.",
                close_after_days or 0,
                date=self.closed_at,
            )
        return N_("Comments are closed on this article.")


OPEN = Openness()


def of_article(article: Article, close_after_days: int | None, now: datetime) -> Openness:
    """`openness` of a stored article under its site's close_after_days."""
    return openness(
        comments_open=article.comments_open,
        published_at=article.published_at,
        reopened_at=article.reopened_at,
        close_after_days=close_after_days,
        now=now,
    )


def openness(
    *,
    comments_open: bool,
    published_at: datetime | None,
    close_after_days: int | None,
    now: datetime,
    reopened_at: datetime | None = None,
) -> Openness:
    """Whether a discussion takes comments at `now`: its flag first, then its age (counted
    from publication, or from the last reopening when that is later)."""
    if not comments_open:
        return Openness(ClosedBy.FLAG)
    if close_after_days is None or published_at is None:
        return OPEN
    start = _utc(published_at)
    if reopened_at is not None:
        start = max(start, _utc(reopened_at))
    closes = start + timedelta(days=close_after_days)
    if _utc(now) >= closes:
        return Openness(ClosedBy.AGE, closes)
    return OPEN


def _utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already (as SQLite returns it)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
