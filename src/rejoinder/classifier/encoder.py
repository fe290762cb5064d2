"""The sentence encoder (an int8 ONNX file shipped in `weights/`) on onnxruntime, one thread, no
padding."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

#: Width of the encoder's hidden states; a sentence vector is twice this (mean, then max).
HIDDEN = 384


@dataclass(frozen=True)
class Encoded:
    """The sentence vector (not normalised): the mean of every token's state, [CLS] and [SEP]
    included, then the largest value of each dimension over the word pieces; and the word
    pieces' states with their character offsets in the encoded text."""

    pooled: npt.NDArray[np.float32]
    tokens: npt.NDArray[np.float32]
    offsets: tuple[tuple[int, int], ...]


def sentence_vector(states: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Mean over all the states given, max over those between [CLS] and [SEP] (all of them
    when there are none between)."""
    words = states[1:-1] if len(states) > 2 else states
    return np.concatenate([states.mean(axis=0), words.max(axis=0)]).astype(np.float32)


def file_sha256(path: Path) -> str:
    """The sha256 of an encoder file, as `meta.json` records it."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Encoder:
    def __init__(self, tokenizer_json: str, max_tokens: int, model: Path, threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.max_tokens = max_tokens
        self.model = model
        self._tokenizer = Tokenizer.from_str(tokenizer_json)
        # As shipped the tokenizer pads every input to 128 tokens; unpadded is ~7x faster.
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_tokens)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # The file keeps Add + LayerNormalization apart on purpose: fused into
        # SkipLayerNormalization they run 4.4 times slower on the CPU (docs/MODEL.md, Speed).
        self._session = ort.InferenceSession(
            str(model),
            options,
            providers=["CPUExecutionProvider"],
            disabled_optimizers=["SkipLayerNormFusion"],
        )

    def encode(self, text: str) -> Encoded:
        enc = self._tokenizer.encode(text)
        ids = np.asarray([enc.ids], dtype=np.int64)
        mask = np.ones_like(ids)
        (hidden,) = self._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        states = np.asarray(hidden[0], dtype=np.float32)
        return Encoded(sentence_vector(states), states[1:-1], tuple(enc.offsets[1:-1]))

    def encode_batch(self, texts: Sequence[str], batch_size: int = 16) -> list[Encoded]:
        """`encode` of many texts, batched by similar length to pad little."""
        if len(texts) == 1:
            return [self.encode(texts[0])]
        encs = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))
        out: list[Encoded | None] = [None] * len(texts)
        for idx in _buckets(order, [len(e.ids) for e in encs], batch_size):
            hidden, mask = self._run([encs[i].ids for i in idx])
            for r, i in enumerate(idx):
                n = int(mask[r].sum())
                states = np.asarray(hidden[r, :n], dtype=np.float32)
                offsets = tuple(encs[i].offsets[1 : n - 1])
                out[i] = Encoded(sentence_vector(states), states[1:-1], offsets)
        return [e for e in out if e is not None]

    def _run(self, batch: list[list[int]]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        width = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for r, row in enumerate(batch):
            ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        (hidden,) = self._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        return np.asarray(hidden, dtype=np.float32), mask

    def pooled(self, texts: Sequence[str], batch_size: int = 32) -> npt.NDArray[np.float32]:
        """Sentence vectors of many texts, batched by similar length to pad little."""
        out = np.zeros((len(texts), 2 * HIDDEN), dtype=np.float32)
        encs = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))
        for idx in _buckets(order, [len(e.ids) for e in encs], batch_size):
            hidden, mask = self._run([encs[i].ids for i in idx])
            for r, i in enumerate(idx):
                out[i] = sentence_vector(hidden[r, : int(mask[r].sum())])
        return out


def _buckets(order: list[int], lengths: list[int], size: int) -> list[list[int]]:
    """Batches of at most `size` texts (taken in order of length) whose longest is at most a
    quarter (plus 4 tokens) longer than their shortest: padding costs as much as real tokens."""
    batches: list[list[int]] = []
    for i in order:
        last = batches[-1] if batches else None
        if last and len(last) < size and lengths[i] <= lengths[last[0]] * 1.25 + 4:
            last.append(i)
        else:
            batches.append([i])
    return batches
