"""Choices the training makes from out-of-fold scores: the cascade's bars and the thresholds."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rejoinder.core.moderation.categories import CATEGORIES
from training.pipeline import (
    choose_cascade,
    choose_thresholds,
    hold_margin,
    hold_margins,
)

HOLD = {c: {"hold": 0.5, "refuse": 0.9} for c in CATEGORIES}


def _probs(margins: np.ndarray) -> np.ndarray:
    """Rows whose toxicity score has the given hold margin (logit units) at a 0.5 threshold;
    every other category scores nothing."""
    p = np.full((len(margins), len(CATEGORIES)), 1e-6)
    p[:, 0] = 1 / (1 + np.exp(-margins))
    return p


def _world(seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """N-gram scores and blend scores of 4,000 rows that mostly agree."""
    rng = np.random.default_rng(seed)
    ngram = rng.normal(0, 4, 4000)
    blend = ngram + rng.normal(0, 2, 4000)
    return _probs(ngram), _probs(blend)


def _let_through(ngram: np.ndarray, held: np.ndarray, below: Mapping[str, float | None]) -> float:
    """Share of the held rows under every category's bar."""
    margins = hold_margins(ngram, HOLD)
    bar = np.array([np.inf if below[c] is None else below[c] for c in CATEGORIES])
    return float((~(margins[held] >= bar).any(axis=1)).mean())


def test_below_lets_through_at_most_the_given_share_of_what_the_blend_holds() -> None:
    ngram, blend = _world()
    bars = choose_cascade(ngram, blend, HOLD, miss=0.02)
    held = hold_margin(blend, HOLD) >= 0
    assert 0.015 <= _let_through(ngram, held, bars["below"]) <= 0.02
    assert bars["below"]["toxicity"] <= 0
    # a head whose category the blend never holds never asks for the encoder
    assert bars["below"]["spam"] is None


def test_each_head_has_its_own_bar_so_a_noisy_head_does_not_send_every_comment_on() -> None:
    rng = np.random.default_rng(11)
    n = 4000
    # toxicity: the n-grams agree with the blend; threat: a head whose n-gram margins sit
    # over its hold point on most rows, and far higher on the few the blend holds for it
    tox = rng.normal(-2, 3, n)
    threat = 1 + rng.normal(0, 1, n)
    holds_threat = rng.random(n) < 0.05
    threat[holds_threat] += 6
    k = CATEGORIES.index("threat")
    ngram = _probs(tox)
    ngram[:, k] = 1 / (1 + np.exp(-threat))
    blend = _probs(tox)
    blend[:, k] = np.where(holds_threat, 0.9, 1e-6)
    bars = choose_cascade(ngram, blend, HOLD, miss=0.02)
    held = hold_margin(blend, HOLD) >= 0
    assert _let_through(ngram, held, bars["below"]) <= 0.02
    assert bars["below"]["threat"] > 3  # its bar sits over its civil rows ...
    margins = hold_margins(ngram, HOLD)
    bar = np.array([np.inf if bars["below"][c] is None else bars["below"][c] for c in CATEGORIES])
    sent_on = np.asarray((margins >= bar).any(axis=1))
    # ... so the rows neither head worries about skip the encoder, where one bar over the
    # largest margin sends on most of them (threat margins are mostly over 0)
    assert sent_on[~held].mean() < 0.1
    assert (margins.max(axis=1)[~held] >= 0).mean() > 0.8


def test_per_head_bars_never_send_on_more_than_one_shared_bar() -> None:
    ngram, blend = _world()  # one head: the per-head walk has nothing to gain
    bars = choose_cascade(ngram, blend, HOLD, miss=0.02)
    held = hold_margin(blend, HOLD) >= 0
    margins = hold_margin(ngram, HOLD)
    shared = np.sort(margins[held])[int(0.02 * held.sum())]
    sent_shared = (margins >= shared)[~held].mean()
    sent = (hold_margins(ngram, HOLD)[:, 0] >= bars["below"]["toxicity"])[~held].mean()
    assert sent <= sent_shared + 1e-9


def test_a_precise_head_decides_alone_over_its_bar() -> None:
    ngram, blend = _world()
    bars = choose_cascade(ngram, blend, HOLD, miss=0.02, precision=0.99)
    bar = bars["above"]["toxicity"]
    assert bar is not None and bar >= 0
    over = hold_margin(ngram, HOLD) >= bar
    held = hold_margin(blend, HOLD) >= 0
    assert over.sum() >= 20
    assert held[over].mean() >= 0.99
    # a stricter precision puts the bar higher: fewer rows skip the encoder
    strict = choose_cascade(ngram, blend, HOLD, miss=0.02, precision=0.999)["above"]["toxicity"]
    assert strict is None or strict > bar


def test_a_head_no_bar_makes_precise_never_decides_alone() -> None:
    ngram, blend = _world()
    # the blend holds only every other row the n-grams are sure of: no bar is 99% precise
    noisy = blend.copy()
    noisy[::2, 0] = 1e-6
    bars = choose_cascade(ngram, noisy, HOLD, miss=0.02, precision=0.99)
    assert bars["above"]["toxicity"] is None
    # categories that never score anything have no bar either
    assert bars["above"]["spam"] is None


def test_thresholds_keep_false_holds_within_the_aim() -> None:
    rng = np.random.default_rng(3)
    labels = np.array([1] * 300 + [0] * 300)
    scores = np.full((600, len(CATEGORIES)), 0.01)
    scores[:, 0] = np.clip(rng.normal(0.35, 0.2, 600) + 0.3 * labels, 0.001, 0.999)
    chosen = choose_thresholds(scores, labels, false_hold_aim=0.05)
    hold = np.array([chosen[c]["hold"] for c in CATEGORIES])
    false = (scores[labels == 0] >= hold).any(axis=1).mean()
    caught = (scores[labels == 1] >= hold).any(axis=1).mean()
    assert false <= 0.05
    assert caught > 0.2
    assert chosen["insult"]["hold"] == 1.0  # a category that never helps holds nothing alone
    for c in CATEGORIES:
        assert chosen[c]["refuse"] >= chosen[c]["hold"]
