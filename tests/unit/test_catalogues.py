"""The message catalogues are complete: every string marked for translation (in the code, the
templates, the moderation lists and the scripts) has a German translation that is not fuzzy
and names the same values; the checked-in template is what extraction finds today. And the
pieces that choose a language and say a message in it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from rejoinder.core.messages import N_, Nn_
from rejoinder.web.i18n import (
    LOCALE_DIR,
    Language,
    accepted_languages,
    choose_language,
    load_languages,
    script_messages,
    script_strings,
)

ROOT = Path(__file__).resolve().parents[2]
# The same keywords as scripts/i18n (the check against messages.pot below fails if they differ).
KEYWORDS = {"N_": None, "Nn_": (1, 2), "_": None, "gettext": None, "ngettext": (1, 2)}
LANGUAGES = ("de",)
# "{name}", "{size:,}" and "%(name)s": the values a message names.
_PLACEHOLDER = re.compile(r"\{(\w+)[^}]*\}|%\((\w+)\)s")

MsgId = str | tuple[str, str]


def extracted() -> set[MsgId]:
    """Every msgid that extraction finds in the source, as `scripts/i18n extract` runs it."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        # Babel's own reader of babel.cfg, so the test reads it as pybabel does (it has no
        # annotations).
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    found: set[MsgId] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def catalogue(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source)


def ids(catalog: Catalog) -> dict[MsgId, Message]:
    return {(m.id if isinstance(m.id, str) else (m.id[0], m.id[1])): m for m in catalog if m.id}


def names(text: str) -> set[str]:
    return {a or b for a, b in _PLACEHOLDER.findall(text)}


@pytest.fixture(scope="module")
def source_ids() -> set[MsgId]:
    found = extracted()
    assert len(found) > 150  # the templates, the form's errors and the reasons are all in it
    return found


def test_the_template_in_the_repository_is_what_extraction_finds(source_ids: set[MsgId]) -> None:
    template = set(ids(catalogue(LOCALE_DIR / "messages.pot")))
    new, gone = sorted(map(str, source_ids - template)), sorted(map(str, template - source_ids))
    assert template == source_ids, f"run scripts/i18n update: new {new}, gone {gone}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_has_a_translation_that_names_the_same_values(
    lang: str, source_ids: set[MsgId]
) -> None:
    translated = ids(catalogue(LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"))
    missing = sorted(str(msgid) for msgid in source_ids - set(translated))
    assert not missing, f"{lang} lacks (run scripts/i18n update, then translate): {missing}"
    problems = []
    for msgid in source_ids:
        message = translated[msgid]
        forms = [message.string] if isinstance(message.string, str) else list(message.string or ())
        originals = [msgid] if isinstance(msgid, str) else list(msgid)
        if message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        if not all(forms):
            problems.append(f"empty: {msgid!r}")
            continue
        wanted = set().union(*(names(o) for o in originals))
        for form in forms:
            # a plural form may leave the count out ("einmal"), but names nothing else
            if not names(form) <= wanted or not (names(originals[0]) - {"n", "num"}) <= names(form):
                problems.append(f"values differ: {msgid!r} -> {form!r}")
    assert not problems, "\n".join(problems)


def test_every_catalogue_compiles_and_is_loaded() -> None:
    languages = load_languages()
    assert set(languages) == {"en", *LANGUAGES}
    assert languages["de"].gettext("Leave a Reply") == "Schreiben Sie einen Kommentar"
    assert languages["en"].gettext("Leave a Reply") == "Leave a Reply"


def test_a_core_message_is_said_with_its_values_in_the_language() -> None:
    german = load_languages()["de"]
    long = N_(
        "The comment is {length:,} characters long; the limit is {limit:,}.",
        length=12345,
        limit=5000,
    )
    assert str(long) == "The comment is 12,345 characters long; the limit is 5,000."
    assert (
        german.say(long) == "Der Kommentar ist 12.345 Zeichen lang; erlaubt sind höchstens 5.000."
    )
    wait = Nn_(
        "{reason}; please try again in {n} second",
        "{reason}; please try again in {n} seconds",
        1,
        reason=N_("you are posting too quickly"),
    )
    assert (
        german.say(wait) == "Sie schreiben zu schnell; bitte versuchen Sie es in 1 Sekunde erneut"
    )
    fast = N_(
        "the form was sent back {seconds:.1f} seconds after it was opened, "
        "faster than a person types",
        seconds=2.25,
    )
    assert "2,2 Sekunden" in german.say(fast) or "2,3 Sekunden" in german.say(fast)
    assert german.say("A text no catalogue has.") == "A text no catalogue has."


def test_a_translation_that_names_a_missing_value_falls_back_to_english() -> None:
    class Broken:
        def gettext(self, text: str) -> str:
            return "{nowhere}"

        def ngettext(self, singular: str, plural: str, n: int) -> str:
            return "{nowhere}"

    broken = Language("de", Broken())  # type: ignore[arg-type]  # only the two methods say uses
    assert broken.say(N_("Comments on {title}", title="X")) == "Comments on X"


def test_dates_and_counts_are_written_as_the_language_writes_them() -> None:
    languages = load_languages()
    moment = datetime(2026, 12, 7, 15, 4, tzinfo=UTC)
    assert languages["en"].date(moment) == "December 7, 2026"
    assert languages["de"].date(moment) == "7. Dezember 2026"
    assert languages["en"].time(moment) == "December 7, 2026 at 3:04 pm UTC"
    assert languages["de"].time(moment) == "7. Dezember 2026 um 15:04 Uhr UTC"
    assert languages["en"].comment_count(1234) == "1,234 Comments"
    assert languages["de"].comment_count(1234) == "1.234 Kommentare"
    assert languages["de"].comment_count(1) == "1 Kommentar"


@pytest.mark.parametrize(
    ("header", "ranked"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", ["de-de", "de", "en"]),
        ("en;q=0.5, de;q=0.8", ["de", "en"]),
        ("fr, de;q=0", ["fr"]),
        ("*, en;q=x, de;q=2, ;q=1, d@e", []),
        ("", []),
        (None, []),
    ],
)
def test_accept_language_is_ranked_by_quality_then_order(
    header: str | None, ranked: list[str]
) -> None:
    assert accepted_languages(header) == ranked


@pytest.mark.parametrize(
    ("requested", "accept", "site", "chosen"),
    [
        ("de", "en", "en", "de"),  # the embedding tag's data-lang first
        ("DE-at", None, "en", "de"),
        ("xx", "en-US,de;q=0.5", "de", "en"),  # then the reader's browser
        (None, "fr-FR, de;q=0.7, en;q=0.6", "en", "de"),  # its first language we have
        (None, "fr, es", "de", "de"),  # then the site's default
        (None, "de;q=0, fr", "de", "de"),  # a refused language is not chosen for the browser
        (None, None, "pt", "en"),  # and English when the site's is not one we have
        ("../../etc", "\x00", "", "en"),
    ],
)
def test_the_language_is_chosen_in_one_order(
    requested: str | None, accept: str | None, site: str, chosen: str
) -> None:
    got = choose_language(
        ("en", "de"), requested=requested, accept_language=accept, site_language=site
    )
    assert got == chosen


def test_the_scripts_get_their_strings_and_both_plural_forms() -> None:
    german = load_languages()["de"]
    messages = (*script_messages(), ("{n:,} Comment", "{n:,} Comments"))
    strings = script_strings(german, messages)
    assert strings["Post anyway"] == "Trotzdem absenden"
    assert strings["{n:,} Comment"] == ["{n:,} Kommentar", "{n:,} Kommentare"]
    assert "Leave a Reply" not in strings  # only what the scripts say
