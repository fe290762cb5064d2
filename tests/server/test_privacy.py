"""Commenters' email addresses never reach a reader: no page, API answer, feed or log holds one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests import post
from tests.conftest import Databases, Server


@dataclass(frozen=True)
class Discussion:
    server: Server
    log: Path
    slugs: list[str]
    comment_ids: list[int]
    emails: list[str]
    writer_page: str  # the article page as the form writer's own browser sees it


def email(tag: str) -> str:
    return f"zq-{tag}-7f3kx@privacy-check.example"


@pytest.fixture(scope="module")
def discussion(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Discussion]:
    """A server with comments by every path: API and form, replies, an edit, two deletes."""
    log = tmp_path_factory.mktemp("privacy") / "server.log"
    server = Server(databases.new(), env={"REJOINDER_PAGE_SIZE": "2"}, log=log).start()
    try:
        yield _write_discussion(server, log)
    finally:
        server.stop()


def _write_discussion(server: Server, log: Path) -> Discussion:
    slug = server.publish(title="Privacy under discussion")["slug"]
    syndicated = server.publish(
        source_name="The Other Paper", source_url="https://other.example/a"
    )["slug"]
    emails: list[str] = []
    ids: list[int] = []

    def mail(tag: str) -> str:
        emails.append(email(tag))
        return emails[-1]

    with (
        httpx.Client(base_url=server.url, timeout=10) as api,
        httpx.Client(base_url=server.url, timeout=10) as form,
    ):
        top = post(api, slug, name="Api Top", email=mail("api-top"), website="https://top.example")
        reply = post(api, slug, name="Api Reply", email=mail("api-reply"), parent_id=top["id"])
        edited = post(api, slug, name="Edited Later", email=mail("edited"))
        assert (
            api.patch(f"/api/v1/comments/{edited['id']}", json={"body": "Changed"}).status_code
            == 200
        )
        parent_gone = post(api, slug, name="Deleted Parent", email=mail("deleted-parent"))
        post(
            api,
            slug,
            name="Orphan Keeper",
            email=mail("orphan-keeper"),
            parent_id=parent_gone["id"],
        )
        assert api.delete(f"/api/v1/comments/{parent_gone['id']}").status_code == 204
        withdrawn = post(api, slug, name="Withdrawn", email=mail("withdrawn"))
        assert api.delete(f"/api/v1/comments/{withdrawn['id']}").status_code == 204
        post(api, syndicated, name="Elsewhere", email=mail("syndicated"), notify_replies=True)
        ids += [top["id"], reply["id"], edited["id"], parent_gone["id"], withdrawn["id"]]

        for fields in (
            {"name": "Form Top", "email": mail("form-top"), "notify": "1"},
            {"name": "Form Reply", "email": mail("form-reply"), "parent_id": str(top["id"])},
        ):
            response = form.post(
                f"/articles/{slug}/comments", data={"body": "From the form", **fields}
            )
            assert response.status_code == 303, response.text
            ids.append(int(response.headers["location"].rsplit("#comment-", 1)[1]))
        refused = form.post(
            f"/articles/{slug}/comments",
            data={"body": "", "name": "Refused", "email": mail("refused")},
        )
        assert refused.status_code == 422
        writer_page = form.get(f"/articles/{slug}").text
    return Discussion(server, log, [slug, syndicated], ids, emails, writer_page)


def leaks(text: str, emails: list[str]) -> list[str]:
    """The emails found in `text`, plain or %-encoded, and any local part on its own."""
    found = []
    for address in emails:
        local = address.split("@")[0]
        if address in text or quote(address) in text or local in text:
            found.append(address)
    return found


def public_responses(discussion: Discussion) -> Iterator[httpx.Response]:
    """Every public page and API answer, as a reader with no cookies gets them."""
    with httpx.Client(base_url=discussion.server.url, timeout=10) as reader:
        fixed = [
            "/",
            "/feed.atom",
            "/api/v1/articles",
            "/api/v1/openapi.json",
            "/api/v1/docs",
            "/no-such-page",
            "/articles/no-such-article",
            "/api/v1/articles/no-such-article",
            "/api/v1/articles/no-such-article/comments",
            "/api/v1/comments/1",
        ]
        for path in fixed:
            yield reader.get(path)
        yield reader.get("/api/v1/counts", params=[("slug", s) for s in discussion.slugs])
        for slug in discussion.slugs:
            yield reader.get(f"/api/v1/articles/{slug}")
            yield reader.get(f"/articles/{slug}/comments.atom")
            for sort in ("oldest", "newest"):
                yield from _all_pages(reader, f"/api/v1/articles/{slug}/comments", sort, api=True)
                yield from _all_pages(reader, f"/articles/{slug}", sort, api=False)
            for comment_id in discussion.comment_ids:
                yield reader.get(f"/articles/{slug}", params={"replytocom": comment_id})
        for comment_id in discussion.comment_ids:
            yield reader.get(f"/comments/{comment_id}/edit")


def _all_pages(
    reader: httpx.Client, path: str, sort: str, *, api: bool
) -> Iterator[httpx.Response]:
    params: dict[str, str] = {"sort": sort}
    for _ in range(20):  # bounded: a handful of pages of two
        response = reader.get(path, params=params)
        yield response
        assert response.status_code == 200, (path, params)
        if api:
            cursor = response.json()["next_cursor"]
        else:
            match = re.search(r'rel="next" href="[^"]*cursor=(\d+)', response.text)
            cursor = match.group(1) if match else None
        if cursor is None:
            return
        params = {"sort": sort, "cursor": str(cursor)}
    raise AssertionError(f"{path} never ran out of pages")


def test_no_public_page_or_api_answer_contains_an_email(discussion: Discussion) -> None:
    seen = 0
    for response in public_responses(discussion):
        seen += 1
        assert response.status_code < 500, response.request.url
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        assert not leaks(response.text + headers, discussion.emails), response.request.url
    assert seen > 40


def test_the_writer_alone_gets_their_email_back_in_the_form(discussion: Discussion) -> None:
    # The check above could only fail if the emails were kept: the writer's own form has one.
    assert leaks(discussion.writer_page, discussion.emails) == [email("form-reply")]


def test_someone_elses_edit_page_is_not_found(discussion: Discussion) -> None:
    with httpx.Client(base_url=discussion.server.url, timeout=10) as reader:
        for comment_id in discussion.comment_ids:
            assert reader.get(f"/comments/{comment_id}/edit").status_code == 404


def test_server_log_never_contains_an_email(discussion: Discussion) -> None:
    for _ in public_responses(discussion):
        pass  # the log must stay clean through every read too
    text = discussion.log.read_text(encoding="utf-8", errors="replace")
    assert "Rejoinder on http://127.0.0.1" in text  # the log is the server's own output
    assert not leaks(text, discussion.emails)
