"""How an embedding tag names a page, and which origins a site lets embed it (pure)."""

from __future__ import annotations

import pytest

from rejoinder.core.embed import PAGE_ID_MAX, is_allowed_origin, origin_of, page_ref, page_slug
from rejoinder.core.errors import Invalid


def test_a_page_id_keys_the_page_and_the_url_drops_its_fragment() -> None:
    ref = page_ref(" story-1 ", "  The  bridge ", "https://News.Example/a?b=1#comments")
    assert ref.page_id == "story-1"
    assert ref.title == "The bridge"
    assert ref.url == "https://news.example/a?b=1"


def test_without_an_id_the_canonical_url_is_the_key() -> None:
    assert page_ref(None, None, "https://news.example/a#x").page_id == "https://news.example/a"
    long_url = "https://news.example/" + "a" * 400
    assert page_ref("", "", long_url).page_id.startswith("url:")


@pytest.mark.parametrize(
    ("page_id", "url", "field"),
    [
        (None, None, "page_id"),
        ("  ", "", "page_id"),
        ("x" * (PAGE_ID_MAX + 1), None, "page_id"),
        ("a", "ftp://news.example/", "url"),
        ("a", "https://[::1/", "url"),
        ("a", "https://news.example:0/", "url"),
        ("a", "/relative/path", "url"),
    ],
)
def test_bad_tags_are_refused_beside_their_field(
    page_id: str | None, url: str | None, field: str
) -> None:
    with pytest.raises(Invalid) as refused:
        page_ref(page_id, "A title", url)
    assert refused.value.field == field


def test_slugs_read_like_the_title_and_differ_by_page() -> None:
    one = page_slug(page_ref("p1", "Rents go up", None))
    two = page_slug(page_ref("p2", "Rents go up", None))
    assert one.startswith("rents-go-up-") and two.startswith("rents-go-up-") and one != two
    assert page_slug(page_ref("p3", "¿¡!?", None)).startswith("page-")


def test_origins_compare_as_browsers_send_them() -> None:
    allowed = ("https://News.example/", "http://localhost:8080")
    assert is_allowed_origin("https://news.example", allowed)
    assert is_allowed_origin("https://news.example:443", allowed)
    assert is_allowed_origin("http://localhost:8080", allowed)
    assert not is_allowed_origin("http://localhost:8081", allowed)
    assert not is_allowed_origin("http://news.example", allowed)
    assert not is_allowed_origin("https://news.example.evil.test", allowed)
    assert not is_allowed_origin("null", allowed)
    assert not is_allowed_origin(None, allowed)
    assert origin_of("https://[::1]:9000/x") == "https://[::1]:9000"
