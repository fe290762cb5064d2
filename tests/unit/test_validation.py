"""Tests for cleaning and validating submissions, slugs included; table-driven."""

from __future__ import annotations

from dataclasses import replace
from typing import TypedDict

import pytest

from rejoinder.core.errors import Invalid, InvalidMany
from rejoinder.core.models import CleanComment, CommentInput, Limits
from rejoinder.core.validation import (
    check_slug,
    check_website,
    clean_line,
    clean_text,
    slugify,
    validate_comment,
)

LIMITS = Limits()
GOOD = CommentInput(body="A fair point.", name="Ada", email="ada@example.org")


class TextChange(TypedDict, total=False):
    """New values for some of a submission's text fields."""

    body: str
    name: str
    email: str
    website: str


def errors_of(raw: CommentInput, limits: Limits = LIMITS) -> list[tuple[str | None, str]]:
    """The (field, message) pairs validation reports, in order; fails if it accepts."""
    with pytest.raises(InvalidMany) as caught:
        validate_comment(raw, limits)
    return [(error.field, error.message) for error in caught.value.errors]


def fields_of(raw: CommentInput, limits: Limits = LIMITS) -> list[str | None]:
    return [field for field, _ in errors_of(raw, limits)]


# --- clean_text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        pytest.param("a\x00b", "ab", id="nul"),
        pytest.param("ring\x07", "ring", id="bell"),
        pytest.param("back\x08space", "backspace", id="backspace"),
        pytest.param("red\x1b[31m", "red[31m", id="escape"),
        pytest.param("v\x0bf\x0c", "vf", id="vertical-tab-and-form-feed"),
        pytest.param("\x01\x02\x1f", "", id="only-controls"),
        pytest.param("del\x7f", "del", id="delete"),
        pytest.param("c1\x80\x85\x9f", "c1", id="c1-controls"),
        pytest.param("evil\u202egpj.exe", "evilgpj.exe", id="right-to-left-override"),
        pytest.param("\u202aa\u202bb\u202cc\u202dd", "abcd", id="embeddings-and-pop"),
        pytest.param("\u2066x\u2067y\u2068z\u2069", "xyz", id="isolates"),
        pytest.param("one\ntwo", "one\ntwo", id="keeps-newline"),
        pytest.param("col\tcol", "col\tcol", id="keeps-tab"),
        pytest.param("one\r\ntwo\r\n", "one\ntwo\n", id="crlf"),
        pytest.param("one\rtwo", "one\ntwo", id="lone-cr"),
        pytest.param("caf" + "e\u0301", "caf\u00e9", id="nfc-e-acute"),
        pytest.param("A\u030a", "\u00c5", id="nfc-a-ring"),
        pytest.param("e\x00\u0301", "\u00e9", id="nfc-after-removing-controls"),
        pytest.param("Ünïcödé stays", "Ünïcödé stays", id="composed-unchanged"),
        pytest.param("emoji 👍🏽 ok", "emoji 👍🏽 ok", id="emoji-unchanged"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
    assert clean_text(clean) == clean  # cleaning twice changes nothing


def test_clean_text_result_has_no_controls_but_newline_and_tab() -> None:
    every_control = "".join(chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)])
    assert clean_text(every_control) == "\t\n\n"  # tab, LF, and the CR turned into LF


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Ada   Lovelace ", "Ada Lovelace"),
        ("Ada\nLovelace", "Ada Lovelace"),
        ("Ada\tLovelace", "Ada Lovelace"),
        ("A\u202eda", "Ada"),
        ("Jose\u0301", "José"),
    ],
)
def test_clean_line_is_one_trimmed_line(raw: str, clean: str) -> None:
    assert clean_line(raw) == clean


# --- validate_comment: success ------------------------------------------------------------


def test_valid_comment_comes_back_cleaned() -> None:
    raw = CommentInput(
        body="\r\n  First line\r\nsecond, cafe\u0301 \u202e \n",
        name="  Ada \t Lovelace ",
        email=" ada@example.org ",
        website="  example.org/about ",
        parent_id=42,
        notify_replies=True,
    )
    assert validate_comment(raw, LIMITS) == CleanComment(
        body="First line\nsecond, café",
        name="Ada Lovelace",
        email="ada@example.org",
        website="https://example.org/about",
        parent_id=42,
        notify_replies=True,
    )


def test_website_is_optional() -> None:
    assert validate_comment(GOOD, LIMITS).website is None
    assert validate_comment(replace(GOOD, website="   "), LIMITS).website is None


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("example.org", "https://example.org"),
        ("www.example.org/path?q=1#top", "https://www.example.org/path?q=1#top"),
        ("http://example.org", "http://example.org"),
        ("https://example.org/", "https://example.org/"),
        ("HTTPS://Example.ORG", "HTTPS://Example.ORG"),
        ("https://example.org:8443/x", "https://example.org:8443/x"),
    ],
)
def test_website_accepted(given: str, kept: str) -> None:
    assert check_website(given, LIMITS) == kept
    assert validate_comment(replace(GOOD, website=given), LIMITS).website == kept


# --- validate_comment: errors -------------------------------------------------------------


def test_every_error_is_reported_at_once_in_form_order() -> None:
    raw = CommentInput(body="  ", name="", email="not-an-email", website="javascript:alert(1)")
    with pytest.raises(InvalidMany) as caught:
        validate_comment(raw, LIMITS)
    error = caught.value
    assert [e.field for e in error.errors] == ["body", "name", "email", "website"]
    assert all(isinstance(e, Invalid) and e.message for e in error.errors)
    assert error.field == "body"  # the first one leads
    assert error.message == error.errors[0].message


def test_errors_skip_the_fields_that_are_fine() -> None:
    raw = replace(GOOD, name="", website="ftp://example.org")
    assert fields_of(raw) == ["name", "website"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        pytest.param({"body": ""}, "body", "write a comment", id="body-empty"),
        pytest.param({"body": " \n\t \r\n "}, "body", "write a comment", id="body-whitespace"),
        pytest.param({"body": "\x00\u202e\x07"}, "body", "write a comment", id="body-controls"),
        pytest.param({"body": "x" * 5001}, "body", "5,001 characters", id="body-too-long"),
        pytest.param({"name": ""}, "name", "give a name", id="name-missing"),
        pytest.param({"name": " \t\n "}, "name", "give a name", id="name-whitespace"),
        pytest.param({"name": "n" * 101}, "name", "too long", id="name-too-long"),
        pytest.param({"email": ""}, "email", "give an email", id="email-missing"),
        pytest.param({"email": "   "}, "email", "give an email", id="email-whitespace"),
        pytest.param({"email": "ada.example.org"}, "email", "email address", id="email-no-at"),
        pytest.param({"email": "ada@@example.org"}, "email", "email address", id="email-at-at"),
        pytest.param({"email": "ada@lab@example.org"}, "email", "email address", id="two-ats"),
        pytest.param({"email": "ada love@example.org"}, "email", "email address", id="space-l"),
        pytest.param({"email": "ada@exam ple.org"}, "email", "email address", id="space-d"),
        pytest.param({"email": "ada@localhost"}, "email", "email address", id="no-dot"),
        pytest.param({"email": "ada@example.o"}, "email", "email address", id="short-tld"),
        pytest.param({"email": "ada@example.org."}, "email", "email address", id="dot-end"),
        pytest.param({"email": "@example.org"}, "email", "email address", id="no-local"),
        pytest.param({"email": "ada@"}, "email", "email address", id="no-domain"),
        pytest.param({"email": "ada@.org"}, "email", "email address", id="empty-label"),
        pytest.param(
            {"email": "a" * 243 + "@example.org"}, "email", "email address", id="email-255"
        ),
        pytest.param({"website": "javascript:alert(1)"}, "website", "http", id="javascript"),
        pytest.param({"website": "JavaScript://x.org/%0a1"}, "website", "http", id="js-slashes"),
        pytest.param({"website": "ftp://example.org"}, "website", "http", id="ftp"),
        pytest.param({"website": "data:text/html,<b>x</b>"}, "website", "http", id="data"),
        pytest.param({"website": "mailto:ada"}, "website", "http", id="mailto"),
        pytest.param({"website": "http://"}, "website", "http", id="no-host"),
        pytest.param({"website": "https:///path"}, "website", "http", id="empty-host"),
        pytest.param({"website": "https://localhost"}, "website", "http", id="host-no-dot"),
        pytest.param({"website": "//example.org"}, "website", "http", id="scheme-relative"),
        pytest.param({"website": "http://[example.org"}, "website", "http", id="open-bracket"),
        pytest.param({"website": "https://example.org]"}, "website", "http", id="stray-bracket"),
        pytest.param({"website": "http://exa mple.org"}, "website", "http", id="space-in-host"),
        pytest.param({"website": "https://example.org:web"}, "website", "http", id="port-text"),
        pytest.param({"website": "https://example.org:99999"}, "website", "http", id="port-big"),
        pytest.param({"website": "https://example.org:0"}, "website", "http", id="port-zero"),
        pytest.param(
            {"website": "https://" + "w" * 489 + ".org"}, "website", "too long", id="website-501"
        ),
    ],
)
def test_single_field_error(change: TextChange, field: str, words: str) -> None:
    errors = errors_of(replace(GOOD, **change))
    assert [f for f, _ in errors] == [field]
    assert words in errors[0][1]


# --- limits at their boundary ---------------------------------------------------------------


def test_body_at_the_limit_is_accepted_and_one_more_is_not() -> None:
    assert validate_comment(replace(GOOD, body="x" * 5000), LIMITS).body == "x" * 5000
    assert fields_of(replace(GOOD, body="x" * 5001)) == ["body"]


def test_body_length_is_counted_after_trimming_and_normalising() -> None:
    padded = "\n  " + "x" * 5000 + "  \n"
    assert len(validate_comment(replace(GOOD, body=padded), LIMITS).body) == 5000
    decomposed = "e\u0301" * 5000  # 10,000 code points, 5,000 characters after NFC
    assert validate_comment(replace(GOOD, body=decomposed), LIMITS).body == "\u00e9" * 5000


def test_name_at_the_limit_is_accepted_and_one_more_is_not() -> None:
    assert validate_comment(replace(GOOD, name="n" * 100), LIMITS).name == "n" * 100
    assert fields_of(replace(GOOD, name="n" * 101)) == ["name"]


def test_email_at_the_limit_is_accepted_and_one_more_is_not() -> None:
    at_limit = "a" * 242 + "@example.org"
    assert len(at_limit) == 254
    assert validate_comment(replace(GOOD, email=at_limit), LIMITS).email == at_limit
    assert fields_of(replace(GOOD, email="a" + at_limit)) == ["email"]


def test_website_at_the_limit_is_accepted_and_one_more_is_not() -> None:
    at_limit = "https://" + "w" * 488 + ".org"
    assert len(at_limit) == 500
    assert validate_comment(replace(GOOD, website=at_limit), LIMITS).website == at_limit
    assert fields_of(replace(GOOD, website="https://w" + at_limit[8:])) == ["website"]


def test_website_limit_counts_the_scheme_that_validation_adds() -> None:
    # The stored column holds 500 characters: what is stored must fit, https:// included.
    bare = "w" * 488 + ".org"
    assert check_website(bare, LIMITS) == "https://" + bare
    assert fields_of(replace(GOOD, website="w" + bare)) == ["website"]


def test_custom_limits_are_applied() -> None:
    small = Limits(body_max=10, name_max=3, email_max=12, website_max=20)
    raw = CommentInput(body="x" * 10, name="Ada", email="a@example.io", website="example.org")
    assert validate_comment(raw, small).body == "x" * 10
    too_big = CommentInput(
        body="x" * 11, name="Adam", email="ab@example.io", website="https://example.org/ab"
    )
    errors = errors_of(too_big, small)
    assert [f for f, _ in errors] == ["body", "name", "email", "website"]
    assert "the limit is 10" in errors[0][1]


# --- slugs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Hello World", "hello-world"),
        ("Crème brûlée: a how-to", "creme-brulee-a-how-to"),
        ("Héllo, Wörld!", "hello-world"),
        ("  Spaces   everywhere  ", "spaces-everywhere"),
        ("C'est la vie", "c-est-la-vie"),
        ("What's new in 2024?", "what-s-new-in-2024"),
        ("a -- b __ c", "a-b-c"),
        ("Ünïcödé", "unicode"),
        ("ﬁnal ﬂag", "final-flag"),
        ("", "article"),
        ("   ", "article"),
        ("!!! ??? ...", "article"),
        ("日本語のタイトル", "article"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug
    assert check_slug(slugify(title)) == slug


def test_slugify_caps_long_titles_without_a_trailing_hyphen() -> None:
    slug = slugify("word " * 40)
    assert len(slug) <= 80
    assert not slug.endswith("-")
    assert check_slug(slug) == slug
    assert slugify("x" * 200) == "x" * 80


@pytest.mark.parametrize("slug", ["a", "hello-world", "2024-03-budget", "x" * 120])
def test_check_slug_accepts(slug: str) -> None:
    assert check_slug(slug) == slug


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "Hello",
        "hello world",
        "hello--world",
        "-hello",
        "hello-",
        "hello_world",
        "héllo",
        "a/b",
        "../etc",
        "x" * 121,
    ],
)
def test_check_slug_refuses(slug: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_slug(slug)
    assert caught.value.field == "slug"
