"""A site's own heads: the fit stays near the prior it is given, learns what the site's
labels add, ignores unknown labels, repeats exactly; stored heads read back or are refused."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import pytest

from rejoinder.classifier.model import Classifier
from rejoinder.classifier.site_models import (
    REPLAY_ROWS,
    UNKNOWN,
    SiteHeads,
    _weights,
    fit_heads,
    held_out_shift,
    labels_for,
    least_disagreement,
    load_replay,
    nearest_categories,
    rejection_categories,
    shipped_base,
)
from rejoinder.core.moderation.categories import CATEGORIES
from rejoinder.usecases.site_models import agreement, other_phases_held, split_recent

ROOT = Path(__file__).resolve().parents[2]
DIM = 12


def _prior(k: int = 2, seed: int = 1) -> SiteHeads:
    rng = np.random.default_rng(seed)
    return SiteHeads(
        encoder_w=rng.normal(0, 0.3, (DIM, k)).astype(np.float32),
        bias=rng.normal(0, 0.5, k),
        ngram_share=0.3,
        base="test",
    )


def _problem(seed: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Own rows labelled by the prior; the site's rows: negatives the prior also clears, and
    positives on a topic of their own (far along the last dimension) that the prior does not
    know, labelled in the first category only."""
    rng = np.random.default_rng(seed)
    prior = _prior()
    own, site = 200, 80
    x = rng.normal(0, 1, (own + 4 * site, DIM))
    ngram = rng.normal(0, 1, (own + 4 * site, 2))
    z = prior.logits(ngram, x)
    clear = np.flatnonzero((z[own:] < 0).all(axis=1))[:site] + own
    keep = np.concatenate([np.arange(own), clear])
    x, ngram, z = x[keep], ngram[keep], z[keep]
    topic = np.arange(own, own + site, 2)
    x[topic, -1] += 4.0
    labels = np.zeros((own + site, 2), dtype=np.int64)
    labels[:own] = (z[:own] > 0).astype(np.int64)
    labels[topic, 0] = 1
    labels[topic, 1] = UNKNOWN
    part = np.array([0] * own + [1] * site, dtype=np.int64)
    return ngram, x, labels, part


def _accuracy(heads: SiteHeads, ngram: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    return float(((heads.logits(ngram, x)[:, 0] > 0) == (y == 1)).mean())


def test_a_strong_prior_keeps_the_heads_it_starts_from() -> None:
    ngram, x, labels, part = _problem()
    prior = _prior()
    fitted = fit_heads(prior, ngram, x, labels, part, strength=1e9)
    assert np.abs(fitted.encoder_w - prior.encoder_w).max() < 1e-5
    assert np.abs(fitted.bias - prior.bias).max() < 1e-5
    assert (fitted.ngram_share, fitted.base) == (prior.ngram_share, prior.base)


def test_the_fit_learns_the_sites_labels_and_keeps_the_own_examples() -> None:
    ngram, x, labels, part = _problem()
    prior = _prior()
    fitted = fit_heads(prior, ngram, x, labels, part, strength=0.1)
    site, own = part == 1, part == 0
    before = _accuracy(prior, ngram[site], x[site], labels[site, 0])
    after = _accuracy(fitted, ngram[site], x[site], labels[site, 0])
    assert after > before + 0.15, (before, after)
    assert after > 0.9
    # What the own examples taught is not wiped out.
    assert _accuracy(fitted, ngram[own], x[own], labels[own, 0]) > 0.9
    # A category the site says nothing about is fitted on the own examples alone.
    assert _accuracy(fitted, ngram[own], x[own], labels[own, 1]) > 0.9


def test_a_weaker_prior_moves_further() -> None:
    ngram, x, labels, part = _problem()
    prior = _prior()

    def moved_by(strength: float) -> float:
        fitted = fit_heads(prior, ngram, x, labels, part, strength=strength)
        return float(np.abs(fitted.encoder_w - prior.encoder_w).sum())

    moved = [moved_by(s) for s in (10.0, 1.0, 0.1)]
    assert moved[0] < moved[1] < moved[2]


def test_rows_with_unknown_labels_change_nothing_and_a_refit_repeats_exactly() -> None:
    ngram, x, labels, part = _problem()
    prior = _prior()
    first = fit_heads(prior, ngram, x, labels, part)
    assert first.to_bytes() == fit_heads(prior, ngram, x, labels, part).to_bytes()
    # The same rows again with every label unknown: they weigh nothing, and leave the mean and
    # spread the penalty is measured in as they were.
    more = fit_heads(
        prior,
        np.vstack([ngram, ngram * 5]),
        np.vstack([x, x]),
        np.vstack([labels, np.full(labels.shape, UNKNOWN)]),
        np.concatenate([part, part]),
    )
    assert np.allclose(more.encoder_w, first.encoder_w, atol=1e-5)
    assert np.allclose(more.bias, first.bias, atol=1e-5)


def test_positives_weigh_half_and_negatives_half_in_each_category() -> None:
    labels = np.array([[1], [0], [0], [0], [1], [UNKNOWN], [0]], dtype=np.int64)
    part = np.array([0, 0, 0, 0, 1, 1, 1], dtype=np.int64)
    w = _weights(labels, part)[:, 0]
    assert w.tolist() == pytest.approx([0.25, 0.125, 0.125, 0.125, 0.25, 0.0, 0.125])


def test_labels_of_an_example() -> None:
    assert set(labels_for(0, "none").values()) == {0}
    spam = labels_for(1, "spam")
    assert spam["spam"] == 1 and spam["toxicity"] == UNKNOWN
    insult = labels_for(1, "insult")
    assert (insult["insult"], insult["toxicity"], insult["spam"]) == (1, 1, UNKNOWN)


def test_stored_heads_read_back_and_anything_else_is_refused() -> None:
    k = len(CATEGORIES)
    encoder_w = (np.arange(384 * k).reshape(384, k) / 1000).astype(np.float32)
    heads = SiteHeads(encoder_w, np.linspace(-1, 1, k), 0.3, "abc")
    back = SiteHeads.from_bytes(heads.to_bytes())
    assert np.array_equal(back.encoder_w, heads.encoder_w)
    assert np.array_equal(back.bias, heads.bias)
    assert (back.ngram_share, back.base) == (0.3, "abc")
    for bad in (b"", b"not heads", pickle.dumps({"encoder_w": heads.encoder_w})):
        with pytest.raises(ValueError):
            SiteHeads.from_bytes(bad)
    wrong_shape = SiteHeads(heads.encoder_w[:, :2], heads.bias[:2], 0.3, "abc")
    with pytest.raises(ValueError):
        SiteHeads.from_bytes(wrong_shape.to_bytes())
    nan = SiteHeads(heads.encoder_w.copy(), heads.bias.copy(), 0.3, "abc")
    nan.encoder_w[0, 0] = np.nan
    with pytest.raises(ValueError):
        SiteHeads.from_bytes(nan.to_bytes())
    # An object array would need pickle to load: refused.
    out = io.BytesIO()
    np.savez(out, format=np.array(1), encoder_w=np.array([object()], dtype=object))
    with pytest.raises(ValueError):
        SiteHeads.from_bytes(out.getvalue())


def test_nearest_categories_follow_the_closest_examples() -> None:
    rng = np.random.default_rng(3)
    centres = {"spam": np.full(DIM, 3.0), "threat": np.full(DIM, -3.0)}
    centres["threat"][: DIM // 2] = 3.0
    replay = np.vstack([centres[c] + rng.normal(0, 0.5, (20, DIM)) for c in centres])
    cats = ["spam"] * 20 + ["threat"] * 20
    replay = np.vstack([replay, rng.normal(0, 0.5, (10, DIM))])
    cats += ["none"] * 10
    asked = np.vstack([centres["threat"] + 0.1, centres["spam"] - 0.1])
    assert nearest_categories(asked, replay, cats) == ["threat", "spam"]


def test_the_replayed_examples_are_the_head_of_the_projects_own_training_split() -> None:
    shipped = ROOT / "src" / "rejoinder" / "classifier" / "weights" / "replay.jsonl"
    own = ROOT / "data" / "labelled" / "train.jsonl"
    head = own.read_text(encoding="utf-8").splitlines(keepends=True)[:REPLAY_ROWS]
    assert shipped.read_text(encoding="utf-8") == "".join(head), (
        f"refresh the copy: head -n {REPLAY_ROWS} data/labelled/train.jsonl "
        "> src/rejoinder/classifier/weights/replay.jsonl"
    )
    replay = load_replay()
    assert len(replay.texts) == replay.labels.shape[0] == REPLAY_ROWS
    assert {c for c in replay.cats if c != "none"} <= set(CATEGORIES)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


def test_the_shipped_heads_as_site_heads_score_like_the_shipped_model(
    classifier: Classifier,
) -> None:
    texts = [
        "You are a complete idiot and everyone knows it.",
        "The council's budget is late again; the article explains why.",
        "Buy cheap watches at my shop, great prices every day!!!",
    ]
    full = Classifier.load(mode="full")
    heads = classifier.shipped_heads()
    assert heads.base == classifier.base == shipped_base()
    for text, as_site, shipped in zip(
        texts, classifier.score_batch(texts, heads), full.score_batch(texts), strict=True
    ):
        for c in CATEGORIES:
            assert as_site[c].score == pytest.approx(shipped[c].score, abs=1e-5), (text, c)
        insult = [s.text for s in as_site["insult"].spans]
        assert insult == [s.text for s in shipped["insult"].spans]


def test_heads_made_for_other_weights_are_not_used(classifier: Classifier) -> None:
    text = "The council's budget is late again."
    heads = classifier.shipped_heads()
    loud = SiteHeads(heads.encoder_w, heads.bias + 50, heads.ngram_share, "another")
    assert not classifier.accepts(loud)
    assert (
        classifier.score(text, loud)["toxicity"].score == classifier.score(text)["toxicity"].score
    )
    mine = SiteHeads(heads.encoder_w, heads.bias + 50, heads.ngram_share, classifier.base)
    assert classifier.accepts(mine)
    assert classifier.score(text, mine)["toxicity"].score > 0.99


def test_agreement_and_the_split_by_time() -> None:
    assert agreement([True, False, True, False], [1, 0, 0, 1]) == 0.5
    assert agreement([], []) == 0.0
    assert split_recent(30) == 10 and split_recent(100) == 20 and split_recent(6) == 3
    assert split_recent(2) == 1
    links = {
        "signals": [{"phase": "links", "action": "hold"}, {"phase": "model", "action": "hold"}]
    }
    mode = {"signals": [{"phase": "trust", "action": "hold", "code": "premoderate_all"}]}
    assert other_phases_held(links) and not other_phases_held(mode)
    assert not other_phases_held({}) and not other_phases_held({"signals": "garbage"})


def test_a_rejection_the_model_saw_no_abuse_in_is_taught_as_spam() -> None:
    rng = np.random.default_rng(4)
    replay = np.vstack([np.full(DIM, 3.0), np.full(DIM, -3.0)]) + rng.normal(0, 0.1, (2, DIM))
    cats = ["insult", "spam"]
    holds = [0.8, 1.0, 0.999, 0.9, 0.95, 0.02]
    probs = np.zeros((4, len(CATEGORIES)))
    probs[1, 0] = 0.6  # toxicity within one logit of its threshold (0.8): nearly held
    probs[2, 0] = 0.55  # further off: the model saw no abuse
    probs[3, 1] = 0.9  # insult, whose threshold of 1 holds nothing: not nearly held
    near_insult = np.full((4, DIM), 3.0)
    assert rejection_categories(probs, holds, near_insult, replay, cats) == [
        "spam",
        "insult",
        "spam",
        "spam",
    ]


def test_the_held_out_shift_disagrees_least_and_never_raises_the_bias() -> None:
    clear = np.array([-1.0, 0.5, 2.0])
    # No shift: two approved held. Below 0.5: one; below 2: none, but one rejected let through.
    assert least_disagreement(clear, np.array([3.0, 1.0])) == pytest.approx(-0.5, abs=1e-5)
    assert least_disagreement(clear, np.array([3.0, 2.5])) == pytest.approx(-2.0, abs=1e-5)
    assert least_disagreement(np.array([-1.0]), np.array([-0.5])) == 0.0
    ngram, x, labels, part = _problem()
    shift = held_out_shift(_prior(), ngram, x, labels, part, 0.1, [0.5, 0.9995])
    assert shift.shape == (2,) and (shift <= 0).all()
    assert shift[1] == 0.0  # a category that holds nothing on its own is left alone
