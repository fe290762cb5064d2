"""The identity phase: a whole people, faith or group attacked as such, and the civil
sentences about peoples, states, armies and myths that must pass.

The rows are written for these tests, not taken from the labelled examples.
"""

from __future__ import annotations

import pytest

from rejoinder.core.moderation.matching.folding import fold
from rejoinder.core.moderation.models import Action, Policy, Verdict
from rejoinder.core.moderation.phases import identity
from rejoinder.core.moderation.policy import decide
from tests.unit.moderation.submissions import submission

ATTACKS = [
    "Somalis are savages, every one of them.",
    "Face it, Pakistanis are just criminals with passports.",
    "The Roma are born thieves and always will be.",
    "Honestly Iraqis are a backward people and no amount of aid will fix that.",
    "Chinese people are like ants, they'll copy anything.",
    "Migrants breed like rats in those estates.",
    "Every Nigerian immigrant is a scammer or a criminal, everyone knows it.",
    "Jews control the media and they always have.",
    "The Zionists run Washington, that's the whole story.",
    "Gays are degenerates and should be kept away from children.",
    "Refugees are a plague on this town.",
    "Arabs are inherently violent, it is in their blood.",
    "Poles are all thieves and drunks.",
    "Muslims are a fifth column in every country that lets them in.",
    "Immigrants are spreading like a disease across the continent.",
    "They swarm like locusts over every border we have.",
    "Send them all back where they came from and let's be done with it.",
    "Mexicans are r4pists and drug dealers.",
    "Hindus are filthy, the whole lot.",
    "Africans are genetically inferior and the data proves it.",
    "Asylum seekers are parasites on the welfare state.",
    "Every single Afghan man is a danger to our daughters.",
    "Albanians should be stripped of their citizenship and deported.",
    "The Chinese are a virus on this planet.",
]

CIVIL = [
    "Not all Muslims are terrorists, and saying so is lazy.",
    "It is a myth that immigrants are criminals; the figures show the opposite.",
    "The Russian army are committing war crimes in the east.",
    "Israel's government is doing terrible things in Gaza.",
    "Most refugees are women and children fleeing the bombs.",
    "Many Syrians are doctors and engineers who lost everything.",
    "Rats are breeding in the sewers under the old market.",
    "The virus spread like wildfire through the care homes.",
    "The stereotype that Africans are violent has done enormous damage.",
    "Racists say Mexicans are criminals; the crime data does not.",
    "Anyone who says Jews control the banks is repeating Nazi propaganda.",
    "The Chinese are building a huge new port in Greece.",
    "Americans are tired of endless wars abroad.",
    "Muslims are fasting this month, so the mosque opens late.",
    "Immigrants are more likely to start businesses than people born here.",
    "Gays were persecuted for decades under that law.",
    "Turks are going to the polls on Sunday.",
    "The Jews of Salonica were deported in 1943.",
    "Refugees are not a burden on the health service, the report says.",
    "Do you really think Poles are thieves? Grow up.",
    "My Pakistani neighbours are the kindest people on the street.",
    "The Israelis are expected to respond within days.",
    "Ukrainians are fighting for their lives.",
    "Palestinians are dying in the hundreds every week.",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_attacks_on_a_whole_group_are_held(text: str) -> None:
    assert identity.find_identity_attacks(fold(text)), text
    decision = decide(submission(text=text, model_scores=None))
    assert decision.verdict is Verdict.HOLD
    assert "identity_attack" in {r.code for r in decision.reasons}


@pytest.mark.parametrize("text", CIVIL)
def test_civil_sentences_about_peoples_and_states_pass(text: str) -> None:
    assert identity.find_identity_attacks(fold(text)) == [], text


def test_the_signal_quotes_the_words() -> None:
    text = "Honestly, Iraqis are a backward people."
    [signal] = identity.check(submission(text=text), Policy())
    assert signal.action is Action.HOLD
    assert [s.text for s in signal.spans] == ["Iraqis are a backward people"]
    assert '"Iraqis are a backward people"' in signal.message


def test_a_site_may_refuse_identity_attacks() -> None:
    policy = Policy(pattern_actions={"identity_attack": Action.REFUSE})
    decision = decide(submission(text="Somalis are savages.", model_scores=None), policy)
    assert decision.verdict is Verdict.REFUSE
