"""`weights/meta.json`, typed: the contract between offline training, which writes it, and the
classifier, the runtime and per-site fitting, which read it."""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EncoderFile(_Frozen):
    file: str  # beside meta.json
    sha256: str


class PresetThreshold(_Frozen):
    hold: float
    refuse: float  # 1.0: the score alone never refuses


class CascadeBars(_Frozen):
    """Hold margins (logit of the score minus logit of the hold point) of the n-gram heads
    between which a comment also goes to the encoder, per category; `None`: that head never
    asks for the encoder. One number for `below` is the layout of weights made before the bars
    were per category: the same bar for every head."""

    below: dict[str, float | None] | float
    above: dict[str, float | None]
    above_all: float


class PresetMeta(_Frozen):
    civil_aim: float  # the share of civil news sentences the thresholds may hold
    thresholds: dict[str, PresetThreshold]
    cascade: dict[str, CascadeBars]  # "cascade" and "fast" modes


class TrainingRun(_Frozen):
    seed: int
    config: dict[str, Any]
    rows: dict[str, int]
    seconds: int


class ModelMeta(_Frozen):
    categories: list[str]
    bits: int  # n-gram features are hashed into 2**bits buckets
    max_tokens: int
    encoder: EncoderFile
    ngram_share: float  # the n-gram heads' weight in the blend of logits
    ngram_bias: list[float]
    encoder_bias: list[float]
    training: TrainingRun
    preset: str  # the default preset
    presets: dict[str, PresetMeta]
    #: the heads were trained on text with each group's name replaced (classifier/blinding.py),
    #: so they read every comment so
    blind_groups: bool = False


def shipped_weights() -> Traversable:
    """The folder of the weights shipped inside the package."""
    return resources.files("rejoinder.classifier").joinpath("weights")


def read_meta(weights: Traversable | None = None) -> ModelMeta:
    """The metadata of the shipped weights, or of another weights folder."""
    folder = weights if weights is not None else shipped_weights()
    return ModelMeta.model_validate(
        json.loads(folder.joinpath("meta.json").read_text(encoding="utf-8"))
    )
