"""Readers for the labelled sets in shared/data and data/labelled (training and evaluation)."""

from __future__ import annotations

import ast
import codecs
import contextlib
import csv
import html
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rejoinder.classifier.evaluation import EvalRow
from rejoinder.core.moderation.categories import CATEGORIES, TOXIC_CATEGORIES

csv.field_size_limit(10_000_000)

UNKNOWN = -1


@dataclass(frozen=True)
class TrainRow:
    """One training text: a label per category (1, 0 or UNKNOWN), its source and weight."""

    text: str
    labels: dict[str, int]
    source: str
    weight: float = 1.0
    #: rows sharing a group (a comment and its sentences, an example and its copies) are kept
    #: on the same side of every cross-validation split
    group: str = ""


def _labels(**known: int) -> dict[str, int]:
    return {c: known.get(c, UNKNOWN) for c in CATEGORIES}


def _all_zero() -> dict[str, int]:
    return dict.fromkeys(CATEGORIES, 0)


def _read_csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)


_TAG = re.compile(r"<[^>]+>")


def _clean_html(text: str) -> str:
    text = _TAG.sub(" ", text.replace("<br />", "\n").replace("<br>", "\n"))
    return " ".join(html.unescape(text).replace("\ufeff", "").split())


# --- training sets (licences allow it; see docs/MODEL.md) -----------------------------------


def toxic_spans(data: Path) -> list[TrainRow]:
    """Civil Comments posts rated toxic (CC0), with a category label where at least half of
    the raters highlighted a span of that type."""
    base = data / "toxic-spans-civil-comments"
    texts = {r["comment_id"]: r["comment_text"] for r in _read_csv(base / "comments.csv")}
    raters: dict[str, set[str]] = defaultdict(set)
    ann_comment: dict[str, tuple[str, str]] = {}
    for r in _read_csv(base / "annotations.csv"):
        if r["comment_id"] == "6209917":  # a quality-control item with 357 judgements
            continue
        raters[r["comment_id"]].add(r["worker"])
        ann_comment[r["annotation"]] = (r["comment_id"], r["worker"])
    kinds = {
        "Insult": "insult",
        "Insu": "insult",
        "Threat": "threat",
        "Identity based Attack": "identity_attack",
        "Identity based ": "identity_attack",
        "Profane/Obscene": "obscenity",
    }
    marked: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in _read_csv(base / "spans.csv"):
        cat = kinds.get(r["type"])
        if cat is None or r["annotation"] not in ann_comment:
            continue
        cid, worker = ann_comment[r["annotation"]]
        marked[(cid, cat)].add(worker)
    rows: list[TrainRow] = []
    seen: set[str] = set()
    for cid, text in texts.items():
        if cid not in raters or text in seen or not text.strip():
            continue
        seen.add(text)
        n = len(raters[cid])
        labels = _labels(toxicity=1)
        for cat in ("insult", "threat", "identity_attack", "obscenity"):
            labels[cat] = int(len(marked.get((cid, cat), ())) * 2 >= n)
        labels["spam"] = 0
        rows.append(TrainRow(text, labels, "toxic_spans", group=f"civil:{cid}"))
    return rows


def toxic_spans_removed(data: Path) -> list[TrainRow]:
    """SemEval toxic-spans texts with the toxic characters deleted (CC0 allows the derivation):
    news-comment negatives, noisy; only texts whose spans cover at most a quarter of them."""
    base = data / "toxic-spans-civil-comments" / "semeval2021"
    rows: list[TrainRow] = []
    seen: set[str] = set()
    for name in ("tsd_train.csv", "tsd_trial.csv", "tsd_test.csv"):
        for r in _read_csv(base / name):
            text = r["text"]
            spans = set(ast.literal_eval(r["spans"]))
            if not spans or len(spans) > len(text) / 4:
                continue
            kept = "".join(c for i, c in enumerate(text) if i not in spans)
            kept = " ".join(kept.split())
            if len(kept) < 20 or kept in seen:
                continue
            seen.add(kept)
            rows.append(TrainRow(kept, _all_zero(), "toxic_spans_removed"))
    return rows


_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"')\]]*|\n|$)")


def toxic_spans_sentences(data: Path) -> list[TrainRow]:
    """Sentence-level rows from the toxic-spans comments (CC0). A character is toxic when at
    least half of the comment's raters highlighted it. Sentences (40 characters or more) with no
    toxic character are news-comment negatives; sentences with one are toxic. Whole sentences
    keep their grammar, unlike texts with the toxic words cut out, and both classes are
    sentences, so length tells nothing."""
    base = data / "toxic-spans-civil-comments"
    texts = {r["comment_id"]: r["comment_text"] for r in _read_csv(base / "comments.csv")}
    raters: dict[str, set[str]] = defaultdict(set)
    ann: dict[str, tuple[str, str]] = {}
    for r in _read_csv(base / "annotations.csv"):
        if r["comment_id"] != "6209917":
            raters[r["comment_id"]].add(r["worker"])
            ann[r["annotation"]] = (r["comment_id"], r["worker"])
    marks: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for r in _read_csv(base / "spans.csv"):
        if r["annotation"] in ann:
            cid, worker = ann[r["annotation"]]
            marks[cid][worker].update(range(int(r["start"]), int(r["end"])))
    rows: list[TrainRow] = []
    seen: set[str] = set()
    for cid, text in texts.items():
        n = len(raters.get(cid, ()))
        if n == 0 or not marks.get(cid):
            continue
        votes: Counter[int] = Counter()
        for chars in marks[cid].values():
            votes.update(chars)
        toxic = {i for i, v in votes.items() if v * 2 >= n}
        if not toxic:
            continue
        for m in _SENTENCE.finditer(text):
            sentence = " ".join(m.group().split())
            if len(sentence) < 40 or sentence in seen:
                continue
            seen.add(sentence)
            hits = sum(1 for i in range(m.start(), m.end()) if i in toxic)
            any_mark = any(i in votes for i in range(m.start(), m.end()))
            group = f"civil:{cid}"
            if hits >= 3:
                labels = _labels(toxicity=1, spam=0)
                rows.append(TrainRow(sentence, labels, "toxic_spans_sentences", group=group))
            elif not any_mark:
                rows.append(TrainRow(sentence, _all_zero(), "toxic_spans_sentences", group=group))
    return rows


_SIGNATURE = re.compile(
    r"\s*(?:--|—)?\s*\[?\[?User[^\]]*\]?\]?.*?\(UTC\)|\d{2}:\d{2}, \d+ \w+ \d{4} \(UTC\)"
)


def _clean_wiki(text: str) -> str:
    text = text.replace("NEWLINE_TOKEN", " ").replace("NEWLINE;_TOKEN", " ").replace("``", '"')
    text = _SIGNATURE.sub(" ", text).strip().strip("`")
    return " ".join(text.split())


def wikipedia_talk(data: Path) -> list[TrainRow]:
    """Wikipedia talk-page comments (text CC BY-SA 3.0, labels Apache-2.0): CAT-LARGE, CAT-SMALL
    (out-of-context label) and the Jigsaw non-fuzzed toxicity test set (labels CC BY 4.0)."""
    rows: list[TrainRow] = []
    seen: set[str] = set()

    def add(text: str, toxic: bool, source: str) -> None:
        text = _clean_wiki(text)
        if len(text) < 3 or text in seen:
            return
        seen.add(text)
        rows.append(TrainRow(text, _labels(toxicity=1) if toxic else _all_zero(), source))

    base = data / "wikipedia-talk-context-toxicity"
    for name in ("gc.csv", "gn.csv"):
        for r in _read_csv(base / name):
            add(r["text"], r["label"] == "1", "wikipedia_cat")
    for r in _read_csv(base / "cat_small.csv"):
        add(r["text"], r["label_oc"] == "1", "wikipedia_cat")
    bias = data / "wikipedia-toxicity-bias-eval" / "toxicity_nonfuzzed_testset.csv"
    for r in _read_csv(bias):
        add(r["comment"], r["toxic"] == "True", "wikipedia_detox")
    return rows


def davidson(data: Path) -> list[TrainRow]:
    """Tweets (MIT): hate speech, offensive language, neither."""
    rows: list[TrainRow] = []
    mention = re.compile(r"(?:\bRT\s+)?@\w+:?|&amp;|&#\d+;|https?://\S+")
    for r in _read_csv(data / "davidson-hate-offensive-tweets" / "labeled_data.csv"):
        text = " ".join(html.unescape(mention.sub(" ", r["tweet"])).split())
        if len(text) < 3:
            continue
        cls = r["class"]
        if cls == "0":
            labels = _labels(toxicity=1, identity_attack=1, spam=0)
        elif cls == "1":
            labels = _labels(toxicity=1, spam=0)
        else:
            labels = _all_zero()
        rows.append(TrainRow(text, labels, "davidson"))
    return rows


def stormfront(data: Path) -> list[TrainRow]:
    """Stormfront sentences (CC BY-SA 3.0): `hate` are identity attacks; `noHate` are not
    civil news comments, so they get a low weight."""
    base = data / "stormfront-hate-speech"
    rows: list[TrainRow] = []
    seen: set[str] = set()
    for r in _read_csv(base / "annotations_metadata.csv"):
        if r["label"] not in ("hate", "noHate"):
            continue
        text = (base / "all_files" / f"{r['file_id']}.txt").read_text(encoding="utf-8")
        text = re.sub(r" ([.,!?;:])", r"\1", text).strip()
        if len(text) < 3 or text in seen:
            continue
        seen.add(text)
        if r["label"] == "hate":
            rows.append(
                TrainRow(text, _labels(toxicity=1, identity_attack=1, spam=0), "stormfront")
            )
        else:
            rows.append(TrainRow(text, _all_zero(), "stormfront", 0.3))
    return rows


def youtube_spam(data: Path) -> list[TrainRow]:
    """YouTube comment spam (CC BY 4.0 per UCI): spam vs legitimate comments."""
    rows: list[TrainRow] = []
    seen: set[str] = set()
    for path in sorted((data / "youtube-spam-collection").glob("Youtube*.csv")):
        for r in _read_csv(path):
            text = _clean_html(r["CONTENT"])
            key = text.lower()
            if len(text) < 2 or key in seen:
                continue
            seen.add(key)
            labels = _all_zero()
            labels["spam"] = int(r["CLASS"] == "1")
            rows.append(TrainRow(text, labels, "youtube"))
    return rows


def read_labelled(path: Path) -> list[EvalRow]:
    """A JSONL file of {"text", "label": 0|1, "cat"?}."""
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                extra = {"kind": str(d["kind"])} if "kind" in d else {}
                rows.append(EvalRow(d["text"], int(d["label"]), d.get("cat") or "none", extra))
    return rows


def own_train_rows(rows: list[EvalRow]) -> list[TrainRow]:
    """The project's own examples as training rows: a positive is positive in its category
    (and in toxicity, unless it is spam); a negative is negative everywhere."""
    out = []
    for r in rows:
        if r.label == 0:
            labels = _all_zero()
        elif r.cat == "spam":
            labels = _all_zero()
            labels["spam"] = 1
        else:
            labels = _labels(toxicity=1, spam=0)
            if r.cat in TOXIC_CATEGORIES:
                labels[r.cat] = 1
        out.append(TrainRow(r.text, labels, "own", 2.0))
    return out


# --- evaluation-only sets (never trained on) -------------------------------------------------


def ucc(data: Path) -> list[EvalRow]:
    """UCC (CC BY-NC-SA 4.0, evaluation only): label = hostile or antagonize."""
    rows = []
    for name in ("test.csv", "val.csv"):
        for r in _read_csv(data / "ucc-unhealthy-comments" / name):
            label = int(r["hostile"] == "1" or r["antagonize"] == "1")
            rows.append(EvalRow(r["comment"], label, "toxicity" if label else "none"))
    return rows


def sfu(data: Path) -> list[EvalRow]:
    """SFU CTC (CC BY-NC-SA 4.0, evaluation only): label = toxicity answer >= 2 (mildly toxic)."""
    rows = []
    path = data / "sfu-ctc-globe-and-mail" / "SFU_constructiveness_toxicity.csv"
    for r in _read_csv(path):
        label = int(int(r["is_toxic_popular_answer_1"]) >= 2)
        rows.append(EvalRow(r["comment"], label, "toxicity" if label else "none"))
    return rows


def _kaggle_text(raw: str) -> str:
    s = raw.strip()
    if s.startswith('"') and s.endswith('"'):
        s = s[1:-1]
    s = codecs.decode(s.encode("latin-1", "backslashreplace"), "unicode_escape")
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        s = s.encode("latin-1").decode("utf-8")
    return " ".join(s.replace("\\n", " ").split())


def kaggle_insults(data: Path, split: str = "test_with_solutions") -> list[EvalRow]:
    """Kaggle/Impermium insults (no licence, evaluation only): label = insult to a participant."""
    rows = []
    for r in _read_csv(data / "kaggle-insults-impermium" / f"{split}.csv"):
        label = int(r["Insult"] == "1")
        rows.append(EvalRow(_kaggle_text(r["Comment"]), label, "insult" if label else "none"))
    return rows


def madlibs(data: Path) -> list[EvalRow]:
    """Synthetic identity-term sentences (CC BY 4.0), for the identity-bias check only."""
    rows = []
    for r in _read_csv(data / "wikipedia-toxicity-bias-eval" / "bias_madlibs_77k.csv"):
        label = int(r["Label"] == "BAD")
        rows.append(EvalRow(r["Text"], label, "toxicity" if label else "none"))
    return rows
