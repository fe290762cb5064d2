"""Bad input to the API and to the HTML form: refused with the field named, nothing stored."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests import (
    ERROR_KEYS,
    article_count,
    comment_payload,
    parse_html,
    post,
    thread,
    words,
)
from tests.conftest import App

MISSING = object()  # the field is left out of the request
OTHER_PARENT = object()  # a comment that exists, on another article


@dataclass(frozen=True)
class Targets:
    slug: str
    other_slug: str
    other_parent: int
    closed_slug: str


@pytest.fixture(scope="module")
def targets(app: App) -> Targets:
    """An open article for the bad input, another with a comment, and a closed one."""
    with app.client() as http:
        slug = app.publish()["slug"]
        other_slug = app.publish()["slug"]
        other_parent = post(http, other_slug)["id"]
        closed_slug = app.publish(comments_open=False)["slug"]
    return Targets(slug, other_slug, other_parent, closed_slug)


@pytest.fixture
def http(app: App) -> Iterator[httpx.Client]:
    with app.client() as client:
        yield client


# (id, fields that replace the valid ones, the field the error must name)
FIELD_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("empty-body", {"body": ""}, "body"),
    ("missing-body", {"body": MISSING}, "body"),
    ("whitespace-only-body", {"body": "  \n\t \r\n  "}, "body"),
    ("body-over-5000", {"body": "x" * 5001}, "body"),
    ("missing-email", {"email": MISSING}, "email"),
    ("invalid-email", {"email": "not-an-address"}, "email"),
    ("name-over-100", {"name": "N" * 101}, "name"),
    ("javascript-website", {"website": "javascript:alert(1)"}, "website"),
    ("ftp-website", {"website": "ftp://x.org"}, "website"),
    ("unknown-parent", {"parent_id": 2_000_000_000}, "parent_id"),
    ("huge-parent", {"parent_id": 10**20}, "parent_id"),
    ("parent-on-another-article", {"parent_id": OTHER_PARENT}, "parent_id"),
    ("non-integer-parent", {"parent_id": "abc"}, "parent_id"),
    ("superscript-digit-parent", {"parent_id": "\u00b2"}, "parent_id"),
]


def fields_for(overrides: dict[str, Any], targets: Targets) -> dict[str, Any]:
    values = comment_payload(
        name="Typed Name", email="typed@example.org", website="https://typed.example"
    )
    for key, value in overrides.items():
        if value is MISSING:
            values.pop(key)
        elif value is OTHER_PARENT:
            values[key] = targets.other_parent
        else:
            values[key] = value
    return values


def assert_error_shape(response: httpx.Response, field: str | None) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    assert body["field"] == field, body
    return dict(body)


def counts(http: httpx.Client, targets: Targets) -> tuple[int, int, int]:
    return (
        article_count(http, targets.slug),
        article_count(http, targets.other_slug),
        article_count(http, targets.closed_slug),
    )


@pytest.mark.parametrize(
    ("overrides", "field"), [c[1:] for c in FIELD_CASES], ids=[c[0] for c in FIELD_CASES]
)
def test_api_refuses_bad_fields_naming_the_field(
    http: httpx.Client, targets: Targets, overrides: dict[str, Any], field: str
) -> None:
    before = counts(http, targets)
    response = http.post(
        f"/api/v1/articles/{targets.slug}/comments", json=fields_for(overrides, targets)
    )
    assert response.status_code == 422, response.text
    assert_error_shape(response, field)
    assert "rj_own" not in response.cookies
    assert counts(http, targets) == before


@pytest.mark.parametrize(
    ("overrides", "field"), [c[1:] for c in FIELD_CASES], ids=[c[0] for c in FIELD_CASES]
)
def test_form_refuses_bad_fields_keeping_what_was_typed(
    http: httpx.Client, targets: Targets, overrides: dict[str, Any], field: str
) -> None:
    before = counts(http, targets)
    sent = {key: str(value) for key, value in fields_for(overrides, targets).items()}
    response = http.post(f"/articles/{targets.slug}/comments", data=sent)
    assert response.status_code == 422, response.text[:300]
    assert_form_error(response, field, sent)
    assert counts(http, targets) == before


def assert_form_error(response: httpx.Response, field: str, sent: dict[str, str] | None) -> None:
    page = parse_html(response.text)
    [error] = page.xpath(f'//form[@id="commentform"]//*[@id="{field}-error"]')
    assert words(error).removeprefix("Error:").strip()
    beside = error.getparent().xpath(f'.//*[@name="{field}"]')
    assert beside, f"the message for {field} is not beside its input"
    if field != "parent_id":
        assert beside[0].get("aria-invalid") == "true"
    if sent is None:
        return
    for name in ("name", "email", "website"):
        [element] = page.xpath(f'//form[@id="commentform"]//input[@name="{name}"]')
        assert element.get("value", "") == sent.get(name, "")
    [textarea] = page.xpath('//form[@id="commentform"]//textarea[@name="body"]')
    assert (textarea.text or "").strip() == sent.get("body", "").strip()


def test_api_refuses_a_comment_on_a_closed_article(http: httpx.Client, targets: Targets) -> None:
    before = counts(http, targets)
    response = http.post(f"/api/v1/articles/{targets.closed_slug}/comments", json=comment_payload())
    assert response.status_code == 403
    assert assert_error_shape(response, "body")["error"] == "closed"
    assert counts(http, targets) == before


def test_form_refuses_a_comment_on_a_closed_article(http: httpx.Client, targets: Targets) -> None:
    before = counts(http, targets)
    response = http.post(f"/articles/{targets.closed_slug}/comments", data=comment_payload())
    assert response.status_code == 403
    page = parse_html(response.text)
    assert "Comments are closed" in words(page)
    assert not page.xpath("//form")
    assert counts(http, targets) == before


JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
VALID = json.dumps(comment_payload()).encode()

# (id, raw body, content type, status, field) for the API
API_RAW_CASES: list[tuple[str, bytes, str, int, str | None]] = [
    ("malformed-json", b'{"body": "x", "name":', JSON, 400, None),
    ("json-array", b'["body", "name", "email"]', JSON, 422, None),
    ("text-plain", VALID, "text/plain", 415, None),
    ("form-encoded", b"body=Hello&name=A&email=a%40example.org", FORM, 415, None),
    ("no-content-type", VALID, "", 415, None),
    (
        "invalid-utf8-in-json",
        b'{"body": "caf\xe9 \xff", "name": "A", "email": "a@example.org"}',
        JSON,
        400,
        None,
    ),
    ("non-integer-parent-in-json", VALID[:-1] + b', "parent_id": 1.5}', JSON, 422, "parent_id"),
]


@pytest.mark.parametrize(
    ("raw", "kind", "status", "field"),
    [c[1:] for c in API_RAW_CASES],
    ids=[c[0] for c in API_RAW_CASES],
)
def test_api_refuses_bodies_it_cannot_read(
    http: httpx.Client, targets: Targets, raw: bytes, kind: str, status: int, field: str | None
) -> None:
    before = counts(http, targets)
    headers = {"Content-Type": kind} if kind else {}
    response = http.post(f"/api/v1/articles/{targets.slug}/comments", content=raw, headers=headers)
    assert response.status_code == status, response.text
    assert_error_shape(response, field)
    assert counts(http, targets) == before


# (id, raw body, content type, field whose message shows) for the form
FORM_RAW_CASES: list[tuple[str, bytes, str, str]] = [
    ("percent-encoded-invalid-utf8", b"body=caf%E9+%FF&name=A&email=a%40example.org", FORM, "body"),
    ("raw-invalid-utf8", b"body=Fine&name=Ren\xe9e+\xff&email=a%40example.org", FORM, "name"),
    ("json-to-the-form", VALID, JSON, "body"),
    ("text-plain-to-the-form", b"body=Hello", "text/plain", "body"),
]


@pytest.mark.parametrize(
    ("raw", "kind", "field"), [c[1:] for c in FORM_RAW_CASES], ids=[c[0] for c in FORM_RAW_CASES]
)
def test_form_refuses_bodies_it_cannot_read(
    http: httpx.Client, targets: Targets, raw: bytes, kind: str, field: str
) -> None:
    before = counts(http, targets)
    response = http.post(
        f"/articles/{targets.slug}/comments", content=raw, headers={"Content-Type": kind}
    )
    assert response.status_code == 422, (response.status_code, response.text[:300])
    assert_form_error(response, field, None)
    assert counts(http, targets) == before


def test_a_form_sent_back_shows_no_nul_byte(http: httpx.Client, targets: Targets) -> None:
    """NULs alone are no comment; the form comes back with what was typed, each NUL shown as
    U+FFFD as a browser would show it, since HTML cannot carry a NUL."""
    response = http.post(
        f"/articles/{targets.slug}/comments",
        data={"body": "\x00\x00", "name": "N\x00l", "email": "n@example.org"},
    )
    assert response.status_code == 422
    assert b"\x00" not in response.content
    [textarea] = parse_html(response.text).xpath('//textarea[@name="body"]')
    assert textarea.text == "\ufffd\ufffd"
    assert_form_error(response, "body", None)
    # the same for the writer's edit form and the desk's login form
    own = post(http, targets.slug)
    edit = http.post(f"/comments/{own['id']}/edit", data={"body": "\x00"})
    assert edit.status_code == 422
    assert b"\x00" not in edit.content
    login = http.get("/admin/login")
    [csrf] = parse_html(login.text).xpath('//input[@name="csrf"]/@value')
    refused = http.post("/admin/login", data={"name": "a\x00b", "password": "x", "csrf": csrf})
    assert refused.status_code in (400, 401, 422), refused.status_code
    assert b"\x00" not in refused.content
    assert "a\ufffdb" in refused.text


def test_control_characters_are_stripped_and_text_is_nfc(app: App, http: httpx.Client) -> None:
    slug = app.publish()["slug"]
    posted = post(
        http, slug, body="Caf\x00e\u0301 at\x07 noon\u202e!", name="Zo\x07e\u0301\u202e", website=""
    )
    assert posted["body_html"] == "<p>Caf\u00e9 at noon!</p>"
    assert posted["author"]["name"] == "Zo\u00e9"
    response = http.post(
        f"/articles/{slug}/comments",
        data={
            "body": "Cre\u0300me\x1b br\u00fbl\u00e9e\u2066",
            "name": "Rene\u0301\x7f",
            "email": "r@example.org",
        },
    )
    assert response.status_code == 303
    comments = thread(http, slug)["comments"]
    assert [(c["author"]["name"], c["body_html"]) for c in comments] == [
        ("Zo\u00e9", "<p>Caf\u00e9 at noon!</p>"),
        ("Ren\u00e9", "<p>Cr\u00e8me br\u00fbl\u00e9e</p>"),
    ]
    page = http.get(f"/articles/{slug}").text
    assert "Cr\u00e8me br\u00fbl\u00e9e" in page
    assert not any(ch in page for ch in "\x00\x07\x1b\x7f\u202e\u2066")
    # A lone surrogate (valid JSON, no character) is dropped too, rather than failing the save.
    lone = b'{"body": "half \\ud800 pair", "name": "Sol\\udfff", "email": "s@example.org"}'
    response = http.post(
        f"/api/v1/articles/{slug}/comments", content=lone, headers={"Content-Type": JSON}
    )
    assert response.status_code == 201, response.text
    assert (response.json()["author"]["name"], response.json()["body_html"]) == (
        "Sol",
        "<p>half  pair</p>",
    )


# (id, path under the article or absolute, query, status, field for the API)
QUERY_CASES: list[tuple[str, str, dict[str, str], int, str | None]] = [
    ("api-superscript-cursor", "api", {"cursor": "\u00b2"}, 422, "cursor"),
    ("api-negative-cursor", "api", {"cursor": "-1"}, 422, "cursor"),
    ("api-huge-cursor", "api", {"cursor": "9" * 20}, 422, "cursor"),
    # Past PostgreSQL's integer column (comment numbers): refused before it reaches the query.
    ("api-int32-cursor", "api", {"cursor": "7210751539"}, 422, "cursor"),
    ("api-unknown-sort", "api", {"sort": "best"}, 422, "sort"),
    ("api-huge-offset", "/api/v1/articles", {"offset": "9" * 20}, 422, "offset"),
    ("api-zero-limit", "/api/v1/articles", {"limit": "0"}, 422, "limit"),
    ("api-nul-slug", "/api/v1/counts", {"slug": "a\x00b"}, 200, None),
    ("page-superscript-cursor", "page", {"cursor": "\u00b2"}, 422, None),
    ("page-unknown-sort", "page", {"sort": "best"}, 422, None),
    ("page-superscript-replytocom", "page", {"replytocom": "\u00b2"}, 200, None),
    ("page-huge-replytocom", "page", {"replytocom": "9" * 20}, 200, None),
]


@pytest.mark.parametrize(
    ("where", "query", "status", "field"),
    [c[1:] for c in QUERY_CASES],
    ids=[c[0] for c in QUERY_CASES],
)
def test_odd_query_values_are_refused_or_ignored_never_a_crash(
    http: httpx.Client,
    targets: Targets,
    where: str,
    query: dict[str, str],
    status: int,
    field: str | None,
) -> None:
    path = {"api": f"/api/v1/articles/{targets.slug}/comments", "page": f"/articles/{targets.slug}"}
    response = http.get(path.get(where, where), params=query)
    assert response.status_code == status, response.text[:300]
    if status != 200 and response.url.path.startswith("/api/"):
        assert_error_shape(response, field)


def test_a_nul_in_a_slug_finds_nothing(http: httpx.Client) -> None:
    assert http.get("/articles/a%00b").status_code == 404
    assert_error_shape(http.get("/api/v1/articles/a%00b/comments"), None)
    assert_error_shape(http.get("/api/v1/articles/a%00b"), None)
    assert http.post("/articles/a%00b/comments", data=comment_payload()).status_code == 404


WEIRD = [
    "",
    " ",
    "0",
    "-1",
    "1",
    "2",
    "5",
    "\u00b2",
    "\u0661\u0662",
    "\uff11\uff12",
    "9" * 9,
    "9" * 20,
    "abc",
    "oldest",
    "newest",
    "NEWEST",
    "%",
    "%00",
    "\x00",
    "\ud800",
    "\U0001f4a5",
    "' OR '1'='1",
    "a" * 300,
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "1e3",
    "0x10",
    "null",
    "true",
]
FIELD_NAMES = ["body", "name", "email", "website", "parent_id", "notify_replies", "notify", "id"]


def random_text(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice(WEIRD)
    return "".join(
        chr(rng.choice([rng.randrange(32, 127), rng.randrange(0, 0x3000)]))
        for _ in range(rng.randrange(0, 12))
    )


def url_text(rng: random.Random) -> str:
    """Random text that a URL or a form can carry: no lone surrogates."""
    return random_text(rng).replace("\ud800", "\ufffe")


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 2 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([0, -1, 1, 10**20, -(10**20), 2**31, 2**63, 1.5])
    if kind == 2:
        return rng.random() < 0.5
    if kind in (3, 4):
        return random_text(rng)
    if kind == 5:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(3))]
    fields = rng.sample(FIELD_NAMES, rng.randrange(1, len(FIELD_NAMES)))
    return {name: random_json(rng, depth + 1) for name in fields}


def random_body(rng: random.Random) -> tuple[bytes, str]:
    kind = rng.randrange(5)
    if kind == 0:
        return rng.randbytes(rng.randrange(0, 200)), rng.choice(
            [JSON, FORM, "text/plain", "multipart/form-data"]
        )
    if kind == 1:
        shape = random_json(rng)
        return json.dumps(shape, ensure_ascii=rng.random() < 0.5).encode(
            "utf-8", "surrogatepass"
        ), JSON
    if kind == 2:
        payload = comment_payload()
        payload[rng.choice(FIELD_NAMES)] = random_json(rng, 2)
        return json.dumps(payload).encode(), JSON
    if kind == 3:
        pairs = {name: url_text(rng) for name in rng.sample(FIELD_NAMES, rng.randrange(0, 6))}
        return httpx.QueryParams(pairs).__str__().encode(), FORM
    return b'--x\r\nContent-Disposition: form-data; name="body"\r\n\r\n' + rng.randbytes(
        20
    ), rng.choice(["multipart/form-data", "multipart/form-data; boundary=x"])


def test_random_requests_never_cause_a_server_error(
    http: httpx.Client, app: App, targets: Targets
) -> None:
    rng = random.Random(20240611)
    own = post(http, targets.slug, body="Target of random edits")["id"]
    failures: list[str] = []
    client = http
    for _ in range(200):
        slug = targets.slug if rng.random() < 0.8 else quote(url_text(rng), safe="") or "x"
        roll = rng.random()
        try:
            if roll < 0.3:
                raw, kind = random_body(rng)
                response = client.post(
                    f"/api/v1/articles/{slug}/comments", content=raw, headers={"Content-Type": kind}
                )
            elif roll < 0.5:
                raw, kind = random_body(rng)
                response = client.post(
                    f"/articles/{slug}/comments", content=raw, headers={"Content-Type": kind}
                )
            elif roll < 0.6:
                raw, kind = random_body(rng)
                target = rng.choice([str(own), "0", "-3", "9" * 20, str(2**31)])
                method = rng.choice(["PATCH", "DELETE"]) if rng.random() < 0.3 else "PATCH"
                response = client.request(
                    method,
                    f"/api/v1/comments/{target}",
                    content=raw,
                    headers={"Content-Type": kind},
                )
            else:
                odd_id = quote(rng.choice(WEIRD[:12]), safe="")
                path = rng.choice(
                    [
                        "/",
                        "/feed.atom",
                        "/api/v1/articles",
                        f"/api/v1/articles/{slug}",
                        f"/api/v1/articles/{slug}/comments",
                        "/api/v1/counts",
                        f"/articles/{slug}",
                        f"/articles/{slug}/comments.atom",
                        f"/comments/{odd_id}/edit",
                    ]
                )
                names = ["sort", "cursor", "replytocom", "slug", "limit", "offset", url_text(rng)]
                params: list[tuple[str, str | int | float | bool | None]] = [
                    (rng.choice(names), url_text(rng)) for _ in range(rng.randrange(0, 4))
                ]
                response = client.get(path, params=params)
        except httpx.TransportError as error:
            failures.append(f"transport error {error!r}")
            client = app.client()
            continue
        request = response.request
        label = f"{request.method} {request.url} {request.content[:80]!r} -> {response.status_code}"
        if response.status_code >= 500:
            failures.append(label)
        elif 400 <= response.status_code < 500 and request.url.path.startswith("/api/"):
            try:
                shape = set(response.json())
            except ValueError:
                shape = set()
            if shape != ERROR_KEYS:
                failures.append(f"{label}: not the error shape: {response.text[:100]}")
    assert not failures, "\n".join(failures)
