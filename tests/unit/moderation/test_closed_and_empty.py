"""Closed articles and empty comments are refused before anything else is looked at."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rejoinder.core.moderation.models import Action, ArticleRef, Policy
from rejoinder.core.moderation.phases import closed, empty
from tests.unit.moderation.submissions import NOW, submission


def test_comments_closed_on_the_article_refuse() -> None:
    [signal] = closed.check(submission(article=ArticleRef(1, is_open=False)), Policy())
    assert (signal.code, signal.action) == ("closed", Action.REFUSE)
    assert signal.message == "comments are closed on this article"


def test_an_open_article_passes() -> None:
    assert closed.check(submission(), Policy()) == []


def test_comments_close_after_the_sites_number_of_days() -> None:
    policy = Policy(close_after_days=14)
    fresh = ArticleRef(1, published_at=NOW - timedelta(days=13, hours=23))
    old = ArticleRef(1, published_at=NOW - timedelta(days=14))
    assert closed.check(submission(article=fresh), policy) == []
    [signal] = closed.check(submission(article=old), policy)
    assert signal.code == "closed_by_age"
    assert "6 May 2024" in signal.message
    assert closed.check(submission(article=old), Policy()) == []  # off by default


@pytest.mark.parametrize("text", ["", "   \n\t ", "\u200b\u200d\ufeff", "\u00ad \u2060"])
def test_an_empty_or_invisible_comment_is_refused_as_empty(text: str) -> None:
    [signal] = empty.check(submission(text=text), Policy())
    assert (signal.code, signal.action, signal.message) == (
        "empty",
        Action.REFUSE,
        "the comment is empty",
    )


@pytest.mark.parametrize("text", ["ok", "👍", ".", "Ω"])
def test_anything_visible_is_not_empty(text: str) -> None:
    assert empty.check(submission(text=text), Policy()) == []
