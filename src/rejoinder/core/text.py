"""Markdown to sanitised HTML: a small subset for comments, a fuller one for articles."""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from typing import TYPE_CHECKING

import nh3

if TYPE_CHECKING:
    # Imported where a parser is first made: a worker that only serves pages never needs it
    # (about 40 ms of a start).
    from markdown_it import MarkdownIt

_COMMENT_TAGS = {"p", "br", "em", "strong", "a", "blockquote", "code"}
_ARTICLE_TAGS = _COMMENT_TAGS | {"h2", "h3", "ul", "ol", "li", "pre", "hr"}
_ATTRIBUTES = {"a": {"href"}}
_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _comment_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # "zero" turns every rule off; enable only the subset commenters get. Raw HTML stays text.
    md = MarkdownIt("zero", {"breaks": True, "linkify": False, "html": False})
    md.enable(["paragraph", "emphasis", "link", "blockquote", "backticks", "newline", "escape"])
    return md


@lru_cache(maxsize=1)
def _article_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).disable("image")


# A character the comment subset gives a meaning to (emphasis, links, code, quotes,
# escapes, HTML and entities), a control, or white space other than a space or a newline.
_MARKUP = re.compile(r"[*_\[\]`\\<>&\x00-\x09\x0b-\x1f\x7f]|[^\S \n]")
_BLANK_LINES = re.compile(r"\n(?: *\n)+")


def _plain_html(text: str) -> str:
    """What the comment parser makes of text without markup (no `_MARKUP` character):
    paragraphs at blank lines, a line break at each other newline, spaces at the ends of
    lines dropped. Most comments are such text, which the parser takes many times longer
    to render (tests/unit/test_text.py holds the two to the same output)."""
    paragraphs = (
        "<br>\n".join(escape(line.strip(" "), quote=False) for line in block.split("\n"))
        for block in _BLANK_LINES.split(text.strip())
    )
    return "".join(f"<p>{paragraph}</p>\n" for paragraph in paragraphs if paragraph)


def render_comment(markdown: str) -> str:
    """A comment's Markdown subset as safe HTML; links get rel="nofollow ugc noopener"."""
    plain = not _MARKUP.search(markdown)
    return _clean_comment(_plain_html(markdown) if plain else _comment_parser().render(markdown))


def _clean_comment(html: str) -> str:
    return str(
        nh3.clean(
            html,
            tags=_COMMENT_TAGS,
            attributes=_ATTRIBUTES,
            url_schemes=_SCHEMES,
            link_rel="nofollow ugc noopener",
        )
    ).strip()


def render_article(markdown: str) -> str:
    """An article body (trusted writers, but sanitised all the same)."""
    html = _article_parser().render(markdown)
    return str(
        nh3.clean(
            html,
            tags=_ARTICLE_TAGS,
            attributes=_ATTRIBUTES,
            url_schemes=_SCHEMES,
            link_rel="noopener",
        )
    ).strip()


def plain_excerpt(markdown: str, length: int = 200) -> str:
    """A short plain-text excerpt for feeds and previews."""
    text = " ".join(markdown.replace(">", " ").replace("*", "").replace("`", "").split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


_BLOCK = re.compile(r"<\s*(p|blockquote|pre|ul|ol|div|h[1-6])\b", re.IGNORECASE)


def sanitise_comment_html(html: str) -> str:
    """An imported comment's HTML as safe HTML, with the tags a comment may have. Text
    without paragraph tags (as WordPress stores comments) gets its paragraphs from blank lines
    and its line breaks from single newlines, as WordPress shows it."""
    text = html.replace("\r\n", "\n").replace("\r", "\n").strip()
    if text and not _BLOCK.search(text):
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        text = "".join("<p>" + p.replace("\n", "<br>\n") + "</p>" for p in paragraphs)
    return str(
        nh3.clean(
            text,
            tags=_COMMENT_TAGS,
            attributes=_ATTRIBUTES,
            url_schemes=_SCHEMES,
            link_rel="nofollow ugc noopener",
        )
    ).strip()
