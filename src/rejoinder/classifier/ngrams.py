"""Hashed character and word n-grams of normalised text, as a sparse vector, with positions."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Character n-gram lengths and the number of hash buckets (a power of two) the model uses.
CHAR_NS = (2, 3, 4, 5)
_WORD = re.compile(r"[a-z0-9']+")
_P = np.uint64(0x100000001B3)  # FNV-style multiplier: a fixed, platform-independent hash
_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class Features:
    """Unique buckets with their values (log counts, L2-normalised), and every occurrence:
    `occ_bucket[k]` was seen at normalised characters [occ_start[k], occ_end[k]), and
    `occ_share[k]` is its part of that bucket's value."""

    buckets: npt.NDArray[np.int64]
    values: npt.NDArray[np.float32]
    occ_bucket: npt.NDArray[np.int64]
    occ_start: npt.NDArray[np.int64]
    occ_end: npt.NDArray[np.int64]
    occ_share: npt.NDArray[np.float32]


def _bucket(h: npt.NDArray[np.uint64], salt: int, bits: int) -> npt.NDArray[np.int64]:
    h = (h ^ np.uint64(salt * 0x51ED27)) * _MIX
    return (h >> np.uint64(64 - bits)).astype(np.int64)


def featurise(text: str, bits: int) -> Features:
    """Features of an already normalised text."""
    padded = f" {text} "
    codes = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    length = len(codes)
    parts_b: list[npt.NDArray[np.int64]] = []
    parts_s: list[npt.NDArray[np.int64]] = []
    parts_e: list[npt.NDArray[np.int64]] = []
    starts = np.arange(length, dtype=np.int64) - 1  # -1: the leading pad
    # The hash of the n-gram at i, sum of codes[i + k] * P^(n-1-k), rolled from the (n-1)-gram's
    h = codes
    for n in range(2, max(CHAR_NS) + 1):
        count = length - n + 1
        if count <= 0:
            break
        h = h[:count] * _P + codes[n - 1 :]
        if n in CHAR_NS:
            parts_b.append(_bucket(h, n, bits))
            parts_s.append(starts[:count])
            parts_e.append(starts[:count] + n)
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    if words:
        wh = np.array([zlib.crc32(w.encode()) for _, _, w in words], dtype=np.uint64)
        ws = np.array([s for s, _, _ in words], dtype=np.int64)
        we = np.array([e for _, e, _ in words], dtype=np.int64)
        parts_b.append(_bucket(wh, 101, bits))
        parts_s.append(ws)
        parts_e.append(we)
        if len(words) > 1:
            parts_b.append(_bucket(wh[:-1] * _P + wh[1:], 102, bits))
            parts_s.append(ws[:-1])
            parts_e.append(we[1:])
    if not parts_b:
        empty_i = np.zeros(0, dtype=np.int64)
        empty_f = np.zeros(0, dtype=np.float32)
        return Features(empty_i, empty_f, empty_i, empty_i, empty_i, empty_f)
    occ_b = np.concatenate(parts_b)
    occ_s = np.clip(np.concatenate(parts_s), 0, max(len(text), 0))
    occ_e = np.clip(np.concatenate(parts_e), 0, len(text))
    buckets, inverse, counts = np.unique(occ_b, return_inverse=True, return_counts=True)
    values = np.log1p(counts).astype(np.float32)
    norm = float(np.sqrt(np.dot(values, values))) or 1.0
    values /= norm
    share = (values / counts)[inverse].astype(np.float32)
    return Features(buckets, values, occ_b, occ_s, occ_e, share)
