"""Tests for Markdown rendering: the comment subset, the article set, and XSS payloads."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rejoinder.core.text import plain_excerpt, render_article, render_comment

COMMENT_TAGS = {"p", "br", "em", "strong", "a", "blockquote", "code"}
ARTICLE_TAGS = COMMENT_TAGS | {"h2", "h3", "ul", "ol", "li", "pre", "hr"}
SAFE_SCHEMES = {"", "http", "https", "mailto"}


class Elements(HTMLParser):
    """Every element of a fragment: (tag, {attribute: decoded value})."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {name: value or "" for name, value in attrs}))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.found


def tags(html: str) -> set[str]:
    return {tag for tag, _ in elements(html)}


def links(html: str) -> list[dict[str, str]]:
    return [attrs for tag, attrs in elements(html) if tag == "a"]


def assert_inert(html: str, allowed_tags: set[str]) -> None:
    """Only allowed tags, no event handlers or styles, only safe link schemes, no raw tags."""
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<iframe" not in lowered
    assert "<img" not in lowered
    assert "<svg" not in lowered
    assert "<style" not in lowered
    # An event handler can only run inside a tag; escaped text such as "onerror=" is fine.
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", lowered)
    for tag, attrs in elements(html):
        assert tag in allowed_tags, f"<{tag}> in {html!r}"
        assert set(attrs) <= {"href", "rel", "title"}, f"{attrs} in {html!r}"
        href = "".join(attrs.get("href", "").split()).lower()
        assert urlsplit(href).scheme in SAFE_SCHEMES, f"href {href!r} in {html!r}"


# --- comments -----------------------------------------------------------------------------


def test_comment_emphasis_and_strong() -> None:
    assert render_comment("*so* and **very**") == "<p><em>so</em> and <strong>very</strong></p>"
    assert render_comment("_so_ and __very__") == "<p><em>so</em> and <strong>very</strong></p>"


def test_comment_links_get_nofollow_ugc_noopener() -> None:
    html = render_comment("See [the report](https://example.org/report?id=1&x=2).")
    [link] = links(html)
    assert link["href"] == "https://example.org/report?id=1&x=2"
    assert set(link["rel"].split()) == {"nofollow", "ugc", "noopener"}
    assert ">the report</a>" in html


def test_comment_mailto_and_http_links_are_kept() -> None:
    assert links(render_comment("[mail](mailto:ada@example.org)"))[0]["href"] == (
        "mailto:ada@example.org"
    )
    assert links(render_comment("[old](http://example.org)"))[0]["href"] == "http://example.org"


@pytest.mark.parametrize(
    "markdown",
    [
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](javascript:void(0))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[click](data:image/png;base64,iVBORw0KGgo=)",
        "[click](vbscript:msgbox(1))",
        "[click](file:///etc/passwd)",
    ],
)
def test_comment_dangerous_links_are_not_links(markdown: str) -> None:
    html = render_comment(markdown)
    assert "href" not in html
    assert all("href" not in attrs for attrs in links(html))
    assert "click" in html  # the words stay


def test_comment_bare_urls_are_not_turned_into_links() -> None:
    assert "<a" not in render_comment("https://example.org and <https://example.org>")


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<iframe src="https://example.org"></iframe>',
        '<a href="https://example.org" onclick="steal()">x</a>',
        "<b>bold</b> <i>it</i> <u>under</u>",
        '<div style="position:fixed">x</div>',
    ],
)
def test_comment_raw_html_comes_out_as_text(markdown: str) -> None:
    html = render_comment(markdown)
    assert tags(html) == {"p"}
    assert "&lt;" in html  # shown, escaped, not dropped silently
    assert_inert(html, {"p"})


def test_comment_blockquote() -> None:
    html = render_comment("> You said this.\n\nI disagree.")
    assert html == "<blockquote>\n<p>You said this.</p>\n</blockquote>\n<p>I disagree.</p>"


def test_comment_inline_code_is_escaped() -> None:
    assert render_comment("Use `<b>` here") == "<p>Use <code>&lt;b&gt;</code> here</p>"


@pytest.mark.parametrize(
    ("markdown", "absent"),
    [
        ("# Big headline", {"h1"}),
        ("## Smaller", {"h2"}),
        ("Title\n=====", {"h1"}),
        ("![a cat](https://example.org/cat.png)", {"img"}),
        ("- one\n- two", {"ul", "li"}),
        ("1. one\n2. two", {"ol", "li"}),
        ("    indented code", {"pre"}),
        ("```\nfenced\n```", {"pre"}),
        ("---", {"hr"}),
        ("| a | b |\n|---|---|\n| 1 | 2 |", {"table", "td"}),
    ],
)
def test_comment_subset_leaves_out_headings_images_lists(markdown: str, absent: set[str]) -> None:
    html = render_comment(markdown)
    assert not tags(html) & absent
    assert tags(html) <= COMMENT_TAGS
    assert "<img" not in html


def test_comment_line_breaks_and_paragraphs() -> None:
    assert render_comment("one\ntwo") == "<p>one<br>\ntwo</p>"
    assert render_comment("one\n\ntwo") == "<p>one</p>\n<p>two</p>"


def test_comment_backslash_escapes_keep_markup_literal() -> None:
    assert render_comment(r"\*not em\*") == "<p>*not em*</p>"


# --- articles -----------------------------------------------------------------------------


def test_article_allows_subheadings_lists_quotes_and_links() -> None:
    html = render_article(
        "Intro.\n\n## Part two\n\n### Detail\n\n- one\n- two\n\n1. first\n2. second\n\n"
        "> quoted\n\n[source](https://example.org)\n\n```\ncode <b>\n```\n\n---\n"
    )
    assert {"h2", "h3", "ul", "ol", "li", "blockquote", "a", "pre", "code", "hr"} <= tags(html)
    assert "<h2>Part two</h2>" in html
    assert "<h3>Detail</h3>" in html
    assert "<li>two</li>" in html
    assert "code &lt;b&gt;" in html
    [link] = links(html)
    assert link == {"href": "https://example.org", "rel": "noopener"}


def test_article_top_heading_and_images_are_not_rendered() -> None:
    html = render_article("# Title\n\n![chart](https://example.org/c.png)")
    assert "<h1" not in html and "<img" not in html
    assert "Title" in html
    assert tags(html) <= ARTICLE_TAGS


def test_article_raw_html_is_text() -> None:
    html = render_article('<script>alert(1)</script>\n\n<p onclick="x()">hi</p>')
    assert_inert(html, ARTICLE_TAGS)
    assert "&lt;script&gt;" in html


# --- XSS payloads, both renderers -----------------------------------------------------------

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<<script>script>alert(1)<</script>/script>",
    '"><script>alert(1)</script>',
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<svg/onload=alert(1)>",
    "<body onload=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="#" onclick="alert(1)">x</a>',
    "<style>@import 'https://evil.example/x.css';</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x](vbscript:msgbox(1))",
    '[x](https://example.org" onmouseover="alert(1))',
    "![x](javascript:alert(1))",
    '![x](https://example.org/x.png" onerror="alert(1))',
    "[<img src=x onerror=alert(1)>](https://example.org)",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "**<img src=x onerror=alert(1)>**",
    "> <script>alert(1)</script>",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "<javascript:alert(1)>",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_payload_is_inert_in_comments(payload: str) -> None:
    assert_inert(render_comment(payload), COMMENT_TAGS)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_payload_is_inert_in_articles(payload: str) -> None:
    assert_inert(render_article(payload), ARTICLE_TAGS)


def test_the_inertness_check_itself_catches_live_markup() -> None:
    for live in [
        "<script>alert(1)</script>",
        '<p onclick="x()">a</p>',
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" java\tscript:alert(1)">x</a>',
        "<h1>x</h1>",
    ]:
        with pytest.raises(AssertionError):
            assert_inert(live, COMMENT_TAGS)


# --- excerpts -------------------------------------------------------------------------------


def test_plain_excerpt_strips_markup_and_cuts_with_an_ellipsis() -> None:
    assert plain_excerpt("> **Bold** `code`\n\nnext") == "Bold code next"
    cut = plain_excerpt("word " * 100, length=20)
    assert len(cut) <= 20
    assert cut.endswith("…")


_PLAIN = "ab Zé日 .,;:!?'\"()-#=+1|~\n\n   "
_MARKUP_TOO = _PLAIN + "*_[]`\\<>&\t\r\x0b\u00a0\u2028"


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=_PLAIN, max_size=40) | st.text(alphabet=_MARKUP_TOO, max_size=40))
def test_plain_text_renders_as_the_markdown_parser_renders_it(value: str) -> None:
    """Text without markup takes a short way past the parser: it must come out the same."""
    from rejoinder.core.text import _clean_comment, _comment_parser

    assert render_comment(value) == _clean_comment(_comment_parser().render(value))


@pytest.mark.parametrize(
    "value",
    [
        "one\ntwo",
        "one  \ntwo ",
        "  indented\n      more\n\n\n  next paragraph  ",
        "\n \n",
        "\"quoted\" and 'single' (brackets) - # = + 1. | ~",
        "a \n \n b",
    ],
)
def test_plain_text_examples_render_as_the_parser_renders_them(value: str) -> None:
    from rejoinder.core.text import _MARKUP, _clean_comment, _comment_parser

    assert not _MARKUP.search(value)
    assert render_comment(value) == _clean_comment(_comment_parser().render(value))
