"""The Jinja environments, one per language (each with its catalogue installed and its date
and number filters), and `as_typed` (user input shown back, NUL as U+FFFD)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape

from rejoinder import __version__
from rejoinder.web.i18n import SOURCE_LANGUAGE, Language, ScriptMessage, script_strings

if TYPE_CHECKING:
    from rejoinder.runtime import Runtime


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def as_typed(text: str) -> str:
    """User input shown back in a form as typed, but for NUL, which HTML cannot carry: a
    browser shows U+FFFD for it, so the page says the same (one character for one, so spans
    over the text still fit)."""
    return text.replace("\0", "\ufffd")


def ld_json(markup: dict[str, Any]) -> str:
    """JSON for a <script type="application/ld+json"> block, with no "<", ">" or "&" in it,
    so no comment's text can close the block."""
    text = orjson.dumps(markup).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _environment(
    language: Language, globals_: Mapping[str, Any], scripts: tuple[ScriptMessage, ...]
) -> Environment:
    env = Environment(
        loader=PackageLoader("rejoinder.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=False,
        lstrip_blocks=False,
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks read as one line of text
    # The i18n extension adds this method when the environment is made: mypy cannot see it.
    env.install_gettext_translations(language.translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        iso=iso,
        human_date=language.date,
        human_time=language.time,
        comment_count=language.comment_count,
        number=language.number,
        say=language.say,
    )
    env.globals.update(globals_)
    env.globals["lang"] = language.code
    env.globals["script_strings"] = script_strings(language, scripts)
    return env


class Renderer:
    """Renders a template in a language (English, the source language, when none is named)."""

    def __init__(
        self,
        languages: Mapping[str, Language],
        globals_: Mapping[str, Any],
        scripts: tuple[ScriptMessage, ...] = (),
    ) -> None:
        self.languages = dict(languages)
        self._envs = {
            code: _environment(lang, globals_, scripts) for code, lang in languages.items()
        }

    def environment(self, lang: str = SOURCE_LANGUAGE) -> Environment:
        return self._envs.get(lang) or self._envs[SOURCE_LANGUAGE]

    def __call__(self, template: str, /, lang: str = SOURCE_LANGUAGE, **context: Any) -> str:
        return self.environment(lang).get_template(template).render(**context)


def site_renderer(
    rt: Runtime, languages: Mapping[str, Language], scripts: tuple[ScriptMessage, ...] = ()
) -> Renderer:
    """The renderer of the app's pages and mail: every absolute link it gives out is made by
    `site_url(site, path)` (the site's own base URL, else the server's). The app and the
    outbox's sender process make theirs here, so that a mail reads the same from either."""
    return Renderer(
        languages,
        {
            "asset_version": __version__,
            "site_url": rt.site_url,
            "mail_enabled": rt.mail is not None,
        },
        scripts,
    )
