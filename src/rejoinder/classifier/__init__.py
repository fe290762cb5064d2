"""The moderation model shipped in the package: per-category scores with the spans behind them."""

from __future__ import annotations

from rejoinder.classifier.labels import CATEGORIES
from rejoinder.classifier.model import CategoryScore, Classifier, Span, Thresholds, get_classifier

__all__ = ["CATEGORIES", "CategoryScore", "Classifier", "Span", "Thresholds", "get_classifier"]
