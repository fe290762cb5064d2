"""Spam patterns are signals with their words: noted alone, held when commercial signs add up."""

from __future__ import annotations

import pytest

from rejoinder.core.moderation.models import Action, Policy, Signal
from rejoinder.core.moderation.phases import spam
from tests.unit.moderation.submissions import submission


def signals(text: str, policy: Policy | None = None) -> list[Signal]:
    return spam.check(submission(text=text), policy or Policy())


def by_code(text: str, policy: Policy | None = None) -> dict[str, tuple[Action, list[str]]]:
    return {s.code: (s.action, [x.text for x in s.spans]) for s in signals(text, policy)}


@pytest.mark.parametrize(
    ("text", "code", "quoted"),
    [
        ("My aunt makes $85 per hour online", "money", "makes $85"),
        ("Earn $500 a day, it is true", "money", "Earn $500"),
        ("Pay is £300 per week here", "money", "£300 per week"),
        ("Learn to make money fast", "money", "make money"),
        ("I work from home now and it suits me", "work_from_home", "work from home"),
        ("Home-based jobs for everyone", "work_from_home", "Home-based jobs"),
        ("Click here for details", "call_to_action", "Click here"),
        ("Visit my profile to learn more", "call_to_action", "Visit my profile"),
        ("Nooooooo, that cannot be right", "repeated_chars", "ooooooo"),
        ("What?!!!!!! Really", "repeated_chars", "!!!!!!"),
    ],
)
def test_each_pattern_is_a_signal_with_its_words(text: str, code: str, quoted: str) -> None:
    action, spans = by_code(text)[code]
    assert quoted in spans
    assert action is Action.NOTE


def test_one_commercial_sign_is_only_noted() -> None:
    found = by_code("The minimum wage is $15 an hour and too low")
    assert set(found) == {"money"}
    assert "spam" not in found


@pytest.mark.parametrize(
    "text",
    [
        "Earn $500 a day working from home!",
        "I make $90 an hour, click here to see how",
        "Work from home, details at example.com",
        "Click here: https://example.com/offer",
    ],
)
def test_two_commercial_signs_hold_as_spam(text: str) -> None:
    [held] = [s for s in signals(text) if s.action is Action.HOLD]
    assert held.code == "spam"
    assert held.message.startswith("it looks like spam: ")
    assert held.spans


def test_the_number_of_signs_to_hold_is_the_sites() -> None:
    assert "spam" not in by_code("Earn $500 a day working from home!", Policy(spam_signs_to_hold=3))
    assert "spam" in by_code("Learn to make money fast", Policy(spam_signs_to_hold=1))


def test_a_comment_in_capitals_is_shouting_noted_by_default_held_if_the_site_says() -> None:
    text = "THIS COUNCIL HAS LOST ITS MIND ABOUT THE BUS LANE"
    assert by_code(text)["shouting"] == (Action.NOTE, [text])
    held = Policy(pattern_actions={"shouting": Action.HOLD})
    assert by_code(text, held)["shouting"][0] is Action.HOLD


def test_a_long_run_of_capital_words_inside_a_calm_comment_is_shouting() -> None:
    text = "I read it twice and honestly WHY WOULD ANYONE EVER AGREE TO THIS, said no one calmly."
    assert by_code(text)["shouting"][1] == ["WHY WOULD ANYONE EVER AGREE TO THIS"]


@pytest.mark.parametrize(
    "text",
    [
        "The USA, NATO and the EU met in Brussels.",
        "I said no. Then I left.",
        "Prices were 100000 in 2020 ... and then........ nothing",
    ],
)
def test_acronyms_and_numbers_are_not_spam_signs(text: str) -> None:
    assert signals(text) == []
