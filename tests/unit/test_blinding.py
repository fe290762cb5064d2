"""Blind, the model reads a comment with each group's name replaced: the same sentence about any
group scores the same, and a reason points at what was said, mapped back to the writer's text."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from rejoinder.classifier.blinding import blind
from rejoinder.classifier.model import Classifier
from rejoinder.classifier.spelling import normalise
from training import fairness

#: Sentences of the fairness families (TRAIN split: civil, hateful), with a target to fill in.
SENTENCES = (
    fairness.POSITIVE[1],
    fairness.NEWS[0],
    fairness.NEGATED_HATE[4],
    fairness.FEELING[3],
    fairness.DEHUMANISING[1],
)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


def test_a_name_is_replaced_and_maps_back_to_the_writers_characters() -> None:
    text = "Honestly, I l0athe Jewish People, and an Indian man too."
    read = blind(normalise(text))
    assert read.norm.text == "honestly, i loathe people, and a person too."
    assert len(read.norm.origin) == len(read.norm.text)
    named = [text[slice(*read.norm.span(start, end))] for start, end in read.placeholders]
    assert named == ["Jewish People", "Indian man"]
    plain = blind(normalise("Nothing here names anyone."))
    assert plain.placeholders == ()
    assert plain.norm == normalise("Nothing here names anyone.")


def test_every_sentence_of_the_fairness_cases_reads_the_same_whoever_it_names() -> None:
    """Every template of the group families, plural and singular, whatever the group; but
    one man or one woman is a person, not a group (the lexicon's note)."""
    for _, templates in fairness._GROUP_TEMPLATES.values():
        for template in templates:
            groups = [
                g
                for g in fairness.GROUPS
                if "{one}" not in template or g.many not in ("men", "women")
            ]
            read = {blind(normalise(fairness._fill(template, g))).norm.text for g in groups}
            assert len(read) == 1, read


def test_the_same_sentence_scores_the_same_whoever_it_names(classifier: Classifier) -> None:
    for template in SENTENCES:
        texts = [fairness._fill(template, g) for g in fairness.GROUPS]
        scores = {
            tuple(round(s.score, 6) for s in result.values())
            for result in classifier.score_batch(texts, blind=True)
        }
        assert len(scores) == 1, template
    classifier.blind_groups = False  # what it replaces: the names were weighed themselves
    try:
        texts = [fairness._fill(SENTENCES[0], g) for g in fairness.GROUPS]
        assert (
            len({round(r["identity_attack"].score, 6) for r in classifier.score_batch(texts)}) > 1
        )
    finally:
        classifier.blind_groups = True


def test_a_reason_is_the_attack_never_the_name_alone(classifier: Classifier) -> None:
    text = "Nigerians are parasites living off the rest of us."
    result = classifier.score(text, blind=True)
    spans = [s for score in result.values() for s in score.spans]
    assert any("parasites" in s.text for s in spans)
    assert all(s.text != "Nigerians" for s in spans)
    for span in spans:
        assert text[span.start : span.end] == span.text


def test_weights_trained_blind_are_read_blind_and_training_reads_as_scoring(
    tmp_path: Path,
) -> None:
    """`training/train_model.py --blind-groups` writes "blind_groups": true; such weights
    read every comment blind unless a caller says otherwise, and training's n-gram rows are
    those of the text scoring reads."""
    from training.pipeline import model_text

    shipped = Path(str(resources.files("rejoinder.classifier").joinpath("weights")))
    for item in shipped.iterdir():
        if item.name != "meta.json":
            (tmp_path / item.name).symlink_to(item)
    meta = json.loads((shipped / "meta.json").read_text(encoding="utf-8"))
    assert meta["blind_groups"] is False  # the shipped heads were trained reading the names
    meta["blind_groups"] = True
    (tmp_path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    trained_blind = Classifier.load(weights=tmp_path)
    assert trained_blind.blind_groups
    texts = [fairness._fill(SENTENCES[0], g) for g in fairness.GROUPS[:3]]
    scores = {round(r["identity_attack"].score, 6) for r in trained_blind.score_batch(texts)}
    assert len(scores) == 1
    assert not Classifier.load(weights=tmp_path, blind_groups=False).blind_groups

    # what `ngram_matrix` and `embedcache.embed` read (scipy, a training extra, not needed)
    assert model_text(texts[0], True) == blind(normalise(texts[0])).norm.text
    assert model_text(texts[0], True) == model_text(texts[1], True)
    assert model_text(texts[0], False) == normalise(texts[0]).text
