"""The policy: how signals combine, the trust margin, premoderation modes, explain."""

from __future__ import annotations

import json

import pytest

from rejoinder.core.moderation.models import (
    Action,
    ArticleRef,
    History,
    Mode,
    ModelScore,
    Policy,
    RecentActivity,
    Signal,
    Threshold,
    Verdict,
)
from rejoinder.core.moderation.policy import combine, decide, explain
from tests.unit.moderation.submissions import ago, submission

REFUSE = Signal("x", "r", "it is refused", Action.REFUSE)
HOLD = Signal("x", "h", "it is held", Action.HOLD)
NOTE = Signal("x", "n", "it is noted", Action.NOTE)
EXCUSE_H = Signal("trust", "trusted", "it is excused", Action.EXCUSE, excuses=("h",))


@pytest.mark.parametrize(
    ("signals", "verdict", "reasons"),
    [
        ([], Verdict.PUBLISH, []),
        ([NOTE], Verdict.PUBLISH, []),
        ([HOLD, NOTE], Verdict.HOLD, [HOLD]),
        ([HOLD, REFUSE, NOTE], Verdict.REFUSE, [REFUSE]),
        ([REFUSE, EXCUSE_H], Verdict.REFUSE, [REFUSE]),
        ([HOLD, EXCUSE_H], Verdict.PUBLISH, [EXCUSE_H]),
        ([HOLD, Signal("x", "other", "m", Action.HOLD), EXCUSE_H], Verdict.HOLD, None),
        ([EXCUSE_H], Verdict.PUBLISH, []),  # nothing to excuse: not a reason
    ],
)
def test_refuse_beats_hold_beats_publish(
    signals: list[Signal], verdict: Verdict, reasons: list[Signal] | None
) -> None:
    decision = combine(signals)
    assert decision.verdict is verdict
    assert decision.signals == tuple(signals)
    if reasons is not None:
        assert list(decision.reasons) == reasons


def test_an_ordinary_comment_is_published() -> None:
    decision = decide(submission())
    assert (decision.verdict, decision.reasons) == (Verdict.PUBLISH, ())
    assert explain(decision) == "Your comment is published."


def test_a_refusal_and_a_hold_together_refuse_and_tell_only_the_refusal() -> None:
    sub = submission(text="you brain dead halfwits", article=ArticleRef(1, is_open=False))
    decision = decide(sub)
    assert decision.verdict is Verdict.REFUSE
    assert [s.code for s in decision.reasons] == ["closed"]
    assert "insult" in [s.code for s in decision.signals]
    assert explain(decision) == (
        "Your comment was not posted because comments are closed on this article."
    )


def test_explain_names_the_words_of_a_hold() -> None:
    decision = decide(submission(text="Good luck with that one you brain dead halfwits !"))
    assert decision.verdict is Verdict.HOLD
    assert explain(decision).startswith(
        'Your comment is held for a moderator because it calls people "brain dead halfwits".'
    )


def test_a_refusal_by_rate_carries_when_to_retry() -> None:
    decision = decide(submission(recent=RecentActivity(by_ip=(ago(10),))))
    assert decision.verdict is Verdict.REFUSE
    assert decision.retry_after == 5
    assert "try again in 5 seconds" in explain(decision)


INSULT_078 = {"insult": ModelScore(0.78)}  # held from 0.75, within a 0.10 margin
INSULT_090 = {"insult": ModelScore(0.90)}  # beyond the margin


@pytest.mark.parametrize(
    ("history", "scores", "verdict"),
    [
        (History(approved=12), INSULT_078, Verdict.PUBLISH),
        (History(approved=12), INSULT_090, Verdict.HOLD),
        (History(approved=2), INSULT_078, Verdict.HOLD),  # not enough history
        (History(approved=12, rejected=2), INSULT_078, Verdict.HOLD),  # too many rejections
        (History(approved=30, rejected=2), INSULT_078, Verdict.PUBLISH),
        (History(), INSULT_078, Verdict.HOLD),
    ],
)
def test_trust_margin_for_approved_commenters(
    history: History, scores: dict[str, ModelScore], verdict: Verdict
) -> None:
    decision = decide(submission(history=history, model_scores=scores))
    assert decision.verdict is verdict
    if verdict is Verdict.PUBLISH:
        [reason] = decision.reasons
        assert (reason.code, reason.excuses) == ("trusted", ("model_insult",))
        assert "approved comments" in reason.message


def test_trust_never_excuses_a_model_refusal_or_the_word_lists() -> None:
    trusted = History(approved=50)
    policy = Policy(thresholds={"threat": Threshold(0.6, refuse=0.62)})
    threat = decide(submission(history=trusted, model_scores={"threat": ModelScore(0.63)}), policy)
    assert threat.verdict is Verdict.REFUSE
    words = decide(
        submission(text="you idiots", history=trusted, model_scores=INSULT_078)
    )  # the model hold is excused, the word list's is not
    assert words.verdict is Verdict.HOLD
    assert [s.code for s in words.reasons] == ["insult"]


LINKED = "The ruling is at https://example.org/ruling and worth a read."


@pytest.mark.parametrize(
    ("mode", "text", "history", "verdict", "code"),
    [
        (Mode.POST_MODERATE, LINKED, History(), Verdict.PUBLISH, None),
        (Mode.PREMODERATE_NEW, LINKED, History(), Verdict.HOLD, "premoderate_new"),
        (Mode.PREMODERATE_NEW, LINKED, History(approved=1), Verdict.PUBLISH, None),
        (Mode.PREMODERATE_LINKS, LINKED, History(approved=40), Verdict.HOLD, "premoderate_links"),
        (Mode.PREMODERATE_LINKS, "No link in here at all.", History(), Verdict.PUBLISH, None),
        (Mode.PREMODERATE_ALL, "No link.", History(approved=40), Verdict.HOLD, "premoderate_all"),
    ],
)
def test_premoderation_modes(
    mode: Mode, text: str, history: History, verdict: Verdict, code: str | None
) -> None:
    decision = decide(submission(text=text, history=history), Policy(mode=mode))
    assert decision.verdict is verdict
    assert [s.code for s in decision.reasons] == ([code] if code else [])


def test_premoderation_still_refuses_what_must_be_refused() -> None:
    decision = decide(submission(honeypot="x"), Policy(mode=Mode.PREMODERATE_ALL))
    assert decision.verdict is Verdict.REFUSE
    assert [s.code for s in decision.reasons] == ["honeypot"]


def test_signals_come_in_phase_order() -> None:
    sub = submission(
        text="you idiots, see bit.ly/x and bit.ly/y and bit.ly/z",
        form_issued_at=ago(1),
        model_scores=INSULT_090,
    )
    phases = [s.phase for s in decide(sub).signals]
    assert phases == sorted(phases, key=["bots", "links", "spam", "words", "model"].index)


def test_decision_to_dict_is_json_ready() -> None:
    decision = decide(submission(text="you brain dead halfwits"))
    data = json.loads(json.dumps(decision.to_dict()))
    assert data["verdict"] == "hold"
    [reason] = data["reasons"]
    assert reason["code"] == "insult"
    assert reason["spans"] == [
        {"start": 4, "end": 23, "text": "brain dead halfwits", "field": "text"}
    ]
