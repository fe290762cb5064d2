"""Counter-speech frames (matching/framing.py, data/framing.json): a sentence that reports
someone else's hateful words and denounces them holds nothing on the rule phases, while a
report alone, a verdict alone, or the writer's own words still hold.

The rows are written for these tests, not taken from any labelled or published set.
"""

from __future__ import annotations

import pytest

from rejoinder.core.moderation.matching import framing, lexicon
from rejoinder.core.moderation.models import Action, ModelScore, Policy, Span, Threshold, Verdict
from rejoinder.core.moderation.phases import model_scores
from rejoinder.core.moderation.policy import decide
from tests.unit.moderation.submissions import submission

DATA = lexicon.load("framing")


@pytest.mark.parametrize("text", DATA["examples"])
def test_each_example_is_a_frame(text: str) -> None:
    assert framing.frames(text), text


@pytest.mark.parametrize("text", DATA["not_examples"])
def test_no_counter_example_is_a_frame(text: str) -> None:
    assert not framing.frames(text), text


DENOUNCED = [
    "The flyer said immigrants are vermin, and that is hateful nonsense.",
    "Calling migrants parasites, as the mayor did, is disgusting.",
    "I reported the post that said Tamils deserve a good beating.",
    "A woman screamed that pensioners are scum and the driver told her to leave.",
    "The sign calling us filthy vermin was torn down this morning.",
]

STILL_HELD = [
    "The flyer said immigrants are vermin.",
    "Someone said immigrants are parasites, and they are.",
    "I say immigrants are vermin, and anyone who disagrees is wrong.",
    "They called immigrants rats, and that is not wrong.",
    "He said refugees are vermin, and that is disgusting. They are vermin.",
]


@pytest.mark.parametrize("text", DENOUNCED)
def test_reported_and_denounced_words_hold_nothing(text: str) -> None:
    decision = decide(submission(text=text, model_scores=None))
    assert decision.verdict is Verdict.PUBLISH, [r.code for r in decision.reasons]


@pytest.mark.parametrize("text", STILL_HELD)
def test_a_report_or_a_verdict_alone_still_holds(text: str) -> None:
    decision = decide(submission(text=text, model_scores=None))
    assert decision.verdict is Verdict.HOLD, text


REPORTED = "The flyer said immigrants are vermin, and that is hateful nonsense. They are not."


def _model_signals(text: str, words: tuple[str, ...], score: float) -> list[str]:
    spans = tuple(Span(text.index(w), text.index(w) + len(w), w) for w in words)
    sub = submission(text=text, model_scores={"toxicity": ModelScore(score, spans)})
    return [s.code for s in model_scores.check(sub, Policy())]


def test_a_model_hold_for_the_quoted_attack_alone_is_dropped() -> None:
    assert _model_signals(REPORTED, ("vermin", "immigrants"), 0.9) == []


def test_a_model_hold_with_a_word_outside_the_frame_stays() -> None:
    assert _model_signals(REPORTED, ("vermin", "They are not"), 0.9) == ["model_toxicity"]
    assert _model_signals("Immigrants are vermin.", ("vermin",), 0.9) == ["model_toxicity"]


def test_a_model_hold_without_spans_stays() -> None:
    sub = submission(text=REPORTED, model_scores={"toxicity": ModelScore(0.9)})
    assert [s.code for s in model_scores.check(sub, Policy())] == ["model_toxicity"]


def test_a_model_refusal_stands_inside_a_frame() -> None:
    policy = Policy(thresholds={"toxicity": Threshold(hold=0.5, refuse=0.8)})
    text = REPORTED
    span = Span(text.index("vermin"), text.index("vermin") + 6, "vermin")
    sub = submission(text=text, model_scores={"toxicity": ModelScore(0.9, (span,))})
    assert [s.action for s in model_scores.check(sub, policy)] == [Action.REFUSE]
