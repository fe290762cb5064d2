"""Tests for reading an article file: front matter, defaults, and errors tied to fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from rejoinder.core.articlefile import draft_from_fields, parse_article_file
from rejoinder.core.errors import Invalid
from rejoinder.core.models import ArticleDraft

CLOCK = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

FULL = """---
slug: budget-vote
title: The budget vote, explained
dek: What passed, what did not, and why
author: Ada Writer
published: 2024-03-02T10:30:00Z
comments_open: no
source_name: The Daily Example
source_url: https://news.example.org/budget
---

The council voted on Tuesday.

## What passed

- parks
- roads
"""


def parse(text: str) -> ArticleDraft:
    return parse_article_file(text, default_published=CLOCK)


def field_of_error(text: str) -> str | None:
    with pytest.raises(Invalid) as caught:
        parse(text)
    assert caught.value.message
    return caught.value.field


def article(front: str, body: str = "Body.") -> str:
    return f"---\n{front}\n---\n{body}\n"


def test_every_field_is_read() -> None:
    assert parse(FULL) == ArticleDraft(
        slug="budget-vote",
        title="The budget vote, explained",
        dek="What passed, what did not, and why",
        author="Ada Writer",
        body_markdown="The council voted on Tuesday.\n\n## What passed\n\n- parks\n- roads",
        published_at=datetime(2024, 3, 2, 10, 30, tzinfo=UTC),
        comments_open=False,
        source_name="The Daily Example",
        source_url="https://news.example.org/budget",
    )


def test_defaults_come_from_the_clock_and_the_title() -> None:
    draft = parse(article("title: Crème brûlée, explained"))
    assert draft.published_at == CLOCK
    assert draft.comments_open is True
    assert draft.slug == "creme-brulee-explained"
    assert (draft.dek, draft.author) == ("", "")
    assert (draft.source_name, draft.source_url) == (None, None)
    assert draft.body_markdown == "Body."


def test_a_different_clock_gives_a_different_default_date() -> None:
    later = CLOCK + timedelta(days=3)
    draft = parse_article_file(article("title: T"), default_published=later)
    assert draft.published_at == later


def test_blank_lines_comments_and_key_case_are_tolerated_in_front_matter() -> None:
    draft = parse(article("\n# written for the demo\nTitle: Hello\n  Author :  Ben  \n"))
    assert (draft.title, draft.author) == ("Hello", "Ben")


def test_body_may_contain_a_rule_line_after_the_front_matter() -> None:
    draft = parse(article("title: T", "Above.\n\n---\n\nBelow."))
    assert draft.body_markdown == "Above.\n\n---\n\nBelow."


@pytest.mark.parametrize(
    ("value", "title"),
    [
        ('"Quoted: with a colon"', "Quoted: with a colon"),
        ("'Single quoted'", "Single quoted"),
        ('The word "yes"', 'The word "yes"'),
        ("'Tis the season", "'Tis the season"),
        ("Rock 'n' roll", "Rock 'n' roll"),
        ('"Yes," she said', '"Yes," she said'),
    ],
)
def test_only_matching_outer_quotes_are_removed(value: str, title: str) -> None:
    assert parse(article(f"title: {value}")).title == title


@pytest.mark.parametrize(
    ("value", "published"),
    [
        ("2024-03-02T10:30:00Z", datetime(2024, 3, 2, 10, 30, tzinfo=UTC)),
        ("2024-03-02T10:30:00+00:00", datetime(2024, 3, 2, 10, 30, tzinfo=UTC)),
        (
            "2024-03-02T12:30:00+02:00",
            datetime(2024, 3, 2, 12, 30, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2024-03-02T10:30:00", datetime(2024, 3, 2, 10, 30, tzinfo=UTC)),  # naive means UTC
        ("2024-03-02", datetime(2024, 3, 2, tzinfo=UTC)),
    ],
)
def test_published_is_iso_8601_and_always_aware(value: str, published: datetime) -> None:
    draft = parse(article(f"title: T\npublished: {value}"))
    assert draft.published_at == published
    assert draft.published_at.tzinfo is not None


@pytest.mark.parametrize(
    ("value", "is_open"),
    [
        ("true", True),
        ("True", True),
        ("yes", True),
        ("1", True),
        ("false", False),
        ("FALSE", False),
        ("no", False),
        ("0", False),
    ],
)
def test_comments_open_values(value: str, is_open: bool) -> None:
    assert parse(article(f"title: T\ncomments_open: {value}")).comments_open is is_open


@pytest.mark.parametrize(
    ("text", "field"),
    [
        pytest.param("title: T\n\nBody.", "front_matter", id="no-front-matter"),
        pytest.param("", "front_matter", id="empty-file"),
        pytest.param("Intro\n---\ntitle: T\n---\nBody.", "front_matter", id="not-first-line"),
        pytest.param("---\ntitle: T\n\nBody.", "front_matter", id="unclosed"),
        pytest.param(article("title: T\ncolour: red"), "front_matter", id="unknown-key"),
        pytest.param(article("title: T\njust words"), "front_matter", id="no-colon"),
        pytest.param(article("dek: no title here"), "title", id="missing-title"),
        pytest.param(article("title:   "), "title", id="blank-title"),
        pytest.param(article('title: ""'), "title", id="empty-quoted-title"),
        pytest.param(article("title: T", ""), "body", id="empty-body"),
        pytest.param(article("title: T", " \n\t\n "), "body", id="whitespace-body"),
        pytest.param(article("title: T\npublished: yesterday"), "published", id="bad-date"),
        pytest.param(article("title: T\npublished: 2024-13-01"), "published", id="month-13"),
        pytest.param(article("title: T\ncomments_open: maybe"), "comments_open", id="bad-open"),
        pytest.param(article("title: T\nsource_url: ftp://x.org/a"), "source_url", id="ftp"),
        pytest.param(article("title: T\nsource_url: javascript:alert(1)"), "source_url", id="js"),
        pytest.param(article("title: T\nsource_url: news.example.org"), "source_url", id="bare"),
        pytest.param(article("title: T\nsource_url: https://"), "source_url", id="no-host"),
        pytest.param(article("title: T\nsource_url: https:///a"), "source_url", id="empty-host"),
        pytest.param(article("title: T\nslug: Not A Slug"), "slug", id="bad-slug"),
    ],
)
def test_errors_name_their_field(text: str, field: str) -> None:
    assert field_of_error(text) == field


def test_unknown_key_error_names_the_line() -> None:
    with pytest.raises(Invalid, match="Line 3"):
        parse(article("title: T\ncolour: red"))


@pytest.mark.parametrize(
    ("key", "most"),
    [("title", 300), ("dek", 600), ("author", 200), ("source_name", 200)],
)
def test_fields_longer_than_their_column_are_refused(key: str, most: int) -> None:
    others = "" if key == "title" else "title: T\n"
    assert getattr(parse(article(f"{others}{key}: {'x' * most}")), key) == "x" * most
    assert field_of_error(article(f"{others}{key}: {'x' * (most + 1)}")) == key


def test_source_url_longer_than_its_column_is_refused() -> None:
    url = "https://example.org/" + "p" * 480
    assert parse(article(f"title: T\nsource_url: {url}")).source_url == url
    assert field_of_error(article(f"title: T\nsource_url: {url}p")) == "source_url"


def test_crlf_and_byte_order_mark_are_read_like_plain_lf() -> None:
    lf = parse(FULL)
    assert parse(FULL.replace("\n", "\r\n")) == lf
    assert parse("\ufeff" + FULL) == lf
    assert parse("\ufeff" + FULL.replace("\n", "\r\n")) == lf
    assert parse(FULL.replace("\n", "\r")) == lf


def test_control_characters_are_removed_and_text_is_nfc() -> None:
    draft = parse(article("title: Cafe\u0301 \u202eopen\x00", "Body\x07 text"))
    assert draft.title == "Café open"
    assert draft.body_markdown == "Body text"


def test_draft_from_fields_applies_the_same_rules_for_the_api() -> None:
    draft = draft_from_fields(
        {"title": "From the API", "comments_open": "false", "published": ""},
        "Body.",
        default_published=CLOCK,
    )
    assert (draft.slug, draft.comments_open, draft.published_at) == ("from-the-api", False, CLOCK)
    with pytest.raises(Invalid) as caught:
        draft_from_fields({"title": "T", "source_url": "ftp://x.org"}, "B", default_published=CLOCK)
    assert caught.value.field == "source_url"
