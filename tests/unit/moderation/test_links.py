"""Links: counting (bare domains too), the limit, link-only comments, shorteners, adverts."""

from __future__ import annotations

import pytest

from rejoinder.core.moderation.models import Action, Policy
from rejoinder.core.moderation.phases import links
from rejoinder.core.moderation.phases.links import find_links
from tests.unit.moderation.submissions import submission


def found(policy: Policy | None = None, **fields: object) -> list[tuple[str, Action]]:
    return [(s.code, s.action) for s in links.check(submission(**fields), policy or Policy())]


@pytest.mark.parametrize(
    ("text", "hosts"),
    [
        (
            "See https://example.org/a?b=c, then http://www.news.example.co.uk.",
            ["example.org", "www.news.example.co.uk"],
        ),
        ("Try www.example.com/page today", ["www.example.com"]),
        ("Bare domains: example.com and shop.example.ru/x.", ["example.com", "shop.example.ru"]),
        ("HTTPS://EXAMPLE.ORG", ["example.org"]),
        ("ｅｘａｍｐｌｅ．ｃｏｍ in fullwidth", ["example.com"]),
        ("bit.ly/abc", ["bit.ly"]),
        ("the source is rt.com", ["rt.com"]),
        ("spam.info and free.news", ["spam.info", "free.news"]),
    ],
)
def test_links_are_found_with_their_hosts(text: str, hosts: list[str]) -> None:
    assert [link.host for link in find_links(text)] == hosts
    for link in find_links(text):
        assert text[link.span.start : link.span.end] == link.span.text
        assert not link.span.text.endswith((".", ","))


@pytest.mark.parametrize(
    "text",
    [
        "The U.S. and the E.U., e.g. in Node.js or ASP.NET, i.e. not links.",
        "Write to ada@example.org for the minutes.",
        "It ended.The next day it rained.",
        "He stayed home.In the morning he left. Read the News.Live coverage.",
        "Version 2.0 costs 3.50 today.",
    ],
)
def test_things_that_are_not_links(text: str) -> None:
    assert find_links(text) == []


def test_up_to_the_limit_passes_and_above_it_holds() -> None:
    two = "Sources: https://a.example.org/1 and https://b.example.org/2 say otherwise, read them."
    assert found(text=two) == []
    three = two + " Also c.example.com."
    assert found(text=three) == [("too_many_links", Action.HOLD)]
    [signal] = links.check(submission(text=three), Policy())
    assert len(signal.spans) == 3
    assert "3 links" in signal.message
    assert found(Policy(link_limit=5), text=three) == []
    assert found(Policy(link_limit=0), text="See example.com for the whole report here.") == [
        ("too_many_links", Action.HOLD)
    ]


@pytest.mark.parametrize(
    "text", ["https://example.com/deal", "Great read: example.com", "  www.example.com  !!"]
)
def test_a_comment_that_is_only_a_link_is_held(text: str) -> None:
    assert found(text=text) == [("link_only", Action.HOLD)]


def test_a_link_with_something_said_about_it_passes() -> None:
    assert found(text="The full ruling is at https://example.org/ruling and worth reading.") == []


@pytest.mark.parametrize(
    "text",
    [
        "More here https://bit.ly/3xYz and there.",
        "More at tinyurl.com/abc for all readers",
        "See t.co/xyz please, it explains",
    ],
)
def test_url_shorteners_are_held(text: str) -> None:
    assert ("shortener", Action.HOLD) in found(text=text)


def test_a_shortener_as_website_is_held() -> None:
    assert found(website="https://bit.ly/me") == [("shortener", Action.HOLD)]


@pytest.mark.parametrize(
    "name",
    [
        "Cheap Essay Writing",
        "Best Casino Bonus",
        "Ada from example.com",
        "Buy Viagra Online",
        "ＣＡＳＩＮＯ king",
    ],
)
def test_a_name_that_is_an_advert_is_held(name: str) -> None:
    assert found(name=name) == [("advert_name", Action.HOLD)]


@pytest.mark.parametrize(
    "name", ["Ron Wheeler", "CHUCKMAN", "jm74", "John C Carleton", "Dr. J. Smith", "Essay Fan"]
)
def test_ordinary_names_are_not_adverts(name: str) -> None:
    if name == "Essay Fan":  # one advert word is enough: a name is not the place for it
        assert found(name=name) == [("advert_name", Action.HOLD)]
    else:
        assert found(name=name) == []


@pytest.mark.parametrize(
    "website",
    [
        "https://bestcasinobonus.example",
        "https://buy-cheap-watches.example.com",
        "http://example.com/payday-loans",
    ],
)
def test_a_website_that_is_an_advert_is_held(website: str) -> None:
    [signal] = links.check(submission(website=website), Policy())
    assert (signal.code, signal.action) == ("advert_website", Action.HOLD)
    assert all(span.field == "website" for span in signal.spans)
    assert all(website[s.start : s.end] == s.text for s in signal.spans)


@pytest.mark.parametrize(
    "website",
    ["https://adabyrne.blog", "https://example.org/about", "https://updating.example.net"],
)
def test_ordinary_websites_pass(website: str) -> None:
    assert found(website=website) == []
