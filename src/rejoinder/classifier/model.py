"""The shipped classifier: n-gram heads always, the sentence encoder only when they are unsure."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from rejoinder.classifier.blinding import Blinded, blind
from rejoinder.classifier.encoder import HIDDEN, Encoded, Encoder
from rejoinder.classifier.meta import ModelMeta, PresetMeta, read_meta, shipped_weights
from rejoinder.classifier.ngrams import Features, featurise
from rejoinder.classifier.site_models import SiteHeads, shipped_heads, weights_digest
from rejoinder.classifier.spelling import normalise
from rejoinder.core.moderation.categories import CATEGORIES
from rejoinder.core.moderation.models import Threshold

Mode = Literal["cascade", "fast", "full", "ngram"]
NGRAM_CHARS = 2000  # the n-gram model reads at most this many characters (as in training)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_MAX_SPANS = 4
#: Words an explanation does not stop at on their own (articles, pronouns, auxiliaries,
#: prepositions, negation parts): with them left out, the model's spans meet the SemEval
#: toxic-spans test annotations better (docs/experiments/log.md; training/eval_spans.py
#: measures it).
FUNCTION_WORDS = frozenset(
    """
    a an the and or but nor so yet if then than that this these those there here of to in on
    at by for with from into onto upon about over under after before between through during
    without within is am are was were be been being do does did done have has had having
    will would shall should can could may might must ought i me my mine we us our ours you
    your yours he him his she her hers it its they them their theirs who whom whose which
    what when where why how not no as just also too very only even still all any some each
    every both either neither such own same other up down out off again further once s t don
    didn doesn isn aren wasn weren won wouldn shouldn couldn ll re ve d m against toward towards
    around among across along behind beyond near since until while because though although
    whether per via
    """.split()  # noqa: SIM905 - 164 quoted words in a list read worse
)


@dataclass(frozen=True)
class WeightedSpan:
    """A part of the original text that drove a score: text == original[start:end];
    weight is its share of the evidence for the category, the strongest span being 1."""

    start: int
    end: int
    text: str
    weight: float


@dataclass(frozen=True)
class CategoryScore:
    category: str
    score: float
    spans: tuple[WeightedSpan, ...]


@dataclass(frozen=True)
class Preset:
    """One operating point of the shipped model: its thresholds, the cap on civil news
    sentences they were chosen under, and the cascade bars chosen for them (per mode)."""

    name: str
    civil_aim: float
    thresholds: Mapping[str, Threshold]
    bars: Mapping[str, Mapping[str, Any]]  # "cascade" / "fast" -> below, above, above_all

    @classmethod
    def from_meta(cls, name: str, data: PresetMeta) -> Preset:
        return cls(
            name=name,
            civil_aim=data.civil_aim,
            thresholds={c: Threshold(t.hold, t.refuse) for c, t in data.thresholds.items()},
            bars={mode: bars.model_dump() for mode, bars in data.cascade.items()},
        )


@dataclass(frozen=True)
class _Route:
    """Per category, what routing a comment needs for one preset at one set of hold points."""

    hold_logit: npt.NDArray[np.float64]
    below: npt.NDArray[np.float64]  # n-gram margin under which that head is sure it is fine
    lift: npt.NDArray[np.float64]
    above: npt.NDArray[np.float64]  # n-gram margin from which that head alone holds
    above_all: float  # the largest margin over which any head alone holds
    ngram_cap: npt.NDArray[np.float64]
    span_floor: npt.NDArray[np.float64]


def _sigmoid(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(1 / (1 + np.exp(-np.clip(z, -40, 40))), dtype=np.float64)


def token_evidence(
    tokens: npt.NDArray[np.float32], w: npt.NDArray[np.float32]
) -> npt.NDArray[np.float64]:
    """Each word piece's exact share of a linear head `w` over the sentence vector: of the mean
    part, (h_t . w) / (pieces + 2, for [CLS] and [SEP]); of the max part, each dimension's
    value times its weight goes to the piece that holds the maximum."""
    out = np.asarray(tokens @ w[:HIDDEN], dtype=np.float64) / (len(tokens) + 2)
    if len(w) > HIDDEN:
        top = tokens.argmax(axis=0)
        np.add.at(out, top, tokens[top, np.arange(HIDDEN)] * w[HIDDEN:])
    return out


class Classifier:
    """Scores comments per category in [0, 1], with the spans that drove each score."""

    def __init__(
        self,
        meta: ModelMeta,
        ngram_w: npt.NDArray[Any],
        encoder_w: npt.NDArray[Any],
        tokenizer_json: str,
        encoder_file: Path,
        mode: Mode = "cascade",
        blind_groups: bool | None = None,
    ) -> None:
        if tuple(meta.categories) != CATEGORIES:
            raise ValueError("the weights were trained for other categories")
        self.meta = meta
        self.mode: Mode = mode
        #: whether the heads read a comment with each group's name replaced (`blinding.py`)
        #: when a call does not say: as the weights were trained (`meta.blind_groups`)
        #: unless told
        self.blind_groups = meta.blind_groups if blind_groups is None else blind_groups
        self._bits = meta.bits
        self._ngram_w = np.asarray(ngram_w, dtype=np.float32)
        self._ngram_b = np.asarray(meta.ngram_bias, dtype=np.float64)
        self._enc_w = np.asarray(encoder_w, dtype=np.float32)
        #: how much of the sentence vector the heads read: the mean (384), or mean and max (768)
        self.dims = int(self._enc_w.shape[0])
        self._enc_b = np.asarray(meta.encoder_bias, dtype=np.float64)
        self._share = meta.ngram_share
        self._bars_key = "fast" if mode == "fast" else "cascade"
        #: the named operating points, and the one a site gets until it chooses another
        self.presets = {name: Preset.from_meta(name, p) for name, p in meta.presets.items()}
        self.preset = meta.preset
        if self.preset not in self.presets:
            raise ValueError(f"the default preset {self.preset!r} is not in the weights")
        #: the default preset's thresholds
        self.thresholds = self.presets[self.preset].thresholds
        self._routes: dict[tuple[str, tuple[float, ...]], _Route] = {}
        self._encoder = (
            Encoder(tokenizer_json, meta.max_tokens, encoder_file) if mode != "ngram" else None
        )
        #: what a site model must have been fitted against to be used with these weights
        self.base = weights_digest(meta, ngram_w, encoder_w)
        #: how many texts went to the encoder since loading (for the benchmark)
        self.encoder_calls = 0

    @classmethod
    def load(
        cls,
        mode: Mode = "cascade",
        weights: Traversable | None = None,
        blind_groups: bool | None = None,
    ) -> Classifier:
        """Load the weights shipped in the package (no network, no pickle), or those in
        another folder (a fresh training run's)."""
        if weights is None:
            weights = shipped_weights()
        meta = read_meta(weights)
        with weights.joinpath("ngram_weights.npy").open("rb") as f:
            ngram_w = np.load(f, allow_pickle=False)
        with weights.joinpath("encoder_heads.npy").open("rb") as f:
            encoder_w = np.load(f, allow_pickle=False)
        tokenizer = weights.joinpath("tokenizer.json").read_text(encoding="utf-8")
        # onnxruntime opens files by name: the package is installed as files, not as a zip.
        encoder_file = Path(str(weights.joinpath(meta.encoder.file)))
        return cls(meta, ngram_w, encoder_w, tokenizer, encoder_file, mode, blind_groups)

    # --- scoring ------------------------------------------------------------------------------

    def score(
        self,
        text: str,
        heads: SiteHeads | None = None,
        preset: str | None = None,
        holds: Mapping[str, float] | None = None,
        blind: bool | None = None,
    ) -> dict[str, CategoryScore]:
        return self.score_batch([text], heads, preset, holds, blind)[0]

    def route(self, preset: str | None = None, holds: Mapping[str, float] | None = None) -> _Route:
        """The cascade's routing for a preset (None: the default), at the site's own hold
        points when given (a category left out never holds), else the preset's. The bars are
        margins over the hold point, so they move with a site's own thresholds; they were
        measured at the preset's."""
        chosen = self.presets.get(preset or self.preset)
        if chosen is None:
            raise ValueError(f"unknown model preset {preset!r}")
        hold = tuple(
            float(holds.get(c, 1.0)) if holds is not None else chosen.thresholds[c].hold
            for c in CATEGORIES
        )
        key = (chosen.name, hold)
        found = self._routes.get(key)
        if found is not None:
            return found
        bars = chosen.bars[self._bars_key]
        # Per category: the n-gram margin under which that head is sure the comment is fine
        # (inf: that head never asks for the encoder). Weights trained before the bars were
        # per category have one bar over the largest margin, the same for every head.
        below = bars["below"]
        below_a = np.array(
            [float(below)] * len(CATEGORIES)
            if not isinstance(below, Mapping)
            else [np.inf if below[c] is None else float(below[c]) for c in CATEGORIES]
        )
        # A hold threshold of 1.0 means "never on its own": its margin is then -40, not -inf.
        h = np.clip(hold, 1e-9, 1 - 1e-9)
        found = _Route(
            hold_logit=np.log(h / (1 - h)),
            below=below_a,
            lift=np.where(np.isfinite(below_a), np.maximum(below_a, 0.0), 0.0),
            above=np.array(
                [
                    np.inf if bars["above"][c] is None else float(bars["above"][c])
                    for c in CATEGORIES
                ]
            ),
            above_all=float(bars["above_all"]),
            # The n-gram heads alone may hold a comment, never refuse it: a refusal is what
            # the writer cannot appeal, so only the full blend makes one. Their score stops
            # short of the preset's refuse point.
            ngram_cap=np.array(
                [
                    max(_refuse_point(chosen.thresholds[c]) - 0.005, hold[k])
                    for k, c in enumerate(CATEGORIES)
                ]
            ),
            span_floor=np.round(0.5 * np.array(hold), 4),
        )
        if len(self._routes) < 64:  # a few presets and a few sites' own thresholds
            self._routes[key] = found
        return found

    def accepts(self, heads: SiteHeads | None) -> bool:
        """Whether a site's heads can be used here: fitted against these weights, and the
        encoder loaded (mode "ngram" has none)."""
        return heads is not None and heads.base == self.base and self._encoder is not None

    def score_batch(
        self,
        texts: Sequence[str],
        heads: SiteHeads | None = None,
        preset: str | None = None,
        holds: Mapping[str, float] | None = None,
        blind: bool | None = None,
    ) -> list[dict[str, CategoryScore]]:
        """Scores of each text. The `preset` and the site's `holds` (see `route`) decide
        which comments the cascade sends to the encoder; with the full blend the scores do
        not depend on them. With a site's `heads` (that `accepts`), the encoder runs on every
        non-empty text: the cascade's bars were set for the shipped heads and know nothing of
        what the site's heads learnt. `blind`: read each text with every group's name
        replaced (None: `blind_groups`); with a site's heads, as `features` read the texts
        they were fitted on."""
        site = heads if heads is not None and self.accepts(heads) else None
        r = self.route(preset, holds)
        if site is not None:
            blinded = self.meta.blind_groups
        else:
            blinded = self.blind_groups if blind is None else blind
        read = [self._read(t, blinded) for t in texts]
        norms = [b.norm for b in read]
        feats = [featurise(n.text, self._bits) for n in norms]
        zn = self._ngram_logits(feats)
        need: npt.NDArray[np.bool_]
        # What the n-grams alone say when the encoder does not run: their own logits, except
        # in the cascade for a comment under every head's bar, where a head whose bar lies
        # over its hold point is taken down by that bar (its comments the blend holds score
        # higher still: `training.choose_cascade`), so that it does not hold on its own.
        zalone = zn
        if self.mode == "ngram":
            need = np.zeros(len(texts), dtype=bool)
        elif self.mode == "full" or site is not None:
            need = np.array([bool(n.text.strip()) for n in norms], dtype=bool)
        else:
            margins = zn - r.hold_logit
            largest = margins.max(axis=1)
            sure = (margins >= r.above).any(axis=1) | (largest >= r.above_all)
            need = np.asarray((margins >= r.below).any(axis=1) & ~sure)
            zalone = zn - np.where(sure[:, None], 0.0, r.lift)
        encoded: dict[int, Encoded] = {}
        if need.any() and self._encoder is not None:
            idx = [int(i) for i in np.flatnonzero(need)]
            vectors = self._encoder.encode_batch([norms[i].text for i in idx])
            encoded = dict(zip(idx, vectors, strict=True))
            self.encoder_calls += len(idx)
        out = []
        for i, text in enumerate(texts):
            e = encoded.get(i)
            if e is None:
                probs = np.minimum(_sigmoid(zalone[i]), r.ngram_cap)
            elif site is not None:
                probs = _sigmoid(site.logits(zn[i], e.pooled[: self.dims]))
            else:
                ze = e.pooled[: self.dims] @ self._enc_w + self._enc_b
                probs = _sigmoid(self._share * zn[i] + (1 - self._share) * ze)
            # Never quite 1: a refuse threshold of 1.0 means the category never refuses.
            probs = np.minimum(probs, 1 - 1e-6)
            out.append(self._result(text, read[i], feats[i], e, probs, r.span_floor, site))
        return out

    def _read(self, text: str, blinded: bool) -> Blinded:
        """The text as the heads read it: normalised, and, when `blinded`, each group's name
        replaced."""
        norm = normalise(text[:NGRAM_CHARS])
        return blind(norm) if blinded else Blinded(norm, ())

    def _ngram_logits(self, feats: Sequence[Features]) -> npt.NDArray[np.float64]:
        return (
            np.array(
                [
                    f.values @ self._ngram_w[f.buckets]
                    if len(f.buckets)
                    else np.zeros(len(CATEGORIES))
                    for f in feats
                ],
                dtype=np.float64,
            ).reshape(len(feats), len(CATEGORIES))
            + self._ngram_b
        )

    # --- what a site model is fitted on -------------------------------------------------------

    def shipped_heads(self) -> SiteHeads:
        """The shipped encoder heads and blend, in the form a site model takes."""
        return shipped_heads(self.meta, self._enc_w, self.base)

    def features(
        self, texts: Sequence[str]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]:
        """N-gram logits (texts x categories) and the sentence vectors the heads read
        (texts x `dims`) of the normalised texts, as scoring with a site's heads computes
        them (blind only where the weights were trained so)."""
        if self._encoder is None:
            raise ValueError("a classifier without its encoder (mode 'ngram') has no vectors")
        norms = [self._read(t, self.meta.blind_groups).norm.text for t in texts]
        zn = self._ngram_logits([featurise(n, self._bits) for n in norms])
        pooled = np.zeros((len(texts), self.dims), dtype=np.float32)
        if texts:
            pooled = np.stack([e.pooled[: self.dims] for e in self._encoder.encode_batch(norms)])
        return zn, pooled

    def _result(
        self,
        text: str,
        read: Blinded,
        feats: Features,
        e: Encoded | None,
        probs: npt.NDArray[np.float64],
        span_floor: npt.NDArray[np.float64],
        site: SiteHeads | None = None,
    ) -> dict[str, CategoryScore]:
        result = {}
        for k, cat in enumerate(CATEGORIES):
            spans: tuple[WeightedSpan, ...] = ()
            if probs[k] >= span_floor[k] and read.norm.text:
                spans = self._spans(text, read, feats, e, k, site)
            result[cat] = CategoryScore(cat, float(probs[k]), spans)
        return result

    # --- explanations -------------------------------------------------------------------------

    def _spans(
        self,
        text: str,
        read: Blinded,
        feats: Features,
        e: Encoded | None,
        k: int,
        site: SiteHeads | None = None,
    ) -> tuple[WeightedSpan, ...]:
        """Per-character evidence in logit units: each n-gram occurrence spreads its weight over
        its characters; with the encoder, each word piece adds its exact share of the head over
        the sentence vector (`token_evidence`). Words are summed, the strongest kept and joined
        when adjacent. A group's placeholder is never chosen (its name is no reason), only
        shown between two chosen words ("Muslims are vermin" beside "are vermin")."""
        norm = read.norm
        n = len(norm.text)
        diff = np.zeros(n + 1, dtype=np.float64)
        if len(feats.occ_bucket):
            share = 1.0 if e is None else site.ngram_share if site is not None else self._share
            contrib = share * feats.occ_share * self._ngram_w[feats.occ_bucket, k]
            length = np.maximum(feats.occ_end - feats.occ_start, 1)
            np.add.at(diff, feats.occ_start, contrib / length)
            np.add.at(diff, feats.occ_end, -contrib / length)
        per_char = np.cumsum(diff)[:n]
        if e is not None and len(e.offsets):
            # the site's heads have the encoder's share folded in
            w = site.encoder_w[:, k] if site is not None else (1 - self._share) * self._enc_w[:, k]
            token_contrib = token_evidence(e.tokens, w)
            for (s, t), c in zip(e.offsets, token_contrib, strict=True):
                if t > s:
                    per_char[s:t] += c / (t - s)
        words = [(m.start(), m.end()) for m in _WORD.finditer(norm.text)]
        if not words:
            return ()
        scores = np.array([per_char[s:t].sum() for s, t in words])
        # A function word is no explanation on its own ("should", "the"): it is not chosen,
        # only shown between two chosen words ("people are vermin").
        named = np.array([any(a <= s and t <= b for a, b in read.placeholders) for s, t in words])
        plain = named | np.array([norm.text[s:t].lower() in FUNCTION_WORDS for s, t in words])
        scores = np.where(plain if not plain.all() else named, np.minimum(scores, 0.0), scores)
        best = float(scores.max())
        if best <= 0:
            return ()
        chosen = sorted(int(i) for i in np.argsort(-scores)[:_MAX_SPANS] if scores[i] >= 0.3 * best)
        merged: list[list[float]] = []  # [first word, last word, evidence]
        for i in chosen:
            end = int(merged[-1][1]) if merged else -2
            if merged and (end == i - 1 or (end == i - 2 and plain[i - 1])):
                merged[-1][1] = i
                merged[-1][2] += float(scores[i])
            else:
                merged.append([i, i, float(scores[i])])
        top = max(m[2] for m in merged)
        spans = []
        for first, last, weight in merged:
            start, _ = norm.span(words[int(first)][0], words[int(first)][1])
            _, end = norm.span(words[int(last)][0], words[int(last)][1])
            spans.append(WeightedSpan(start, end, text[start:end], round(weight / top, 3)))
        return tuple(sorted(spans, key=lambda sp: -sp.weight))


_instance: Classifier | None = None
_lock = threading.Lock()


def get_classifier() -> Classifier:
    """The process-wide classifier, loaded on first use (thread-safe)."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = Classifier.load()
    return _instance


def _refuse_point(threshold: Threshold) -> float:
    """A preset's refuse point; every shipped preset names one (1.0 where nothing refuses)."""
    return 1.0 if threshold.refuse is None else threshold.refuse
