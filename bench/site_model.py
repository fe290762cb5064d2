"""Bench a site model on an invented site: agreement before and after, what it does to the own
test split, the prior's strength, and the cost of scoring with a site's heads (one core)."""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `training` is a folder of the repository, not installed
SEED = 20261125

# An invented site whose moderators reject two kinds of civil comments the shipped model
# publishes (plugs for products, and chatter about a football club under unrelated news) and
# approve ordinary comments; one decision in twenty goes the other way (moderators disagree).
PRODUCTS = [
    "Fernhill vitamin drops",
    "the Glenmore water filter",
    "Bramble & Co face cream",
    "the Stillwater meditation app",
    "Redcliff protein bars",
    "the Alder sleep pillow",
]
PLUGS = [
    "Has anyone here tried {p}?",
    "I honestly recommend {p} to everyone.",
    "Not about the article, but {p} is brilliant.",
    "Since I started using {p} I feel great.",
    "A friend told me about {p} and she was right.",
]
CLAIMS = [
    "My energy is back.",
    "My skin has never been better.",
    "I sleep like a baby now.",
    "Best money I have spent in years.",
    "The whole office uses it now.",
]
CLUB = [
    "Did anyone see United on Saturday? What a second half.",
    "United's new striker looks worth every penny so far.",
    "Off topic, but the derby tickets sold out in an hour.",
    "Can't wait for the cup tie next week, United will go through.",
    "That referee last night was the worst I've seen this season.",
]
SUBJECTS = [
    "the ferry timetable",
    "the new school funding",
    "the road closures",
    "the nurses' pay offer",
    "the flood defences",
    "the planning decision",
    "the tram extension",
    "the museum's opening hours",
]
VIEWS = [
    "The article on {s} leaves out the cost, which matters.",
    "I was at the meeting about {s}; the report is accurate.",
    "Does anyone know who decided {s}?",
    "I support {s}, though it comes late.",
    "The paper should follow up on {s} next month.",
    "My family is affected by {s} and we were never asked.",
]


def site_decisions(count: int, rng: random.Random) -> list[tuple[str, int]]:
    out = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.2:
            text, label = (
                f"{rng.choice(PLUGS).format(p=rng.choice(PRODUCTS))} {rng.choice(CLAIMS)}",
                1,
            )
        elif roll < 0.35:
            text, label = rng.choice(CLUB), 1
        else:
            text, label = rng.choice(VIEWS).format(s=rng.choice(SUBJECTS)), 0
        if rng.random() < 0.05:
            label = 1 - label
        out.append((text, label))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decisions", type=int, default=300)
    parser.add_argument("--strengths", default="0.01,0.03,0.1,1")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--ucc", type=int, default=1000, help="UCC comments to score (0: none)")
    parser.add_argument("--preset", help="the model preset whose thresholds the site has")
    args = parser.parse_args()
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})

    from rejoinder.classifier.model import Classifier
    from rejoinder.runtime import model_thresholds
    from rejoinder.store.site_models import DeskDecision
    from rejoinder.usecases.site_models import fit_decisions, model_held
    from training import corpora

    clf = Classifier.load()
    thresholds = model_thresholds(preset=args.preset)
    holds = {c: t.hold for c, t in thresholds.items()}
    rng = random.Random(args.seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    decisions = [
        DeskDecision(i, label, text, start + timedelta(minutes=i))
        for i, (text, label) in enumerate(site_decisions(args.decisions, rng))
    ]
    test = corpora.read_labelled(ROOT / "data" / "labelled" / "test.jsonl")
    test_texts = [r.text for r in test]
    # Comments from a newspaper (UCC: evaluation only, never trained on), if present.
    ucc = []
    if args.ucc and (args.data / "ucc-unhealthy-comments").is_dir():
        ucc = random.Random(SEED).sample(corpora.ucc(args.data), args.ucc)

    def held_rates(rows: list[Any], heads: Any) -> dict[str, float]:
        scores = clf.score_batch([r.text for r in rows], heads, args.preset, holds)
        held = [model_held(s, thresholds) for s in scores]
        pos = [h for h, r in zip(held, rows, strict=True) if r.label == 1]
        neg = [h for h, r in zip(held, rows, strict=True) if r.label == 0]
        return {
            "recall": round(sum(pos) / len(pos), 3),
            "false_holds": round(sum(neg) / len(neg), 3),
        }

    def own_test(heads: Any) -> dict[str, Any]:
        out: dict[str, Any] = held_rates(test, heads)
        if ucc:
            out["ucc"] = held_rates(ucc, heads)
        return out

    result: dict[str, Any] = {
        "decisions": len(decisions),
        "preset": args.preset or clf.preset,
        "cpu": cpu,
        "own_test_shipped": own_test(None),
    }
    print(
        f"{len(decisions)} decisions, pinned to CPU {cpu}; own test split (and {len(ucc)} UCC "
        f"comments), shipped model: {result['own_test_shipped']}"
    )
    heads = None
    for strength in [float(s) for s in args.strengths.split(",")]:
        t0 = time.perf_counter()
        heads, metrics = fit_decisions(clf, decisions, thresholds, strength)
        seconds = time.perf_counter() - t0
        row = {
            "agreement": metrics["agreement"],
            "recent_rejected_held": metrics["recent_rejected_held"],
            "recent_rejected": metrics["recent_rejected"],
            "recent_approved_published": metrics["recent_approved_published"],
            "recent_approved": metrics["recent_approved"],
            "taught_as": metrics["taught_as"],
            "own_test": own_test(heads),
            "seconds": round(seconds, 1),
        }
        result[f"strength {strength}"] = row
        print(f"strength {strength}: " + json.dumps(row), flush=True)

    texts = test_texts + [d.text for d in decisions[:100]]
    for t in texts[:20]:
        clf.score(t)
        clf.score(t, heads)
    for name, used in (("shipped cascade", None), ("site heads", heads)):
        clf.encoder_calls = 0
        latencies = []
        for t in texts:
            t0 = time.perf_counter()
            clf.score(t, used)
            latencies.append((time.perf_counter() - t0) * 1000)
        ordered = sorted(latencies)
        speed = {
            "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(ordered[round(0.99 * (len(ordered) - 1))], 2),
            "encoder_share": round(clf.encoder_calls / len(texts), 3),
        }
        result[name] = speed
        print(f"{name}: {speed}", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
