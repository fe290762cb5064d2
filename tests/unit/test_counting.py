"""Which comments count on the page, and what each transition does to an article's count."""

from __future__ import annotations

import pytest

from rejoinder.core.models import Status, count_change, counts_on_page


@pytest.mark.parametrize("status", list(Status))
def test_only_a_published_comment_that_reports_did_not_hide_counts(status: Status) -> None:
    assert counts_on_page(status) is (status is Status.PUBLISHED)
    assert counts_on_page(status, hidden=True) is False


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        ((Status.HELD, False), (Status.PUBLISHED, False), +1),  # approved
        ((Status.PUBLISHED, True), (Status.PUBLISHED, False), +1),  # kept after reports hid it
        ((Status.PUBLISHED, False), (Status.REJECTED, False), -1),  # rejected
        ((Status.PUBLISHED, True), (Status.REJECTED, False), 0),  # reports had taken it off
        ((Status.HELD, False), (Status.REJECTED, False), 0),
        ((Status.PUBLISHED, False), (Status.HELD, False), -1),  # held after an edit
        ((Status.PUBLISHED, False), (Status.DELETED, False), -1),  # deleted by its writer
        ((Status.PUBLISHED, True), (Status.WITHDRAWN, True), 0),
        ((Status.PUBLISHED, False), (Status.PUBLISHED, True), -1),  # hidden by reports
    ],
)
def test_each_transition_moves_the_count_by_what_it_changes_on_the_page(
    before: tuple[Status, bool], after: tuple[Status, bool], change: int
) -> None:
    assert count_change(before, after) == change
