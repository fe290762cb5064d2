"""The lexicon of groups of people (`data/groups.json`) and where a text names one."""

from __future__ import annotations

import re

import pytest

from rejoinder.core.moderation.matching import lexicon
from rejoinder.core.moderation.matching.groups import (
    ADJECTIVE,
    MANY,
    ONE,
    mentions,
    names_a_group_only,
)
from training import fairness

KINDS = (
    "religion",
    "nationality",
    "origin",
    "ethnicity",
    "gender",
    "sexuality",
    "disability",
    "age",
    "occupation",
)


def test_the_lexicon_is_broad_lower_case_and_says_where_it_comes_from() -> None:
    data = lexicon.load("groups")
    assert "written for this project" in data["_about"]
    assert set(data["kinds"]) == set(KINDS)
    entries = [
        entry
        for kind in data["kinds"].values()
        for number in (MANY, ONE, ADJECTIVE)
        for entry in kind[number]
    ]
    assert len(set(entries)) > 500  # far more than the 47 groups the fairness cases name
    for entry in [*entries, *data["heads"]["many"], *data["heads"]["one"], *data["head_only"]]:
        assert entry == entry.strip().lower(), entry
        assert re.fullmatch(r"[a-z0-9'’+\- ]+", entry), entry
    assert set(data["placeholder"]) == {MANY, ONE, ADJECTIVE}


def _named(text: str) -> list[tuple[str, str]]:
    return [(text[m.start : m.end], m.number) for m in mentions(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i loathe jewish people.", [("jewish people", MANY)]),
        ("my friend is a black trans woman", [("black trans woman", ONE)]),
        ("ihate gaypeople.", [("gaypeople", MANY)]),
        ("the chinese are hard workers", [("chinese", MANY), ("workers", MANY)]),
        ("i love chinese food and polish beer", [("chinese", MANY), ("polish", ADJECTIVE)]),
        ("threatened for being a muslim.", [("muslim", ONE)]),
        ("roma disgust me", [("roma", MANY)]),
        ("the muslims' mosque and a sikh's turban", [("muslims", MANY), ("sikh", ONE)]),
        (
            "people with down syndrome and bus drivers",
            [
                ("people with down syndrome", MANY),
                ("bus drivers", MANY),
            ],
        ),
        # everyday senses of the head-only adjectives, and one man: no group named
        ("white paint, an old car, straight away, a queer feeling", []),
        ("the man next door is rude", []),
        ("old people and white women", [("old people", MANY), ("white women", MANY)]),
    ],
)
def test_mentions_of_a_group_are_found_whole(text: str, expected: list[tuple[str, str]]) -> None:
    assert _named(text) == expected


def test_every_group_of_the_fairness_cases_is_one_mention() -> None:
    """Each of the 47 groups, as a plural and as one member; but one man or one woman is a
    person, not a group named (the lexicon's note)."""
    for group in fairness.GROUPS:
        for name in (group.many, group.one):
            if name in ("a man", "a woman"):
                assert not mentions(f"i met {name} today")
                continue
            text = f"i met {name.lower()} today"
            found = mentions(text)
            assert len(found) == 1, name
            named = text[found[0].start : found[0].end]
            assert named == name.lower().removeprefix("a ").removeprefix("an "), name


def test_a_span_that_only_names_a_group_is_known() -> None:
    assert names_a_group_only("the nurses", frozenset({"the"}))
    assert names_a_group_only("jewish people")
    assert not names_a_group_only("nurses are vermin")
    assert not names_a_group_only("")
