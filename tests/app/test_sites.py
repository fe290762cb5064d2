"""Sites for real: `rejoinder site` commands, the desk's Sites page and /api/v1/admin/sites, one
validation for all three, changes seen by a running app without a restart, each site's links
under its own base URL, and accounts limited to some sites that never see or touch another
(every desk and admin route tried)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import httpx
import lxml.etree
import pytest

from tests import ADMIN_HEADERS, LOGOUT_CSRF, app_routes, comment_payload, parse_html
from tests.conftest import TEST_ENV, App, Databases, add_staff, add_token, cli
from tests.server.test_hostile_params import _api_routes

BRAVO_TITLE = "Bravo Secret Title"
BRAVO_BODY = "bravo-secret-comment-marker"
BRAVO_EMAIL = "bravo-writer@example.org"


@dataclass
class Sites:
    app: App
    admin_token: str
    alpha_slug: str
    bravo_slug: str
    bravo_comment: int

    def cli(self, *args: str, check: bool = True) -> Any:
        return cli(*args, db_url=self.app.db_url, check=check, env=TEST_ENV)

    def api(
        self,
        method: str,
        path: str,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> Any:
        auth = {"Authorization": f"Bearer {token or self.admin_token}", **(headers or {})}
        return self.app.request(method, path, headers=auth, **options)


def eventually(check: Callable[[], bool], seconds: float = 15) -> bool:
    """Whether `check` comes true within `seconds` (a changed site reaches a worker within
    about a second; the margin is for a busy machine)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


@pytest.fixture(scope="module")
def sites(databases: Databases) -> Iterator[Sites]:
    """The app, an unlimited admin (session and token), sites alpha and bravo with an article
    each and a comment on bravo's, and accounts limited to alpha."""
    url = databases.new()
    app = App(url).start()
    try:
        add_staff(url, "root", "admin")
        token = add_token(url, "root")
        for name in ("alpha", "bravo"):
            title = BRAVO_TITLE if name == "bravo" else "Alpha"
            cli("site", "add", name, "--title", title, "--domain", f"{name}.test", db_url=url)
        for name, role in (("alpha-mod", "moderator"), ("alpha-admin", "admin")):
            add_staff(url, name, role)
            cli("user", "sites", name, "--site", "alpha", db_url=url)
        slugs = {}
        for name in ("alpha", "bravo"):
            headers = {**ADMIN_HEADERS, "Host": f"{name}.test"}
            # Added by a command, as by another process: the app reads it within seconds.
            title = BRAVO_TITLE if name == "bravo" else "Alpha"

            def served(title: str = title, host: str = f"{name}.test") -> bool:
                return title in app.get("/", headers={"Host": host}).text

            assert eventually(served)
            made = app.post(
                "/api/v1/articles",
                json={"title": f"{name} article {uuid.uuid4().hex[:6]}", "body": "Text."},
                headers=headers,
            )
            assert made.status_code == 201, made.text
            slugs[name] = made.json()["slug"]
        posted = app.post(
            f"/api/v1/articles/{slugs['bravo']}/comments",
            json=comment_payload(body=BRAVO_BODY, email=BRAVO_EMAIL),
            headers={"Host": "bravo.test"},
        )
        assert posted.status_code == 201, posted.text
        yield Sites(app, token, slugs["alpha"], slugs["bravo"], int(posted.json()["id"]))
    finally:
        app.stop()


# -- One validation, three ways in ----------------------------------------------------------

BAD_FIELDS = [
    ("base_url", "ftp://files.example.org", "http"),
    ("base_url", "https://", "host"),
    ("base_url", "https://news.example.org/?a=1", "query"),
    ("origins", ["https://www.example.org/path"], "path"),
    ("origins", ["www.example.org"], "origin"),
    ("origins", ["https://www.example.org:99999"], "port"),
    ("language", "fr", "en, de"),
    ("domain", "https://news.example.org", "host name"),
    ("title", "", "title"),
]
OPTIONS = {"base_url": "--base-url", "origins": "--origin", "language": "--language"}


@pytest.mark.parametrize(("field", "value", "words"), BAD_FIELDS)
def test_a_wrong_field_is_named_by_the_api_the_command_and_the_desk(
    sites: Sites, field: str, value: Any, words: str
) -> None:
    name = f"bad-{uuid.uuid4().hex[:6]}"
    body = {"name": name, "title": "Bad", field: value}
    answer = sites.api("POST", "/api/v1/admin/sites", json=body)
    assert answer.status_code == 422, answer.text
    error = answer.json()
    assert set(error) == {"error", "field", "message"}
    assert error["field"] == field and words in error["message"], error

    option = OPTIONS.get(field, f"--{field}")
    values = value if isinstance(value, list) else [value]
    args = [arg for v in values for arg in (option, v)]
    if field != "title":
        args += ["--title", "Bad"]
    ran = sites.cli("site", "add", name, *args, check=False)
    assert ran.returncode == 1
    assert option in ran.stderr and words in ran.stderr, ran.stderr

    with closing(sites.app.log_in("root", next="/admin/sites")) as desk:
        csrf = parse_html(desk.get("/admin/sites").text).xpath(LOGOUT_CSRF)[0]
        form = {"csrf": csrf, "name": name, "title": "Bad", "language": "en"}
        form[field] = "\n".join(values)
        page = desk.post("/admin/sites", data=form)
    assert page.status_code == 422
    [beside] = parse_html(page.text).xpath(f'//p[@id="{field}-error"]')
    assert words in beside.text_content()
    assert name not in sites.cli("site", "list").stdout  # nothing was added


def test_site_commands_add_list_update_and_remove(sites: Sites) -> None:
    added = sites.cli(
        "site",
        "add",
        "charlie",
        "--title",
        "Charlie",
        "--base-url",
        "https://Charlie.example.org/comments/",
        "--origin",
        "https://www.charlie.example",
        "--origin",
        "http://localhost:8080/",
        "--language",
        "de",
    )
    assert "Added site charlie" in added.stdout
    rows = [line.split("\t") for line in sites.cli("site", "list").stdout.splitlines()]
    assert rows[0] == ["name", "title", "domain", "base_url", "origins", "language"]
    charlie = next(row for row in rows if row[0] == "charlie")
    assert charlie == [
        "charlie",
        "Charlie",
        "-",
        "https://charlie.example.org/comments",
        "https://www.charlie.example http://localhost:8080",
        "de",
    ]
    sites.cli("site", "update", "charlie", "--no-origins", "--language", "en", "--base-url", "")
    rows = [line.split("\t") for line in sites.cli("site", "list").stdout.splitlines()]
    assert next(row for row in rows if row[0] == "charlie")[3:] == ["-", "-", "en"]

    refused = sites.cli("site", "remove", "default", check=False)
    assert refused.returncode == 1 and "default site" in refused.stderr
    has_articles = sites.cli("site", "remove", "bravo", check=False)
    assert has_articles.returncode == 1 and "1 article" in has_articles.stderr
    unknown = sites.cli("site", "update", "nowhere", "--title", "X", check=False)
    assert unknown.returncode == 1 and "no site named 'nowhere'" in unknown.stderr
    taken = sites.cli("site", "add", "delta", "--domain", "alpha.test", check=False)
    assert taken.returncode == 1 and "belongs to the site 'alpha'" in taken.stderr
    assert "Removed site charlie" in sites.cli("site", "remove", "charlie").stdout
    assert "charlie" not in sites.cli("site", "list").stdout


def test_a_site_added_while_the_app_runs_is_served_and_takes_its_articles(sites: Sites) -> None:
    host = {"Host": "echo.test"}
    assert BRAVO_TITLE not in sites.app.get("/", headers=host).text
    sites.cli("site", "add", "echo", "--title", "Echo Daily", "--domain", "echo.test")
    # The command is another runtime, as another process would be: the app finds out.
    assert eventually(lambda: "Echo Daily" in sites.app.get("/", headers=host).text)
    made = sites.app.post(
        "/api/v1/articles",
        json={"title": "Posted for echo", "body": "Text."},
        headers={**ADMIN_HEADERS, **host},
    )
    assert made.status_code == 201
    slug = made.json()["slug"]
    assert sites.app.get(f"/articles/{slug}", headers=host).status_code == 200
    assert sites.app.get(f"/articles/{slug}").status_code == 404  # not the default site's

    sites.cli("site", "update", "echo", "--title", "Echo Weekly")
    assert eventually(lambda: "Echo Weekly" in sites.app.get("/", headers=host).text)


def test_a_site_changed_through_the_api_takes_effect_at_once_in_that_app(sites: Sites) -> None:
    made = sites.api(
        "POST",
        "/api/v1/admin/sites",
        json={"name": "foxtrot", "title": "Foxtrot", "domain": "foxtrot.test"},
    )
    assert made.status_code == 201, made.text
    assert made.json() == {
        "name": "foxtrot",
        "title": "Foxtrot",
        "domain": "foxtrot.test",
        "base_url": None,
        "origins": [],
        "language": "en",
    }
    assert "Foxtrot" in sites.app.get("/", headers={"Host": "foxtrot.test"}).text
    changed = sites.api(
        "PATCH",
        "/api/v1/admin/sites/foxtrot",
        json={"domain": "fox.test", "origins": ["https://Fox.example:8443"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["origins"] == ["https://fox.example:8443"]
    assert changed.json()["title"] == "Foxtrot"  # left out: kept
    assert "Foxtrot" in sites.app.get("/", headers={"Host": "fox.test"}).text
    assert "Foxtrot" not in sites.app.get("/", headers={"Host": "foxtrot.test"}).text
    renamed = sites.api("PATCH", "/api/v1/admin/sites/foxtrot", json={"name": "other"})
    assert renamed.status_code == 422 and renamed.json()["field"] == "name"
    unknown_field = sites.api("PATCH", "/api/v1/admin/sites/foxtrot", json={"colour": "red"})
    assert unknown_field.status_code == 422 and unknown_field.json()["field"] == "colour"

    assert sites.api("DELETE", "/api/v1/admin/sites/foxtrot").status_code == 204
    assert sites.api("GET", "/api/v1/admin/sites/foxtrot").status_code == 404
    assert "Foxtrot" not in sites.app.get("/", headers={"Host": "fox.test"}).text
    default = sites.api("DELETE", "/api/v1/admin/sites/default")
    assert default.status_code == 403
    busy = sites.api("DELETE", "/api/v1/admin/sites/bravo")
    assert busy.status_code == 409 and "article" in busy.json()["message"]


def test_the_desk_adds_edits_and_removes_a_site(sites: Sites) -> None:
    with closing(sites.app.log_in("root", next="/admin/sites")) as desk:
        page = desk.get("/admin/sites")
        assert page.status_code == 200
        html = parse_html(page.text)
        csrf = html.xpath(LOGOUT_CSRF)[0]
        assert html.xpath('//tr[@data-site="bravo"]')
        form = {
            "csrf": csrf,
            "name": "golf",
            "title": "Golf",
            "domain": "golf.test",
            "base_url": "https://golf.example.org",
            "origins": "https://www.golf.example\nhttps://blog.golf.example",
            "language": "de",
        }
        assert desk.post("/admin/sites", data={**form, "csrf": "wrong"}).status_code == 403
        assert desk.post("/admin/sites", data=form).status_code == 303
        [row] = parse_html(desk.get("/admin/sites").text).xpath('//tr[@data-site="golf"]')
        assert "https://blog.golf.example" in row.text_content()
        again = desk.post("/admin/sites", data=form)
        assert again.status_code == 409
        assert "exists already" in parse_html(again.text).xpath('//p[@id="name-error"]')[0].text

        edit = parse_html(desk.get("/admin/sites/golf").text)
        values = dict(edit.xpath('//form[@action="/admin/sites/golf"]')[0].form_values())
        assert values["base_url"] == "https://golf.example.org"
        saved = desk.post("/admin/sites/golf", data={**values, "title": "Golf Weekly"})
        assert saved.status_code == 303
        assert "Golf Weekly" in sites.app.get("/", headers={"Host": "golf.test"}).text
        bad = desk.post("/admin/sites/golf", data={**values, "base_url": "golf.example.org"})
        assert bad.status_code == 422
        assert parse_html(bad.text).xpath('//input[@id="base_url"]/@value') == ["golf.example.org"]

        removed = desk.post("/admin/sites/golf/remove", data={"csrf": csrf})
        assert removed.status_code == 303
        assert not parse_html(desk.get("/admin/sites").text).xpath('//tr[@data-site="golf"]')
        kept = desk.post("/admin/sites/bravo/remove", data={"csrf": csrf})
        assert kept.status_code == 409 and "article" in kept.text

    with closing(sites.app.log_in("alpha-admin", next="/admin")) as limited:
        assert limited.get("/admin/sites").status_code == 403
        token = add_token(sites.app.db_url, "alpha-admin")
        listed = sites.api("GET", "/api/v1/admin/sites", token=token)
        assert [s["name"] for s in listed.json()["sites"]] == ["alpha"]
        made = sites.api("POST", "/api/v1/admin/sites", token=token, json={"name": "x"})
        assert made.status_code == 403


# -- Links under the site's own address ------------------------------------------------------


def test_every_link_of_a_site_uses_its_own_base_url(sites: Sites) -> None:
    sites.cli("site", "update", "bravo", "--base-url", "https://bravo.example.net/talk")
    host = {"Host": "bravo.test"}
    wanted = f"https://bravo.example.net/talk/articles/{sites.bravo_slug}"

    def canonical() -> list[str]:
        page = sites.app.get(f"/articles/{sites.bravo_slug}", headers=host)
        return list(parse_html(page.text).xpath('//link[@rel="canonical"]/@href'))

    assert eventually(lambda: canonical() == [wanted])
    article = sites.app.get(f"/api/v1/articles/{sites.bravo_slug}", headers=host).json()
    assert article["url"] == wanted
    listed = sites.app.get("/api/v1/articles", headers=host).json()["articles"]
    assert [a["url"] for a in listed] == [wanted]
    atom = "{http://www.w3.org/2005/Atom}"
    feed = lxml.etree.fromstring(sites.app.get("/feed.atom", headers=host).content)
    assert feed.findtext(f"{atom}id") == "https://bravo.example.net/talk/"
    assert [e.findtext(f"{atom}id") for e in feed.iter(f"{atom}entry")] == [wanted]
    comments = sites.app.get(f"/articles/{sites.bravo_slug}/comments.atom", headers=host)
    ids = lxml.etree.fromstring(comments.content).iter(f"{atom}id")
    assert all(str(i.text).startswith(wanted) for i in ids)
    # A site without a base URL of its own uses the server's.
    alpha = sites.app.get(f"/api/v1/articles/{sites.alpha_slug}", headers={"Host": "alpha.test"})
    assert alpha.json()["url"] == f"{sites.app.url}/articles/{sites.alpha_slug}"


# -- Accounts limited to some sites ----------------------------------------------------------

# Paths that are about the session, not a site.
NOT_ABOUT_A_SITE = {"/admin/login", "/admin/logout"}


def desk_and_admin_routes(sites: Sites) -> list[tuple[str, str]]:
    """Every (method, path template) of the desk and the admin API, read from the app."""
    found = {
        (method, path)
        for path, route in _api_routes(app_routes(sites.app.db_url))
        if path.startswith(("/admin", "/api/v1/admin")) and path not in NOT_ABOUT_A_SITE
        for method in route.methods or ()
        if method != "HEAD"
    }
    return sorted(found)


def _fill(sites: Sites, template: str) -> str:
    values = {"tab": "all", "action": "reject", "name": "bravo"}
    return re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), str(sites.bravo_comment)), template)


def _shows_bravo(response: httpx.Response) -> bool:
    text = response.text
    return any(marker in text for marker in (BRAVO_TITLE, BRAVO_BODY, BRAVO_EMAIL, "bravo.test"))


@pytest.mark.parametrize("account", ["alpha-mod", "alpha-admin"])
def test_an_account_of_site_a_can_neither_see_nor_act_on_site_b(sites: Sites, account: str) -> None:
    routes = desk_and_admin_routes(sites)
    assert len(routes) >= 20, routes  # the routes were found
    assert ("GET", "/admin/activity") in routes  # the Activity page names its site
    token = add_token(sites.app.db_url, account)
    failures: list[str] = []
    form = {"note": "n", "body": "Changed.", "kind": "email", "days": "1", "action": "reject"}
    with closing(sites.app.log_in(account)) as desk:
        csrf = str(parse_html(desk.get("/admin/audit").text).xpath(LOGOUT_CSRF)[0])
        for method, template in routes:
            path = _fill(sites, template)
            # Named explicitly, and through the Host alone.
            for query, headers in (({"site": "bravo"}, {}), ({}, {"Host": "bravo.test"})):
                if template.endswith("/events") and not query:
                    # A live stream the account may open (its own site's) never ends, and an
                    # answer in process is read whole: only the named site, refused at once.
                    continue
                if template.startswith("/api/"):
                    auth = {"Authorization": f"Bearer {token}", **headers}
                    body: dict[str, Any] = {
                        "json": {"action": "reject", "ids": [sites.bravo_comment], "version": None}
                    }
                    answer = sites.app.request(
                        method,
                        path,
                        params=query,
                        headers=auth,
                        **(body if method != "GET" else {}),
                    )
                else:
                    data = {"csrf": csrf, "site": "bravo", "name": "bravo", **form}
                    data["ids"] = str(sites.bravo_comment)
                    answer = desk.request(
                        method,
                        path,
                        params=query,
                        headers=headers,
                        data=data if method == "POST" else None,
                    )
                label = f"{method} {path} {query or headers} -> {answer.status_code}"
                if query and answer.status_code not in (403, 404):
                    failures.append(f"{label}: not refused")  # named: refused outright
                elif answer.status_code >= 500:
                    failures.append(label)
                elif answer.status_code not in (403, 404) and _shows_bravo(answer):
                    failures.append(f"{label}: shows site bravo's data")
    # Through the Host alone, the desk falls back to the account's own site and the API asks
    # for one: either way nothing was done to bravo's comment or to the site.
    thread = sites.app.get(
        f"/api/v1/articles/{sites.bravo_slug}/comments", headers={"Host": "bravo.test"}
    ).json()
    assert [c["body_html"] for c in thread["comments"]] == [f"<p>{BRAVO_BODY}</p>"]
    assert "bravo" in sites.cli("site", "list").stdout
    assert not failures, "\n".join(failures)


def test_a_limited_account_works_on_its_own_site_and_the_chooser_says_which(sites: Sites) -> None:
    with closing(sites.app.log_in("alpha-mod")) as desk:
        page = desk.get("/admin/all")  # on the default host: falls back to its own site
        assert page.status_code == 200
        html = parse_html(page.text)
        assert html.xpath('//select[@name="site"]/option/@value') == ["alpha"]
        assert html.xpath('//select[@name="site"]/option[@selected]/@value') == ["alpha"]
        token = add_token(sites.app.db_url, "alpha-mod")
        auth = {"Authorization": f"Bearer {token}"}
        own = sites.app.get("/api/v1/admin/queues/all", params={"site": "alpha"}, headers=auth)
        assert own.status_code == 200
        implicit = sites.app.get("/api/v1/admin/queues/all", headers=auth)  # default host
        assert implicit.status_code == 403 and "?site=" in implicit.json()["message"]
    with closing(sites.app.log_in("root")) as desk:
        html = parse_html(desk.get("/admin/all").text)
        offered = html.xpath('//select[@name="site"]/option/@value')
        assert {"default", "alpha", "bravo"} <= set(offered)
        csrf = html.xpath(LOGOUT_CSRF)[0]
        chosen = desk.post(
            "/admin/site", data={"csrf": csrf, "site": "bravo", "back": "/admin/all"}
        )
        assert chosen.status_code == 303 and chosen.headers["location"] == "/admin/all?site=bravo"
        # Remembered: the desk acts on bravo until another is chosen.
        queue = desk.get("/admin/all")
        assert BRAVO_BODY in queue.text
        assert parse_html(queue.text).xpath('//select[@name="site"]/option[@selected]/@value') == [
            "bravo"
        ]


def test_user_commands_limit_and_free_an_account(sites: Sites) -> None:
    name = f"u{uuid.uuid4().hex[:6]}"
    add_staff(sites.app.db_url, name)
    sites.cli("user", "sites", name, "--site", "alpha", "--site", "bravo")
    listed = {
        line.split("\t")[0]: line.split("\t")[1:]
        for line in sites.cli("user", "list").stdout.splitlines()
    }
    assert listed[name] == ["moderator", "active", "alpha,bravo"]
    assert listed["root"][-1] == "every site"
    sites.cli("user", "sites", name, "--all")
    listed_again = sites.cli("user", "list").stdout
    assert f"{name}\tmoderator\tactive\tevery site" in listed_again
    wrong = sites.cli("user", "sites", name, "--site", "nowhere", check=False)
    assert wrong.returncode == 1 and "no site named 'nowhere'" in wrong.stderr
    neither = sites.cli("user", "sites", name, check=False)
    assert neither.returncode == 1 and "--all" in neither.stderr
    # The only site of an account is not removed from under it.
    sites.cli("site", "add", "hotel", "--title", "Hotel")
    sites.cli("user", "sites", name, "--site", "hotel")
    kept = sites.cli("site", "remove", "hotel", check=False)
    assert kept.returncode == 1 and name in kept.stderr


def test_the_policy_and_an_article_from_a_file_go_to_the_site_named(
    sites: Sites, tmp_path: Any
) -> None:
    story = tmp_path / "story.md"
    story.write_text("---\ntitle: Filed for bravo\nslug: filed-for-bravo\n---\nText.\n")
    sites.cli("article", "add", str(story), "--site", "bravo")
    bravo = {"Host": "bravo.test"}
    assert sites.app.get("/articles/filed-for-bravo", headers=bravo).status_code == 200
    assert sites.app.get("/articles/filed-for-bravo").status_code == 404
    # The policy page and API act on the Host's site, or the one named, not the default.
    with closing(sites.app.log_in("root")) as desk:
        for headers, query in ((bravo, {}), ({}, {"site": "bravo"})):
            page = desk.get("/admin/policy", headers=headers, params=query)
            [heading] = parse_html(page.text).xpath('//span[@class="policy-site"]')
            assert heading.text_content() == f"{BRAVO_TITLE} (bravo)"
            [named] = parse_html(page.text).xpath(
                '//form[@action="/admin/policy"]//input[@name="site"]/@value'
            )
            assert named == "bravo"
    for headers, query in ((bravo, {}), ({}, {"site": "bravo"})):
        policy = sites.api("GET", "/api/v1/admin/policy", headers=headers, params=query)
        assert policy.status_code == 200 and policy.json()["site"] == "bravo"
    assert sites.api("GET", "/api/v1/admin/policy").json()["site"] == "default"
    unknown = sites.api("GET", "/api/v1/admin/policy", params={"site": "nowhere"})
    assert unknown.status_code == 404 and "nowhere" in unknown.json()["message"]


def test_a_queue_opened_for_a_site_acts_on_that_site(sites: Sites) -> None:
    posted = sites.app.post(
        f"/api/v1/articles/{sites.bravo_slug}/comments",
        json=comment_payload(body="To be rejected on bravo."),
        headers={"Host": "bravo.test"},
    )
    comment_id = posted.json()["id"]
    with closing(sites.app.log_in("root")) as desk:
        page = parse_html(desk.get("/admin/all", params={"site": "bravo"}).text)
        [back] = page.xpath(
            f'//form[@action="/admin/comments/{comment_id}/approve"]//input[@name="back"]/@value'
        )
        assert "site=bravo" in back
        csrf = page.xpath(LOGOUT_CSRF)[0]
        path = f"/admin/comments/{comment_id}/reject"
        # From a page of the default site, the comment is not there to act on.
        assert desk.post(path, data={"csrf": csrf, "back": "/admin/all"}).status_code == 404
        done = desk.post(path, data={"csrf": csrf, "back": back})
        assert done.status_code == 303 and "site=bravo" in done.headers["location"]
    thread = sites.app.get(
        f"/api/v1/articles/{sites.bravo_slug}/comments", headers={"Host": "bravo.test"}
    ).json()
    assert comment_id not in [c["id"] for c in thread["comments"]]
