"""The same text again: from the same commenter refused, many times site-wide held."""

from __future__ import annotations

from typing import Any

from rejoinder.core.moderation.models import Action, Policy, RecentActivity
from rejoinder.core.moderation.phases import duplicates
from tests.unit.moderation.submissions import CLEAN, submission


def found(
    text: str = CLEAN, policy: Policy | None = None, **recent: Any
) -> list[tuple[str, Action]]:
    sub = submission(text=text, recent=RecentActivity(**recent))
    return [(s.code, s.action) for s in duplicates.check(sub, policy or Policy())]


def test_the_same_text_again_from_the_same_commenter_is_refused() -> None:
    assert found(own_texts=("Something else entirely.", CLEAN)) == [
        ("repeated_by_you", Action.REFUSE)
    ]


def test_copies_differing_only_in_case_punctuation_and_lookalikes_are_the_same() -> None:
    variant = "THE COUNCIL should publish the full traffic figures — before the vote!!"
    variant = variant.replace("o", "о")  # Cyrillic о
    assert duplicates.fingerprint(variant) == duplicates.fingerprint(CLEAN)
    assert found(own_texts=(variant,)) == [("repeated_by_you", Action.REFUSE)]


def test_a_different_text_is_not_a_duplicate() -> None:
    assert found(own_texts=("The council should publish the bus figures before the vote.",)) == []


def test_the_same_text_many_times_site_wide_is_held() -> None:
    assert found(same_text_site_wide=3) == [("repeated_site_wide", Action.HOLD)]
    assert found(same_text_site_wide=2) == []
    assert found(policy=Policy(duplicate_site_limit=None), same_text_site_wide=50) == []


def test_short_common_replies_may_repeat_across_the_site() -> None:
    assert found("Agreed!", same_text_site_wide=40) == []


def test_an_empty_text_is_left_to_the_empty_phase() -> None:
    assert found("  \u200b ", own_texts=("",), same_text_site_wide=9) == []
