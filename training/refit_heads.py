#!/usr/bin/env python3
"""Refit the shipped encoder heads on the fairness families' TRAIN split (issue 22), without
retraining from the public sets: the shipped heads are the centre of a Gaussian prior, the
project's own replayed examples (`classifier/weights/replay.jsonl`) anchor them (they add
curvature, not pull), and the fairness cases are fitted at each category's hold threshold,
as a site's decisions are (`classifier/site_models.fit_heads`). The n-gram heads, the
thresholds and the cascade bars stay the shipped ones. Writes a copy of the weights folder
with the new `encoder_heads.npy` and `encoder_bias`; judge it with
`scripts/eval_fairness.py --weights DIR` and `training/eval_pipeline.py --weights DIR`.

A full retraining with the same rows (`training/train_model.py --fairness-weight W
--hate-weight F`) also re-weights the public sets, but needs every training text encoded
(about 83,000) and is out of reach of a shared 2-core machine in minutes."""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `training` is a folder of the repository, not installed

WEIGHTS = ROOT / "src" / "rejoinder" / "classifier" / "weights"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="the new weights folder")
    parser.add_argument("--strength", type=float, default=0.03, help="the prior's strength")
    parser.add_argument(
        "--every", type=int, default=2, help="use every Nth case of the TRAIN split (default 2)"
    )
    parser.add_argument("--preset", default="standard", help="whose hold points to fit at")
    parser.add_argument(
        "--civil-copies",
        type=int,
        default=1,
        help="how many times each civil case is taught (default 1)",
    )
    parser.add_argument(
        "--only", nargs="*", help="teach only these categories (the others keep their heads)"
    )
    parser.add_argument("--cache", type=Path, default=Path("/tmp/rejoinder-refit"))
    args = parser.parse_args()

    from rejoinder.classifier import site_models as sm
    from rejoinder.classifier.model import Classifier
    from rejoinder.core.moderation.categories import CATEGORIES
    from training.pipeline import fairness_rows

    clf = Classifier.load(mode="full")
    replay = sm.load_replay()
    args.cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    rz, rp = sm.replay_features(clf, replay, args.cache)
    rows = fairness_rows(1.0)[:: args.every]
    texts = [r.text for r in rows]
    key = hashlib.sha256("\n".join([clf.base, *texts]).encode()).hexdigest()[:16]
    stored = args.cache / f"fairness-{key}.npz"
    if stored.is_file():
        with np.load(stored, allow_pickle=False) as z:
            zn, pooled = z["zn"], z["pooled"]
    else:
        zn, pooled = clf.features(texts)
        np.savez(stored, zn=zn, pooled=pooled)
    if args.civil_copies > 1:  # the civil cases again, so their class weighs more within it
        civil = [i for i, r in enumerate(rows) if not any(v == 1 for v in r.labels.values())]
        again = np.array(civil * (args.civil_copies - 1), dtype=np.int64)
        rows = rows + [rows[i] for i in again]
        zn, pooled = np.vstack([zn, zn[again]]), np.vstack([pooled, pooled[again]])
    labels = np.array(
        [
            [r.labels[c] if not args.only or c in args.only else sm.UNKNOWN for c in CATEGORIES]
            for r in rows
        ],
        dtype=np.int64,
    )
    meta = json.loads((WEIGHTS / "meta.json").read_text(encoding="utf-8"))
    thresholds = meta["presets"][args.preset]["thresholds"]
    holds = [float(thresholds[c]["hold"]) for c in CATEGORIES]
    prior = clf.shipped_heads()
    heads = sm.fit_heads(
        prior,
        np.vstack([rz, zn]),
        np.vstack([rp, pooled]),
        np.vstack([replay.labels, labels]),
        np.array([0] * len(replay.texts) + [1] * len(rows), dtype=np.int64),
        args.strength,
        holds,
    )
    share = float(meta["ngram_share"])
    if args.out.exists():
        shutil.rmtree(args.out)
    shutil.copytree(WEIGHTS, args.out)
    encoder_w = (np.asarray(heads.encoder_w, dtype=np.float64) / (1 - share)).astype(np.float32)
    np.save(args.out / "encoder_heads.npy", encoder_w, allow_pickle=False)
    meta["encoder_bias"] = [round(float(b) / (1 - share), 6) for b in heads.bias]
    (args.out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    refit = {
        "fairness_train_cases": len(rows),
        "replay_rows": len(replay.texts),
        "strength": args.strength,
        "fitted_at": args.preset,
        "categories": args.only or list(CATEGORIES),
        "civil_copies": args.civil_copies,
    }
    (args.out / "refit.json").write_text(json.dumps(refit) + "\n", encoding="utf-8")
    moved = np.abs(encoder_w - np.load(WEIGHTS / "encoder_heads.npy")).max(axis=0)
    print(f"wrote {args.out}: {len(rows)} fairness cases, largest change per head {moved}")


if __name__ == "__main__":
    main()
