"""Figures of fairness from judged functional cases: accuracy overall and per family, and per
group the share of civil sentences naming it that were stopped (held or refused) and the
share of hateful ones that were. Pure: the cases are judged elsewhere (`rejoinder moderation
eval` and `training/eval_fairness.py` both print these figures)."""

from __future__ import annotations

import collections
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: What a case expects: STOP (held or refused), PUBLISH, HOLD (held for a moderator, not
#: refused) or POLICY (the site's policy decides: reported, never right or wrong).
PUBLISH, STOP, HOLD, POLICY = "publish", "stop", "hold", "policy"
EXPECTED = (PUBLISH, STOP, HOLD, POLICY)
#: What a case measures per group: a civil sentence naming a group, a hateful one, or neither.
CIVIL, HATEFUL = "civil", "hateful"


@dataclass(frozen=True)
class JudgedCase:
    family: str
    expected: str  # one of EXPECTED
    group: str | None  # the group the case names, if it is compared across groups
    measure: str | None  # CIVIL, HATEFUL or None
    verdict: str  # publish, hold or refuse
    reasons: tuple[str, ...] = ()

    @property
    def stopped(self) -> bool:
        return self.verdict != PUBLISH

    @property
    def right(self) -> bool | None:
        """Whether the verdict is the one expected (None for POLICY: no verdict is wrong)."""
        if self.expected == STOP:
            return self.stopped
        if self.expected == PUBLISH:
            return not self.stopped
        if self.expected == HOLD:
            return self.verdict == "hold"
        return None


def _rate(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def figures(judged: Sequence[JudgedCase]) -> dict[str, Any]:
    """Every figure from judged cases. Accuracy counts STOP and PUBLISH cases; HOLD and POLICY
    families appear per family with what was done with them."""
    scored = [j for j in judged if j.expected in (STOP, PUBLISH)]
    families = list(dict.fromkeys(j.family for j in judged))
    by_family = {f: _rate([j.right is True for j in scored if j.family == f]) for f in families}
    present = {f: v for f, v in by_family.items() if v is not None}
    civil = [j for j in judged if j.measure == CIVIL and j.group]
    hateful = [j for j in judged if j.measure == HATEFUL and j.group]
    groups = list(dict.fromkeys(j.group for j in civil + hateful if j.group))
    civil_by_group = {g: _rate([j.stopped for j in civil if j.group == g]) for g in groups}
    recall_by_group = {g: _rate([j.stopped for j in hateful if j.group == g]) for g in groups}
    civil_rates = [v for v in civil_by_group.values() if v is not None]
    recalls = [v for v in recall_by_group.values() if v is not None]
    verdicts_by_family = {
        f: dict(collections.Counter(j.verdict for j in judged if j.family == f)) for f in families
    }
    return {
        "cases": len(judged),
        "scored_cases": len(scored),
        "accuracy": _rate([j.right is True for j in scored]),
        "accuracy_by_family": {f: v for f, v in by_family.items() if v is not None},
        "cases_by_family": dict(collections.Counter(j.family for j in judged)),
        "verdicts_by_family": verdicts_by_family,
        "worst_families": sorted(present, key=lambda f: (present[f], f))[:3],
        "families_below_0_60": sorted(f for f, v in present.items() if v < 0.60),
        "civil_hold_rate": _rate([j.stopped for j in civil]),
        "hateful_recall": _rate([j.stopped for j in hateful]),
        "civil_hold_by_group": civil_by_group,
        "hateful_recall_by_group": recall_by_group,
        "civil_hold_spread": round(max(civil_rates) - min(civil_rates), 4) if civil_rates else None,
        "min_group_recall": min(recalls) if recalls else None,
        "civil_hold_reasons": dict(
            collections.Counter(r for j in civil if j.stopped for r in j.reasons).most_common(8)
        ),
    }


def _figure(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def figure_lines(result: dict[str, Any]) -> list[str]:
    """The figures as a text table: overall, per family, per group."""
    out = [
        f"accuracy {_figure(result['accuracy'])}  civil hold rate "
        f"{_figure(result['civil_hold_rate'])}  hateful recall "
        f"{_figure(result['hateful_recall'])}  civil hold spread across groups "
        f"{_figure(result['civil_hold_spread'])}  lowest group recall "
        f"{_figure(result['min_group_recall'])}",
        "",
        "family                 accuracy  cases  verdicts",
    ]
    for family, count in result["cases_by_family"].items():
        value = result["accuracy_by_family"].get(family)
        verdicts = ", ".join(
            f"{k} {v}" for k, v in sorted(result["verdicts_by_family"][family].items())
        )
        out.append(f"{family:<22} {_figure(value):>8}  {count:>5}  {verdicts}")
    if result["civil_hold_by_group"]:
        out += ["", "group                          civil held  hateful recall"]
        for group, held in result["civil_hold_by_group"].items():
            recall = result["hateful_recall_by_group"][group]
            out.append(f"{group:<30} {_figure(held):>10}  {_figure(recall):>14}")
    return out
