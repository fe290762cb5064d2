"""The site's policy in the desk and the admin API: admins only, CSRF, errors, preview, audit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import lxml.html
import pytest
from sqlalchemy import func, select

from rejoinder.store import sites as site_store
from rejoinder.store.audit import list_entries
from rejoinder.store.database import Database
from rejoinder.store.schema import audit_log, comments
from tests import MODERATION_ON, RELAXED, comment_payload
from tests.conftest import App, Databases, add_staff, add_token

DEFAULT_SITE = 1
VERDICTS = ("publish", "hold", "refuse")


@dataclass
class Desk:
    app: App
    db: Database
    token: str  # the admin's API token
    moderator_token: str

    @property
    def url(self) -> str:
        return self.app.url

    def login(self, name: str) -> closing[httpx.Client]:
        """A browser with a desk session for `name`, logged in through the form."""
        return closing(self.app.log_in(name, next="/admin/policy"))

    def settings(self) -> dict[str, Any]:
        with self.db.read() as conn:
            return site_store.get_site_settings(conn, DEFAULT_SITE)

    def set_policy(self, **values: Any) -> None:
        with self.db.write() as conn:
            site_store.update_site_settings(conn, DEFAULT_SITE, {"policy": values})

    def audit_count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def open_desk(databases: Databases, env: dict[str, str]) -> Iterator[Desk]:
    """The app with `env`, an admin and a moderator (password and API token each)."""
    url = databases.new()
    app = App(url, env=env).start()
    for name, role in (("admin", "admin"), ("mod", "moderator")):
        add_staff(url, name, role)
    tokens = [add_token(url, name) for name in ("admin", "mod")]
    db = Database(url)
    try:
        yield Desk(app, db, tokens[0], tokens[1])
    finally:
        db.dispose()
        app.stop()


@pytest.fixture(scope="module")
def desk(databases: Databases) -> Iterator[Desk]:
    yield from open_desk(databases, MODERATION_ON)


def form_of(html: str) -> tuple[dict[str, str], lxml.html.HtmlElement]:
    """The policy form's fields as the browser would send them, and the parsed page."""
    page = lxml.html.fromstring(html)
    form = page.xpath('//form[contains(@class, "policy-form")]')[0]
    return dict(form.form_values()), page


def open_form(client: httpx.Client) -> dict[str, str]:
    response = client.get("/admin/policy")
    assert response.status_code == 200, response.text
    return form_of(response.text)[0]


def test_moderator_reads_the_policy_but_cannot_change_it_and_no_session_goes_to_login(
    desk: Desk,
) -> None:
    desk.set_policy(**RELAXED)
    before = desk.settings()
    with desk.login("mod") as mod:
        page = mod.get("/admin/policy")
        assert page.status_code == 200  # as the API lets every member of the staff read it
        assert "only an admin can change it" in page.text
        tree = lxml.html.fromstring(page.text)
        [fields] = tree.xpath('//fieldset[@class="policy-fields"]')
        assert fields.get("disabled") is not None
        assert tree.xpath('//button[@value="save"]') == []
        assert len(tree.xpath('//input[@name="mode"][@checked]')) == 1  # the values are shown
        csrf = tree.xpath('//input[@name="csrf"]/@value')[0]
        sent = {"csrf": csrf, "mode": "premoderate_all", "reports_to_queue": "3"}
        assert mod.post("/admin/policy", data=sent).status_code == 403
        assert mod.post("/admin/policy/preview", data=sent).status_code == 403
    with desk.app.client() as anonymous:
        response = anonymous.get("/admin/policy")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/login?next=/admin/policy")
        assert anonymous.post("/admin/policy", data=sent).status_code == 303
    assert desk.settings() == before


def test_save_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(
    desk: Desk,
) -> None:
    desk.set_policy(**RELAXED)
    before, entries = desk.settings(), desk.audit_count()
    with desk.login("admin") as admin:
        values = open_form(admin)
        values["mode"] = "premoderate_all"
        missing = {k: v for k, v in values.items() if k != "csrf"}
        assert admin.post("/admin/policy", data=missing).status_code == 403
        assert admin.post("/admin/policy", data={**values, "csrf": "forged"}).status_code == 403
        assert admin.post("/admin/policy/preview", data=missing).status_code == 403
    assert desk.settings() == before
    assert desk.audit_count() == entries


def test_bad_values_come_back_with_errors_beside_their_fields_and_nothing_is_saved(
    desk: Desk,
) -> None:
    desk.set_policy(**RELAXED)
    before, entries = desk.settings(), desk.audit_count()
    with desk.login("admin") as admin:
        values = open_form(admin)
        bad = {
            "hold_toxicity": "lots",
            "hold_insult": "1.5",
            "refuse_threat": "0.5",  # below its hold threshold, 0.6
            "per_minute": "-1",
            "close_after_days": "ten",
            "reports_to_queue": "0",
            "hold_words": "idiot\n!!!",
        }
        response = admin.post("/admin/policy", data={**values, **bad})
        assert response.status_code == 422
        sent_back, page = form_of(response.text)
        for name, typed in bad.items():
            error = page.xpath(f'//*[@id="{name}-error"]')
            assert len(error) == 1, f"no error beside {name}"
            field = page.xpath(f'//*[@id="{name}"]')[0]
            assert field.get("aria-invalid") == "true"
            assert field.get("aria-describedby") == f"{name}-error"
            # beside: the message is in the same cell or block as its field
            assert error[0].getparent() is field.getparent()
            assert sent_back[name] == typed  # the form keeps what was typed
        assert "at least the hold threshold" in page.xpath('//*[@id="refuse_threat-error"]')[0].text
        assert "from 0 to 1" in page.xpath('//*[@id="hold_insult-error"]')[0].text
        assert "Nothing was saved" in response.text
        # a NUL, which HTML cannot carry, comes back as the U+FFFD a browser would show
        response = admin.post("/admin/policy", data={**values, "per_minute": "1\x002"})
        assert response.status_code == 422
        assert b"\x00" not in response.content
        assert form_of(response.text)[0]["per_minute"] == "1\ufffd2"
    assert desk.settings() == before
    assert desk.audit_count() == entries


def test_saved_premoderate_all_holds_the_next_post_at_once_and_is_audited(desk: Desk) -> None:
    desk.set_policy(**RELAXED)
    slug = desk.app.publish()["slug"]
    with desk.app.client() as reader:
        first = reader.post(f"/api/v1/articles/{slug}/comments", json=comment_payload())
        assert first.status_code == 201, first.text  # post-moderated: published
    with desk.login("admin") as admin:
        values = open_form(admin)
        assert values["mode"] == "post_moderate"
        values.update(mode="premoderate_all", note="Election week: review everything")
        response = admin.post("/admin/policy", data=values)
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/policy?saved=1"
        after = admin.get(response.headers["location"])
        assert "Policy saved" in after.text
        assert form_of(after.text)[0]["mode"] == "premoderate_all"
    stored = desk.settings()["policy"]
    assert stored["mode"] == "premoderate_all"
    assert stored["min_form_seconds"] == 0  # settings the page does not show are kept
    assert stored["per_minute"] is None and stored["flood_seconds"] == 0
    with desk.app.client() as reader:
        held = reader.post(f"/api/v1/articles/{slug}/comments", json=comment_payload())
        assert held.status_code == 202, held.text
    with desk.db.read() as conn:
        entry = list_entries(conn, action="policy", limit=1)[0]
    assert (entry.actor_kind, entry.actor, entry.site_id) == ("user", "admin", DEFAULT_SITE)
    assert entry.note == "Election week: review everything"
    assert json.loads(entry.before or "{}")["policy"]["mode"] == "post_moderate"
    assert json.loads(entry.after or "{}")["policy"]["mode"] == "premoderate_all"
    assert "policy.mode" in entry.data["changed"]


def test_a_form_opened_before_someone_else_saved_is_a_conflict_then_saves(desk: Desk) -> None:
    desk.set_policy(**RELAXED)
    with desk.login("admin") as admin:
        values = open_form(admin)
        desk.set_policy(**RELAXED, link_limit=7)  # another admin, meanwhile
        values["mode"] = "premoderate_links"
        response = admin.post("/admin/policy", data=values)
        assert response.status_code == 409
        assert "Someone changed the policy" in response.text
        assert desk.settings()["policy"].get("mode") is None  # nothing of ours was saved
        again, _page = form_of(response.text)
        assert again["mode"] == "premoderate_links"
        assert admin.post("/admin/policy", data=again).status_code == 303
    assert desk.settings()["policy"]["mode"] == "premoderate_links"


def _snapshot(desk: Desk) -> tuple[dict[str, Any], list[tuple[Any, ...]], int]:
    with desk.db.read() as conn:
        rows = conn.execute(
            select(comments.c.id, comments.c.status, comments.c.moderation).order_by(comments.c.id)
        ).all()
    return desk.settings(), [tuple(row) for row in rows], desk.audit_count()


def test_preview_counts_the_changed_verdicts_and_stores_nothing(desk: Desk) -> None:
    desk.set_policy(**RELAXED)
    slug = desk.app.publish()["slug"]
    texts = {
        "bus1": "The bus timetable changed again and nobody told us.",
        "bus2": "I take the bus to the bridge every morning.",
        "civil": "A fair point about the council's budget.",
        "idiot": "Only an idiot would build a bridge there.",
    }
    ids: dict[str, int] = {}
    with desk.app.client() as reader:
        for key, text in texts.items():
            response = reader.post(
                f"/api/v1/articles/{slug}/comments", json=comment_payload(body=text)
            )
            assert response.status_code == (202 if key == "idiot" else 201), response.text
            ids[key] = response.json()["id"]
    before = _snapshot(desk)
    judged = len([row for row in before[1] if row[1] in ("published", "held", "rejected")])
    with desk.login("admin") as admin:
        values = open_form(admin)
        values["refuse_words"] = "bus\nidiot"
        response = admin.post("/admin/policy/preview", data=values)
        assert response.status_code == 200, response.text
        kept, page = form_of(response.text)
    assert kept["refuse_words"] == "bus\nidiot"  # the form keeps the edit
    summary = " ".join(page.xpath('//p[@class="preview-summary"]')[0].text_content().split())
    assert f"Re-judged the {judged} latest comments" in summary

    def cell(old: str, new: str) -> int:
        return int(page.xpath(f'//td[@data-from="{old}"][@data-to="{new}"]')[0].text)

    assert cell("publish", "refuse") == 2
    assert cell("hold", "refuse") == 1
    pairs = [(a, b) for a in VERDICTS for b in VERDICTS]
    assert sum(cell(a, b) for a, b in pairs if a != b) == 3
    assert sum(cell(a, b) for a, b in pairs) == judged
    assert page.xpath('//span[@class="preview-changed"]')[0].text == "3"
    listed = {int(li.get("data-comment")) for li in page.xpath('//li[@class="preview-change"]')}
    assert listed == {ids["bus1"], ids["bus2"], ids["idiot"]}
    item = page.xpath(f'//li[@data-comment="{ids["bus1"]}"]')[0]
    assert texts["bus1"] in item.text_content()
    assert "bus" in item.xpath('.//ul[@class="change-reasons"]')[0].text_content()
    assert _snapshot(desk) == before  # a preview changes nothing


def test_preview_shows_comment_text_inert(desk: Desk) -> None:
    desk.set_policy(**RELAXED)
    slug = desk.app.publish()["slug"]
    payload = '<script>alert("bus")</script><img src=x onerror=alert(1)> bus stop'
    with desk.app.client() as reader:
        response = reader.post(
            f"/api/v1/articles/{slug}/comments",
            json=comment_payload(body=payload, name="<b>Bold</b>"),
        )
        assert response.status_code == 201, response.text
    with desk.login("admin") as admin:
        values = open_form(admin)
        values["refuse_words"] = "bus"
        html = admin.post("/admin/policy/preview", data=values).text
    page = lxml.html.fromstring(html)
    assert not page.xpath("//main//script") and not page.xpath("//main//img")
    assert not page.xpath("//main//b")
    assert "&lt;script&gt;" in html


def test_admin_api_reads_and_replaces_the_policy_with_a_bearer_token(desk: Desk) -> None:
    desk.set_policy(**RELAXED)
    api = f"{desk.url}/api/v1/admin/policy"
    admin = {"Authorization": f"Bearer {desk.token}"}
    got = desk.app.get(api, headers=admin, timeout=10)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["site"] == "default"
    assert body["policy"]["mode"] == "post_moderate"
    assert body["reports_to_queue"] == 3 and body["hide_reported"] is False
    assert body["shipped_words"]["refuse"]["phrases"] > 0
    new_policy = {**body["policy"], "mode": "premoderate_links", "refuse_words": ["bus"]}
    put = desk.app.put(
        api,
        headers={**admin, "If-Match": got.headers["etag"]},
        timeout=10,
        json={"policy": new_policy, "reports_to_queue": 5, "hide_reported": True, "note": "api"},
    )
    assert put.status_code == 200, put.text
    stored = desk.settings()
    assert stored["policy"]["mode"] == "premoderate_links"
    assert stored["policy"]["refuse_words"] == {"word": ["bus"]}
    assert (stored["reports_to_queue"], stored["hide_reported"]) == (5, True)
    assert desk.app.get(api, headers=admin, timeout=10).json()["reports_to_queue"] == 5
    with desk.db.read() as conn:
        entry = list_entries(conn, action="policy", limit=1)[0]
    assert (entry.actor_kind, entry.actor, entry.note) == ("token", "admin", "api")
    assert json.loads(entry.before or "{}")["reports_to_queue"] == 3
    # A stale ETag, bad values, a moderator, no credentials: refused, nothing changes.
    stale = desk.app.put(
        api, headers={**admin, "If-Match": got.headers["etag"]}, json={}, timeout=10
    )
    assert stale.status_code == 409
    bad = {"policy": {"thresholds": {"threat": {"hold": 0.9, "refuse": 0.5}}}}
    wrong = desk.app.put(api, headers=admin, json=bad, timeout=10)
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "policy.thresholds"
    assert set(wrong.json()) == {"error", "field", "message"}
    huge = desk.app.put(
        api, headers=admin, json={"policy": {"close_after_days": 10**9}}, timeout=10
    )
    assert huge.status_code == 422
    moderator = {"Authorization": f"Bearer {desk.moderator_token}"}
    assert desk.app.get(api, headers=moderator, timeout=10).status_code == 200
    assert desk.app.put(api, headers=moderator, json={}, timeout=10).status_code == 403
    assert desk.app.put(api, json={}, timeout=10).status_code == 401
    assert desk.settings() == stored


def test_admin_api_with_a_session_needs_the_csrf_header(desk: Desk, tmp_path: Path) -> None:
    desk.set_policy(**RELAXED)
    before = desk.settings()
    with desk.login("admin") as admin:
        csrf = lxml.html.fromstring(admin.get("/admin/policy").text).xpath(
            '//input[@name="csrf"]/@value'
        )[0]
        change = {"policy": {**RELAXED, "mode": "premoderate_new"}}
        assert admin.put("/api/v1/admin/policy", json=change).status_code == 403
        assert desk.settings() == before
        done = admin.put("/api/v1/admin/policy", json=change, headers={"X-CSRF-Token": csrf})
        assert done.status_code == 200, done.text
    assert desk.settings()["policy"]["mode"] == "premoderate_new"


DESK_PAGES = [
    "/admin",
    "/admin/activity",
    "/admin/all",
    "/admin/audit",
    "/admin/models",
    "/admin/policy",
    "/admin/published",
    "/admin/refused",
    "/admin/reported",
]
DESK_PARAMS = ["site", "cursor", "q", "from", "to", "actor", "action", "done", "saved", "days"]


def test_a_nul_in_any_desk_query_is_an_answer_not_a_crash(desk: Desk) -> None:
    """PostgreSQL refuses a NUL even in a query's parameters: ?actor=%00 was a 500 there.
    Every desk page, with a NUL in each parameter it reads, answers below 500, and no page
    carries a NUL byte back."""
    with desk.login("admin") as admin:
        for page in DESK_PAGES:
            for name in DESK_PARAMS:
                for value in ("\x00", "a\x00b"):
                    response = admin.get(page, params={name: value})
                    assert response.status_code < 500, (page, name, response.status_code)
                    assert b"\x00" not in response.content, (page, name)


def test_the_desk_chooses_what_profanity_that_attacks_nobody_gets(desk: Desk) -> None:
    desk.set_policy(**RELAXED)
    with desk.login("admin") as admin:
        values = open_form(admin)
        assert values["profanity"] == "hold"  # the default, checked
        wrong = admin.post("/admin/policy", data={**values, "profanity": "sometimes"})
        assert wrong.status_code == 422
        page = form_of(wrong.text)[1]
        assert "hold or publish" in page.xpath('//*[@id="profanity-error"]')[0].text
        assert "profanity" not in desk.settings()["policy"] or (
            desk.settings()["policy"]["profanity"] == "hold"
        )
        saved = admin.post("/admin/policy", data={**values, "profanity": "publish"})
        assert saved.status_code == 303, saved.text
        assert open_form(admin)["profanity"] == "publish"
        without = {k: v for k, v in open_form(admin).items() if k != "profanity"}
        assert admin.post("/admin/policy", data=without).status_code == 303
    assert desk.settings()["policy"]["profanity"] == "publish"  # a form without it keeps it


def test_the_desk_ticks_and_unticks_requiring_a_confirmed_address(desk: Desk) -> None:
    desk.set_policy(**RELAXED)
    with desk.login("admin") as admin:
        values = open_form(admin)
        assert "require_verified" not in values  # unticked by default: not sent
        page = lxml.html.fromstring(admin.get("/admin/policy").text)
        assert page.xpath('//input[@type="checkbox"][@name="require_verified"]')
        assert (
            admin.post("/admin/policy", data={**values, "require_verified": "on"}).status_code
            == 303
        )
        assert desk.settings()["policy"]["require_verified"] is True
        ticked = open_form(admin)
        assert ticked["require_verified"] == "on"
        unticked = {k: v for k, v in ticked.items() if k != "require_verified"}
        assert admin.post("/admin/policy", data=unticked).status_code == 303
    assert desk.settings()["policy"].get("require_verified", False) is False
