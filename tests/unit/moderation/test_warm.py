"""A server compiles the phrase patterns in the background when it starts, so no comment
pays for compiling them: after `compile_all`, judging compiles nothing more."""

from __future__ import annotations

from datetime import UTC, datetime

from rejoinder.core.moderation import ArticleRef, Policy, Submission, decide
from rejoinder.core.moderation.matching.grammar import _compiled
from rejoinder.core.moderation.matching.phrasebook import compile_all, phrasebook


def test_compile_all_compiles_every_pattern_so_judging_compiles_nothing() -> None:
    count = compile_all()
    books = ("threats", "insults", "identity")
    assert count == sum(len(phrasebook(name).patterns) for name in books)
    assert count > 100
    before = _compiled.cache_info().misses
    for text in (
        "Someone should shoot him.",
        "I hope you die in a fire.",
        "You are a pathetic little troll.",
        "We know where you live.",
        "Somalis are savages.",
    ):
        sub = Submission(
            text=text, name="A", email="", article=ArticleRef(1), now=datetime.now(UTC)
        )
        assert decide(sub, Policy()).reasons
    assert _compiled.cache_info().misses == before
