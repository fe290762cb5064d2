"""Phase "links": too many links, a comment that is only a link, URL shorteners, adverts.

Links are counted in the text whether written ``https://…``, ``www.…`` or as a bare
domain (``example.com``). More than the site's limit (default 2) holds a comment, as does
a comment that is nothing but a link, a link through a shortener that hides where it goes,
and a name or website field that is itself an advert ("Cheap Essays Online",
``best-casino-bonus.com``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rejoinder.core.messages import N_
from rejoinder.core.moderation.matching import lexicon
from rejoinder.core.moderation.matching.folding import Folded, find_phrases, fold
from rejoinder.core.moderation.models import Action, Policy, Signal, Span, Submission

PHASE = "links"

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]{}]+")
_TRAILING = ".,;:!?"  # sentence punctuation after a link is not part of it


@dataclass(frozen=True, slots=True)
class Link:
    span: Span
    host: str


def find_links(text: str, field: str = "text") -> list[Link]:
    """Every link in ``text``, with its span in the original and its lowercase host."""
    folded = fold(text, words=False)
    links: list[Link] = []
    taken: list[tuple[int, int]] = []
    for match in _URL.finditer(folded.text):
        start, end = match.start(), match.end()
        while end > start and folded.text[end - 1] in _TRAILING:
            end -= 1
        host = re.sub(r"^(?:https?://)?", "", folded.text[start:end]).split("/")[0]
        links.append(Link(folded.span(start, end, field), host.split(":")[0]))
        taken.append((start, end))
    for match in _bare_domain().finditer(folded.text):
        start, end = match.start(), match.end()
        if any(a < end and start < b for a, b in taken) or not _written_as_domain(folded, match):
            continue
        while end > start and folded.text[end - 1] in _TRAILING:
            end -= 1
        links.append(Link(folded.span(start, end, field), match.group("host")))
    return sorted(links, key=lambda link: link.span.start)


def check(sub: Submission, policy: Policy) -> list[Signal]:
    signals: list[Signal] = []
    links = find_links(sub.text)
    if policy.link_limit is not None and len(links) > policy.link_limit:
        message = N_(
            "it has {count} links, and this site looks at comments with more than "
            "{limit} before they appear",
            count=len(links),
            limit=policy.link_limit,
        )
        spans = tuple(link.span for link in links)
        signals.append(Signal.said(PHASE, "too_many_links", message, Action.HOLD, spans=spans))
    if links and _is_link_only(sub.text, links):
        message = N_("it is only a link, with nothing said about it")
        spans = tuple(link.span for link in links)
        signals.append(Signal.said(PHASE, "link_only", message, Action.HOLD, spans=spans))
    website_links = find_links(sub.website, "website") if sub.website else []
    shorteners = set(policy.shortener_domains or _data()["shorteners"])
    for link in [*links, *website_links]:
        if _is_on(link.host, shorteners):
            message = N_(
                "it links through a URL shortener ({host}), which hides where it goes",
                host=link.host,
            )
            signals.append(
                Signal.said(PHASE, "shortener", message, Action.HOLD, spans=(link.span,))
            )
    advert = _advert_words(sub.name, "name")
    if advert or find_links(sub.name, "name"):
        message = N_('the name "{name}" reads like an advert', name=sub.name)
        spans = tuple(advert) or (Span(0, len(sub.name), sub.name, "name"),)
        signals.append(Signal.said(PHASE, "advert_name", message, Action.HOLD, spans=spans))
    if sub.website and (advert := _advert_words(sub.website, "website")):
        message = N_('the website "{website}" reads like an advert', website=sub.website)
        signals.append(
            Signal.said(PHASE, "advert_website", message, Action.HOLD, spans=tuple(advert))
        )
    return signals


def _is_link_only(text: str, links: list[Link]) -> bool:
    """Fewer than three words of two letters or more once the links are taken out."""
    rest, cursor = [], 0
    for link in links:
        rest.append(text[cursor : link.span.start])
        cursor = link.span.end
    rest.append(text[cursor:])
    return len(re.findall(r"[^\W\d_]{2,}", " ".join(rest))) < 3


def _is_on(host: str, domains: set[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _advert_words(value: str, field: str) -> list[Span]:
    """Spans of advert words: whole words anywhere, and advert stems inside domain names."""
    folded = fold(value)
    spans = [folded.span(a, b, field) for a, b in find_phrases(folded, _advert_phrases())]
    for stem in _data()["advert_stems"]:
        for match in re.finditer(re.escape(stem), folded.text):
            span = folded.span(match.start(), match.end(), field)
            if not any(s.start <= span.start < s.end for s in spans):
                spans.append(span)
    return sorted(spans, key=lambda s: s.start)


@cache
def _data() -> dict[str, list[str]]:
    return dict(lexicon.load("links"))


@cache
def _advert_phrases() -> tuple[str, ...]:
    return tuple(_data()["advert_words"])


@cache
def _bare_domain() -> re.Pattern[str]:
    tlds = "|".join(sorted(_data()["tlds"], key=len, reverse=True))
    return re.compile(
        r"(?<![\w@.\-/])(?P<host>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
        rf"(?P<tld>{tlds}))(?![\w\-])(?:[/?#][^\s<>\"'()\[\]{{}}]*)?"
    )


def _written_as_domain(folded: Folded, match: re.Match[str]) -> bool:
    """Not a typo or a product name: a word-like ending (".news", ".live") counts only in
    lowercase ("the end.News"), and one in capitals only as .COM ("ASP.NET")."""
    original = folded.span(match.start("host"), match.end("host")).text
    if match.group("tld") in _data()["word_tlds"]:
        return original == original.lower()
    return original != original.upper() or match.group("tld") == "com"
