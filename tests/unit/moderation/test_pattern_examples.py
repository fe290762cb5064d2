"""Every phrase pattern of the threats, insults and identity phrasebooks has an id and at
least one example sentence, and each example is found by its own pattern run alone
(``Phrasebook.ranges(folded, only=id)``: folding, the sentence split, the prefilters, the
guards, the quotation checks and the merge as usual), and each of its `not_examples` (near
misses kept beside it) is found by no pattern of its book. The tests are parametrised by the
pattern's id, so a failure names the pattern.

The examples live next to their patterns in ``data/<book>.json``; they were written for
the patterns, not taken from the labelled data.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from rejoinder.core.moderation.matching import lexicon
from rejoinder.core.moderation.matching.folding import fold
from rejoinder.core.moderation.matching.phrasebook import phrasebook

BOOKS = ("threats", "insults", "identity")
#: "<code>.<what-it-catches>": "threat.find-and-hurt", "wish_of_harm.hope-you-die"
WELL_FORMED = re.compile(r"[a-z_]+\.[a-z0-9]+(?:-[a-z0-9]+)*")


def _entries() -> list[tuple[str, str, dict[str, Any]]]:
    """(book, id, entry) for every pattern of every phrasebook, read from the data files
    (cheap at collection time: no pattern is compiled). An entry without an id is named
    as the matcher names it, ``<code>-<n>``."""
    found = []
    for book in BOOKS:
        for code, entries in lexicon.load(book)["patterns"].items():
            for n, entry in enumerate(entries, 1):
                fields = entry if isinstance(entry, dict) else {"seq": entry}
                found.append((book, str(fields.get("id") or f"{code}-{n}"), fields))
    return found


ENTRIES = _entries()


def test_every_pattern_has_its_own_id() -> None:
    ids = [(book, p.code, p.id) for book in BOOKS for p in phrasebook(book).patterns]
    assert [pattern_id for _, _, pattern_id in ids] == [pattern_id for _, pattern_id, _ in ENTRIES]
    assert all(pattern_id for _, _, pattern_id in ids)
    twice = [pattern_id for pattern_id, n in Counter(i for _, _, i in ids).items() if n > 1]
    assert not twice, f"ids used more than once: {twice}"
    unnamed = [(book, i) for book, _, i in ids if not WELL_FORMED.fullmatch(i)]
    assert not unnamed, f"ids not of the form <code>.<what-it-catches>: {unnamed}"
    foreign = [i for _, code, i in ids if not i.startswith(code + ".")]
    assert not foreign, f"ids that do not start with their pattern's code: {foreign}"


@pytest.mark.parametrize(
    ("book", "pattern_id", "entry"),
    [pytest.param(book, pattern_id, entry, id=pattern_id) for book, pattern_id, entry in ENTRIES],
)
def test_each_example_is_found_by_its_own_pattern(
    book: str, pattern_id: str, entry: dict[str, Any]
) -> None:
    examples = entry.get("examples", [])
    assert examples, f"{pattern_id} has no example"
    assert all(isinstance(text, str) and text.strip() for text in examples)
    missed = [text for text in examples if not phrasebook(book).ranges(fold(text), only=pattern_id)]
    assert not missed, f"{pattern_id} ({entry['seq']}) does not find: {missed}"


@pytest.mark.parametrize(
    ("book", "pattern_id", "entry"),
    [
        pytest.param(book, pattern_id, entry, id=pattern_id)
        for book, pattern_id, entry in ENTRIES
        if entry.get("not_examples")
    ],
)
def test_no_counter_example_is_found_by_its_book(
    book: str, pattern_id: str, entry: dict[str, Any]
) -> None:
    """A pattern's ``not_examples`` are near misses written beside it (the same words aimed
    at a thing, negated, or at people defined by what they do): neither the pattern nor any
    other of its phrasebook finds them."""
    near = entry["not_examples"]
    assert all(isinstance(text, str) and text.strip() for text in near)
    found = [text for text in near if phrasebook(book).find(fold(text))]
    assert not found, f"{pattern_id} ({entry['seq']}): its book finds {found}"
