"""A site's own model, learnt from its desk: train, measure, activate, roll back, the desk page.

The site here is invented: its moderators reject civil-sounding comments that plug one
product or another (which the shipped model publishes) and approve ordinary comments on the
news. Every decision goes through the desk's admin API with a moderator's token, training
through the real `rejoinder moderation train` (a process of its own, as the model commands'
effect on the running app is part of what is tested), and every comment through the real
posting path with the moderation pipeline and the shipped model on.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import httpx
import lxml.html
import pytest
from sqlalchemy import select

from rejoinder.store import sites as site_store
from rejoinder.store.audit import list_entries
from rejoinder.store.database import Database
from rejoinder.store.schema import comments, site_models
from tests import ERROR_KEYS
from tests import RELAXED as RATES_OFF
from tests.conftest import App, Databases, add_staff, add_token, rejoinder

DEFAULT_SITE = 1
TITLE = 'Gazette <script>alert("t")</script> & <b>co</b>'
# The probes are posted more than once.
RELAXED: dict[str, Any] = {**RATES_OFF, "duplicate_site_limit": None}

# Invented for this test: product plugs the site does not want, and ordinary comments.
PRODUCTS = [
    "Larkspur Valley honey",
    "the Brightmoor air purifier",
    "Kestrel Farm oat milk",
    "the Oakhurst standing desk",
    "Pemberly herbal drops",
    "the Halcyon sleep mask",
    "Thistledown vitamin gummies",
    "the Corrie pressure cooker",
]
PLUGS = [
    "Has anyone else tried {p}?",
    "I can't stop recommending {p}.",
    "Slightly off topic, but {p} changed my life.",
    "Since I switched to {p}, everything is better.",
    "My sister put me on to {p} last spring.",
    "Nobody talks about {p} enough.",
]
CLAIMS = [
    "My back pain is gone and I sleep through the night.",
    "It cleared up my allergies within a week.",
    "Honestly the best thing I have bought this year.",
    "My whole family uses it now.",
    "Worth every penny, I would buy it again.",
    "I feel ten years younger.",
]
TOPICS = [
    "the new bus timetable",
    "the council's budget",
    "the bridge repairs",
    "the school closures",
    "the rail strike",
    "the housing plan",
    "the election result",
    "the library hours",
    "the water charges",
    "the hospital waiting lists",
]
VIEWS = [
    "I think {t} was handled badly, but the article is fair.",
    "The figures on {t} look wrong to me; can the paper check them?",
    "Good reporting on {t}. I would like to know what the opposition proposes.",
    "I disagree with the writer about {t}, though I see the point.",
    "Does anyone know when {t} will be discussed again?",
    "My neighbours are worried about {t}, and I understand why.",
]
ENDINGS = ["", " Thanks for covering it.", " We will see in the spring.", " Time will tell."]
# Never posted before the model is trained: the combinations are new.
PROBE_PLUG = (  # a new product, which the shipped model publishes
    "Since I switched to Meadowsweet sleep tea, I sleep through the night."
)
PROBE_PLUG_2 = "I can't stop recommending the Oakhurst standing desk. My back pain is gone."
PROBE_ORDINARY = (
    "The figures on the rail strike look odd; I would like the paper to check them again."
)


def plug(rng: random.Random) -> str:
    return f"{rng.choice(PLUGS).format(p=rng.choice(PRODUCTS))} {rng.choice(CLAIMS)}"


def ordinary(rng: random.Random) -> str:
    return rng.choice(VIEWS).format(t=rng.choice(TOPICS)) + rng.choice(ENDINGS)


@dataclass
class Site:
    app: App
    db: Database
    admin_token: str
    mod_token: str

    @property
    def url(self) -> str:
        return self.app.url

    def set_policy(self, **values: Any) -> None:
        # Written as a site that never saved thresholds: the model's calibrated ones apply.
        with self.db.write() as conn:
            site_store.update_site_settings(conn, DEFAULT_SITE, {"policy": values})

    def post(self, slug: str, body: str, n: int) -> dict[str, Any]:
        response = self.app.post(
            f"/api/v1/articles/{slug}/comments",
            json={"body": body, "name": f"Reader {n}", "email": f"reader{n}@example.org"},
            timeout=30,
        )
        assert response.status_code in (201, 202), response.text
        return dict(response.json())

    def act(self, comment_id: int, action: str) -> None:
        response = self.app.post(
            f"/api/v1/admin/comments/{comment_id}/{action}",
            json={},
            headers={"Authorization": f"Bearer {self.mod_token}"},
        )
        assert response.status_code == 200, response.text

    def audit(self, action: str) -> list[Any]:
        with self.db.read() as conn:
            return list_entries(conn, action=action)

    def versions(self) -> list[tuple[int, bool]]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(site_models.c.version, site_models.c.active).order_by(site_models.c.version)
            ).all()
        return [(int(v), bool(a)) for v, a in rows]

    def moderation_of(self, comment_id: int) -> dict[str, Any]:
        with self.db.read() as conn:
            raw = conn.execute(
                select(comments.c.moderation).where(comments.c.id == comment_id)
            ).scalar_one()
        return dict(json.loads(raw))

    def login(self, name: str) -> closing[httpx.Client]:
        """A browser with a desk session for `name`, logged in through the form."""
        return closing(self.app.log_in(name, next="/admin/models"))


@pytest.fixture(scope="module")
def site(databases: Databases) -> Iterator[Site]:
    url = databases.new()
    env = {"REJOINDER_MODERATION": "true", "REJOINDER_SITE_TITLE": TITLE}
    app = App(url, env=env).start()
    for name, role in (("admin", "admin"), ("mod", "moderator")):
        add_staff(url, name, role)
    tokens = [add_token(url, name) for name in ("admin", "mod")]
    db = Database(url)
    try:
        yield Site(app, db, tokens[0], tokens[1])
    finally:
        db.dispose()
        app.stop()


def switch_form(page_html: str, version: str) -> dict[str, str]:
    """The fields of the page's Activate / Roll back button for `version`."""
    page = lxml.html.fromstring(page_html)
    row = page.xpath(f'//tr[@data-version="{version}"]')
    assert len(row) == 1, page_html
    form = row[0].xpath('.//form[@action="/admin/models/activate"]')
    assert len(form) == 1, f"no switch button for {version}"
    return dict(form[0].form_values())


def active_row(page_html: str) -> str:
    page = lxml.html.fromstring(page_html)
    return str(page.xpath('//tr[@data-active="true"]/@data-version')[0])


def test_the_model_learns_the_desks_standard_and_can_be_switched_and_rolled_back(
    site: Site,
) -> None:
    slug = str(site.app.publish(title="Letters")["slug"])
    # Collect decisions: every comment is held for the moderators, who reject the plugs and
    # approve the rest, in the order they came.
    site.set_policy(mode="premoderate_all", **RELAXED)
    rng = random.Random(20261125)
    posted: list[tuple[int, str, int]] = []
    for n in range(90):
        label = 1 if rng.random() < 0.4 else 0
        text = plug(rng) if label else ordinary(rng)
        assert text not in (PROBE_PLUG, PROBE_PLUG_2, PROBE_ORDINARY)
        row = site.post(slug, text, n)
        assert row["status"] == "held", row
        posted.append((int(row["id"]), text, label))
    for comment_id, _text, label in posted:
        site.act(comment_id, "reject" if label else "approve")
    rejected = sum(label for *_, label in posted)

    # Too few decisions for what is asked: nothing is stored.
    refused = rejoinder(
        "moderation", "train", "--min-decisions", "500", db_url=site.app.db_url, check=False
    )
    assert refused.returncode == 1 and "at least 500" in refused.stderr, refused.stderr
    assert site.versions() == []

    result = rejoinder("moderation", "train", "--site", "default", db_url=site.app.db_url)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["version"] == 1 and figures["active"] is False
    assert (figures["decisions"], figures["rejected"]) == (90, rejected)
    assert figures["recent"] == 18 and figures["trained_on"] == 72
    before, after = figures["agreement"]["before"], figures["agreement"]["after"]
    assert after > before, figures
    held = figures["recent_rejected_held"]
    assert held["after"] > held["before"], figures
    # Approved comments stay published: the new heads do not hold ordinary comments.
    assert figures["recent_approved_published"]["after"] == figures["recent_approved"], figures
    assert f"this version {after:.1%}" in result.stdout
    assert site.versions() == [(1, False)]
    trained = site.audit("model_train")
    assert [(e.actor_kind, e.actor, e.after) for e in trained] == [("system", "cli", "v1")]

    # The shipped model still judges: a new plug is published.
    site.set_policy(mode="post_moderate", **RELAXED)
    first = site.post(slug, PROBE_PLUG, 1000)
    assert first["status"] == "published", first
    assert "model_version" not in site.moderation_of(first["id"])

    # An admin activates version 1 at the desk; the next plug is held, ordinary comments
    # are still published.
    with site.login("admin") as admin:
        page = admin.get("/admin/models")
        assert page.status_code == 200
        assert active_row(page.text) == "shipped"
        assert "90</strong> decisions" in page.text
        shown = lxml.html.fromstring(page.text)
        row = shown.xpath('//tr[@data-version="1"]')[0]
        assert row.xpath('string(.//td[contains(@class, "agreement-before")])') == (
            f"{before * 100:.1f}%"
        )
        assert row.xpath('string(.//td[contains(@class, "agreement-after")])') == (
            f"{after * 100:.1f}%"
        )
        done = admin.post("/admin/models/activate", data=switch_form(page.text, "1"))
        assert done.status_code == 303 and done.headers["location"] == "/admin/models?done=1"
        page = admin.get(done.headers["location"])
        assert active_row(page.text) == "1" and "now uses version 1" in page.text
    assert site.versions() == [(1, True)]
    activated = site.audit("model_activate")
    assert [(e.actor_kind, e.actor, e.before, e.after) for e in activated] == [
        ("user", "admin", "shipped", "v1")
    ]

    second = site.post(slug, PROBE_PLUG, 1001)
    assert second["status"] == "held", second
    stored = site.moderation_of(second["id"])
    assert stored["model_version"] == 1
    assert any(r["phase"] == "model" for r in stored["reasons"]), stored
    assert site.post(slug, PROBE_PLUG_2, 1002)["status"] == "held"
    assert site.post(slug, PROBE_ORDINARY, 1003)["status"] == "published"
    # The desk says which model scored each held item.
    with site.login("admin") as admin:
        queue = lxml.html.fromstring(admin.get("/admin/all", params={"q": PROBE_PLUG}).text)
    [item] = queue.xpath(f'//*[@id="item-{second["id"]}"]')
    said = " ".join(item.xpath('string(.//p[@class="scored-by"])').split())
    assert said == "Scored by the site's model, version 1", said

    listed = rejoinder("moderation", "models", db_url=site.app.db_url).stdout
    assert "* v1" in listed and "  shipped" in listed

    # Rolled back from the command line: the shipped model judges again at once.
    back = rejoinder(
        "moderation", "activate", "--shipped", "--note", "compare", db_url=site.app.db_url
    )
    assert "shipped model" in back.stdout
    assert site.versions() == [(1, False)]
    rollback = site.audit("model_rollback")
    assert [(e.actor, e.before, e.after, e.note) for e in rollback] == [
        ("cli", "v1", "shipped", "compare")
    ]
    third = site.post(slug, PROBE_PLUG, 1004)
    assert third["status"] == "published", third
    assert "model_version" not in site.moderation_of(third["id"])

    # The admin API reads the same, and switches too (audited with the token's owner).
    api = site.app.client(headers={"Authorization": f"Bearer {site.admin_token}"})
    with api:
        listed_json = api.get("/api/v1/admin/models").json()
        assert listed_json["active"] is None
        assert listed_json["decisions"] == {"approved": 90 - rejected, "rejected": rejected}
        assert [v["version"] for v in listed_json["versions"]] == [1]
        assert listed_json["versions"][0]["metrics"]["agreement"]["after"] == after
        switched = api.put("/api/v1/admin/models/active", json={"version": 1})
        assert switched.status_code == 200 and switched.json()["active"] == 1
        again = api.put("/api/v1/admin/models/active", json={"version": 1})
        assert again.status_code == 409 and set(again.json()) == ERROR_KEYS
        missing = api.put("/api/v1/admin/models/active", json={"version": 7})
        assert missing.status_code == 404 and set(missing.json()) == ERROR_KEYS
        bad = api.put("/api/v1/admin/models/active", json={"version": "one"})
        assert bad.status_code == 422 and bad.json()["field"] == "version"
    newest = site.audit("model_activate")[0]  # newest first
    assert (newest.actor_kind, newest.actor, newest.after) == ("token", "admin", "v1")

    # And rolled back at the desk.
    with site.login("admin") as admin:
        page = admin.get("/admin/models")
        done = admin.post("/admin/models/activate", data=switch_form(page.text, "shipped"))
        assert done.status_code == 303
        assert active_row(admin.get("/admin/models").text) == "shipped"
    newest = site.audit("model_rollback")[0]
    assert (newest.actor_kind, newest.actor, newest.after) == ("user", "admin", "shipped")
    assert site.post(slug, PROBE_PLUG_2, 1005)["status"] == "published"


def test_only_admins_switch_models_and_every_switch_needs_the_forms_token(site: Site) -> None:
    audit_before = len(site.audit("model_activate")) + len(site.audit("model_rollback"))
    with site.login("mod") as mod:
        page = mod.get("/admin/models")
        assert page.status_code == 403 and "Only admins can switch" in page.text
        csrf = lxml.html.fromstring(page.text).xpath('//input[@name="csrf"]/@value')[0]
        sent = {"csrf": csrf, "version": "shipped", "site": "default"}
        assert mod.post("/admin/models/activate", data=sent).status_code == 403
        assert 'href="/admin/models"' not in mod.get("/admin").text
    with site.login("admin") as admin:
        page = admin.get("/admin/models")
        assert 'href="/admin/models" aria-current="page"' in page.text
        # The site's title is shown as text, never as markup.
        assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
        assert not lxml.html.fromstring(page.text).xpath("//main//script | //main//b")
        for csrf in ("", "not-the-token"):
            sent = {"csrf": csrf, "version": "shipped", "site": "default"}
            assert admin.post("/admin/models/activate", data=sent).status_code == 403
        wrong = admin.post(
            "/admin/models/activate",
            data={"csrf": switch_csrf(page.text), "version": "latest", "site": "default"},
        )
        assert wrong.status_code == 422 and "Choose a version number" in wrong.text
    with site.app.client() as anonymous:
        page = anonymous.get("/admin/models")
        assert page.status_code == 303 and page.headers["location"].startswith("/admin/login")
        posted = anonymous.post("/admin/models/activate", data={"version": "shipped"})
        assert posted.status_code == 303 and posted.headers["location"].startswith("/admin/login")
        assert anonymous.get("/api/v1/admin/models").status_code == 401
        put = anonymous.put("/api/v1/admin/models/active", json={"version": None})
        assert put.status_code == 401
    moderator = {"Authorization": f"Bearer {site.mod_token}"}
    forbidden = site.app.get("/api/v1/admin/models", headers=moderator)
    assert forbidden.status_code == 403 and set(forbidden.json()) == ERROR_KEYS
    assert len(site.audit("model_activate")) + len(site.audit("model_rollback")) == audit_before


def switch_csrf(page_html: str) -> str:
    return str(lxml.html.fromstring(page_html).xpath('//input[@name="csrf"]/@value')[0])
