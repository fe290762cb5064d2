"""A slur that a group uses of itself, said by a writer who names the group as their own, is
held for a moderator rather than refused; aimed at others, or with no such claim, it is
refused as before (`data/own_group.json`, the words phase)."""

from __future__ import annotations

import pytest

from rejoinder.core.moderation import Action, Verdict, decide
from rejoinder.core.moderation.matching import lexicon
from tests.unit.moderation.submissions import submission

# Written for this test; the slurs are those of the shipped refuse list (never a new one).
OWN = (
    ("As a Black man, I don't mind my cousins calling me nigga.", "nigga"),
    ("All of us gay lads in the choir call each other faggot, it's ours now.", "faggot"),
    ("I am a Jewish grandmother and I call myself a yid with a smile.", "yid"),
)
OTHERS = (
    "As a white man, I say the niggas on my street should leave.",
    "We straight people don't want faggots at the school gate.",
    "Another yid moved in next door.",
    "I'm a Catholic and I think every yid should be thrown out.",
)


@pytest.mark.parametrize(("text", "slur"), OWN)
def test_a_slur_said_of_the_writers_own_group_is_held_not_refused(text: str, slur: str) -> None:
    decision = decide(submission(text=text))
    assert decision.verdict is Verdict.HOLD
    [reason] = [r for r in decision.reasons if r.code == "slur_own_group"]
    assert reason.action is Action.HOLD
    assert [span.text.lower() for span in reason.spans] == [slur]
    assert "a moderator decides" in reason.message
    assert not [s for s in decision.signals if s.action is Action.REFUSE]


@pytest.mark.parametrize("text", OTHERS)
def test_a_slur_at_another_group_or_without_a_claim_is_still_refused(text: str) -> None:
    decision = decide(submission(text=text))
    assert decision.verdict is Verdict.REFUSE
    assert "slur" in {r.code for r in decision.reasons}


def test_every_own_group_slur_is_one_the_refuse_list_holds() -> None:
    """The file adds no word: it only softens a refusal of a word already listed."""
    listed = set(lexicon.word_lists("refuse")["slur"])
    assert set(lexicon.load("own_group")["slurs"]) - {"dyke", "tranny"} <= listed
    held = set(lexicon.word_lists("hold")["insult"])
    assert {"dyke", "tranny"} <= held
