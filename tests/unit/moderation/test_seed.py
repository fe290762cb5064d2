"""The seed page, judged comment by comment as if newly posted, with word lists and no model."""

from __future__ import annotations

import pytest

from rejoinder.core.moderation.models import Decision, Verdict
from rejoinder.core.moderation.policy import decide, explain
from rejoinder.core.pagedump import parse_page_dump
from tests.conftest import SEED
from tests.unit.moderation.submissions import submission


@pytest.fixture(scope="module")
def decisions(seed_page: str) -> dict[str, Decision]:
    page = parse_page_dump(seed_page)
    judged = {}
    for number, comment in enumerate(page.comments):
        sub = submission(
            text=comment.body,
            name=comment.author,
            email=f"reader{number}@example.org",
            ip_hash=f"ip-{number}",
            ip_group_hash=f"group-{number}",
            parent_id=None if comment.parent_index is None else comment.parent_index + 1,
            model_scores=None,
        )
        judged[comment.author] = decide(sub)
    return judged


@pytest.fixture(scope="module")
def seed_page() -> str:
    """The seed page dump (the text is never copied into the repository)."""
    if not SEED.is_file():
        pytest.skip(f"the seed page is not at {SEED}")
    return SEED.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "author", ["Ron Wheeler", "Linda Wren", "Inferior", "JustPassingThrough", "jm74"]
)
def test_civil_comments_are_published(decisions: dict[str, Decision], author: str) -> None:
    decision = decisions[author]
    assert decision.verdict is Verdict.PUBLISH, explain(decision)
    assert decision.reasons == ()


@pytest.mark.parametrize(
    ("author", "words"),
    [
        ("Séamus Ó Néill", ['"brain dead halfwits"', '"stupid imbeciles"', "leech"]),
        ("John C Carleton", ['"Israhell"', '"Rats"', '"Rat"']),
    ],
)
def test_abusive_comments_are_not_published_and_their_reasons_name_the_words(
    decisions: dict[str, Decision], author: str, words: list[str]
) -> None:
    decision = decisions[author]
    assert decision.verdict is not Verdict.PUBLISH
    reasons = " ".join(reason.message for reason in decision.reasons)
    for word in words:
        assert word in reasons
    told = explain(decision)
    assert all(word in told for word in words)


def test_seamus_is_held_because_he_calls_people_brain_dead_halfwits(
    decisions: dict[str, Decision],
) -> None:
    decision = decisions["Séamus Ó Néill"]
    assert decision.verdict is Verdict.HOLD
    assert {s.code for s in decision.reasons} == {"insult", "dehumanising"}
    assert 'it calls people "stupid imbeciles" and "brain dead halfwits"' in explain(decision)
    [dehumanising] = [s for s in decision.reasons if s.code == "dehumanising"]
    assert [s.text for s in dehumanising.spans] == ["demonic leech"]


def test_carleton_is_held_for_the_blend_and_the_rats(decisions: dict[str, Decision]) -> None:
    decision = decisions["John C Carleton"]
    assert decision.verdict is Verdict.HOLD
    assert {s.code for s in decision.reasons} == {"blend", "dehumanising"}
    [blend] = [s for s in decision.reasons if s.code == "blend"]
    assert [s.text for s in blend.spans] == ["Israhell", "Israhell"]
    assert "Israel" in blend.message


def test_chuckmans_empty_comment_is_refused_as_empty(decisions: dict[str, Decision]) -> None:
    decision = decisions["CHUCKMAN"]
    assert decision.verdict is Verdict.REFUSE
    assert [s.code for s in decision.reasons] == ["empty"]
    assert explain(decision) == "Your comment was not posted because the comment is empty."


def test_every_span_quotes_the_original_comment(
    seed_page: str, decisions: dict[str, Decision]
) -> None:
    bodies = {c.author: c.body for c in parse_page_dump(seed_page).comments}
    for author, decision in decisions.items():
        for signal in decision.signals:
            for span in signal.spans:
                assert bodies[author][span.start : span.end] == span.text
