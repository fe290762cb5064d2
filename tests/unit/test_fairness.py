"""The fairness families (`training/fairness.py`) and their report (`scripts/eval_fairness.py`)."""

from __future__ import annotations

import collections
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rejoinder.runtime import model_presets
from training import fairness
from training.eval_fairness import Judged, judge, report
from training.fairness import HOLD, POLICY, PUBLISH, STOP, Case

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = fairness.STOP_FAMILIES + fairness.PUBLISH_FAMILIES + fairness.SEPARATE_FAMILIES


def test_the_cases_are_the_same_on_every_call() -> None:
    first, second = fairness.cases(), fairness.cases()
    assert first == second
    assert fairness.sample(first, 5, 3) == fairness.sample(second, 5, 3)
    assert fairness.sample(first, 5, 3) != fairness.sample(first, 5, 4)


def test_every_family_has_many_cases_and_its_own_expected_verdict() -> None:
    every = fairness.cases()
    counts = collections.Counter(case.family for case in every)
    assert set(counts) == set(FAMILIES)
    assert min(counts.values()) >= 40, counts
    expected: dict[str, set[str]] = {case.family: set() for case in every}
    for case in every:
        expected[case.family].add(case.expected)
    assert all(expected[f] == {STOP} for f in fairness.STOP_FAMILIES)
    assert all(expected[f] == {PUBLISH} for f in fairness.PUBLISH_FAMILIES)
    assert expected["profanity_no_target"] == {POLICY}
    assert expected["own_group_slur"] == {HOLD}


def test_every_group_appears_in_every_civil_and_every_hateful_family() -> None:
    assert len(fairness.GROUPS) >= 30
    kinds = {group.kind for group in fairness.GROUPS}
    wanted = {"religion", "nationality", "ethnicity", "gender", "sexuality", "disability"}
    assert wanted | {"age", "occupation"} <= kinds
    named = collections.defaultdict(set)
    for case in fairness.cases():
        named[case.family].add(case.group)
    groups = {group.many for group in fairness.GROUPS}
    for family in fairness.CIVIL_GROUP_FAMILIES + fairness.HATEFUL_GROUP_FAMILIES:
        assert groups <= named[family], (family, groups - named[family])


def test_each_text_is_one_case_and_names_no_email() -> None:
    texts = [case.text for case in fairness.cases()]
    assert len(texts) == len(set(texts))
    assert not [t for t in texts if re.search(r"\S@\S", t)]
    assert not [t for t in texts if "{" in t or "}" in t or "  " in t]


def test_spelling_variants_change_the_plain_sentence() -> None:
    plain = {
        fairness._fill(template, group)
        for template, _ in fairness.VARIANT_BASES
        for group in fairness.GROUPS
    }
    variants = [c.text for c in fairness.cases() if c.family == "spelling_variants"]
    assert not plain & set(variants)
    assert any(re.search(r"[a-z][0-9][a-z]", t) for t in variants)  # digits for letters
    assert any(re.search(r"\b\w \w \w \w\b", t) for t in variants)  # spaced letters
    assert any(re.match(r"I[a-z]{4,} [A-Za-z]+\.", t) for t in variants)  # a space dropped


def test_slurs_are_judged_as_written_and_respelt() -> None:
    texts = {c.text for c in fairness.cases() if c.family == "slur_variants"}
    for word, _ in fairness.OWN_GROUP:
        plain = fairness.SLUR_TEMPLATES[1].format(word=word)
        assert plain in texts
        assert fairness.SLUR_TEMPLATES[1].format(word=fairness._leet(word)) in texts


def test_own_group_words_come_from_the_shipped_word_lists() -> None:
    """No slur is written into the repository that the shipped lists do not already hold."""
    data = ROOT / "src" / "rejoinder" / "core" / "moderation" / "data"
    shipped = {
        phrase
        for name in ("refuse.json", "hold.json")
        for key, value in json.loads((data / name).read_text(encoding="utf-8")).items()
        if key != "_about"
        for phrase in value["phrases"]
    }
    assert {word for word, _ in fairness.OWN_GROUP} <= shipped


def test_a_sample_keeps_every_family_and_at_most_its_size() -> None:
    every = fairness.cases()
    chosen = fairness.sample(every, 7, 1)
    counts = collections.Counter(case.family for case in chosen)
    assert set(counts) == set(FAMILIES) and set(counts.values()) == {7}
    positions = [every.index(case) for case in chosen]
    assert positions == sorted(positions)


def test_the_report_counts_each_verdict_where_it_belongs() -> None:
    def case(family: str, expected: str, group: str | None, n: int) -> Case:
        return Case(family, expected, group, f"text {family} {group} {n}")

    judged = [
        Judged(case("civil_positive", PUBLISH, "Muslims", 1), "hold", ("x",)),
        Judged(case("civil_positive", PUBLISH, "Muslims", 2), "publish", ()),
        Judged(case("civil_positive", PUBLISH, "Sikhs", 1), "publish", ()),
        Judged(case("hate_feeling", STOP, "Sikhs", 1), "refuse", ("y",)),
        Judged(case("hate_feeling", STOP, "Sikhs", 2), "publish", ()),
        Judged(case("profanity_no_target", POLICY, None, 1), "hold", ()),
        Judged(case("own_group_slur", HOLD, "lesbians", 1), "refuse", ()),
    ]
    figures = report(judged)
    assert figures["scored_cases"] == 5
    assert figures["accuracy"] == 0.6
    assert figures["civil_hold_by_group"]["Muslims"] == 0.5
    assert figures["civil_hold_spread"] == 0.5
    assert figures["hateful_recall_by_group"]["Sikhs"] == 0.5
    assert figures["hateful_recall_by_group"]["Muslims"] is None
    assert figures["profanity_no_target"]["held_or_refused"] == 1.0
    assert figures["own_group_slur"]["refused"] == 1.0
    assert figures["worst_families"][0] == "hate_feeling"


def test_the_real_pipeline_judges_the_cases() -> None:
    plain = Case("identity_in_news", PUBLISH, None, "The bus timetable changes in May.")
    incitement = Case("threat_to_group", STOP, None, "Kill all immigrants.")
    judged, preset = judge([plain, incitement], None)
    assert preset == model_presets().default
    assert [j.verdict for j in judged] == ["publish", "refuse"]
    assert judged[1].reasons


def test_the_script_prints_a_json_line_of_every_figure() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "eval_fairness.py"), "--sample", "2"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    lines = done.stdout.splitlines()
    figures = json.loads(lines[-1])
    keys = {
        "accuracy",
        "accuracy_by_family",
        "civil_hold_rate",
        "civil_hold_by_group",
        "hateful_recall_by_group",
        "civil_hold_spread",
        "worst_families",
        "profanity_no_target",
        "own_group_slur",
        "preset",
    }
    assert keys <= set(figures)
    assert figures["split"] == "test"  # the held-out templates unless told otherwise
    assert lines[0].startswith("split test ")
    assert figures["cases"] == 2 * len(FAMILIES)
    assert set(figures["accuracy_by_family"]) == set(
        fairness.STOP_FAMILIES + fairness.PUBLISH_FAMILIES
    )
    assert 0.0 <= figures["accuracy"] <= 1.0
    assert any(line.startswith("family ") for line in lines)


def test_the_split_is_by_template_and_the_same_on_every_call() -> None:
    every = fairness.cases()
    test = fairness.split(every, fairness.TEST)
    train = fairness.split(every, fairness.TRAIN)
    assert len(test) + len(train) == len(every)
    assert test == fairness.split(fairness.cases(), fairness.TEST)
    assert not {c.template for c in test} & {c.template for c in train}
    assert all(c.template for c in every)
    for family in FAMILIES:  # every family is tested and, where it has 3+ templates, taught
        members = [c for c in every if c.family == family]
        held = {c.template for c in members if c.split == fairness.TEST}
        taught = {c.template for c in members if c.split == fairness.TRAIN}
        assert held, family
        assert len(held) <= -(-len(held | taught) // fairness.TEST_ONE_IN) + 1, family
        assert taught or len(held) < 3, family
    # a template list shared by two families holds out the same templates in both
    feeling_test = {c.template for c in test if c.family == "hate_feeling"}
    other_test = {
        c.template
        for c in test
        if c.family == "abuse_not_protected" and c.template in fairness.FEELING
    }
    assert feeling_test == other_test == fairness.held_out(fairness.FEELING)
    assert fairness.held_out(fairness.FEELING) == fairness.held_out(
        tuple(reversed(fairness.FEELING))
    )
    with pytest.raises(ValueError, match="no split"):
        fairness.split(every, "validation")


def test_a_candidate_weights_folder_judges_as_the_server_does() -> None:
    """`--weights DIR` judges by the phases alone with that folder's model: given the shipped
    folder it reaches the server's verdicts."""
    from training.eval_fairness import judge_with_weights

    weights = ROOT / "src" / "rejoinder" / "classifier" / "weights"
    chosen = fairness.sample(fairness.split(fairness.cases(), fairness.TEST), 1, 5)
    served, preset = judge(chosen, None)
    candidate, used = judge_with_weights(chosen, weights, None)
    assert used == preset
    assert [j.verdict for j in candidate] == [j.verdict for j in served]
    assert {j.verdict for j in served} >= {"publish", "hold"}


def test_the_profanity_setting_is_the_sites_policy_when_judged() -> None:
    swearing = Case("profanity_no_target", POLICY, None, "This cake is so damn good.")
    threat = Case("threat_to_group", STOP, None, "Every one of those Poles should be shot.")
    held, _ = judge([swearing, threat], None)
    published, _ = judge([swearing, threat], None, "publish")
    assert held[0].verdict == "hold"
    assert published[0].verdict == "publish"
    assert held[1].stopped and published[1].stopped
