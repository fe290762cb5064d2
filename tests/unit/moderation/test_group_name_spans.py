"""A group's name alone is never the reason a comment is held or refused: over the held-out
fairness cases that name a people (civil and hateful), judged with the shipped model's real
scores, no reason's spans, and no reason's quoted words, are only the group's name."""

from __future__ import annotations

import re

from rejoinder.classifier.model import get_classifier
from rejoinder.core.moderation import Policy, Verdict, decide
from rejoinder.core.moderation.phases.model_scores import names_a_group_only, scores_from
from rejoinder.runtime import model_thresholds
from tests.unit.moderation.submissions import submission
from training import fairness

#: The identity grammar's lists name peoples, not trades: the occupations are left out.
GROUPS = {g.many: g for g in fairness.GROUPS if g.kind != "occupation"}


def _cases() -> list[fairness.Case]:
    families = fairness.CIVIL_GROUP_FAMILIES + fairness.HATEFUL_GROUP_FAMILIES
    every = fairness.split(fairness.cases(), fairness.TEST)
    return [c for c in every if c.family in families and c.group in GROUPS][::5]


def test_the_names_of_the_groups_are_recognised() -> None:
    for group in GROUPS.values():
        assert names_a_group_only(group.many) and names_a_group_only(group.one), group
    for text in ("vermin", "Muslims are vermin", "Kill", "should be shot"):
        assert not names_a_group_only(text)


def test_no_reason_is_a_groups_name_alone() -> None:
    classifier = get_classifier()
    policy = Policy(thresholds=model_thresholds())
    cases = _cases()
    assert len(cases) > 200
    stopped = 0
    for case in cases:
        scores = scores_from(classifier.score(case.text), case.text)
        decision = decide(submission(text=case.text, model_scores=scores), policy)
        if decision.verdict is Verdict.PUBLISH:
            continue
        stopped += 1
        for reason in decision.reasons:
            for span in reason.spans:
                assert not names_a_group_only(span.text), (case.text, reason.code, span)
            quoted = re.findall(r'"([^"]+)"', reason.message)
            assert not quoted or not all(names_a_group_only(q) for q in quoted), (
                case.text,
                reason.message,
            )
    assert stopped > 80  # the hateful cases were judged, not only the civil ones
