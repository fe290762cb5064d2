"""Managing what is published, for real: an admin's API token publishing on its own sites;
articles edited and deleted (with their discussions) through the admin API, the desk and the
CLI, by admins of the site only, CSRF-protected and audited; bans listed with who made them,
when, why and until when, lifted and shortened through the three as well."""

from __future__ import annotations

import os
import pty
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import click
import httpx
import pytest

from rejoinder.web.admin_schemas import ArticleDeletedOut, ArticleManagedOut, BanList, BanOut
from tests import ADMIN_HEADERS, MODERATION_ON, RELAXED, comment_payload, desk_csrf, parse_html
from tests.conftest import TEST_ENV, App, Databases, Ran, add_staff, add_token, allow_origins, cli


@dataclass
class World:
    app: App
    tokens: dict[str, str]  # account name: its API token

    def cli(self, *args: str, check: bool = True, input: str | None = None) -> Ran:
        return cli(*args, db_url=self.app.db_url, check=check, env=TEST_ENV, input=input)

    def api(self, method: str, path: str, who: str, **options: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **options.pop("headers", {})}
        return self.app.request(method, path, headers=headers, **options)

    def publish(self, **fields: Any) -> str:
        payload = {"title": f"Managed {uuid.uuid4().hex[:8]}", "body": "First.\n\nSecond."}
        answer = self.api("POST", "/api/v1/articles", "boss", json={**payload, **fields})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["slug"])

    def comment(self, slug: str, **fields: Any) -> int:
        answer = self.app.post(f"/api/v1/articles/{slug}/comments", json=comment_payload(**fields))
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    def audit(self, action: str) -> list[dict[str, Any]]:
        answer = self.api("GET", "/api/v1/admin/audit", "boss", params={"action": action})
        assert answer.status_code == 200, answer.text
        return list(answer.json()["entries"])


@pytest.fixture(scope="module")
def world(databases: Databases) -> Iterator[World]:
    """The app with moderation's rule phases on (bans are one), an admin of every site
    ("boss"), a moderator ("mod"), and an admin limited to the site "other"."""
    url = databases.new()
    # All made before the app starts: a site another process adds reaches a running app
    # within a second (tests/app/test_sites.py), not at once.
    cli("site", "add", "other", "--title", "Other", "--domain", "other.test", db_url=url)
    allow_origins(url, policy=RELAXED)
    add_staff(url, "boss", "admin")
    add_staff(url, "mod", "moderator")
    add_staff(url, "other-admin", "admin")
    cli("user", "sites", "other-admin", "--site", "other", db_url=url)
    tokens = {name: add_token(url, name) for name in ("boss", "mod", "other-admin")}
    app = App(url, env=MODERATION_ON).start()
    try:
        yield World(app, tokens)
    finally:
        app.stop()


def test_an_admins_token_publishes_on_its_own_sites_only(world: World) -> None:
    body = {"title": f"By token {uuid.uuid4().hex[:6]}", "body": "Text."}
    made = world.api("POST", "/api/v1/articles", "boss", json=body)
    assert made.status_code == 201, made.text
    [entry] = [e for e in world.audit("article_publish") if e["after"] == body["title"]]
    assert (entry["actor_kind"], entry["actor"]) == ("token", "boss")

    refused = {
        "mod": world.api("POST", "/api/v1/articles", "mod", json=body),
        "other-admin": world.api("POST", "/api/v1/articles", "other-admin", json=body),
    }
    for who, answer in refused.items():
        assert answer.status_code == 403, (who, answer.text)
        assert set(answer.json()) == {"error", "field", "message"}
    own = world.api("POST", "/api/v1/articles", "other-admin", params={"site": "other"}, json=body)
    assert own.status_code == 201, own.text
    assert own.json()["url"].startswith("http") and "/articles/" in own.json()["url"]
    bad = world.app.post(
        "/api/v1/articles", json=body, headers={"Authorization": "Bearer rjt_not-a-token"}
    )
    assert bad.status_code == 401
    # The settings' admin token still bootstraps.
    boot = world.app.post(
        "/api/v1/articles", json={**body, "title": "Bootstrapped"}, headers=ADMIN_HEADERS
    )
    assert boot.status_code == 201, boot.text


def test_an_article_is_edited_through_the_api_by_an_admin_of_its_site(world: World) -> None:
    slug = world.publish(dek="Old dek.")
    path = f"/api/v1/admin/articles/{slug}"
    changed = world.api(
        "PATCH",
        path,
        "boss",
        json={"title": "A better title", "body": "New *body*.", "note": "typo"},
    )
    assert changed.status_code == 200, changed.text
    ArticleManagedOut.model_validate(changed.json(), strict=False)  # what the document says
    assert changed.json()["title"] == "A better title" and changed.json()["dek"] == "Old dek."
    shown = world.app.get(f"/api/v1/articles/{slug}").json()
    assert shown["title"] == "A better title" and "<em>body</em>" in shown["body_html"]
    [entry] = [e for e in world.audit("article_edit") if e["data"].get("article") == slug]
    assert entry["actor"] == "boss" and entry["note"] == "typo"
    assert entry["before"] == "title, body"

    for body, field in (
        ({"title": ""}, "title"),
        ({"source_url": "ftp://example.org/x"}, "source_url"),
        ({"slug": "elsewhere"}, "slug"),
        ({"published": "yesterday"}, "published"),
        ({"title": 7}, "title"),
        ({"title": "A better title"}, "title"),  # no change at all
    ):
        answer = world.api("PATCH", path, "boss", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["field"] == field, (body, answer.json())
    for who in ("mod", "other-admin"):
        answer = world.api("PATCH", path, who, json={"title": "Not theirs"})
        assert answer.status_code == 403, (who, answer.text)
    missing = world.api("PATCH", "/api/v1/admin/articles/no-such-thing", "boss", json={"dek": "x"})
    assert missing.status_code == 404
    assert world.app.get(f"/api/v1/articles/{slug}").json()["title"] == "A better title"


def test_the_desk_edits_an_article_for_an_admin_with_the_forms_token(world: World) -> None:
    slug = world.publish()
    with closing(world.app.log_in("boss")) as desk, closing(world.app.log_in("mod")) as mod:
        form = desk.get(f"/admin/articles/{slug}/edit")
        assert form.status_code == 200
        page = parse_html(form.text)
        [title] = page.xpath('//input[@name="title"]/@value')
        csrf = desk_csrf(desk)
        fields = {
            name: str(page.xpath(f'//*[@name="{name}"]/@value')[0])
            for name in ("title", "dek", "author", "source_name", "source_url", "published")
        }
        fields["body"] = page.xpath('//textarea[@name="body"]')[0].text_content()

        without = desk.post(f"/admin/articles/{slug}/edit", data={**fields, "dek": "Forged."})
        assert without.status_code == 403
        empty = desk.post(
            f"/admin/articles/{slug}/edit", data={**fields, "title": "", "csrf": csrf}
        )
        assert empty.status_code == 422
        shown = parse_html(empty.text)
        assert shown.xpath('//input[@name="title"]/@aria-invalid') == ["true"]
        assert "needs a title" in shown.xpath('string(//*[@id="title-error"])')
        saved = desk.post(
            f"/admin/articles/{slug}/edit",
            data={**fields, "dek": "A dek from the desk.", "csrf": csrf},
        )
        assert saved.status_code == 303, saved.text
        assert "done=edit" in saved.headers["location"]

        refused = mod.post(
            f"/admin/articles/{slug}/edit", data={**fields, "dek": "Mod's.", "csrf": desk_csrf(mod)}
        )
        assert refused.status_code == 403
        assert mod.get(f"/admin/articles/{slug}/edit").status_code == 403
        assert "/edit" not in mod.get("/admin/articles").text  # no links for a moderator

        # The admin API with a session wants the session's token in X-CSRF-Token.
        api = f"/api/v1/admin/articles/{slug}"
        assert desk.patch(api, json={"dek": "No token."}).status_code == 403
        with_token = desk.patch(api, json={"dek": "Token."}, headers={"X-CSRF-Token": csrf})
        assert with_token.status_code == 200, with_token.text
    with closing(world.app.log_in("other-admin")) as other:
        token = desk_csrf(other)
        named = other.post(
            f"/admin/articles/{slug}/edit",
            params={"site": "default"},
            data={**fields, "dek": "Not my site.", "csrf": token},
        )
        assert named.status_code == 403
        # Without a name, the desk acts on the account's own site, which has no such article.
        unnamed = other.post(
            f"/admin/articles/{slug}/edit", data={**fields, "dek": "Still not.", "csrf": token}
        )
        assert unnamed.status_code == 404
    article = world.app.get(f"/api/v1/articles/{slug}").json()
    assert (article["title"], article["dek"]) == (title, "Token.")
    edits = [e for e in world.audit("article_edit") if e["data"].get("article") == slug]
    assert [e["data"]["changed"]["dek"]["after"] for e in edits] == [
        "Token.",
        "A dek from the desk.",
    ]


def test_the_cli_edits_closes_reopens_and_refuses_bad_values(world: World, tmp_path: Any) -> None:
    slug = world.publish()
    body = tmp_path / "body.md"
    body.write_text("The corrected body.\n", encoding="utf-8")
    ran = world.cli("article", "edit", slug, "--title", "From the CLI", "--body-file", str(body))
    assert "Changed title, body" in ran.stdout
    article = world.app.get(f"/api/v1/articles/{slug}").json()
    assert article["title"] == "From the CLI" and "corrected" in article["body_html"]

    bad = world.cli("articles", "edit", slug, "--source-url", "nope", check=False)
    assert bad.returncode == 1 and "source URL" in bad.stderr
    none = world.cli("article", "edit", slug, check=False)
    assert none.returncode == 1 and "Nothing to change" in none.stderr

    assert "closed" in world.cli("articles", "close", slug).stdout
    assert world.app.get(f"/api/v1/articles/{slug}").json()["comments_open"] is False
    assert "open" in world.cli("articles", "reopen", slug).stdout
    assert world.app.get(f"/api/v1/articles/{slug}").json()["comments_open"] is True
    actions = [e["action"] for e in world.audit("") if e["data"].get("article") == slug]
    assert {"article_edit", "close", "reopen"} <= set(actions)


def _discussion(world: World) -> tuple[str, list[int]]:
    slug = world.publish()
    first = world.comment(slug)
    return slug, [first, world.comment(slug, parent_id=first), world.comment(slug)]


def test_deleting_through_the_api_needs_the_slug_twice_and_takes_the_discussion(
    world: World,
) -> None:
    slug, ids = _discussion(world)
    path = f"/api/v1/admin/articles/{slug}"
    unconfirmed = world.api("DELETE", path, "boss", params={"confirm": "something-else"})
    assert unconfirmed.status_code == 422 and unconfirmed.json()["field"] == "confirm"
    for who in ("mod", "other-admin"):
        answer = world.api("DELETE", path, who, params={"confirm": slug})
        assert answer.status_code == 403, (who, answer.text)
    assert world.app.get(f"/api/v1/articles/{slug}").status_code == 200

    gone = world.api("DELETE", path, "boss", params={"confirm": slug, "note": "duplicate"})
    assert gone.status_code == 200, gone.text
    ArticleDeletedOut.model_validate(gone.json())
    assert gone.json()["deleted"] == slug and gone.json()["comments"] == 3
    assert world.app.get(f"/api/v1/articles/{slug}").status_code == 404
    assert world.app.get(f"/api/v1/articles/{slug}/comments").status_code == 404
    assert world.app.get(f"/articles/{slug}").status_code == 404
    [entry] = [e for e in world.audit("article_delete") if e["data"].get("article") == slug]
    assert entry["actor"] == "boss" and entry["note"] == "duplicate"
    again = world.api("DELETE", path, "boss", params={"confirm": slug})
    assert again.status_code == 404
    for comment_id in ids:  # nothing of the discussion is left for the desk either
        answer = world.api("POST", f"/api/v1/admin/comments/{comment_id}/approve", "boss")
        assert answer.status_code == 404, answer.text


def test_deleting_in_the_desk_goes_through_a_confirmation_page(world: World) -> None:
    slug, _ = _discussion(world)
    with closing(world.app.log_in("boss")) as desk, closing(world.app.log_in("mod")) as mod:
        page = desk.get(f"/admin/articles/{slug}/delete")
        assert page.status_code == 200
        confirm = parse_html(page.text)
        assert "3 shown comments" in confirm.text_content()
        [action] = confirm.xpath('//form[.//input[@name="confirm"]]/@action')
        csrf = desk_csrf(desk)
        assert desk.post(action, data={"confirm": slug}).status_code == 403  # no token
        assert mod.post(action, data={"confirm": slug, "csrf": desk_csrf(mod)}).status_code == 403
        assert desk.post(action, data={"csrf": csrf}).status_code == 422  # not confirmed
        assert world.app.get(f"/api/v1/articles/{slug}").status_code == 200
        done = desk.post(action, data={"confirm": slug, "csrf": csrf})
        assert done.status_code == 303, done.text
        listed = desk.get(done.headers["location"])
        assert "Deleted the article" in listed.text and f'/articles/{slug}"' not in listed.text
    assert world.app.get(f"/api/v1/articles/{slug}").status_code == 404


def test_the_cli_deletes_only_with_yes_when_there_is_no_terminal(world: World) -> None:
    slug, _ = _discussion(world)
    asked = world.cli("article", "delete", slug, check=False, input="y\n")
    assert asked.returncode == 1 and "--yes" in asked.stderr
    assert world.app.get(f"/api/v1/articles/{slug}").status_code == 200
    ran = world.cli("articles", "delete", slug, "--yes", "--note", "spam page")
    assert f"Deleted /articles/{slug} and its 3 comments" in ran.stdout
    assert world.app.get(f"/api/v1/articles/{slug}").status_code == 404
    missing = world.cli("article", "delete", slug, "--yes", check=False)
    assert missing.returncode == 1 and "no such article" in missing.stderr


def _ban(world: World, email: str, days: str = "30") -> int:
    slug = world.publish()
    comment = world.comment(slug, email=email)
    answer = world.api(
        "POST",
        f"/api/v1/admin/comments/{comment}/ban",
        "mod",
        json={"kind": "email", "days": days, "note": "Repeated insults."},
    )
    assert answer.status_code == 200, answer.text
    bans = world.api("GET", "/api/v1/admin/bans", "boss").json()["bans"]
    [ban] = [b for b in bans if b["value"] == email]
    return int(ban["id"])


def _posts(world: World, email: str) -> int:
    slug = world.publish()
    answer = world.app.post(f"/api/v1/articles/{slug}/comments", json=comment_payload(email=email))
    return answer.status_code


def test_bans_are_listed_shortened_and_lifted_through_the_api(world: World) -> None:
    email = f"troll-{uuid.uuid4().hex[:6]}@example.org"
    ban_id = _ban(world, email)
    [listed] = [
        b for b in world.api("GET", "/api/v1/admin/bans", "mod").json()["bans"] if b["id"] == ban_id
    ]
    assert listed["created_by"] == "mod" and listed["why"] == "Repeated insults."
    assert listed["active"] is True and listed["until"] and listed["created_at"]
    assert _posts(world, email) == 403

    path = f"/api/v1/admin/bans/{ban_id}"
    longer = world.api("POST", f"{path}/shorten", "boss", json={"days": 60})
    assert longer.status_code == 422 and longer.json()["field"] == "until"
    both = world.api("POST", f"{path}/shorten", "boss", json={"days": 2, "until": "2030-01-01"})
    assert both.status_code == 422 and both.json()["field"] == "days"
    shorter = world.api("POST", f"{path}/shorten", "boss", json={"days": 2, "note": "calmer"})
    assert shorter.status_code == 200, shorter.text
    BanOut.model_validate(shorter.json())
    BanList.model_validate(world.api("GET", "/api/v1/admin/bans", "mod").json())
    assert shorter.json()["until"] < listed["until"]
    elsewhere = world.api("POST", f"{path}/lift", "other-admin", params={"site": "other"}, json={})
    assert elsewhere.status_code == 404  # another site's ban is not there
    lifted = world.api("POST", f"{path}/lift", "mod", json={"note": "apologised"})
    assert lifted.status_code == 200 and lifted.json()["active"] is False
    assert _posts(world, email) == 201
    twice = world.api("POST", f"{path}/lift", "mod")
    assert twice.status_code == 409
    assert ban_id not in [
        b["id"] for b in world.api("GET", "/api/v1/admin/bans", "mod").json()["bans"]
    ]
    every = world.api("GET", "/api/v1/admin/bans", "mod", params={"all": "true"}).json()["bans"]
    assert ban_id in [b["id"] for b in every]
    actions = {e["action"]: e for e in world.audit("ban_lift") + world.audit("ban_shorten")}
    assert actions["ban_lift"]["note"] == "apologised" and actions["ban_shorten"]["actor"] == "boss"


def test_the_desk_and_the_cli_list_shorten_and_lift_bans(world: World) -> None:
    email = f"pest-{uuid.uuid4().hex[:6]}@example.org"
    ban_id = _ban(world, email)
    listed = world.cli("bans", "list").stdout
    [line] = [line for line in listed.splitlines() if email in line]
    assert line.split("\t")[0] == str(ban_id) and "\tmod\tRepeated insults." in line

    with closing(world.app.log_in("mod")) as desk:
        page = parse_html(desk.get("/admin/bans").text)
        [row] = page.xpath(f'//tr[@data-ban="{ban_id}"]')
        assert email in row.text_content() and "Repeated insults." in row.text_content()
        shorten = f"/admin/bans/{ban_id}/shorten"
        assert desk.post(shorten, data={"days": "3"}).status_code == 403  # no CSRF token
        bad = desk.post(shorten, data={"days": "many", "csrf": desk_csrf(desk)})
        assert bad.status_code == 422
        shown = parse_html(bad.text)
        assert shown.xpath(f'//input[@id="days-{ban_id}"]/@aria-invalid') == ["true"]
        assert "whole number" in shown.xpath(f'string(//*[@id="days-{ban_id}-error"])')
        done = desk.post(shorten, data={"days": "3", "csrf": desk_csrf(desk)})
        assert done.status_code == 303

    shorter = world.cli("bans", "shorten", str(ban_id), "--until", "2000-01-01", check=False)
    assert shorter.returncode == 1 and "lift the ban instead" in shorter.stderr
    assert "Lifted ban" in world.cli("bans", "lift", str(ban_id), "--note", "done").stdout
    again = world.cli("bans", "lift", str(ban_id), check=False)
    assert again.returncode == 1 and "already ended" in again.stderr
    assert email not in world.cli("bans", "list").stdout
    assert email in world.cli("bans", "list", "--all").stdout
    unknown = world.cli("bans", "lift", "999999", check=False)
    assert unknown.returncode == 1 and "no such ban" in unknown.stderr


def _in_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, answer: str
) -> tuple[int, str]:
    """Run `rejoinder ARGS` in this process with a real terminal (a pseudo-terminal) as its
    standard input, `answer` typed into it ahead; its exit status and what it printed."""
    from rejoinder.cli import app

    leader, follower = pty.openpty()
    os.write(leader, answer.encode() + b"\n")
    code = 0
    with os.fdopen(follower, "r", encoding="utf-8") as terminal:
        monkeypatch.setattr(sys, "stdin", terminal)
        assert sys.stdin.isatty()
        try:
            # Without standalone mode, click hands back an exit's status instead of leaving.
            result = app([*args], prog_name="rejoinder", standalone_mode=False)
            code = result if isinstance(result, int) else 0
        except click.exceptions.Exit as done:
            code = done.exit_code
        finally:
            monkeypatch.undo()
            os.close(leader)
    printed = capsys.readouterr()
    return code, printed.out + printed.err


@pytest.mark.one_backend  # a terminal's question and answer, the same on every database
def test_the_cli_asks_in_a_terminal_and_deletes_only_on_yes(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    slug, _ = _discussion(world)
    monkeypatch.setenv("REJOINDER_DATABASE_URL", world.app.db_url)
    delete = ("article", "delete", slug)
    code, said = _in_a_terminal(monkeypatch, capsys, *delete, answer="n")
    assert "3 shown comments" in said and "Nothing deleted" in said and code == 1, said
    assert world.app.get(f"/api/v1/articles/{slug}").status_code == 200
    monkeypatch.setenv("REJOINDER_DATABASE_URL", world.app.db_url)
    code, said = _in_a_terminal(monkeypatch, capsys, *delete, answer="y")
    assert code == 0 and f"Deleted /articles/{slug}" in said, said
    assert world.app.get(f"/api/v1/articles/{slug}").status_code == 404
