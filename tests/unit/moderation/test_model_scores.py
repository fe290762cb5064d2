"""The model phase: per-category thresholds on scores passed in, spans passed through."""

from __future__ import annotations

from dataclasses import dataclass

from rejoinder.core.moderation.models import (
    Action,
    ModelScore,
    Policy,
    Span,
    Threshold,
)
from rejoinder.core.moderation.phases import model_scores
from tests.unit.moderation.submissions import submission

TEXT = "You are all clowns and I will find you."
FIND = TEXT.index("find")
SPAN = Span(FIND, FIND + 4, "find")


def judged(
    scores: dict[str, ModelScore] | None, policy: Policy | None = None
) -> list[tuple[str, Action]]:
    sub = submission(text=TEXT, model_scores=scores)
    return [(s.code, s.action) for s in model_scores.check(sub, policy or Policy())]


def test_no_scores_means_no_signals() -> None:
    assert judged(None) == []
    assert judged({}) == []


def test_below_the_hold_threshold_passes() -> None:
    assert judged({"insult": ModelScore(0.74)}) == []


def test_at_the_hold_threshold_holds_with_spans_and_score() -> None:
    sub = submission(text=TEXT, model_scores={"insult": ModelScore(0.75, (SPAN,))})
    [signal] = model_scores.check(sub, Policy())
    assert (signal.code, signal.action, signal.score) == ("model_insult", Action.HOLD, 0.75)
    assert signal.spans == (SPAN,)
    assert signal.message == 'the model reads it as an insult (0.75), mostly for "find"'


def test_refuse_threshold_refuses() -> None:
    assert judged({"threat": ModelScore(0.96)}) == [("model_threat", Action.REFUSE)]
    assert judged({"threat": ModelScore(0.94)}) == [("model_threat", Action.HOLD)]


def test_each_category_is_judged_on_its_own() -> None:
    scores = {"insult": ModelScore(0.9), "spam": ModelScore(0.1), "obscenity": ModelScore(0.95)}
    assert judged(scores) == [("model_insult", Action.HOLD), ("model_obscenity", Action.HOLD)]


def test_site_thresholds_and_unknown_categories() -> None:
    policy = Policy(thresholds={"insult": Threshold(0.5, refuse=0.8)})
    scores = {"insult": ModelScore(0.85), "toxicity": ModelScore(0.99), "sarcasm": ModelScore(1)}
    assert judged(scores, policy) == [("model_insult", Action.REFUSE)]


def test_scores_from_the_classifier_are_converted() -> None:
    @dataclass
    class Hit:
        start: int
        end: int

    @dataclass
    class CategoryScore:
        score: float
        spans: list[object]

    raw = {
        "insult": CategoryScore(0.8, [Hit(8, 11), (FIND, FIND + 4)]),
        "spam": CategoryScore(0.1, []),
    }
    converted = model_scores.scores_from(raw, TEXT)
    assert converted["insult"] == ModelScore(0.8, (Span(8, 11, "all"), SPAN))
    assert converted["spam"] == ModelScore(0.1, ())
