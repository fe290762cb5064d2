#!/usr/bin/env python3
"""Print the moderation model's evaluation: own test split, UCC, SFU, Kaggle insults, the seed."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `training` is a folder of the repository, not installed


def seed_report(classifier: object, seed: Path) -> list[str]:
    from rejoinder.classifier.model import Classifier
    from rejoinder.core.pagedump import parse_page_dump

    assert isinstance(classifier, Classifier)
    lines = []
    for c in parse_page_dump(seed.read_text(encoding="utf-8")).comments:
        if not c.body.strip():
            lines.append(f"  {c.author:<20} (empty)")
            continue
        scores = classifier.score(c.body)
        ratio = {k: s.score / classifier.thresholds[k].hold for k, s in scores.items()}
        top = max(ratio, key=ratio.__getitem__)
        verdict = "HOLD" if ratio[top] >= 1 else "pass"
        spans = ", ".join(repr(sp.text) for sp in scores[top].spans[:4])
        figures = " ".join(f"{k[:5]}={s.score:.2f}" for k, s in scores.items())
        lines.append(f"  {c.author:<20} {verdict} top {top} x{ratio[top]:.2f}  {figures}  {spans}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--labelled", type=Path, default=ROOT / "data" / "labelled")
    parser.add_argument("--seed", type=Path, default=ROOT.parent / "shared" / "seed")
    parser.add_argument("--weights", type=Path, default=None, help="a folder of weights")
    parser.add_argument("--mode", default="cascade", choices=["cascade", "fast", "full", "ngram"])
    parser.add_argument("--sets", default="own_test,kaggle_insults,ucc,sfu,madlibs")
    args = parser.parse_args()
    run(args.data, args.labelled, args.seed, args.weights, args.mode, args.sets.split(","))


def run(
    data: Path, labelled: Path, seed: Path, weights: Path | None, mode: str, sets: list[str]
) -> None:
    from rejoinder.classifier.model import Classifier
    from training.standard_sets import distance_from_aims, evaluate, standard_sets

    classifier = Classifier.load(mode=mode, weights=weights)  # type: ignore[arg-type]
    holds = {c: t.hold for c, t in classifier.thresholds.items()}
    print("hold thresholds: " + ", ".join(f"{c} {t:.3f}" for c, t in holds.items()))
    print(
        "refuse thresholds: "
        + ", ".join(f"{c} {t.refuse:.3f}" for c, t in classifier.thresholds.items())
    )
    all_sets = standard_sets(data, labelled)
    for name in sets:
        started = time.monotonic()
        classifier.encoder_calls = 0
        report = evaluate(classifier, all_sets[name], holds)
        seconds = time.monotonic() - started
        share = classifier.encoder_calls / max(report.rows, 1)
        print(f"\n== {name} ({mode}; {seconds:.0f} s, encoder on {share:.0%} of comments)")
        print("\n".join(report.lines()))
        kinds = sorted({r.extra["kind"] for r in all_sets[name] if "kind" in r.extra})
        if kinds:
            results = classifier.score_batch([r.text for r in all_sets[name]])
            held = [any(res[c].score >= holds[c] for c in holds) for res in results]
            parts = []
            for kind in kinds:
                mine = [
                    h
                    for r, h in zip(all_sets[name], held, strict=True)
                    if r.extra.get("kind") == kind
                ]
                parts.append(f"{kind} {sum(mine)}/{len(mine)}")
            print("  held, by kind: " + ", ".join(parts))
        aims = distance_from_aims(name, report)
        if aims:
            print(f"  aims: {aims}")
        sys.stdout.flush()
    seed_files = sorted(seed.glob("*.txt")) if seed.is_dir() else []
    if seed_files:
        print(f"\n== seed ({seed_files[0].name}), judged by the model alone")
        print("\n".join(seed_report(classifier, seed_files[0])))


if __name__ == "__main__":
    main()
