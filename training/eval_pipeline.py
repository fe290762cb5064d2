#!/usr/bin/env python3
"""The whole moderation pipeline (every phase, with the shipped model at its calibrated
thresholds, as `rejoinder moderation check` judges a new comment) on labelled rows: recall of
label 1 and false holds of label 0, overall and per kind; and false holds on the civil
(label 0) rows of the public evaluation sets. `--phases` lists which phases' reasons held."""

from __future__ import annotations

import argparse
import collections
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `training` is a folder of the repository, not installed
#: another weights folder (a candidate from `training/train_model.py --out`), or None: shipped
WEIGHTS: Path | None = None
#: the model preset whose thresholds judge (None: the weights' default preset)
PRESET: str | None = None
#: whether the model reads each group's name replaced (the moderation_blind_groups setting)
BLIND = False


def judged(texts: Sequence[str]) -> list[tuple[bool, list[str]]]:
    """For each text: held or refused, and the phase:code of each reason."""
    from rejoinder.classifier.model import Classifier, get_classifier
    from rejoinder.core.moderation import ArticleRef, Policy, Submission, Verdict, decide
    from rejoinder.core.moderation.phases.model_scores import scores_from
    from rejoinder.runtime import model_thresholds

    if WEIGHTS is None:
        thresholds = model_thresholds(preset=PRESET)
        classifier = get_classifier()
    else:  # the candidate's own thresholds, as the server would read them once it ships
        thresholds = model_thresholds(WEIGHTS, PRESET)
        classifier = Classifier.load(weights=WEIGHTS)
    policy = Policy(thresholds=thresholds)
    preset = PRESET or classifier.preset
    now = datetime.now(UTC)
    out = []
    # One comment at a time, as the server scores them (a batch gives each comment the same
    # score, but a verdict is never made in one).
    for text in texts:
        result = classifier.score(text, preset=preset, blind=BLIND)
        scores = scores_from(result, text) if text.strip() else {}
        article = ArticleRef(0, True, None)
        sub = Submission(
            text=text,
            name="",
            email="",
            article=article,
            now=now,
            via_form=False,
            model_scores=scores,
        )
        decision = decide(sub, policy)
        reasons = [f"{r.phase}:{r.code}" for r in decision.reasons]
        out.append((decision.verdict is not Verdict.PUBLISH, reasons))
    return out


def labelled(path: Path, show_phases: bool) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    results = judged([r["text"] for r in rows])
    held = {1: 0, 0: 0}
    counts = {1: 0, 0: 0}
    kinds: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    phases: collections.Counter[str] = collections.Counter()
    for row, (stopped, reasons) in zip(rows, results, strict=True):
        counts[row["label"]] += 1
        held[row["label"]] += stopped
        kinds[row.get("kind", row.get("cat", "none"))][0] += stopped
        kinds[row.get("kind", row.get("cat", "none"))][1] += 1
        if stopped and row["label"] == 1:
            phases.update({reason.split(":")[0] for reason in reasons})
    print(
        f"{path.name}: recall {held[1]}/{counts[1]} = {held[1] / max(counts[1], 1):.4f}  "
        f"false holds {held[0]}/{counts[0]} = {held[0] / max(counts[0], 1):.4f}"
    )
    print("  held, by kind: " + ", ".join(f"{k} {a}/{b}" for k, (a, b) in sorted(kinds.items())))
    if show_phases:
        print(
            "  label 1 held with a reason from: "
            + ", ".join(f"{k} {v}" for k, v in phases.most_common())
        )


def civil(data: Path, show_phases: bool) -> None:
    from training import corpora

    sets = {
        "UCC label 0": [r.text for r in corpora.ucc(data) if r.label == 0],
        "SFU label 0": [r.text for r in corpora.sfu(data) if r.label == 0],
        "toxic-spans civil sentences": [
            r.text for r in corpora.toxic_spans_sentences(data) if r.labels["toxicity"] == 0
        ],
    }
    for name, texts in sets.items():
        results = judged(texts)
        stopped = sum(held for held, _ in results)
        print(f"{name}: false holds {stopped}/{len(texts)} = {stopped / len(texts):.4f}")
        if show_phases:
            phases = collections.Counter(r for held, rs in results if held for r in rs)
            print("  reasons: " + ", ".join(f"{k} {v}" for k, v in phases.most_common()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*", type=Path, help="JSON lines with text, label, kind")
    parser.add_argument("--civil", action="store_true", help="also the public civil sets")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--phases", action="store_true", help="which phases' reasons held")
    parser.add_argument(
        "--weights", type=Path, help="a weights folder to judge with instead of the shipped one"
    )
    parser.add_argument("--preset", help="judge with this model preset (default: the default)")
    parser.add_argument(
        "--blind", action="store_true", help="the model reads each group's name replaced"
    )
    args = parser.parse_args()
    global WEIGHTS, PRESET, BLIND
    WEIGHTS, PRESET, BLIND = args.weights, args.preset, args.blind
    for path in args.files:
        labelled(path, args.phases)
    if args.civil:
        civil(args.data, args.phases)


if __name__ == "__main__":
    main()
