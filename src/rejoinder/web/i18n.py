"""The reader's language: the catalogues (gettext, read with Babel), the one rule that picks a
language for a request, and dates, numbers and core messages said in it.

English is the source language: its text is the msgids themselves. Every other language has
`web/locale/<code>/LC_MESSAGES/messages.po`, compiled in memory when the app is made, so a
checkout, a wheel and an edited catalogue need no build step (`scripts/i18n` extracts and
updates them; `tests/unit/test_catalogues.py` fails when one lacks a message).
"""

from __future__ import annotations

import gettext
import io
import json
import re
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from starlette.requests import Request

from rejoinder.core.messages import N_, Message, Nn_, as_message
from rejoinder.core.models import Site

LOCALE_DIR = Path(__file__).with_name("locale")
SOURCE_LANGUAGE = "en"
# A language tag as Accept-Language and data-lang carry it: "de", "de-AT", "zh-Hant-TW".
_TAG = re.compile(r"^[a-z]{1,8}(?:-[a-z0-9]{1,8})*$")
_FIXED = re.compile(r"(,?)\.(\d+)f")


class _LocalFormatter(string.Formatter):
    """`str.format` with numbers written as the language writes them ("1.234", "2,5")."""

    def __init__(self, locale: str) -> None:
        super().__init__()
        self.locale = locale

    def format_field(self, value: object, format_spec: str) -> str:
        if isinstance(value, datetime):
            return format_date(value, format="long", locale=self.locale)
        if isinstance(value, int | float) and not isinstance(value, bool):
            if format_spec == ",":
                return format_decimal(value, locale=self.locale)
            if fixed := _FIXED.fullmatch(format_spec):
                digits = int(fixed[2])
                pattern = ("#,##0" if fixed[1] else "0") + ("." + "0" * digits if digits else "")
                return format_decimal(value, format=pattern, locale=self.locale)
        return str(super().format_field(value, format_spec))


@dataclass(frozen=True)
class Language:
    """One language's catalogue and formats."""

    code: str
    translations: gettext.NullTranslations = field(default_factory=gettext.NullTranslations)

    def gettext(self, text: str) -> str:
        return self.translations.gettext(text)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def say(self, message: str | Message) -> str:
        """A core message (or a plain English text) in this language; English when the
        catalogue does not have it, and never an error for a page (a translation that names a
        value the message lacks falls back to English)."""
        message = as_message(message)
        if not message.values:
            return self.gettext(message.template)
        if message.plural is None:
            template = self.gettext(message.template)
        else:
            count = message.values.get(message.count)
            n = count if isinstance(count, int) else 0
            template = self.ngettext(message.template, message.plural, n)
        values = {key: self._value(value) for key, value in message.values.items()}
        if self.code == SOURCE_LANGUAGE:
            return template.format(**values)
        try:
            return _LocalFormatter(self.code).format(template, **values)
        except (KeyError, IndexError, ValueError):
            return str(message)

    def _value(self, value: object) -> object:
        if isinstance(value, Message):
            return self.say(value)
        if isinstance(value, tuple):
            return "; ".join(self.say(v) if isinstance(v, Message) else str(v) for v in value)
        return value

    def number(self, value: int) -> str:
        """A whole number with the language's grouping: 1,234 or 1.234."""
        return format_decimal(value, locale=self.code)

    def date(self, value: datetime) -> str:
        """The day, as "December 7, 2026" or "7. Dezember 2026"."""
        return format_date(value, format="long", locale=self.code)

    def time(self, value: datetime) -> str:
        """A date and a time of day, in UTC, the way the language writes them."""
        if self.code == SOURCE_LANGUAGE:
            hour = value.hour % 12 or 12
            clock = f"{hour}:{value:%M} {'am' if value.hour < 12 else 'pm'}"
        else:
            # in UTC, as the page says: Babel would otherwise show the server's local time
            clock = format_time(value, format="short", tzinfo=UTC, locale=self.code)
        return self.say(N_("{date} at {time} UTC", date=self.date(value), time=clock))

    def comment_count(self, value: int) -> str:
        if value == 0:
            return self.say(N_("No comments yet"))
        return self.say(Nn_("{n:,} Comment", "{n:,} Comments", value))


def _compiled(po_file: Path, code: str) -> gettext.NullTranslations:
    """A .po file as gettext translations, compiled in memory (fuzzy entries left out)."""
    with po_file.open("rb") as source:
        catalog = read_po(source, locale=code)
    mo = io.BytesIO()
    write_mo(mo, catalog, use_fuzzy=False)
    mo.seek(0)
    return Translations(mo)


def load_languages(locale_dir: Path = LOCALE_DIR) -> dict[str, Language]:
    """English, and every language that has a catalogue in `locale_dir`."""
    languages = {SOURCE_LANGUAGE: Language(SOURCE_LANGUAGE)}
    for po_file in sorted(locale_dir.glob("*/LC_MESSAGES/messages.po")):
        code = po_file.parent.parent.name
        languages[code] = Language(code, _compiled(po_file, code))
    return languages


def accepted_languages(header: str | None) -> list[str]:
    """An Accept-Language header's language ranges, most wanted first (q-values, then the
    order given); ranges refused with q=0, malformed ones and "*" are left out."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")[:32]):
        tag, *params = (piece.strip() for piece in part.split(";"))
        tag = tag.lower()
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if quality > 0 and quality <= 1 and _TAG.match(tag):
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def _supported(tag: str | None, supported: Iterable[str]) -> str | None:
    if not tag:
        return None
    tag = tag.strip().lower().replace("_", "-")
    if not _TAG.match(tag):
        return None
    primary = tag.split("-")[0]
    return primary if primary in supported else None


def choose_language(
    supported: Iterable[str],
    *,
    requested: str | None = None,
    accept_language: str | None = None,
    site_language: str | None = None,
) -> str:
    """The language of a reader-facing response, decided here and only here: the embedding
    tag's `data-lang` (the `lang` query parameter), else the first language the reader's
    Accept-Language names that we have, else the site's default, else English."""
    supported = frozenset(supported)
    if found := _supported(requested, supported):
        return found
    for tag in accepted_languages(accept_language):
        if found := _supported(tag, supported):
            return found
    return _supported(site_language, supported) or SOURCE_LANGUAGE


def language_of(request: Request, site: Site | None = None) -> Language:
    """The language of a reader-facing response (`i18n.choose_language` decides): the
    ``lang`` query parameter (the embedding tag's data-lang), Accept-Language, the site's
    default. A response that depends on it must say ``Vary: Accept-Language``."""
    languages: dict[str, Language] = request.app.state.languages
    if site is None:
        site = request.app.state.runtime.site_for_host(request.headers.get("host"))
    code = choose_language(
        languages,
        requested=request.query_params.get("lang"),
        accept_language=request.headers.get("accept-language"),
        site_language=site.language,
    )
    return languages[code]


ScriptMessage = str | tuple[str, str]  # a text, or a singular and its plural


def script_messages(locale_dir: Path = LOCALE_DIR) -> tuple[ScriptMessage, ...]:
    """The English texts that the scripts in `web/static/` say (written ``_("...")``, or
    ``ngettext("...", "...", n)``, there), as the extracted template lists them: the embed
    widget's and the article page's."""
    template = locale_dir / "messages.pot"
    if not template.exists():
        return ()
    with template.open("rb") as source:
        catalog = read_po(source)
    found: list[ScriptMessage] = []
    for message in catalog:
        if not message.id or not any(path.endswith(".js") for path, _ in message.locations):
            continue
        if isinstance(message.id, str):
            found.append(message.id)
        else:
            found.append((message.id[0], message.id[1]))
    return tuple(found)


def script_strings(
    language: Language, messages: Iterable[ScriptMessage]
) -> dict[str, str | list[str]]:
    """The scripts' strings in `language`, keyed by the English text: a translation, or for
    a text with a plural the forms for one and for more (every language we ship has two:
    a script picks the first when the count is 1)."""
    strings: dict[str, str | list[str]] = {}
    for message in messages:
        if isinstance(message, str):
            strings[message] = language.gettext(message)
        else:
            singular, plural = message
            strings[singular] = [language.ngettext(singular, plural, n) for n in (1, 2)]
    return strings


def extract_lexicon(
    fileobj: IO[bytes], keywords: object, comment_tags: object, options: object
) -> Iterator[tuple[int, str, str, list[str]]]:
    """A Babel extractor for the moderation lists (`babel.cfg`): each "message", and each
    value of "messages", anywhere in the file is a reason a writer may be shown."""
    text = fileobj.read().decode("utf-8")
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "message" and isinstance(value, str):
                    found.append(value)
                elif key == "messages" and isinstance(value, dict):
                    found.extend(v for v in value.values() if isinstance(v, str))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(text))
    for message in found:
        line = text[: text.find(json.dumps(message, ensure_ascii=False))].count("\n") + 1
        yield line, "N_", message, []
