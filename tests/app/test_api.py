"""The JSON API under /api/v1, exercised over HTTP against the real app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests import (
    ERROR_KEYS,
    article_count,
    comment_li,
    has_class,
    parse_html,
    post,
    thread,
    walk,
)
from tests.conftest import App, Databases

MakeArticle = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def strict_app(databases: Databases) -> Iterator[App]:
    """An app that shows five top-level comments a page and never lets a comment change."""
    env = {"REJOINDER_PAGE_SIZE": "5", "REJOINDER_EDIT_WINDOW_MINUTES": "0"}
    running = App(databases.new(), env=env).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def other(app: App) -> Iterator[httpx.Client]:
    """A second browser: no cookies from `client`."""
    with app.client() as http:
        yield http


def assert_error(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["message"]
    if field is not None:
        assert body["field"] == field


def shown(tree: dict[str, Any]) -> int:
    """Published comments in a one-page tree: every comment but "[deleted]" placeholders."""
    return sum(1 for c in walk(tree["comments"]) if not c["deleted"])


def test_articles_are_listed_newest_first(client: httpx.Client, make_article: MakeArticle) -> None:
    base = datetime(2091, 3, 1, tzinfo=UTC)
    made = [
        make_article(published_at=(base + timedelta(days=offset)).isoformat())
        for offset in (2, 0, 5)
    ]
    listed = client.get("/api/v1/articles", params={"limit": 100}).json()["articles"]
    stamps = [datetime.fromisoformat(a["published_at"]) for a in listed]
    assert stamps == sorted(stamps, reverse=True)
    slugs = [a["slug"] for a in listed]
    ours = [slug for slug in slugs if slug in {m["slug"] for m in made}]
    assert ours == [made[2]["slug"], made[0]["slug"], made[1]["slug"]]


def test_one_article_shows_its_source_when_syndicated(
    client: httpx.Client, make_article: MakeArticle
) -> None:
    own = make_article(dek="A short dek", author="Pat Writer")
    syndicated = make_article(
        source_name="The Daily Other", source_url="https://other.example/story"
    )
    got = client.get(f"/api/v1/articles/{own['slug']}").json()
    assert got["title"] == own["title"]
    assert got["dek"] == "A short dek"
    assert got["author"] == "Pat Writer"
    assert got["source"] is None
    assert got["comment_count"] == 0
    assert got["url"].endswith(f"/articles/{own['slug']}")
    got = client.get(f"/api/v1/articles/{syndicated['slug']}").json()
    assert got["source"] == {"name": "The Daily Other", "url": "https://other.example/story"}
    assert_error(client.get("/api/v1/articles/no-such-article-here"), 404)


def test_replies_nest_under_their_parent_and_are_numbered_among_siblings(
    client: httpx.Client, make_article: MakeArticle
) -> None:
    slug = str(make_article()["slug"])
    a = post(client, slug, body="First")
    b = post(client, slug, body="Second")
    c = post(client, slug, body="Third")
    a1 = post(client, slug, body="Reply one to first", parent_id=a["id"])
    a2 = post(client, slug, body="Reply two to first", parent_id=a["id"])
    a1a = post(client, slug, body="Reply to reply", parent_id=a1["id"])
    c1 = post(client, slug, body="Reply to third", parent_id=c["id"])

    assert a1["parent_id"] == a["id"] and a1["depth"] == 1
    assert a1a["parent_id"] == a1["id"] and a1a["depth"] == 2
    tree = thread(client, slug)
    shape = [
        (t["id"], t["number"], [(r["id"], r["number"]) for r in t["replies"]])
        for t in tree["comments"]
    ]
    assert shape == [
        (a["id"], 1, [(a1["id"], 1), (a2["id"], 2)]),
        (b["id"], 2, []),
        (c["id"], 3, [(c1["id"], 1)]),
    ]
    deep = tree["comments"][0]["replies"][0]["replies"]
    assert [(r["id"], r["number"], r["replies"]) for r in deep] == [(a1a["id"], 1, [])]
    assert tree["top_level_total"] == 3
    assert tree["next_cursor"] is None
    assert tree["article"]["comment_count"] == 7
    assert all(
        r["permalink"] == f"/articles/{slug}#comment-{r['id']}" for r in walk(tree["comments"])
    )


def test_newest_first_reverses_top_level_but_replies_stay_oldest_first(
    client: httpx.Client, make_article: MakeArticle
) -> None:
    slug = str(make_article()["slug"])
    tops = [post(client, slug, body=f"Top {n}") for n in range(3)]
    replies = [post(client, slug, body=f"Reply {n}", parent_id=tops[0]["id"]) for n in range(3)]
    newest = thread(client, slug, sort="newest")
    assert newest["sort"] == "newest"
    assert [t["id"] for t in newest["comments"]] == [t["id"] for t in reversed(tops)]
    assert [t["number"] for t in newest["comments"]] == [3, 2, 1]
    assert [r["id"] for r in newest["comments"][-1]["replies"]] == [r["id"] for r in replies]
    oldest = thread(client, slug, sort="oldest")
    assert [t["id"] for t in oldest["comments"]] == [t["id"] for t in tops]
    assert_error(
        client.get(f"/api/v1/articles/{slug}/comments", params={"sort": "best"}), 422, "sort"
    )


@pytest.mark.parametrize("sort", ["oldest", "newest"])
def test_cursor_walks_every_top_level_comment_once_with_its_replies(
    strict_app: App, sort: str
) -> None:
    with strict_app.client() as http:
        slug = str(strict_app.publish()["slug"])
        tops = [post(http, slug, body=f"Top {n}") for n in range(12)]
        reply_of = {
            t["id"]: post(http, slug, body="Re", parent_id=t["id"])["id"] for t in tops[::3]
        }
        sizes: list[int] = []
        seen: list[int] = []
        cursor: int | None = None
        for _ in range(5):  # bounded: three pages expected
            page = thread(
                http, slug, sort=sort, **({"cursor": cursor} if cursor is not None else {})
            )
            assert page["top_level_total"] == 12
            sizes.append(len(page["comments"]))
            for top in page["comments"]:
                seen.append(top["id"])
                expected = [reply_of[top["id"]]] if top["id"] in reply_of else []
                assert [r["id"] for r in top["replies"]] == expected
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert sizes == [5, 5, 2]
    order = [t["id"] for t in tops]
    assert seen == (order if sort == "oldest" else order[::-1])


def test_counts_for_several_articles_in_one_call_leave_out_unknown_slugs(
    client: httpx.Client, make_article: MakeArticle
) -> None:
    busy, quiet = str(make_article()["slug"]), str(make_article()["slug"])
    first = post(client, busy)
    post(client, busy, parent_id=first["id"])
    response = client.get(
        "/api/v1/counts", params=[("slug", busy), ("slug", quiet), ("slug", "no-such-slug-at-all")]
    )
    assert response.status_code == 200
    assert response.json() == {"counts": {busy: 2, quiet: 0}, "pages": {}}
    assert client.get("/api/v1/counts").json() == {"counts": {}, "pages": {}}


def test_openapi_lists_every_route_and_no_email_in_the_public_comment(client: httpx.Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    routes = {path: set(ops) for path, ops in schema["paths"].items()}
    expected = {
        "/api/v1/articles": {"get", "post"},
        "/api/v1/articles/{slug}": {"get"},
        "/api/v1/articles/{slug}/comments": {"get", "post"},
        "/api/v1/comments/{comment_id}": {"patch", "delete"},
        "/api/v1/counts": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= routes.get(path, set()), path
    schemas = schema["components"]["schemas"]
    assert "CommentOut" in schemas

    def properties(name: str, seen: set[str]) -> set[str]:
        """Every property name of a schema and of the schemas it refers to."""
        if name in seen:
            return set()
        seen.add(name)
        found: set[str] = set()
        stack: list[Any] = [schemas[name]]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                found |= set(item.get("properties", {}))
                ref = item.get("$ref")
                if isinstance(ref, str):
                    found |= properties(ref.rsplit("/", 1)[-1], seen)
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
        return found

    names = properties("CommentOut", set())
    assert {"id", "author", "name", "body_html", "replies"} <= names
    assert not [n for n in names if "email" in n.lower()]


def test_comments_api_answers_304_until_a_new_comment_changes_the_etag(
    client: httpx.Client, other: httpx.Client, make_article: MakeArticle
) -> None:
    slug = str(make_article()["slug"])
    post(client, slug)
    url = f"/api/v1/articles/{slug}/comments"
    first = other.get(url)
    etag = first.headers["etag"]
    assert etag
    again = other.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    post(client, slug, body="Something new")
    after = other.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert len(after.json()["comments"]) == 2
    assert other.get(url, headers={"If-None-Match": after.headers["etag"]}).status_code == 304


def test_article_page_answers_304_until_a_new_comment_changes_the_etag(
    client: httpx.Client, other: httpx.Client, make_article: MakeArticle
) -> None:
    slug = str(make_article()["slug"])
    post(client, slug)
    first = other.get(f"/articles/{slug}")
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert other.get(f"/articles/{slug}", headers={"If-None-Match": etag}).status_code == 304
    posted = post(client, slug, body="Fresh words")
    after = other.get(f"/articles/{slug}", headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert f'id="comment-{posted["id"]}"' in after.text


def test_writer_edits_own_comment_and_it_shows_edited(
    client: httpx.Client, make_article: MakeArticle
) -> None:
    slug = str(make_article()["slug"])
    mine = post(client, slug, body="Before the edit")
    assert mine["edited_at"] is None
    response = client.patch(f"/api/v1/comments/{mine['id']}", json={"body": "After the *edit*"})
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["id"] == mine["id"]
    assert edited["edited_at"] is not None
    assert edited["body_html"] == "<p>After the <em>edit</em></p>"
    assert edited["number"] == mine["number"]
    [listed] = thread(client, slug)["comments"]
    assert listed["body_html"] == edited["body_html"]
    assert listed["edited_at"] is not None
    page = parse_html(client.get(f"/articles/{slug}").text)
    li = comment_li(page, mine["id"])
    assert li.xpath(f".//span[{has_class('edited')}]")
    assert "After the" in li.text_content()
    assert "Before" not in li.text_content()
    assert article_count(client, slug) == 1


def test_another_browser_cannot_edit_or_delete_a_comment(
    client: httpx.Client, other: httpx.Client, make_article: MakeArticle
) -> None:
    slug = str(make_article()["slug"])
    mine = post(client, slug, body="Mine alone")
    assert_error(other.patch(f"/api/v1/comments/{mine['id']}", json={"body": "Hijacked"}), 403)
    assert_error(other.delete(f"/api/v1/comments/{mine['id']}"), 403)
    [still] = thread(client, slug)["comments"]
    assert still["body_html"] == "<p>Mine alone</p>"
    assert still["edited_at"] is None
    assert article_count(client, slug) == 1
    assert_error(client.patch("/api/v1/comments/987654321", json={"body": "x"}), 404)


def test_deleting_a_comment_without_replies_removes_it(
    client: httpx.Client, make_article: MakeArticle
) -> None:
    slug = str(make_article()["slug"])
    keep = post(client, slug, body="Stays")
    gone = post(client, slug, body="Goes")
    assert article_count(client, slug) == 2
    response = client.delete(f"/api/v1/comments/{gone['id']}")
    assert response.status_code == 204
    tree = thread(client, slug)
    assert [c["id"] for c in walk(tree["comments"])] == [keep["id"]]
    assert tree["top_level_total"] == 1
    assert article_count(client, slug) == 1
    assert f'id="comment-{gone["id"]}"' not in client.get(f"/articles/{slug}").text
    assert_error(client.delete(f"/api/v1/comments/{gone['id']}"), 404)


def test_deleting_a_comment_with_replies_leaves_a_placeholder_holding_them(
    client: httpx.Client, other: httpx.Client, make_article: MakeArticle
) -> None:
    slug = str(make_article()["slug"])
    parent = post(client, slug, body="Parent text here", name="Parent Writer")
    reply = post(other, slug, body="A reply", name="Replier", parent_id=parent["id"])
    assert article_count(client, slug) == 2
    assert client.delete(f"/api/v1/comments/{parent['id']}").status_code == 204
    [placeholder] = thread(client, slug)["comments"]
    assert placeholder["id"] == parent["id"]
    assert placeholder["deleted"] is True
    assert placeholder["author"] == {"name": "[deleted]", "website": None}
    assert placeholder["body_html"] == ""
    assert [r["id"] for r in placeholder["replies"]] == [reply["id"]]
    assert article_count(client, slug) == 1
    page = parse_html(other.get(f"/articles/{slug}").text)
    li = comment_li(page, parent["id"])
    assert "[deleted]" in li.text_content()
    assert "Parent text here" not in li.text_content()
    assert "Parent Writer" not in page.text_content()
    assert li.xpath(f'./ol[{has_class("children")}]/li[@id="comment-{reply["id"]}"]')


def test_edit_is_refused_once_the_window_has_passed(strict_app: App) -> None:
    with strict_app.client() as http:
        slug = str(strict_app.publish()["slug"])
        mine = post(http, slug, body="Frozen")
        assert_error(http.patch(f"/api/v1/comments/{mine['id']}", json={"body": "Thawed"}), 403)
        assert_error(http.delete(f"/api/v1/comments/{mine['id']}"), 403)
        [still] = thread(http, slug)["comments"]
        assert still["body_html"] == "<p>Frozen</p>"
        assert still["edited_at"] is None
        assert article_count(http, slug) == 1


def test_comment_count_follows_posts_edits_and_deletes(
    client: httpx.Client, make_article: MakeArticle
) -> None:
    slug = str(make_article()["slug"])

    def check(expected: int) -> None:
        tree = thread(client, slug)
        counted = client.get("/api/v1/counts", params={"slug": slug}).json()["counts"][slug]
        assert (
            shown(tree),
            tree["article"]["comment_count"],
            article_count(client, slug),
            counted,
        ) == (
            expected,
            expected,
            expected,
            expected,
        )

    check(0)
    a = post(client, slug)
    b = post(client, slug)
    check(2)
    a1 = post(client, slug, parent_id=a["id"])
    post(client, slug, parent_id=a1["id"])
    check(4)
    assert client.patch(f"/api/v1/comments/{b['id']}", json={"body": "changed"}).status_code == 200
    check(4)
    assert client.delete(f"/api/v1/comments/{a['id']}").status_code == 204  # has replies
    check(3)
    assert client.delete(f"/api/v1/comments/{b['id']}").status_code == 204  # has none
    check(2)
    post(client, slug, parent_id=a1["id"])
    check(3)


def test_publishing_without_the_admin_token_is_401_whatever_the_body(client: httpx.Client) -> None:
    """The token is checked before the body is validated: a caller without it learns nothing
    of what an article needs, and a wrong token is the same as none."""
    for headers in ({}, {"Authorization": "Bearer not-the-token"}):
        for body in ({}, {"title": "T", "body": "B"}, {"title": 7}):
            response = client.post("/api/v1/articles", json=body, headers=headers)
            assert response.status_code == 401, (headers, body, response.text)
            assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "T"}, "body"),  # the field called body, not the request body
        ({"body": "B"}, "title"),
        ({"title": "T", "body": "B", "published_at": "yesterday"}, "published_at"),
        ({"title": "T", "body": "B", "extra": 1}, "extra"),
    ],
)
def test_publishing_with_a_bad_field_names_it(
    client: httpx.Client, body: dict[str, object], field: str
) -> None:
    headers = {"Authorization": "Bearer test-admin-token"}
    response = client.post("/api/v1/articles", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field, response.json()
    assert response.json()["message"].startswith(field)
