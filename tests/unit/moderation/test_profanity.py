"""A site's profanity setting: swearing that attacks nobody is held as the model reads it
(`hold`, the default) or published (`publish`), with the shipped model's real scores; swearing
at people, insults and attacks on a people are held either way."""

from __future__ import annotations

import pytest

from rejoinder.classifier.model import get_classifier
from rejoinder.core.moderation import Policy, Profanity, Verdict, decide
from rejoinder.core.moderation.models import Decision, Threshold
from rejoinder.core.moderation.phases.model_scores import scores_from
from rejoinder.runtime import model_thresholds
from rejoinder.usecases.policy_schema import PolicyProblem, read_policy_settings
from tests.unit.moderation.submissions import submission

#: Swearing at nothing that the shipped model holds for toxicity at its default preset.
UNDIRECTED = ("Well. Fuck me, it's cold out there.", "This cake is so damn good.")
#: Swearing with an attack in it: held under either setting.
AIMED = (
    "Fuck you, you worthless idiot.",
    "Fucking Muslims are vermin.",
    "Shut the hell up, moron.",
)


def judged(text: str, profanity: Profanity) -> Decision:
    scores = scores_from(get_classifier().score(text), text)
    policy = Policy(thresholds=model_thresholds(), profanity=profanity)
    return decide(submission(text=text, model_scores=scores), policy)


@pytest.mark.parametrize("text", UNDIRECTED)
def test_swearing_at_nothing_is_held_by_default_and_published_when_the_site_says(
    text: str,
) -> None:
    held = judged(text, Profanity.HOLD)
    assert Policy().profanity is Profanity.HOLD
    assert held.verdict is Verdict.HOLD
    assert {r.code for r in held.reasons} <= {"model_toxicity", "model_obscenity"}
    published = judged(text, Profanity.PUBLISH)
    assert published.verdict is Verdict.PUBLISH, [r.message for r in published.reasons]


@pytest.mark.parametrize("text", AIMED)
def test_swearing_with_an_attack_is_held_under_either_setting(text: str) -> None:
    for profanity in Profanity:
        assert judged(text, profanity).verdict is not Verdict.PUBLISH, (profanity, text)


def test_a_model_refusal_stands_whatever_the_setting() -> None:
    text = UNDIRECTED[0]
    scores = scores_from(get_classifier().score(text), text)
    policy = Policy(thresholds={"toxicity": Threshold(0.1, 0.2)}, profanity=Profanity.PUBLISH)
    decision = decide(submission(text=text, model_scores=scores), policy)
    assert decision.verdict is Verdict.REFUSE


def test_the_setting_is_read_from_the_policy_schema_and_a_wrong_one_named() -> None:
    assert read_policy_settings({}).to_policy().profanity is Profanity.HOLD
    settings = read_policy_settings({"profanity": "publish"})
    assert settings.to_policy().profanity is Profanity.PUBLISH
    assert settings.stored()["profanity"] == "publish"
    with pytest.raises(PolicyProblem) as problem:
        read_policy_settings({"profanity": "sometimes"})
    assert problem.value.setting == "profanity"
    assert "hold" in problem.value.detail and "publish" in problem.value.detail
