"""The shipped moderation model: loads from the package, scores in [0, 1], explains with spans of
the original text, ranks abuse above civil comments, and never touches the network."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import threading
from importlib import resources
from pathlib import Path

import pytest

from rejoinder.classifier.model import Classifier, get_classifier
from rejoinder.classifier.spelling import normalise
from rejoinder.core.moderation.categories import CATEGORIES
from rejoinder.core.moderation.models import Verdict
from rejoinder.core.pagedump import parse_page_dump

ZW = "\u200b"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


def _held(classifier: Classifier, text: str) -> bool:
    """Whether the model alone would hold the text: some category at or over its threshold."""
    scores = classifier.score(text)
    return any(s.score >= classifier.thresholds[c].hold for c, s in scores.items())


def _run_python(code: str, timeout: float = 60) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    last: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return last


def test_loads_from_the_installed_package_in_a_fresh_interpreter() -> None:
    # A fresh interpreter, as a new worker: the package's files alone make a working model.
    # (How long that takes is measured by bench/moderation_model.py, not asserted here: a
    # timed test fails on a busy machine.)
    result = _run_python(
        """
        import json
        from rejoinder.classifier.model import Classifier
        clf = Classifier.load()
        scores = clf.score("You are a worthless idiot and everyone hates you.")
        print(json.dumps({"categories": sorted(scores)}))
        """
    )
    categories = result["categories"]
    assert isinstance(categories, list) and "insult" in categories


def test_the_encoder_is_the_shipped_file_the_heads_were_trained_for() -> None:
    # Heads, thresholds, the training cache and per-site models are all made for one encoder
    # file; a file that changed under them would score with the wrong vectors, silently.
    from rejoinder.classifier.encoder import file_sha256

    weights = Path(str(resources.files("rejoinder.classifier").joinpath("weights")))
    meta = json.loads((weights / "meta.json").read_text(encoding="utf-8"))
    path = weights / meta["encoder"]["file"]
    assert file_sha256(path) == meta["encoder"]["sha256"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Thanks for the article.",
        "You are a pathetic idiot.",
        "x" * 10_000,
        "😀🔥 ¿Qué? Ελληνικά 中文",
        "Buy cheap watches at www.example.com!!!",
    ],
)
def test_every_category_gets_a_score_between_zero_and_one(
    classifier: Classifier, text: str
) -> None:
    scores = classifier.score(text)
    assert tuple(scores) == CATEGORIES
    for cat, result in scores.items():
        assert result.category == cat
        assert 0.0 <= result.score <= 1.0


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Honestly, you are a complete idiot.", "idiot"),
        ("Well... you're a 1d10t, friend.", "1d10t"),
        (f"Séamus, you are an id{ZW}i{ZW}ot!", f"id{ZW}i{ZW}ot"),
        ("You are an \u0456d\u0456ot and a liar.", "\u0456d\u0456ot"),
        ("🔥🔥 You i.d.i.o.t, read it again.", "i.d.i.o.t"),
        ("Ｙｏｕ ａｒｅ ａ ｍｏｒｏｎ.", "ｍｏｒｏｎ"),
    ],
)
def test_spans_point_into_the_original_text_and_find_the_insult(
    classifier: Classifier, text: str, word: str
) -> None:
    scores = classifier.score(text)
    assert _held(classifier, text)
    assert scores["insult"].score >= 0.9
    spans = scores["insult"].spans
    assert spans, "a held category comes with the words that drove it"
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
        assert span.text == text[span.start : span.end]
        assert 0 < span.weight <= 1
    start = text.index(word)
    strongest = spans[0]
    assert strongest.start <= start and start + len(word) <= strongest.end


@pytest.mark.parametrize(
    "text",
    [
        "People like the councillor who voted against this should be watched very closely.",
        "I know where you live and I will come and hurt you.",
        "Bus people are vermin clogging up our roads. Drive them out of the town.",
        "You are all idiots and you should be ashamed of yourselves.",
    ],
)
def test_no_explanation_is_a_function_word_alone(classifier: Classifier, text: str) -> None:
    """'should' or 'against' says nothing to a moderator: such words show only between two
    chosen words ("people are vermin"), never as a span of their own."""
    from rejoinder.classifier.model import FUNCTION_WORDS

    scores = classifier.score(text)
    shown = [span.text for score in scores.values() for span in score.spans]
    assert shown, "something in each of these drives a score"
    for words in shown:
        parts = words.lower().replace("'", " ").split()
        assert parts[0] not in FUNCTION_WORDS and parts[-1] not in FUNCTION_WORDS, words


ABUSE_AND_CIVIL = [
    (
        "insult",
        "You are a brainless moron and everyone here knows it.",
        "I think your reading of the figures is wrong, the survey was small.",
    ),
    (
        "threat",
        "I know where you live and I will come and hurt you.",
        "The suspect threatened staff with a knife, police said.",
    ),
    (
        "identity_attack",
        "Those immigrants are vermin and should be exterminated.",
        "Many immigrants work as nurses in the city's hospitals.",
    ),
    ("obscenity", "Go fuck yourself, you piece of shit.", "Damn, the new bridge looks great."),
    (
        "spam",
        "Earn $500 a day from home!!! Visit www.cash-fast.example now",
        "The council will vote on the new bus routes next week.",
    ),
]


@pytest.mark.parametrize(("category", "abuse", "civil"), ABUSE_AND_CIVIL)
def test_abuse_scores_above_a_civil_sentence_on_the_same_topic(
    classifier: Classifier, category: str, abuse: str, civil: str
) -> None:
    bad = classifier.score(abuse)[category].score
    good = classifier.score(civil)[category].score
    assert bad > good + 0.3
    assert not _held(classifier, civil)
    assert _held(classifier, abuse) or category == "threat"
    assert _judged(classifier, abuse) is not Verdict.PUBLISH
    assert _judged(classifier, civil) is Verdict.PUBLISH


def _judged(classifier: Classifier, text: str) -> Verdict:
    from datetime import UTC, datetime

    from rejoinder.core.moderation import ArticleRef, Policy, Submission, decide
    from rejoinder.core.moderation.phases.model_scores import scores_from
    from rejoinder.runtime import model_thresholds

    sub = Submission(
        text=text,
        name="A",
        email="",
        article=ArticleRef(1),
        now=datetime.now(UTC),
        via_form=False,
        model_scores=scores_from(classifier.score(text), text),
    )
    return decide(sub, Policy(thresholds=model_thresholds())).verdict


def test_batch_scores_are_the_single_scores() -> None:
    # The int8 encoder quantises its activations with one range per run: texts padded into
    # one run got other scores than alone (0.34 apart at worst on 300 training rows), so a
    # batch encodes each text in a run of its own, as training and verdicts do. Mode "full"
    # runs the encoder on every text, where the cascade might skip it.
    full = Classifier.load(mode="full")
    texts = [a for _, a, _ in ABUSE_AND_CIVIL] + [c for _, _, c in ABUSE_AND_CIVIL]
    batch = full.score_batch(texts)
    assert full.encoder_calls == len(texts)
    for text, result in zip(texts, batch, strict=True):
        single = full.score(text)
        for cat in CATEGORIES:
            assert result[cat].score == single[cat].score
            assert result[cat].spans == single[cat].spans


def test_seed_abuse_outscores_the_civil_seed_comments(
    classifier: Classifier, seed_text: str
) -> None:
    comments = {c.author: c.body for c in parse_page_dump(seed_text).comments if c.body.strip()}
    worst = {
        author: max(
            s.score / classifier.thresholds[c].hold for c, s in classifier.score(body).items()
        )
        for author, body in comments.items()
    }
    abusive = {"Séamus Ó Néill", "John C Carleton"}
    civil = {"Ron Wheeler", "Linda Wren", "Inferior", "JustPassingThrough", "jm74"}
    assert abusive | civil <= set(worst)
    # The model alone holds both abusive comments and ranks them above every civil one;
    # whether a civil one is published is the whole pipeline's decision, not this phase's.
    assert min(worst[a] for a in abusive) >= 1
    assert min(worst[a] for a in abusive) > max(worst[c] for c in civil)


@pytest.mark.parametrize("preset", ["light", "standard"])
def test_the_seeds_verdicts_are_the_same_under_either_preset(
    classifier: Classifier, seed_text: str, preset: str
) -> None:
    from datetime import UTC, datetime

    from rejoinder.core.moderation import ArticleRef, Policy, Submission, Verdict, decide
    from rejoinder.core.moderation.phases.model_scores import scores_from
    from rejoinder.runtime import model_thresholds

    policy = Policy(thresholds=model_thresholds(preset=preset))
    published = set()
    for c in parse_page_dump(seed_text).comments:
        scores = scores_from(classifier.score(c.body, preset=preset), c.body) if c.body else {}
        sub = Submission(
            text=c.body,
            name=c.author,
            email="",
            article=ArticleRef(1),
            now=datetime.now(UTC),
            via_form=False,
            model_scores=scores,
        )
        if decide(sub, policy).verdict is Verdict.PUBLISH:
            published.add(c.author)
    assert published == {"Ron Wheeler", "Linda Wren", "Inferior", "JustPassingThrough", "jm74"}


def test_get_classifier_is_one_instance_across_threads() -> None:
    seen: list[Classifier] = []
    threads = [threading.Thread(target=lambda: seen.append(get_classifier())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 4
    assert all(c is seen[0] for c in seen)


def _network_probe(control: bool) -> str:
    """A script that loads and scores, recording network use (audit events and open sockets);
    with `control`, it then makes one real connection attempt that the same probes must see."""
    return textwrap.dedent(
        f"""
        import json, os, socket, sys
        events = []
        def hook(event, args):
            if event.startswith(("socket.", "urllib.", "http.", "ftplib.", "smtplib.")):
                events.append(event)
        sys.addaudithook(hook)
        def open_sockets():
            links = []
            for fd in os.listdir("/proc/self/fd"):
                try:
                    links.append(os.readlink(f"/proc/self/fd/{{fd}}"))
                except OSError:
                    pass
            return sum(link.startswith("socket:") for link in links)
        from rejoinder.classifier.model import Classifier
        clf = Classifier.load(mode="full")
        clf.score("You are an idiot and I will find you.")
        clf.score_batch(["Thanks for the article.", "Earn $500 a day at www.example.com"] * 5)
        result = {{"scoring": list(events), "sockets": open_sockets()}}
        if {control}:
            probe = socket.socket()
            try:
                probe.connect(("127.0.0.1", 9))
            except OSError:
                pass
            result["control"] = events[len(result["scoring"]):]
            result["control_sockets"] = open_sockets()
        print(json.dumps(result))
        """
    )


def test_scoring_makes_no_network_connection() -> None:
    result = _run_python(_network_probe(control=True))
    assert result["scoring"] == []
    assert result["sockets"] == 0
    assert "socket.connect" in result["control"]  # type: ignore[operator]
    assert result["control_sockets"] == 1


def test_scoring_makes_no_connect_system_call() -> None:
    # Native code (onnxruntime, tokenizers) would not pass the audit hook: strace sees it.
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    done = subprocess.run(
        [
            strace,
            "-f",
            "-qq",
            "-e",
            "trace=connect,sendto",
            sys.executable,
            "-c",
            _network_probe(control=False),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0 and "ptrace" in done.stderr:
        pytest.skip("ptrace is not permitted here")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1])["scoring"] == []
    calls = [line for line in done.stderr.splitlines() if "connect(" in line or "sendto(" in line]
    assert calls == []


@pytest.mark.parametrize(
    "spelling",
    [
        "idiot",
        "IDIOT",
        "1d10t",
        "id!ot",
        "i.d.i.o.t",
        "i d i o t",
        "i-d-i-o-t",
        "iiiidiooot",
        f"id{ZW}iot",
        "\u0456d\u0456\u043et",
        "ｉｄｉｏｔ",
        "ídíót",
    ],
)
def test_normaliser_undoes_each_evasion_and_keeps_the_way_back(spelling: str) -> None:
    text = f"you {spelling}!"
    norm = normalise(text)
    assert norm.text == "you idiot!"
    assert len(norm.origin) == len(norm.text)
    start, end = norm.span(4, 9)
    assert text[start:end] == spelling


def test_cascade_runs_the_encoder_only_when_the_ngrams_are_unsure() -> None:
    cascade = Classifier.load(mode="cascade")
    full = Classifier.load(mode="full")
    plain = "Thanks for the article, the photos of the harbour are lovely."
    for clf in (cascade, full):
        clf.score(plain)
    assert cascade.encoder_calls == 0
    assert full.encoder_calls == 1
    assert cascade.score(plain)["toxicity"].score < cascade.thresholds["toxicity"].hold


def test_the_weights_ship_presets_and_the_standard_one_holds_no_later_than_the_light_one() -> None:
    clf = Classifier.load(mode="ngram")
    assert clf.preset == "standard"
    assert set(clf.presets) == {"standard", "light"}
    assert clf.thresholds == clf.presets["standard"].thresholds
    assert clf.presets["light"].civil_aim < clf.presets["standard"].civil_aim
    # the same greedy walk, stopped earlier by the cap on civil sentences in "light"
    for c in CATEGORIES:
        standard, light = clf.presets["standard"].thresholds[c], clf.presets["light"].thresholds[c]
        assert standard.hold <= light.hold, c
    assert any(
        clf.presets["standard"].thresholds[c].hold < clf.presets["light"].thresholds[c].hold
        for c in CATEGORIES
    )
    with pytest.raises(ValueError, match="unknown model preset"):
        clf.route("no-such-preset")


def test_the_cascade_bars_move_with_the_sites_own_hold_points() -> None:
    # A site's own thresholds: the encoder is asked when the n-gram margin over the site's
    # hold point (not the preset's) reaches the preset's bar.
    import math

    ngram = Classifier.load(mode="ngram")
    cascade = Classifier.load(mode="cascade")
    k = CATEGORIES.index("insult")
    route = cascade.route()
    text = "Only a fool would believe the council on this."
    p = ngram.score(text)["insult"].score
    assert 0.01 < p < route.ngram_cap[k]  # so this is the n-gram head's own probability
    z = math.log(p / (1 - p))
    bar = float(route.below[k])
    assert bar + 0.5 < float(route.above[k]) and bar + 0.5 < route.above_all

    def sigmoid(x: float) -> float:
        return 1 / (1 + math.exp(-x))

    never = dict.fromkeys(CATEGORIES, 1.0)
    over = {**never, "insult": sigmoid(z - bar - 0.5)}  # margin just over the bar
    under = {**never, "insult": sigmoid(z - bar + 0.5)}  # margin just under it
    cascade.score(text, holds=under)
    assert cascade.encoder_calls == 0
    cascade.score(text, holds=over)
    assert cascade.encoder_calls == 1


def _with_cascade(tmp_path: Path, below: object, above: float | None = None) -> Classifier:
    """The shipped weights with other cascade bars (the other files linked, not copied)."""
    shipped = Path(str(resources.files("rejoinder.classifier").joinpath("weights")))
    for item in shipped.iterdir():
        if item.name != "meta.json":
            (tmp_path / item.name).symlink_to(item)
    meta = json.loads((shipped / "meta.json").read_text(encoding="utf-8"))
    for preset in meta["presets"].values():
        preset["cascade"]["cascade"]["below"] = below
        if above is not None:
            preset["cascade"]["cascade"]["above"] = {c: above for c in CATEGORIES}
            preset["cascade"]["cascade"]["above_all"] = above
    (tmp_path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return Classifier.load(mode="cascade", weights=tmp_path)


INSULT = "You are a stupid, worthless idiot and everyone here knows it."


def test_a_head_whose_bar_lies_over_its_hold_point_does_not_hold_on_its_own(
    tmp_path: Path,
) -> None:
    shipped = Classifier.load(mode="ngram")
    assert shipped.score(INSULT)["insult"].score >= shipped.thresholds["insult"].hold
    # every head's bar far over any margin, no head ever sure: the n-grams decide, and a
    # margin under its bar is taken down by the bar, so nothing is held without the encoder
    lifted = _with_cascade(tmp_path, {c: 1000.0 for c in CATEGORIES}, above=1e9)
    scores = lifted.score(INSULT)
    assert lifted.encoder_calls == 0
    assert all(scores[c].score < lifted.thresholds[c].hold for c in CATEGORIES)


def test_one_head_over_its_bar_sends_the_comment_to_the_encoder(tmp_path: Path) -> None:
    bars: dict[str, float | None] = {c: 1000.0 for c in CATEGORIES}
    bars["insult"] = -1000.0  # the insult head is unsure of everything
    clf = _with_cascade(tmp_path, bars, above=1e9)
    clf.score(INSULT)
    assert clf.encoder_calls == 1
    bars["insult"] = None  # a head without a bar never asks
    (tmp_path / "none").mkdir()
    other = _with_cascade(tmp_path / "none", bars, above=1e9)
    other.score(INSULT)
    assert other.encoder_calls == 0


def test_weights_with_one_shared_bar_still_load(tmp_path: Path) -> None:
    clf = _with_cascade(tmp_path, -1000.0, above=1e9)  # the format before per-head bars
    clf.score("Thanks for the article, the photos of the harbour are lovely.")
    assert clf.encoder_calls == 1


@pytest.mark.parametrize("dims", [384, 768])
def test_word_pieces_share_out_the_encoder_head_exactly(dims: int) -> None:
    # What a highlighted word is credited with must add up to what the head computed:
    # the pieces' shares plus [CLS] and [SEP]'s part of the mean, nothing invented.
    import numpy as np

    from rejoinder.classifier.encoder import HIDDEN, sentence_vector
    from rejoinder.classifier.model import token_evidence

    rng = np.random.default_rng(5)
    states = rng.normal(0, 1, (9, HIDDEN)).astype(np.float32)  # [CLS], 7 pieces, [SEP]
    w = rng.normal(0, 1, dims).astype(np.float32)
    head = float(sentence_vector(states)[:dims] @ w)
    shares = token_evidence(states[1:-1], w)
    ends = float((states[0] + states[-1]) @ w[:HIDDEN]) / len(states)
    assert shares.shape == (7,)
    assert float(shares.sum()) + ends == pytest.approx(head, rel=1e-4, abs=1e-3)


def test_shipped_meta_is_exactly_what_its_typed_contract_writes() -> None:
    """Training writes meta.json through `ModelMeta`; the shipped file must read back through
    it and come out byte for byte (no field the package ignores, none missing)."""
    import json

    from rejoinder.classifier.meta import ModelMeta, shipped_weights

    raw = shipped_weights().joinpath("meta.json").read_text(encoding="utf-8")
    meta = ModelMeta.model_validate(json.loads(raw))
    assert json.dumps(meta.model_dump(), indent=1) + "\n" == raw
    assert meta.preset in meta.presets
