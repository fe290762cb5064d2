"""Every phrasebook is built before a server answers (app.py's lifespan), so no comment
waits for one: after `build_all`, every pattern is ready and judging builds nothing more."""

from __future__ import annotations

from datetime import UTC, datetime

from rejoinder.core.moderation import ArticleRef, Policy, Submission, decide
from rejoinder.core.moderation.matching.phrasebook import (
    build_all,
    patterns_ready,
    patterns_total,
    phrasebook,
)

BOOKS = ("threats", "insults", "identity")


def test_build_all_readies_every_pattern_so_judging_builds_nothing() -> None:
    count = build_all()
    assert count == sum(len(phrasebook(name).patterns) for name in BOOKS)
    assert count == patterns_ready() == patterns_total()
    assert count > 300
    before = [phrasebook(name).grammar.built() for name in BOOKS]
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
    assert [phrasebook(name).grammar.built() for name in BOOKS] == before
