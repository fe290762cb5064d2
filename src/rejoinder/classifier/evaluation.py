"""ROC-AUC, recall of "must not publish" and false holds, overall and per category."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from rejoinder.core.moderation.categories import CATEGORIES


@dataclass(frozen=True)
class EvalRow:
    """One evaluation text: label 1 = must not be published automatically."""

    text: str
    label: int
    cat: str = "none"
    extra: dict[str, str] = field(default_factory=dict)


class _Scored(Protocol):
    @property
    def score(self) -> float: ...


class Scorer(Protocol):
    def score_batch(self, texts: Sequence[str]) -> Sequence[Mapping[str, _Scored]]: ...


@dataclass(frozen=True)
class CategoryReport:
    category: str
    positives: int  # label-1 rows of this category
    auc: float | None  # this category's score: its positives against every label-0 row
    recall: float | None  # of its positives, the share held (by any category)
    false_holds: float  # of label-0 rows, the share this category's score alone would hold


@dataclass(frozen=True)
class Report:
    rows: int
    positives: int
    auc: float | None  # the hold margin: max over categories of logit(score) - logit(threshold)
    recall: float | None  # label-1 rows held by any category
    false_holds: float | None  # label-0 rows held by any category
    categories: tuple[CategoryReport, ...]

    def lines(self) -> list[str]:
        def f(v: float | None) -> str:
            return "  n/a" if v is None else f"{v:.3f}"

        out = [
            f"rows {self.rows} (label 1: {self.positives})  ROC-AUC {f(self.auc)}  "
            f"recall {f(self.recall)}  false holds {f(self.false_holds)}"
        ]
        for c in self.categories:
            out.append(
                f"  {c.category:<16} n={c.positives:<5} AUC {f(c.auc)}  recall {f(c.recall)}  "
                f"false holds {c.false_holds:.3f}"
            )
        return out


def roc_auc(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float | None:
    """Area under the ROC curve (ties count a half); None when one class is missing."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    # average ranks over ties
    boundaries = np.flatnonzero(np.diff(sorted_s)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(s)]])
    for a, b in zip(starts, ends, strict=True):
        ranks[order[a:b]] = (a + b + 1) / 2
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def evaluate_scores(
    scores: Mapping[str, npt.ArrayLike],
    rows: Sequence[EvalRow],
    thresholds: Mapping[str, float],
) -> Report:
    """The report from per-category score arrays (one value per row)."""
    labels = np.array([r.label for r in rows], dtype=np.int64)
    cats = [c for c in CATEGORIES if c in scores and c in thresholds]
    s = {c: np.clip(np.asarray(scores[c], dtype=np.float64), 1e-9, 1 - 1e-9) for c in cats}
    margin = np.max([np.log(s[c] / (1 - s[c])) - _logit(thresholds[c]) for c in cats], axis=0)
    held = margin >= 0
    pos = labels == 1
    neg = labels == 0
    per_cat = []
    row_cats = np.array([r.cat for r in rows])
    for c in cats:
        mine = pos & (row_cats == c)
        mask = mine | neg
        per_cat.append(
            CategoryReport(
                c,
                int(mine.sum()),
                roc_auc(labels[mask], s[c][mask]),
                float(held[mine].mean()) if mine.any() else None,
                float((s[c][neg] >= thresholds[c]).mean()) if neg.any() else 0.0,
            )
        )
    return Report(
        len(rows),
        int(pos.sum()),
        roc_auc(labels, margin),
        float(held[pos].mean()) if pos.any() else None,
        float(held[neg].mean()) if neg.any() else None,
        tuple(per_cat),
    )
