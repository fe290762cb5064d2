#!/usr/bin/env python3
"""Rebuild the shipped moderation model from ../shared/data and data/labelled, then evaluate it."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `training` is a folder of the repository, not installed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--labelled", type=Path, default=ROOT / "data" / "labelled")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "src" / "rejoinder" / "classifier" / "weights"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rejoinder-train",
        help="encoder vectors of the training texts, reused between runs",
    )
    parser.add_argument("--threads", type=int, default=1, help="encoder threads while training")
    parser.add_argument("--no-eval", action="store_true")
    parser.add_argument(
        "--pooling",
        choices=["mean", "mean_max"],
        help="what the encoder heads read (an experiment)",
    )
    parser.add_argument(
        "--fairness-weight",
        type=float,
        default=0.0,
        help="weight of each case of the fairness families' TRAIN split (0: left out)",
    )
    parser.add_argument(
        "--hate-weight",
        type=float,
        default=1.0,
        help="factor on the weight of Stormfront's and Davidson's identity-attack positives",
    )
    parser.add_argument(
        "--blind-groups",
        action="store_true",
        help="train the heads on text with each group's name replaced (scored so too)",
    )
    parser.add_argument(
        "--retune",
        action="store_true",
        help="only choose thresholds and cascade bars again from the cached out-of-fold scores",
    )
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(args.threads))

    from training.pipeline import Config, retune, train

    config = Config(pooling=args.pooling) if args.pooling else Config()
    hate = {"stormfront": args.hate_weight, "davidson": args.hate_weight}
    config = replace(
        config,
        fairness_weight=args.fairness_weight,
        hate_weights=hate if args.hate_weight != 1.0 else {},
        blind_groups=args.blind_groups,
    )
    if args.retune:
        retune(args.out, args.cache, config)
        out = args.out
    else:
        out = train(args.data, args.labelled, args.out, args.cache, config, threads=args.threads)
    if not args.no_eval:
        from training import eval_model

        eval_model.run(
            args.data,
            args.labelled,
            ROOT.parent / "shared" / "seed",
            out,
            "cascade",
            ["own_test", "kaggle_insults", "ucc", "sfu", "madlibs"],
        )


if __name__ == "__main__":
    main()
