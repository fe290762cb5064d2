"""Bounded bodies and safe headers, against a real `rejoinder serve`: a body over its route's
limit is refused while it is read (before it is all sent), the check endpoint takes no more
than a comment, articles have a size limit, and every response carries the security headers
with no inline script on any page."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import lxml.html
import pytest

from tests import ADMIN_HEADERS, ERROR_KEYS, comment_payload
from tests.conftest import Databases, Server

COMMENT_LIMIT_BYTES = 5000 * 12 + 16 * 1024  # the default body_max, as web/hardening.py counts


@pytest.fixture(scope="module")
def checking(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with moderation on (the check endpoint answers) but not the model."""
    env = {"REJOINDER_MODERATION": "true", "REJOINDER_MODERATION_MODEL": "false"}
    log = tmp_path_factory.mktemp("hardening") / "server.log"
    running = Server(databases.new(), env=env, log=log).start()
    try:
        yield running
    finally:
        running.stop()


def _raw_request(server: Server, head: str, body: bytes = b"") -> tuple[float, bytes]:
    """Send a request's head (and maybe part of a body) on a plain socket; the seconds until
    the answer's first bytes, and the answer as far as it came."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        started = time.monotonic()
        sock.sendall(head.encode("latin-1") + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        seconds = time.monotonic() - started
        sock.settimeout(2)
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionError):
            pass
    return seconds, answer


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    """A client of the real server (these tests need its sockets and its own process)."""
    with server.client() as http:
        yield http


def directives(policy: str) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {name: value for name, value in parts}


def test_a_declared_200_mb_comment_is_refused_before_its_body_is_sent(server: Server) -> None:
    slug = server.publish()["slug"]
    head = (
        f"POST /api/v1/articles/{slug}/comments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 200000000\r\n\r\n"
    )
    seconds, answer = _raw_request(server, head, b'{"body": "')
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b'"error":"too_large"' in rest
    assert seconds < 10  # answered without waiting for 200 MB that never came


def test_a_chunked_body_over_the_limit_is_cut_off_with_413_in_the_error_shape(
    client: httpx.Client, server: Server
) -> None:
    slug = server.publish()["slug"]
    piece = b"x" * 65536

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "Ada", "email": "ada@example.org", "body": "'
        for _ in range(40):  # 2.6 MB, far over the comment limit
            yield piece
        yield b'"}'

    response = client.post(
        f"/api/v1/articles/{slug}/comments",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert set(response.json()) == ERROR_KEYS
    assert response.json()["error"] == "too_large"
    assert f"{COMMENT_LIMIT_BYTES:,} bytes" in response.json()["message"]
    # the same article still takes a comment of the longest allowed length
    fine = client.post(f"/api/v1/articles/{slug}/comments", json=comment_payload(body="é" * 5000))
    assert fine.status_code == 201, fine.text


def test_a_form_body_over_the_limit_gets_an_html_page(client: httpx.Client, server: Server) -> None:
    slug = server.publish()["slug"]
    response = client.post(
        f"/articles/{slug}/comments",
        data={"name": "Ada", "email": "ada@example.org", "body": "y" * (COMMENT_LIMIT_BYTES + 1)},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "too large" in response.text


def test_articles_have_a_size_limit(server: Server) -> None:
    too_long = httpx.post(
        server.url + "/api/v1/articles",
        json={"title": "Long read", "body": "word " * 20_001},
        headers=ADMIN_HEADERS,
        timeout=30,
    )
    assert too_long.status_code == 422, too_long.text
    assert too_long.json()["field"] == "body"
    assert "the limit is 100,000" in too_long.json()["message"]
    huge = httpx.post(
        server.url + "/api/v1/articles",
        json={"title": "Huge", "body": "word " * 400_000},
        headers=ADMIN_HEADERS,
        timeout=30,
    )
    assert huge.status_code == 413, huge.text
    assert huge.json()["error"] == "too_large"


def test_the_check_endpoint_takes_no_more_than_a_comment(checking: Server) -> None:
    longest = httpx.post(
        checking.url + "/api/v1/moderation/check", json={"text": "fine " * 1000}, timeout=30
    )
    assert longest.status_code == 200, longest.text
    over = httpx.post(
        checking.url + "/api/v1/moderation/check", json={"text": "fine " * 1000 + "x"}, timeout=30
    )
    assert over.status_code == 422, over.text
    assert over.json()["field"] == "text"
    assert "at most 5,000" in over.json()["message"]


def test_every_response_carries_the_security_headers(client: httpx.Client, server: Server) -> None:
    slug = server.publish()["slug"]
    for path in ("/", f"/articles/{slug}", "/api/v1/articles", "/feed.atom", "/nowhere"):
        headers = client.get(path).headers
        policy = directives(headers["content-security-policy"])
        assert policy["script-src"] == "'self'"  # no inline script, no other origin
        assert policy["default-src"] == "'self'"
        # Pages may be framed by the site (and the origins it allows); the API never.
        framed = "'none'" if path.startswith("/api/") else "'self'"
        assert policy["frame-ancestors"] == framed
        assert policy["object-src"] == "'none'"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    desk = client.get("/admin/login").headers
    assert directives(desk["content-security-policy"])["frame-ancestors"] == "'none'"
    assert desk["x-frame-options"] == "DENY"


def test_no_page_runs_an_inline_script_or_loads_one_from_elsewhere(
    client: httpx.Client, server: Server
) -> None:
    slug = server.publish()["slug"]
    for path in ("/", f"/articles/{slug}", "/admin/login", "/api/v1/docs"):
        page = lxml.html.fromstring(client.get(path).text)
        for script in page.iter("script"):
            if script.get("type") == "application/ld+json" and not script.get("src"):
                continue  # schema.org data for search engines: a browser runs none of it
            source = script.get("src")
            assert source and source.startswith("/static/"), (path, lxml.html.tostring(script))
        for element in page.iter():
            handlers = [name for name in element.attrib if name.lower().startswith("on")]
            assert not handlers, (path, element.tag, handlers)
        for link in page.iter("link"):
            if link.get("rel") == "stylesheet":
                assert link.get("href", "").startswith("/static/"), path


def test_the_api_docs_are_a_page_of_our_own_made_from_the_openapi_document(
    client: httpx.Client,
) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert "cdn" not in response.text.lower()
    page = lxml.html.fromstring(response.text)
    listed = {" ".join(code.text_content().split()) for code in page.iter("code")}
    document = client.get("/api/v1/openapi.json").json()
    for path, item in document["paths"].items():
        for method in item:
            assert f"{method.upper()} {path}" in listed, (method, path)


def _readable_forms(value: str) -> str:
    """A cookie value as anyone could read it: as sent, URL-decoded, and base64-decoded."""
    import base64
    import binascii
    import contextlib
    from urllib.parse import unquote

    forms = [value, unquote(value)]
    for piece in unquote(value).replace(".", " ").replace('"', " ").split():
        padded = piece + "=" * (-len(piece) % 4)
        for decode in (base64.urlsafe_b64decode, base64.b64decode):
            with contextlib.suppress(binascii.Error, ValueError):
                forms.append(decode(padded).decode("utf-8", "replace"))
    return "\n".join(forms)


def test_the_remembered_writer_is_not_readable_in_the_cookie(
    client: httpx.Client, server: Server
) -> None:
    slug = server.publish()["slug"]
    response = client.post(
        f"/articles/{slug}/comments",
        data={"body": "Remember me.", "name": "Rita Reader", "email": "rita@example.org"},
    )
    assert response.status_code == 303
    cookie = client.cookies["rj_author"]
    readable = _readable_forms(cookie)
    assert "rita@example.org" not in readable and "Rita Reader" not in readable
    page = lxml.html.fromstring(client.get(f"/articles/{slug}").text)
    [email] = page.xpath('//form[@id="commentform"]//input[@name="email"]')
    assert email.get("value") == "rita@example.org"  # the site itself can still read it
    forged = httpx.Client(base_url=server.url, cookies={"rj_author": cookie[:-4] + "AAAA"})
    with forged:
        page = lxml.html.fromstring(forged.get(f"/articles/{slug}").text)
    [email] = page.xpath('//form[@id="commentform"]//input[@name="email"]')
    assert email.get("value", "") == ""


def test_cookies_are_secure_when_the_site_is_served_over_https(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> None:
    log = tmp_path_factory.mktemp("https") / "server.log"
    running = Server(
        databases.new(), env={"REJOINDER_BASE_URL": "https://comments.example"}, log=log
    ).start()
    try:
        slug = running.publish()["slug"]
        response = httpx.post(
            f"{running.url}/articles/{slug}/comments",
            data={"body": "Over https.", "name": "Sam", "email": "sam@example.org"},
        )
        assert response.status_code == 303
        set_cookies = response.headers.get_list("set-cookie")
        assert set_cookies and all("secure" in c.lower() for c in set_cookies), set_cookies
    finally:
        running.stop()
