"""The grammar's matchers on small grammars of their own: what each token matches, in which
order of preference, and where a match may start and end."""

from __future__ import annotations

from typing import Any

from rejoinder.core.moderation.matching import matcher
from rejoinder.core.moderation.matching.folding import fold
from rejoinder.core.moderation.matching.grammar import Grammar
from rejoinder.core.moderation.matching.sentences import Sentence, sentences

DATA: dict[str, Any] = {
    "words": {
        "vermin": ["rat", "dirty rat", "leech"],
        "harm": ["hurt", "hurt badly"],
        "name_stopwords": ["the", "Monday"],
    },
    "nouns": ["vermin"],
    "verbs": {"violence": {"shoot": "shoots|shot|shot|shooting"}},
    "rules": {"threat": ["i will {violence.base} you", "we will {harm} you"]},
}


def _sentence(text: str) -> Sentence:
    return sentences(fold(text), frozenset())[0]


def _matches(line: str, text: str) -> list[str]:
    grammar = Grammar(DATA)
    s = _sentence(text)
    node = grammar.sequence(line)
    found = matcher.finditer(node, s, separators=node.may_open_at_separator())
    return [" ".join(s.keys[first:end]) for first, end, _start, _stop in found]


def test_a_word_list_takes_its_longest_phrase_and_a_noun_list_its_plurals() -> None:
    assert _matches("{vermin}", "You dirty rat.") == ["dirty rat"]
    assert _matches("{vermin}", "Those leeches and rats again") == ["leches", "rats"]
    assert _matches("{vermin}", "A rate of two") == []  # "rate" is no plural of "rat"


def test_case_doubled_vowels_and_commas_do_not_part_words() -> None:
    assert _matches("i will {violence.base} you", "I WILL SHOOOOT, you") == ["I will shot you"]
    assert _matches("{threat}", "and we will hurt badly you") == ["we will hurt badly you"]


def test_a_group_prefers_its_longest_alternative() -> None:
    assert _matches("(hurt|hurt_badly) you", "they hurt badly you") == ["hurt badly you"]
    assert _matches("(hurt|hurt_badly) you", "they hurt you") == ["hurt you"]


def test_gaps_take_as_few_words_as_they_can_unless_they_end_the_line() -> None:
    assert _matches("i ... you", "i will you and you") == ["i will you"]
    assert _matches("i ...", "i will find you") == ["i will find you"]
    assert _matches("i ... you", "i a b c d e f g you") == []  # more than six words


def test_clause_starts_and_ends() -> None:
    assert _matches("^ rat", "rat here") == ["rat"]
    assert _matches("^ rat", "a rat here") == []
    assert _matches("^ rat", "well, rat here") == ["rat"]
    assert _matches("^, rat", "rat here") == []
    assert _matches("^, rat", "well, rat here") == ["rat"]
    assert _matches("rat $", "a rat") == ["rat"]
    assert _matches("rat $", "a rat here") == []
    assert _matches("rat ,", "a rat, here") == ["rat"]


def test_names_are_one_or_two_capitalised_words_not_on_the_stop_list() -> None:
    assert _matches("NAME is", "then Jo Smith is late") == ["Jo Smith is"]
    assert _matches("NAME is", "then Monday is late") == []
    assert _matches("NAME is", "then jo is late") == []
    assert _matches("NAME is", "then Jo, Smith is late") == ["Smith is"]


def test_optional_tokens_match_before_they_skip() -> None:
    assert _matches("{vermin?} leech", "rat leech") == ["rat lech"]
    assert _matches("{vermin?} leech", "the leech") == ["lech"]


def test_a_rule_that_refers_to_itself_or_to_nothing_is_an_error() -> None:
    import pytest

    with pytest.raises(ValueError, match="refers to itself"):
        Grammar({"rules": {"loop": ["a {loop}"]}}).rule("loop")
    with pytest.raises(ValueError, match="unknown rule"):
        Grammar({}).sequence("{missing}")
    with pytest.raises(ValueError, match="must come first"):
        Grammar({}).sequence("a ^ b")


def test_a_group_may_end_a_clause_without_a_word() -> None:
    """``(,|now)``: a comma or the word "now" after the match; the comma is not a word, so a
    group that can match none must still be tried where its words are not."""
    assert _matches("found your {vermin} (,|now)", "we found your rat, and more") == [
        "found your rat"
    ]
    assert _matches("found your {vermin} (,|now)", "we found your rat now") == [
        "found your rat now"
    ]
    assert _matches("found your {vermin} (,|now)", "we found your rat and more") == []
