"""The words phase: shipped lists, site lists, Scunthorpe negatives, blends and metaphors."""

from __future__ import annotations

import pytest

from rejoinder.core.moderation.matching import lexicon
from rejoinder.core.moderation.models import Action, Policy, Signal
from rejoinder.core.moderation.phases import words
from tests.unit.moderation.submissions import submission


def signals_for(text: str, policy: Policy | None = None, **fields: str) -> list[Signal]:
    return words.check(submission(text=text, **fields), policy or Policy())


def codes(text: str, policy: Policy | None = None) -> list[str]:
    return [s.code for s in signals_for(text, policy)]


@pytest.mark.parametrize(
    ("text", "code", "quoted"),
    [
        ("Good luck with that one you brain dead halfwits !", "insult", '"brain dead halfwits"'),
        ("Have these stupid imbeciles lost it?", "insult", '"stupid imbeciles"'),
        ("You are an 1d10t.", "insult", '"1d10t"'),
        ("What a m o r o n.", "insult", '"m o r o n"'),
        ("Total s c u m, all of them.", "insult", '"s c u m"'),
        ("Brain-dead halfwits, the lot.", "insult", '"Brain-dead halfwits"'),
        ("Oh fuck off with that.", "swearing", '"fuck off"'),
    ],
)
def test_hold_list_holds_and_names_the_words(text: str, code: str, quoted: str) -> None:
    [signal] = signals_for(text)
    assert (signal.code, signal.action) == (code, Action.HOLD)
    assert quoted in signal.message
    assert all(text[s.start : s.end] == s.text for s in signal.spans)


def test_insult_message_reads_as_a_reason() -> None:
    [signal] = signals_for("you brain dead halfwits")
    assert signal.message == 'it calls people "brain dead halfwits"'


@pytest.mark.parametrize("category", ["slur", "incitement", "hate_slogan"])
def test_every_shipped_refuse_entry_refuses_even_spaced_out(category: str) -> None:
    for phrase in lexicon.word_lists("refuse")[category]:
        spaced = " ".join(phrase.replace(" ", "")) if phrase.replace(" ", "").isalpha() else phrase
        for written in (phrase, phrase.upper(), spaced):
            found = signals_for(f"Some text {written} more text.")
            assert [(s.code, s.action) for s in found] == [(category, Action.REFUSE)], written


def test_every_shipped_hold_entry_holds() -> None:
    for category, phrases in lexicon.word_lists("hold").items():
        for phrase in phrases:
            found = [s for s in signals_for(f"Well, {phrase}.") if s.action is Action.HOLD]
            assert [s.code for s in found][:1] == [category], phrase


SCUNTHORPE = [
    "Scunthorpe United won at home.",
    "The class will assess the bass section.",
    "My therapist suggested a cocktail party in Essex.",
    "The assassin had a passion for Titanic history.",
    "The constitution protects shiitake growers in Middlesex.",
    "Hello from the shell of Michelle's old house.",
    "The pirates wanted to ratify the treaty; we were grateful.",
    "Hitchcock filmed a peacock in Sussex.",
    "An idiom, an idiotic policy and a moronic plan are about ideas.",
    "Analysis of the grapes; the document was cumulative.",
    "Pen Island and Penistone are places.",
    "He was hellbent on a shellfish dinner in Hellenic waters.",
]
STRICT_WORDS = "ass cock cunt rapist tit shit hell rat idiot moron penis anal cum dick hoe"
STRICT = Policy(hold_words={"word": tuple(STRICT_WORDS.split())})


@pytest.mark.parametrize("text", SCUNTHORPE)
def test_innocent_words_containing_listed_ones_are_not_matched(text: str) -> None:
    assert signals_for(text, STRICT) == []
    assert signals_for(text) == []


def test_site_lists_replace_the_shipped_ones() -> None:
    site = Policy(hold_words={"local": ("wombat",)}, refuse_words={})
    [signal] = signals_for("Off you go, you w0mbat.", site)
    assert (signal.code, signal.action, signal.spans[0].text) == ("local", Action.HOLD, "w0mbat")
    assert "which this site looks at before publishing" in signal.message
    assert signals_for("You idiot.", site) == []


def test_a_site_refuse_list_refuses_its_words_through_evasions() -> None:
    site = Policy(refuse_words={"word": ("gobbledygook",)})
    [signal] = signals_for("Such g0bbledyg00k!", site)
    assert (signal.code, signal.action) == ("word", Action.REFUSE)


def test_a_name_made_of_a_refused_word_is_refused() -> None:
    slur = lexicon.word_lists("refuse")["slur"][0]
    [signal] = signals_for("A fair point.", name=f"Proud {slur.upper()}")
    assert (signal.code, signal.action) == ("name_slur", Action.REFUSE)
    assert signal.spans[0].field == "name"


@pytest.mark.parametrize(
    ("text", "blend"),
    [
        ("Israhell is the problem.", "Israhell"),
        ("ISRAHELL again.", "ISRAHELL"),
        ("The state of Isra-hell.", "Isra-hell"),
        ("Welcome to Amerikkka.", "Amerikkka"),
        ("Those Zionazis again.", "Zionazis"),
        ("Typical feminazi nonsense.", "feminazi"),
        ("Israhellllll", "Israhellllll"),
        ("Іѕrаhеll", "Іѕrаhеll"),  # in Cyrillic lookalikes
    ],
)
def test_blends_of_a_group_name_with_an_insult_hold(text: str, blend: str) -> None:
    [signal] = signals_for(text)
    assert (signal.code, signal.action) == ("blend", Action.HOLD)
    assert [s.text for s in signal.spans] == [blend]
    assert f'"{blend}"' in signal.message


def test_blend_message_names_the_group() -> None:
    [signal] = signals_for("Israhell")
    assert signal.message == 'it twists the name of Israel into an insult: "Israhell"'


@pytest.mark.parametrize(
    "text",
    [
        "Israel and the Israelis, Americans and America.",
        "Democrats and Republicans; bureaucrats and Eurocrats; autocrats.",
        "Russell from Britain met Palestinians in Chinatown.",
        "Jewellery, Jewish history, Arabic, African art, Mexican food.",
        "The Rat Pack had fans in the Russian Federation.",
    ],
)
def test_group_names_and_ordinary_words_are_not_blends(text: str) -> None:
    assert "blend" not in codes(text)


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("a demonic leech , currently infesting the region", "demonic leech"),
        ("These rats will sell anyone out.", "rats"),
        ("Zionist rats, all of them.", "rats"),
        ("They are parasites, nothing more.", "parasites"),
        ("Immigrants are nothing but leeches.", "leeches"),
        ("Washington is controlled by the Rats.", "Rats"),
        ("It will be a gathering of Rat Minions.", "Rat"),
        ("Get out, you vermin.", "vermin"),
        ("Filthy cockroaches.", "Filthy cockroaches"),
        ("he's a bloodsucker", "bloodsucker"),
    ],
)
def test_vermin_metaphors_aimed_at_people_hold(text: str, quoted: str) -> None:
    [signal] = signals_for(text)
    assert (signal.code, signal.action) == ("dehumanising", Action.HOLD)
    assert quoted in [s.text for s in signal.spans]


@pytest.mark.parametrize(
    "text",
    [
        "There are rats in the subway again.",
        "Rats are a problem in the city every summer.",
        "Dr Leech said the trial was over.",
        "The film Parasite won the top prize.",
        "RATS IN MY KITCHEN ARE A HEALTH ISSUE",
        "Parasites in farmed fish worry the inspectors.",
        "The council hired a firm to deal with vermin.",
        "Locusts ate the harvest.",
        "I cannot stand these. Rats are everywhere in summer.",
    ],
)
def test_the_same_nouns_about_animals_pass(text: str) -> None:
    assert "dehumanising" not in codes(text)
