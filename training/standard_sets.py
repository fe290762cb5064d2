"""The standard evaluation sets (the own test split and the public sets never trained on), what
each set's figures aim at, and scoring a whole set with the classifier."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from rejoinder.classifier.evaluation import EvalRow, Report, Scorer, evaluate_scores
from rejoinder.core.moderation.categories import CATEGORIES
from training import corpora


def evaluate(
    classifier: Scorer, rows: Sequence[EvalRow], thresholds: Mapping[str, float]
) -> Report:
    """Score every row with the classifier and report, at the given hold thresholds."""
    results = classifier.score_batch([r.text for r in rows])
    scores = {c: np.array([res[c].score for res in results]) for c in CATEGORIES}
    return evaluate_scores(scores, rows, thresholds)


#: What each set's figures aim at: the issue's bars (own test split) and the in-domain ROC-AUC
#: that models trained on those very sets reached (Kaggle insults, UCC; SFU is the same paper's
#: newspaper as UCC, so UCC's figure stands in).
AIMS: dict[str, dict[str, float]] = {
    "own_test": {"recall": 0.90, "false_holds": 0.05},
    "kaggle_insults": {"auc": 0.915},
    "ucc": {"auc": 0.794},
    "sfu": {"auc": 0.794},
}


def standard_sets(data: Path, labelled: Path) -> dict[str, list[EvalRow]]:
    """The project's test split and the evaluation-only public sets (never trained on)."""
    sets = {"own_test": corpora.read_labelled(labelled / "test.jsonl")}
    sets["kaggle_insults"] = corpora.kaggle_insults(data)
    sets["ucc"] = corpora.ucc(data)
    sets["sfu"] = corpora.sfu(data)
    # Identity terms in template sentences: a fixed sample, for false holds on civil ones.
    sets["madlibs"] = random.Random(20261125).sample(corpora.madlibs(data), 2000)
    return sets


def distance_from_aims(name: str, report: Report) -> str:
    parts = []
    for key, aim in AIMS.get(name, {}).items():
        value = getattr(report, key)
        if value is None:
            continue
        better = value <= aim if key == "false_holds" else value >= aim
        parts.append(
            f"{key} {value:.3f} vs aim {aim:.3f} ({value - aim:+.3f}{', met' if better else ''})"
        )
    return "; ".join(parts)
