"""A disk cache of encoder vectors for training and evaluation runs (never used at run time)."""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rejoinder.classifier.encoder import HIDDEN, Encoder, file_sha256
from rejoinder.classifier.spelling import normalise
from training.pipeline import model_text


def _key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def embed(
    encoder: Encoder,
    texts: Sequence[str],
    cache_dir: Path,
    chunk: int = 2048,
    blind_groups: bool = False,
) -> npt.NDArray[np.float32]:
    """Sentence vectors (mean, then max) of the normalised texts, each group's name replaced
    when `blind_groups` (a cache file of their own), computing only those not cached yet."""
    # "alone": vectors of texts encoded one per run (before, padded in batches of 32, whose
    # shared quantisation ranges gave other vectors than scoring does).
    blind = "-blind" if blind_groups else ""
    name = f"vectors-{file_sha256(encoder.model)[:12]}-{encoder.max_tokens}-alone{blind}.npz"
    path = cache_dir / name
    keys: dict[str, int] = {}
    matrix = np.zeros((0, 2 * HIDDEN), dtype=np.float32)
    if path.exists():
        with np.load(path) as z:
            matrix = z["vectors"]
            keys = {str(k): i for i, k in enumerate(z["keys"])}
    wanted = [_key(t) for t in texts]
    missing = sorted({k: t for k, t in zip(wanted, texts, strict=True) if k not in keys}.items())
    if missing:
        started = time.monotonic()
        new_vectors = []
        for b in range(0, len(missing), chunk):
            part = missing[b : b + chunk]
            read = [model_text(t, True) if blind_groups else normalise(t).text for _, t in part]
            new_vectors.append(encoder.pooled(read))
            done = b + len(part)
            rate = done / (time.monotonic() - started)
            print(f"  encoded {done}/{len(missing)} ({rate:.0f}/s)", file=sys.stderr, flush=True)
        for k, _ in missing:
            keys[k] = len(keys)
        matrix = np.vstack([matrix, *new_vectors])
        cache_dir.mkdir(parents=True, exist_ok=True)
        key_array = np.array([k for k, _ in sorted(keys.items(), key=lambda kv: kv[1])])
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=key_array, vectors=matrix)
        tmp.replace(path)
    return matrix[[keys[k] for k in wanted]]
