"""The normaliser: many spellings of the same words fold to them, and spans quote the original."""

from __future__ import annotations

import pytest

from rejoinder.core.moderation.matching.folding import find_phrases, fold

WORDS = ("idiot", "moron", "scum", "parasite", "creep")

# (how it is written, the exact characters the match must quote)
EVASIONS = [
    ("idiot", "idiot"),
    ("IDIOT", "IDIOT"),
    ("Idiots", "Idiots"),
    ("1d10t", "1d10t"),
    ("!d!0t", "!d!0t"),
    ("i.d.i.o.t", "i.d.i.o.t"),
    ("i d i o t", "i d i o t"),
    ("i-d-i-o-t", "i-d-i-o-t"),
    ("i_d_i_o_t", "i_d_i_o_t"),
    ("i*d*i*o*t", "i*d*i*o*t"),
    ("i . d . i . o . t", "i . d . i . o . t"),
    ("1.d.1.0.t", "1.d.1.0.t"),
    ("I d 1 0 t", "I d 1 0 t"),
    ("idiooooot", "idiooooot"),
    ("iiidiiiot", "iiidiiiot"),
    ("id.iot", "id.iot"),
    ("ｉｄｉｏｔ", "ｉｄｉｏｔ"),  # fullwidth
    ("ＩＤＩＯＴ", "ＩＤＩＯＴ"),
    ("іdіоt", "іdіоt"),  # Cyrillic і and о
    ("Іd1ооооt", "Іd1ооооt"),  # Cyrillic, leet and repeats at once
    ("id\u200biot", "id\u200biot"),  # zero-width space
    ("i\u200dd\u200di\u200do\u200dt", "i\u200dd\u200di\u200do\u200dt"),  # zero-width joiners
    ("i\u2060d\u2060i\u2060o\u2060t", "i\u2060d\u2060i\u2060o\u2060t"),  # word joiners
    ("idi\u00adot", "idi\u00adot"),  # soft hyphen
    ("idi\u200eot", "idi\u200eot"),  # left-to-right mark
    ("\ufeffidiot", "idiot"),  # the BOM in front is not part of the word
    ("i\u0301d\u0308i\u0300o\u0302t\u0303", "i\u0301d\u0308i\u0300o\u0302t\u0303"),  # marks
    ("ídíót", "ídíót"),
    ("𝐢𝐝𝐢𝐨𝐭", "𝐢𝐝𝐢𝐨𝐭"),  # mathematical bold
    ("ⓘⓓⓘⓞⓣ", "ⓘⓓⓘⓞⓣ"),  # circled letters
    ("ɪᴅɪᴏᴛ", "ɪᴅɪᴏᴛ"),  # small capitals
    ("m0r0n", "m0r0n"),
    ("mоrоn", "mоrоn"),  # Cyrillic о
    ("MORONNNN", "MORONNNN"),
    ("m o r o n", "m o r o n"),
    ("ＭＯＲＯＮ", "ＭＯＲＯＮ"),
    ("m\u200bo\u200br\u200bo\u200bn", "m\u200bo\u200br\u200bo\u200bn"),
    ("ѕсum", "ѕсum"),  # Cyrillic ѕ and с
    ("$cum", "$cum"),
    ("s c u m", "s c u m"),
    ("5cuuuum", "5cuuuum"),
    ("раrаѕіtе", "раrаѕіtе"),  # Cyrillic р, а, ѕ, і, е
    ("p@r@$1te", "p@r@$1te"),
    ("πarasite".replace("π", "p"), "parasite"),
    ("ρаrаsιtε", "ρаrаsιtε"),  # Greek ρ, ι, ε with Cyrillic а
    ("сrеер", "сrеер"),  # Cyrillic с, е, е, р
    ("cr33p", "cr33p"),
]


@pytest.mark.parametrize(("written", "quoted"), EVASIONS)
def test_each_spelling_is_found_and_quoted_exactly(written: str, quoted: str) -> None:
    text = f"Honestly, you {written}, read the article."
    folded = fold(text)
    matches = find_phrases(folded, WORDS)
    assert len(matches) == 1, (written, folded.text)
    span = folded.span(*matches[0])
    assert span.text == quoted
    assert text[span.start : span.end] == quoted


def test_there_are_at_least_thirty_evasions() -> None:
    assert len(EVASIONS) >= 30


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ＡＢＣ ａｂｃ", "abc abc"),
        ("1d10t", "idiot"),
        ("idiooooot", "idioot"),
        ("aaaaargh!!!!", "aargh!!!!"),
        ("101 ways", "101 ways"),  # a number stays a number
        ("$500", "$500"),
        ("idiot!", "idiot!"),  # a closing ! is punctuation, not an i
        ("sh!t", "shit"),
        ("Crème brûlée", "creme brulee"),
        ("Straße", "strasse"),
        ("i d i o t", "idiot"),
        ("e.g. i.e.", "e.g. i.e."),  # two single letters are an abbreviation, not a word
        ("1 2 3", "1 2 3"),
        ("a\u200bb\u00adc\ufeff", "abc"),
    ],
)
def test_fold_text(text: str, folded: str) -> None:
    assert fold(text).text == folded


def test_every_folded_character_maps_inside_the_original() -> None:
    text = "Ｙоu 1 d 1 0 t, i\u200bd\u0301iot ﬁne Straße"
    folded = fold(text)
    assert len(folded.starts) == len(folded.ends) == len(folded.text)
    for i in range(len(folded.text)):
        span = folded.span(i, i + 1)
        assert 0 <= span.start < span.end <= len(text)
        assert span.text == text[span.start : span.end]


@pytest.mark.parametrize(
    "text", ["I'd rather not", "an idiom", "idiotic policy", "a moronic plan", "as it is"]
)
def test_other_words_are_not_matches(text: str) -> None:
    assert find_phrases(fold(text), WORDS) == []


def test_spaced_letters_after_an_article_still_match() -> None:
    text = "what a m o r o n"
    folded = fold(text)
    [match] = find_phrases(folded, WORDS)
    assert folded.span(*match).text == "m o r o n"
