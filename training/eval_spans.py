#!/usr/bin/env python3
"""How well the model's explanations point at the words people marked as toxic.

Reads the SemEval 2021 toxic-spans test split (`../shared/data/toxic-spans-civil-comments/
semeval2021/tsd_test.csv`, CC0; the posts with at least one marked character) and, for each
post, takes the characters of the toxicity category's spans. Prints the task's own measure,
the character F1 averaged over posts, and how often the strongest span touches a marked
character. The toxic-spans comments are in the training data (the comments, not these
character marks), so the figures compare explanation methods on one model; they are not a
score on unseen text.
"""

from __future__ import annotations

import argparse
import ast
import csv
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `training` is a folder of the repository, not installed
DEFAULT = ROOT.parent / "shared/data/toxic-spans-civil-comments/semeval2021/tsd_test.csv"


def f1(predicted: set[int], gold: set[int]) -> float:
    if not predicted or not gold:
        return float(predicted == gold)
    hits = len(predicted & gold)
    if hits == 0:
        return 0.0
    precision, recall = hits / len(predicted), hits / len(gold)
    return 2 * precision * recall / (precision + recall)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--mode", default="cascade", choices=["cascade", "full", "ngram"])
    args = parser.parse_args()
    from rejoinder.classifier.model import Classifier

    csv.field_size_limit(sys.maxsize)
    with args.data.open(newline="", encoding="utf-8") as handle:
        posts = [(set(ast.literal_eval(r["spans"])), r["text"]) for r in csv.DictReader(handle)]
    posts = [(gold, text) for gold, text in posts if gold]
    classifier = Classifier.load(mode=args.mode)
    scores, strongest = [], []
    for gold, text in posts:
        spans = classifier.score(text)["toxicity"].spans
        predicted = {i for span in spans for i in range(span.start, span.end)}
        scores.append(f1(predicted, gold))
        if spans:
            strongest.append(bool(set(range(spans[0].start, spans[0].end)) & gold))
    print(
        f"{args.mode}: {len(posts)} posts; character F1 {statistics.mean(scores):.4f}; "
        f"strongest span on a marked character {statistics.mean(strongest):.4f} "
        f"({len(strongest)} posts with a span)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
