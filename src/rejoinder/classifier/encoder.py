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
        # SkipLayerNormalization they run 4.4 times slower on the CPU (docs/experiments/log.md).
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

    def encode_batch(self, texts: Sequence[str]) -> list[Encoded]:
        """`encode` of each text, one run each. Not padded together on purpose: the int8
        network quantises its activations with one range per run, so a text encoded beside
        others got other numbers than alone (up to 0.34 apart in a score), and batches of 16
        scored the bench's comments only 5% faster (docs/experiments/log.md)."""
        return [self.encode(text) for text in texts]

    def pooled(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Sentence vectors of many texts, each encoded alone, as `encode` does at run time:
        what the heads are trained on is what they read when a comment is judged."""
        out = np.zeros((len(texts), 2 * HIDDEN), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self.encode(text).pooled
        return out
