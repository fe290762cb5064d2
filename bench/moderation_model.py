"""Bench the shipped moderation model on one core: load time, per-comment latency, batch rate."""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `training` is a folder of the repository, not installed
GOALS = {"p50_ms_at_most": 10.0, "p99_ms_at_most": 30.0, "batch_per_s_at_least": 500.0}
SEED = 20261125


def comments(data: Path, count: int) -> list[str]:
    """A fixed sample of real news comments (UCC, evaluation-only, so never trained on) and the
    project's own test split; the own test split alone when shared/data is absent."""
    from training import corpora

    texts = [r.text for r in corpora.read_labelled(ROOT / "data" / "labelled" / "test.jsonl")]
    if (data / "ucc-unhealthy-comments").is_dir():
        ucc = [r.text for r in corpora.ucc(data)]
        texts += random.Random(SEED).sample(ucc, max(count - len(texts), 0))
    random.Random(SEED).shuffle(texts)
    return texts[:count]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cold_load_seconds(mode: str) -> float:
    """Import and load in a fresh interpreter on the same core, as a new worker would."""
    code = (
        "import time; t = time.perf_counter(); from rejoinder.classifier.model import Classifier; "
        f"Classifier.load(mode={mode!r}); print(time.perf_counter() - t)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return round(float(done.stdout.strip().splitlines()[-1]), 3)


def bench_mode(mode: str, texts: list[str], batch: int, blind: bool = False) -> dict[str, float]:
    from rejoinder.classifier.model import Classifier

    started = time.perf_counter()
    clf = Classifier.load(mode=mode, blind_groups=blind)  # type: ignore[arg-type]
    load_s = time.perf_counter() - started
    for t in texts[:20]:  # warm up
        clf.score(t)
    clf.encoder_calls = 0
    latencies = []
    for t in texts:
        t0 = time.perf_counter()
        clf.score(t)
        latencies.append((time.perf_counter() - t0) * 1000)
    encoder_share = clf.encoder_calls / len(texts)
    t0 = time.perf_counter()
    for b in range(0, len(texts), batch):
        clf.score_batch(texts[b : b + batch])
    rate = len(texts) / (time.perf_counter() - t0)
    return {
        "load_s": round(load_s, 3),
        "cold_load_s": cold_load_seconds(mode),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "batch_per_s": round(rate, 1),
        "encoder_share": round(encoder_share, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--modes", default="cascade,fast,ngram,full")
    parser.add_argument(
        "--blind",
        action="store_true",
        help="score with each group's name replaced (the moderation_blind_groups setting)",
    )
    args = parser.parse_args()

    # One core: pin the process and keep every library to one thread.
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"

    texts = comments(args.data, args.count)
    chars = statistics.median(len(t) for t in texts)
    print(f"{len(texts)} comments (median {chars:.0f} characters), pinned to CPU {cpu}")
    result: dict[str, Any] = {"comments": len(texts), "cpu": cpu, "blind_groups": args.blind}
    for mode in args.modes.split(","):
        figures = bench_mode(mode, texts, args.batch, args.blind)
        print(f"{mode:8s} " + "  ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
        result[mode] = figures
    result["goals"] = GOALS
    result["goals_met"] = {
        mode: {
            "p50": figures["p50_ms"] <= GOALS["p50_ms_at_most"],
            "p99": figures["p99_ms"] <= GOALS["p99_ms_at_most"],
            "batch": figures["batch_per_s"] >= GOALS["batch_per_s_at_least"],
            "load": figures["cold_load_s"] < 2.0,
        }
        for mode, figures in result.items()
        if isinstance(figures, dict) and "p50_ms" in figures
    }
    sys.stdout.flush()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
