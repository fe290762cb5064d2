"""The moderation model shipped in the package: per-category scores with the spans behind them."""

from __future__ import annotations

from rejoinder.classifier.model import CategoryScore, Classifier, WeightedSpan, get_classifier

__all__ = ["CategoryScore", "Classifier", "WeightedSpan", "get_classifier"]
