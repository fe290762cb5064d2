"""Bots without a captcha: the honeypot and the form's timestamp."""

from __future__ import annotations

from datetime import datetime

import pytest

from rejoinder.core.moderation.models import Action, Policy
from rejoinder.core.moderation.phases import bots
from tests.unit.moderation.submissions import ago, submission


def found(policy: Policy | None = None, **fields: object) -> list[tuple[str, Action]]:
    return [(s.code, s.action) for s in bots.check(submission(**fields), policy or Policy())]


def test_a_filled_honeypot_is_refused() -> None:
    assert found(honeypot="http://spam.example") == [("honeypot", Action.REFUSE)]


def test_a_blank_honeypot_passes() -> None:
    assert found(honeypot="   ") == []


@pytest.mark.parametrize(
    ("issued", "expected"),
    [
        (ago(0.5), [("too_fast", Action.HOLD)]),
        (ago(2.9), [("too_fast", Action.HOLD)]),
        (ago(3), []),
        (ago(600), []),
        (ago(23 * 3600), []),
        (ago(25 * 3600), [("form_too_old", Action.HOLD)]),
        (ago(-30), [("too_fast", Action.HOLD)]),  # issued "in the future": not a real form
        (None, [("no_timestamp", Action.HOLD)]),
    ],
)
def test_form_timing(issued: datetime | None, expected: list[tuple[str, Action]]) -> None:
    assert found(form_issued_at=issued) == expected


def test_site_may_change_the_fastest_human() -> None:
    assert found(Policy(min_form_seconds=10), form_issued_at=ago(8)) == [("too_fast", Action.HOLD)]
    assert found(Policy(min_form_seconds=None), form_issued_at=ago(0.1)) == []


def test_channels_without_our_form_skip_the_check() -> None:
    assert found(via_form=False, form_issued_at=None, honeypot="x") == []
