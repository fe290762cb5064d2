"""A site's own model heads, fitted on its moderators' decisions and kept near the shipped ones.

A site model changes only the encoder heads (weights and bias) of the blend; the n-gram heads
and the encoder itself are the shipped ones. Per category the logit is

    ngram_share * ngram_logit + pooled @ encoder_w + bias

which, with ``encoder_w = (1 - share) * W0`` and ``bias = (1 - share) * b0``, is exactly the
shipped blend (`shipped_heads`). `fit_heads` is a logistic regression per category, solved by
Newton's method, with a Gaussian prior centred on the shipped heads: the penalty
``strength / 2 * |theta - theta0|^2`` (in standardised units) stands for what the shipped data
taught. The project's own labelled examples (`replay.jsonl`, shipped with the weights) are
fitted beside the site's decisions as an anchor: their loss's slope at the shipped heads is
taken off, so they resist every change that would move their own scores without pulling the
heads towards a model of them alone. The site's decisions are fitted at the hold thresholds
(a decision is about holding); then the bias moves down, never up, so that the own examples
are held no more often than by the shipped heads, and so that the site's decisions, judged out
of fold, are disagreed with least. Everything here is numpy: nothing of the training-only
dependencies is needed at run time.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import io
import json
import os
import stat
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from rejoinder.classifier.meta import ModelMeta, read_meta, shipped_weights
from rejoinder.core.moderation.categories import CATEGORIES

FORMAT = 1
UNKNOWN = -1
#: The prior's strength by default: chosen on an invented site (docs/MODEL.md, "Per-site
#: models"; bench/site_model.py measures it).
STRENGTH = 0.03
#: A category held from this score on holds (next to) nothing: its head is left as shipped.
NEVER_HOLDS = 0.999
#: Out-of-fold parts for `held_out_shift`.
FOLDS = 3
#: How much one of the site's decisions weighs against one of the own examples.
SITE_WEIGHT = 1.0
#: How many of the nearest own examples vote on the category of a rejected comment.
NEIGHBOURS = 7
#: How many own examples are replayed: the first rows of `data/labelled/train.jsonl`. The
#: site's decisions are weighed against them (`_weights`), so more rows dilute the decisions;
#: with every own row, the invented site of tests/server/test_site_models.py does not learn to
#: hold its new plug (docs/experiments/site-models.md).
REPLAY_ROWS = 3266
#: Of the own examples that must be published, the share a site's head may hold beyond what
#: the shipped head holds before its bias is moved down (`_keep_false_holds`). With none, one
#: odd own example can undo a small site's decisions at a low hold point, such as preset
#: "standard"'s spam threshold (docs/experiments/site-models.md).
KEEP_SLACK = 0.005
Floats = npt.NDArray[np.float64]


def weights_digest(meta: ModelMeta, ngram_w: npt.NDArray[Any], encoder_w: npt.NDArray[Any]) -> str:
    """What a site model was fitted against: the encoder file, the n-gram weights and the
    shipped heads. A site model made for other shipped weights is not used."""
    h = hashlib.sha256()
    h.update(meta.encoder.sha256.encode())
    fields = [meta.bits, meta.max_tokens, meta.ngram_share, meta.ngram_bias, meta.encoder_bias]
    h.update(json.dumps(fields).encode())
    h.update(np.ascontiguousarray(ngram_w).tobytes())
    h.update(np.ascontiguousarray(encoder_w).tobytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class SiteHeads:
    """Encoder heads for one site: logit = ngram_share * ngram_logit + pooled @ encoder_w + bias."""

    encoder_w: npt.NDArray[np.float32]  # dimensions x categories, the blend's share folded in
    bias: Floats  # per category
    ngram_share: float
    base: str  # `weights_digest` of the shipped weights they go with

    def logits(self, ngram: Floats, pooled: npt.NDArray[np.floating[Any]]) -> Floats:
        """Blended logits of rows of n-gram logits and pooled encoder vectors."""
        z = self.ngram_share * ngram + np.asarray(pooled @ self.encoder_w, dtype=np.float64)
        return np.asarray(z + self.bias, dtype=np.float64)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        np.savez(
            out,
            format=np.array(FORMAT),
            encoder_w=self.encoder_w.astype(np.float32),
            bias=self.bias.astype(np.float64),
            ngram_share=np.array(self.ngram_share, dtype=np.float64),
            base=np.array(self.base),
            categories=np.array(CATEGORIES),
        )
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SiteHeads:
        """Read stored heads (never pickle); ValueError if they are not heads of this format."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                if int(z["format"]) != FORMAT or tuple(z["categories"]) != CATEGORIES:
                    raise ValueError("site model heads of another format")
                heads = cls(
                    encoder_w=np.asarray(z["encoder_w"], dtype=np.float32),
                    bias=np.asarray(z["bias"], dtype=np.float64),
                    ngram_share=float(z["ngram_share"]),
                    base=str(z["base"]),
                )
        except (OSError, KeyError, EOFError) as error:
            raise ValueError("not site model heads") from error
        k = len(CATEGORIES)
        if heads.encoder_w.ndim != 2 or heads.encoder_w.shape[1] != k or heads.bias.shape != (k,):
            raise ValueError("site model heads of the wrong shape")
        if not (np.isfinite(heads.encoder_w).all() and np.isfinite(heads.bias).all()):
            raise ValueError("site model heads with non-finite weights")
        return heads


def shipped_heads(meta: ModelMeta, encoder_w: npt.NDArray[Any], base: str) -> SiteHeads:
    """The shipped blend written as site heads: the centre of the prior."""
    share = meta.ngram_share
    return SiteHeads(
        encoder_w=((1 - share) * np.asarray(encoder_w, dtype=np.float64)).astype(np.float32),
        bias=(1 - share) * np.asarray(meta.encoder_bias, dtype=np.float64),
        ngram_share=share,
        base=base,
    )


# --- the examples ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replay:
    """The project's own labelled examples that ship with the weights, as training rows."""

    texts: tuple[str, ...]
    labels: npt.NDArray[np.int64]  # rows x categories: 1, 0 or UNKNOWN
    cats: tuple[str, ...]  # the example's category ("none" for label 0)


class FeatureSource(Protocol):
    """What `replay_features` needs of a classifier (`Classifier` has it)."""

    base: str

    def features(
        self, texts: Sequence[str]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]: ...


def replay_features(
    clf: FeatureSource, replay: Replay, folder: Path | None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]:
    """The replayed examples' n-gram logits and sentence vectors (`Classifier.features`).

    They depend on the shipped weights and examples only, yet encoding 3,266 texts is most of
    a training's time; so they are kept in the cache folder as an .npz (read without pickle),
    one per digest of the weights and the texts. A file this user does not own, or that
    others may write, or that fails to read, is ignored and the features computed again.
    Trainings that start together on one host compute them once: the first holds a lock on
    the folder's `replay-features.lock` while it computes, and the others wait for it and
    read what it kept."""
    digest = hashlib.sha256(
        "\n".join([f"replay-features-{FORMAT}", clf.base, *replay.texts]).encode()
    ).hexdigest()[:32]
    if folder is None:
        return clf.features(list(replay.texts))
    path = folder / f"replay-features-{digest}.npz"
    kept = _read_features(path, len(replay.texts))
    if kept is not None:
        return kept
    with _folder_lock(folder):
        kept = _read_features(path, len(replay.texts))  # kept by the one we waited for
        if kept is not None:
            return kept
        zn, pooled = clf.features(list(replay.texts))
        try:
            # Written whole under another name, then renamed: a reader never sees half a file.
            with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".npz") as f:
                np.savez(f, zn=zn, pooled=pooled)
            os.replace(f.name, path)
        except OSError:  # a read-only home, a full disk: the next training computes them again
            pass
    return zn, pooled


def _read_features(
    path: Path, rows: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]] | None:
    try:
        with path.open("rb") as file:
            if _private(os.fstat(file.fileno())) and _private(path.parent.stat()):
                kept = np.load(file, allow_pickle=False)
                zn, pooled = kept["zn"], kept["pooled"]
                if zn.shape[0] == pooled.shape[0] == rows:
                    return zn.astype(np.float64), pooled.astype(np.float32)
    except (OSError, ValueError, KeyError):
        pass
    return None


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on the cache folder's replay lock file, held until the block ends;
    none (the block runs unlocked) where the folder cannot be made or the file opened."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(folder / "replay-features.lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the file lets the lock go


def _private(status: os.stat_result) -> bool:
    return status.st_uid == os.getuid() and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def labels_for(label: int, cat: str) -> dict[str, int]:
    """Per-category labels of an example: label 0 is clear in every category; a positive is
    positive in its category (and in toxicity, unless it is spam) and unknown elsewhere."""
    if label == 0:
        return dict.fromkeys(CATEGORIES, 0)
    known = {"spam": 1} if cat == "spam" else {"toxicity": 1, cat: 1}
    return {c: known.get(c, UNKNOWN) for c in CATEGORIES}


def load_replay() -> Replay:
    """`weights/replay.jsonl`: the first `REPLAY_ROWS` rows of `data/labelled/train.jsonl`
    (MIT, the project's own)."""
    raw = shipped_weights().joinpath("replay.jsonl")
    rows = [json.loads(line) for line in raw.read_text(encoding="utf-8").splitlines() if line]
    labels = np.array(
        [[labels_for(int(r["label"]), str(r["cat"]))[c] for c in CATEGORIES] for r in rows],
        dtype=np.int64,
    )
    return Replay(
        texts=tuple(str(r["text"]) for r in rows),
        labels=labels,
        cats=tuple(str(r["cat"]) if int(r["label"]) else "none" for r in rows),
    )


def nearest_categories(
    pooled: npt.NDArray[np.floating[Any]],
    replay_pooled: npt.NDArray[np.floating[Any]],
    replay_cats: Sequence[str],
    allowed: Sequence[str] = CATEGORIES,
    neighbours: int = NEIGHBOURS,
) -> list[str]:
    """For each comment, the most common category among its nearest own must-not-publish
    examples of the `allowed` categories (cosine of standardised encoder vectors; a tie goes
    to the nearer)."""
    positive = np.array([c in allowed for c in replay_cats])
    if not positive.any() or len(pooled) == 0:
        return [allowed[0]] * len(pooled)
    both = np.vstack([replay_pooled, pooled]).astype(np.float64)
    mu, sd = both.mean(axis=0), both.std(axis=0) + 1e-6

    def unit(x: npt.NDArray[np.floating[Any]]) -> Floats:
        q = (np.asarray(x, dtype=np.float64) - mu) / sd
        return np.asarray(q / (np.linalg.norm(q, axis=1, keepdims=True) + 1e-12))

    cats = [c for c, p in zip(replay_cats, positive, strict=True) if p]
    similar = unit(pooled) @ unit(np.asarray(replay_pooled)[positive]).T
    out = []
    for row in similar:
        order = np.argsort(-row, kind="stable")[:neighbours]
        votes = Counter(cats[i] for i in order)
        best = max(votes.values())
        out.append(next(cats[i] for i in order if votes[cats[i]] == best))
    return out


def rejection_categories(
    probs: Floats,
    holds: Sequence[float],
    pooled: npt.NDArray[np.floating[Any]],
    replay_pooled: npt.NDArray[np.floating[Any]],
    replay_cats: Sequence[str],
) -> list[str]:
    """What each rejected comment the model let through is taught as. If the shipped model
    nearly held it for abuse (a category of abuse within one logit of its hold threshold),
    the category of abuse of the nearest own examples; otherwise the moderators rejected it
    for what it says rather than how (a plug, an off-topic post), and it is taught as spam,
    the category of unwanted content: the heads of abuse are not taught that a comment about
    football is abusive."""
    toxic = [c for c in CATEGORIES if c != "spam"]
    columns = [CATEGORIES.index(c) for c in toxic]
    cut = np.clip(np.asarray([holds[k] for k in columns], dtype=np.float64), 1e-6, 1 - 1e-6)
    near = 1 / (1 + np.exp(1 - np.log(cut / (1 - cut))))
    scores = np.asarray(probs).reshape(-1, len(CATEGORIES))[:, columns]
    picked = np.flatnonzero((scores >= near).any(axis=1))
    nearest = nearest_categories(np.asarray(pooled)[picked], replay_pooled, replay_cats, toxic)
    out = ["spam"] * len(pooled)
    for i, cat in zip(picked, nearest, strict=True):
        out[int(i)] = cat
    return out


# --- the fit -----------------------------------------------------------------------------------


def _weights(labels: npt.NDArray[np.int64], part: npt.NDArray[np.int64]) -> Floats:
    """Per row and category, as the shipped training weighs its rows: in each category the
    positives weigh half in all and the negatives half, whichever part they come from (0 =
    own examples, 1 = the site's decisions), so a site's approvals teach which comments are
    fine without moving every category's bias, and an unknown label weighs nothing. A site's
    decision counts `SITE_WEIGHT` times an own example."""
    w = np.where(part[:, None] == 1, SITE_WEIGHT, 1.0) * (labels != UNKNOWN)
    for k in range(labels.shape[1]):
        for value in (0, 1):
            chosen = labels[:, k] == value
            total = w[chosen, k].sum()
            if total > 0:
                w[chosen, k] *= 0.5 / total
    return np.asarray(w, dtype=np.float64)


def fit_heads(
    prior: SiteHeads,
    ngram: Floats,
    pooled: npt.NDArray[np.floating[Any]],
    labels: npt.NDArray[np.int64],
    part: npt.NDArray[np.int64],
    strength: float = STRENGTH,
    holds: Sequence[float] | None = None,
    iterations: int = 50,
) -> SiteHeads:
    """New encoder heads by Newton's method on an L2-penalised logistic loss per category,
    the penalty pulling them towards `prior` (deterministic; no sampling).

    ngram: rows x categories of n-gram logits (a fixed offset); pooled: rows x dimensions;
    labels: 1, 0 or UNKNOWN per row and category; part: 0 for own examples, 1 for the site's.
    holds: per category, the hold threshold the scores will be compared with. The loss then
    asks for a score above it (held) for label 1 and below it for label 0, rather than above
    or below one half: a decision is about holding, and a threshold such as 0.02 for spam
    would otherwise hold comments the fit left at 0.1. A category whose threshold is at least
    `NEVER_HOLDS` holds nothing on its own and keeps the prior's head.
    """
    if strength <= 0:
        raise ValueError("the prior's strength must be positive")
    x = np.asarray(pooled, dtype=np.float64)
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
    q = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    w_all = _weights(labels, part)
    w_new = np.array(prior.encoder_w, dtype=np.float64)
    b_new = np.array(prior.bias, dtype=np.float64)
    for k in range(labels.shape[1]):
        w = w_all[:, k]
        hold = 0.5 if holds is None else float(holds[k])
        if not w.any() or hold >= NEVER_HOLDS:
            continue
        hold = min(max(hold, 1e-6), 1 - 1e-6)
        h = np.log(hold / (1 - hold))
        y = (labels[:, k] == 1).astype(np.float64)
        held_from = prior.ngram_share * ngram[:, k] - h
        # The own examples keep the boundary they were fitted with (their label says what a
        # comment is); the site's decisions are about holding, at the threshold.
        offset = held_from + np.where(part == 1, 0.0, h)
        theta0 = np.append(prior.encoder_w[:, k] * sd, prior.bias[k] + mu @ prior.encoder_w[:, k])
        theta = _newton(q, y, w, offset, theta0, strength, iterations, part == 0)
        own_clear = (part == 0) & (labels[:, k] == 0)
        theta[-1] += _keep_false_holds(q, held_from, theta0, theta, own_clear)
        w_new[:, k] = theta[:-1] / sd
        b_new[k] = theta[-1] - (theta[:-1] / sd) @ mu
    return SiteHeads(w_new.astype(np.float32), b_new, prior.ngram_share, prior.base)


def held_out_shift(
    prior: SiteHeads,
    ngram: Floats,
    pooled: npt.NDArray[np.floating[Any]],
    labels: npt.NDArray[np.int64],
    part: npt.NDArray[np.int64],
    strength: float,
    holds: Sequence[float],
    folds: int = FOLDS,
) -> Floats:
    """Per category, how far down to move the bias of heads fitted on all these rows, judged
    out of fold: each of `folds` parts of the site's decisions is scored by heads fitted
    without it, and the shift (never up) is the one that disagrees with the fewest of them
    (rejected comments of the category let through, plus approved comments held), the
    smallest such. In-sample every approved comment looks clean; the ones to come do not."""
    k_cats = labels.shape[1]
    site = np.flatnonzero(part == 1)
    shift = np.zeros(k_cats)
    if len(site) < folds * 2:
        return shift
    fold_of = np.full(len(part), -1)
    fold_of[site] = np.arange(len(site)) % folds
    margins = np.zeros((len(part), k_cats))
    x = np.asarray(pooled)
    for f in range(folds):
        out = fold_of == f
        heads = fit_heads(prior, ngram[~out], x[~out], labels[~out], part[~out], strength, holds)
        margins[out] = heads.logits(ngram[out], x[out])
    approved = site[(labels[site] == 0).all(axis=1)]
    for k in range(k_cats):
        if holds[k] >= NEVER_HOLDS:
            continue
        h = np.log(holds[k] / (1 - holds[k])) if 0 < holds[k] < 1 else 0.0
        shift[k] = least_disagreement(
            margins[approved, k] - h, margins[site[labels[site, k] == 1], k] - h
        )
    return shift


def least_disagreement(clear: Floats, rejected: Floats) -> float:
    """The shift (0 or down) of margins that holds the fewest approved comments (`clear`)
    plus lets through the fewest rejected ones; the smallest such shift."""
    best, best_errors = 0.0, int((clear >= 0).sum() + (rejected < 0).sum())
    for candidate in sorted(-clear[clear >= 0] - 1e-6, reverse=True):
        errors = int((clear + candidate >= 0).sum() + (rejected + candidate < 0).sum())
        if errors < best_errors:
            best, best_errors = float(candidate), errors
    return best


def _keep_false_holds(
    q: Floats, offset: Floats, theta0: Floats, theta: Floats, negatives: npt.NDArray[np.bool_]
) -> float:
    """A shift of the bias (never up) so that the new head holds no more of the own examples
    that must be published than the prior does, but for `KEEP_SLACK` of them: what the
    shipped thresholds were chosen for (a false-hold aim on the own examples) is kept,
    whatever the site's examples taught."""
    if not negatives.any():
        return 0.0
    before = int(((offset + q @ theta0)[negatives] >= 0).sum())
    before += int(KEEP_SLACK * negatives.sum())
    after = np.sort(offset[negatives] + q[negatives] @ theta)[::-1]
    if before >= len(after) or after[before] < 0:
        return 0.0
    return float(-after[before] - 1e-6)


def _newton(
    q: Floats,
    y: Floats,
    w: Floats,
    offset: Floats,
    theta0: Floats,
    strength: float,
    iterations: int,
    anchored: npt.NDArray[np.bool_] | None = None,
) -> Floats:
    """Minimise the weighted logistic loss plus the penalty. The `anchored` rows (the own
    examples) pull nowhere at `theta0`: their loss's slope there is taken off, so they add
    only curvature, resisting changes that would move their scores. The shipped heads were
    fitted on them among tens of thousands of other rows; refitting them alone would drag
    the heads towards a model of the own examples only (more false holds elsewhere)."""
    anchored = np.zeros(len(w), dtype=bool) if anchored is None else anchored
    keep = w > 0
    q, y, w, offset, anchored = q[keep], y[keep], w[keep], offset[keep], anchored[keep]
    p0 = 1 / (1 + np.exp(-np.clip(offset + q @ theta0, -40, 40)))
    slope0 = q[anchored].T @ (w[anchored] * (p0[anchored] - y[anchored]))

    def objective(theta: Floats) -> float:
        z = offset + q @ theta
        loss = float((w * (np.logaddexp(0, z) - y * z)).sum()) - float(slope0 @ theta)
        return loss + 0.5 * strength * float(((theta - theta0) ** 2).sum())

    theta = theta0.copy()
    value = objective(theta)
    eye = strength * np.eye(len(theta))
    # The curvature in single precision: half the work of the fit's largest product, and
    # only the step's length depends on it; the gradient, the loss and so the optimum found
    # stay in double precision.
    q32 = q.astype(np.float32)
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(offset + q @ theta, -40, 40)))
        grad = q.T @ (w * (p - y)) - slope0 + strength * (theta - theta0)
        curvature = (w * p * (1 - p)).astype(np.float32)
        hess = ((q32 * curvature[:, None]).T @ q32).astype(np.float64) + eye
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-6:
            candidate = theta - t * step
            new_value = objective(candidate)
            if new_value <= value:
                break
            t /= 2
        else:
            break
        gain = value - new_value
        theta, value = candidate, new_value
        if gain <= 1e-12 * max(1.0, abs(value)):
            break
    return theta


@functools.cache
def shipped_base() -> str:
    """The `weights_digest` of the weights shipped in the package, read from their files (without
    loading the model): a site model whose `base` differs was made for other weights."""
    weights = shipped_weights()
    meta = read_meta(weights)
    with weights.joinpath("ngram_weights.npy").open("rb") as f:
        ngram_w = np.load(f, allow_pickle=False)
    with weights.joinpath("encoder_heads.npy").open("rb") as f:
        encoder_w = np.load(f, allow_pickle=False)
    return weights_digest(meta, ngram_w, encoder_w)
