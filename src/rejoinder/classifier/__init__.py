"""The moderation model shipped in the package: per-category scores with the spans behind them."""

from __future__ import annotations

from rejoinder.classifier.labels import CATEGORIES
from rejoinder.classifier.model import CategoryScore, Classifier, WeightedSpan, get_classifier

__all__ = ["CATEGORIES", "CategoryScore", "Classifier", "WeightedSpan", "get_classifier"]
