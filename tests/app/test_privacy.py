"""A reader's rights over their address: a link mailed to it (the same answer for an address
nothing is held about, and no mail then), the export of everything held, and erasure, after
which neither the address nor the erased texts are in any byte of the database; the same for
staff at the desk and in the CLI; the retention period's purge; and the audit log, which
keeps its entries while their personal parts go."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import lxml.html
import pytest
from sqlalchemy import select

from rejoinder.core.models import ERASED
from rejoinder.runtime import utcnow
from rejoinder.store import audit as audit_store
from rejoinder.store import notify as notify_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.schema import audit_log, comments, outbox
from rejoinder.usecases import budgets
from rejoinder.usecases.privacy import purge
from tests import MODERATION_ON, REFUSED_TEXT, RELAXED, comment_payload, desk_csrf
from tests.conftest import PG_URL, App, Databases, add_staff, add_token, cli
from tests.smtp import SmtpServer, body_text


@dataclass
class Site:
    app: App
    db: Database
    db_url: str
    smtp: SmtpServer
    token: str  # an admin's API token
    article: str  # a slug

    def post(self, http: httpx.Client, **fields: object) -> int:
        response = http.post(
            f"/api/v1/articles/{self.article}/comments", json=comment_payload(**fields)
        )
        assert response.status_code in (201, 202), response.text
        return int(response.json()["id"])

    def admin(self, method: str, path: str, **options: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.app.request(method, path, headers=headers, **options)

    def link(self, count: int, marker: str) -> str:
        """The path of the link in the `count`-th mail (the line holding `marker`)."""
        message = self.smtp.wait_for(count)[count - 1]
        line = next(line for line in body_text(message).splitlines() if marker in line)
        return urlsplit(line.strip()).path

    def stored_bytes(self) -> bytes:
        """Every byte the database holds: SQLite's file once its log is folded in, or
        PostgreSQL's whole dump."""
        if PG_URL:
            url = self.db_url.replace("postgresql+psycopg://", "postgresql://")
            dump = subprocess.run(["pg_dump", url], capture_output=True, check=True, timeout=60)
            return dump.stdout
        path = Path(self.db_url.removeprefix("sqlite:///"))
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


@pytest.fixture(scope="module")
def site(databases: Databases) -> Iterator[Site]:
    with SmtpServer() as smtp:
        smtp.start()
        db_url = databases.new()
        running = App(db_url, env={**smtp.env, **MODERATION_ON}).start()
        db = Database(db_url, pool_size=1)
        try:
            with db.write() as conn:
                site_store.update_site_settings(conn, 1, {"policy": RELAXED})
            add_staff(db_url, "boss", role="admin")
            add_staff(db_url, "mod")
            slug = running.publish(title="The bridge")["slug"]
            yield Site(running, db, db_url, smtp, add_token(db_url, "boss"), slug)
        finally:
            db.dispose()
            running.stop()


def _unique(what: str) -> str:
    return f"{what} {uuid.uuid4().hex}"


def _thread(site: Site) -> lxml.html.HtmlElement:
    response = site.app.get(f"/articles/{site.article}")
    assert response.status_code == 200
    return lxml.html.fromstring(response.text)


def _audit_changes(site: Site, comment_id: int) -> str:
    """The Change cell of the comment's edit entry on the desk's audit page."""
    boss = site.app.log_in("boss")
    try:
        page = boss.get("/admin/audit", params={"comment": str(comment_id), "action": "edit"})
    finally:
        boss.close()
    cells = lxml.html.fromstring(page.text).xpath('//td[@class="change"]')
    return " ".join(cells[0].text_content().split())


def test_a_reader_exports_and_erases_and_no_byte_of_them_is_left(site: Site) -> None:
    email = f"Erin.{uuid.uuid4().hex[:8]}@Example.org"
    answered, alone, edited, refused = (
        _unique("Answered words"),
        _unique("Lonely words"),
        _unique("Edited by the desk"),
        _unique(REFUSED_TEXT),
    )
    kept = _unique("A reply someone else wrote")
    mails = len(site.smtp.messages)
    with site.app.client() as erin, site.app.client() as other:
        first = site.post(
            erin, body=answered, name="Erin Eraseme", email=email, notify_replies=True
        )
        site.post(other, body=kept, name="Otto", email="otto@example.org", parent_id=first)
        lonely = site.post(erin, body=alone, name="Erin Eraseme", email=email)
        refusal = erin.post(
            f"/api/v1/articles/{site.article}/comments",
            json=comment_payload(body=refused, name="Erin Eraseme", email=email),
        )
        assert refusal.status_code == 422, refusal.text
        # The desk edits one of them: the audit entry quotes the old and the new text.
        edit = site.admin("POST", f"/api/v1/admin/comments/{lonely}/edit", json={"body": edited})
        assert edit.status_code == 200, edit.text
        assert edited in _audit_changes(site, lonely)  # the desk shows the texts while they exist
        # Erin confirms the address (the confirmation mail of a reader who wants replies).
        confirm = site.link(mails + 1, "/confirm/")
        assert erin.post(confirm).status_code == 200

        asked = erin.post("/privacy", data={"email": email.upper()})
        assert asked.status_code == 200
        link = site.link(mails + 2, "/privacy/")
        assert site.smtp.envelopes[mails + 1] == [email.upper()]
        choices = lxml.html.fromstring(erin.get(link).text)
        [export_link] = choices.xpath('//a[contains(@href, "/export")]/@href')
        export = erin.get(export_link)
        assert export.status_code == 200
        assert "attachment" in export.headers["content-disposition"]
        data = export.json()
        texts = {comment["body_markdown"]: comment for comment in data["comments"]}
        assert set(texts) == {answered, edited}
        assert texts[answered]["discussion_url"].endswith(f"/articles/{site.article}")
        assert texts[answered]["status"] == "published"
        assert [row["body"] for row in data["refused_submissions"]] == [refused]
        assert [row["address"] for row in data["verified_addresses"]] == [email.lower()]
        assert {row["payload"]["topic"] for row in data["mail"]} == {"confirm", "privacy"}
        assert any(row["before"] == alone for row in data["audit_entries"])

        [erase_link] = choices.xpath('//a[contains(@href, "/erase")]/@href')
        confirm_page = lxml.html.fromstring(erin.get(erase_link).text)
        assert "[deleted]" in confirm_page.text_content()  # the setting's default: remove
        [action] = confirm_page.xpath('//form[contains(@action, "/erase")]/@action')
        assert erin.post(action).status_code == 200

    page = _thread(site)
    assert page.xpath(f'//li[@id="comment-{lonely}"]') == []
    [placeholder] = page.xpath(f'//li[@id="comment-{first}"]')
    assert "[deleted]" in placeholder.text_content()
    assert "Erin" not in page.text_content() and kept in page.text_content()
    # The audit log keeps its entries, saying what happened; their personal parts are gone.
    with site.db.read() as conn:
        [edit_entry] = audit_store.list_entries(conn, comment_id=lonely, action="edit")
        [erasure] = audit_store.list_entries(conn, action="erasure")
    assert edit_entry.erased and edit_entry.before == ERASED and edit_entry.after == ERASED
    assert _audit_changes(site, lonely) == f"{ERASED} → {ERASED}"
    assert erasure.data["comments"] == 2 and erasure.actor == "reader"
    stored = site.stored_bytes()
    assert kept.encode() in stored  # the search below can find a text
    for gone in (email, email.lower(), answered, alone, edited, refused):
        assert gone.encode() not in stored, gone
    # The link still works, and now finds nothing.
    with site.app.client() as erin:
        again = erin.get(export_link).json()
    assert again["comments"] == [] and again["verified_addresses"] == []


def test_the_answer_is_the_same_for_an_unknown_address_and_nothing_is_mailed(site: Site) -> None:
    known = f"known.{uuid.uuid4().hex[:8]}@example.org"
    with site.app.client() as reader:
        site.post(reader, email=known)
        mails = len(site.smtp.messages)
        unknown = reader.post("/privacy", data={"email": f"nobody.{uuid.uuid4().hex}@example.org"})
        answered = reader.post("/privacy", data={"email": known})
        again = reader.post("/privacy", data={"email": known})  # soon after: no second mail
        bad = reader.post("/privacy", data={"email": "not an address"})
    assert unknown.status_code == answered.status_code == again.status_code == 200

    def said(response: httpx.Response) -> str:
        return str(lxml.html.fromstring(response.text).xpath('string(//*[@role="status"])'))

    assert said(unknown) == said(answered) != ""
    site.smtp.wait_for(mails + 1)
    with site.db.read() as conn:
        recipients = list(conn.execute(select(outbox.c.recipient)).scalars())
    assert not any(recipient.startswith("nobody.") for recipient in recipients)
    to_known = recipients.count(known)
    assert to_known == 1
    assert bad.status_code == 422
    tree = lxml.html.fromstring(bad.text)
    assert tree.xpath('//input[@id="privacy-email"]/@aria-invalid') == ["true"]
    assert tree.xpath('string(//*[@id="email-error"])').strip()


def test_asking_too_often_from_one_network_is_refused_beside_the_field(site: Site) -> None:
    with site.app.client(address="192.0.2.77") as asker:
        answers = [
            asker.post("/privacy", data={"email": f"try{n}@example.org"}).status_code
            for n in range(budgets.PRIVACY.per_address + 1)
        ]
        refused = asker.post("/privacy", data={"email": "one.more@example.org"})
    with site.app.client(address="198.51.100.7") as elsewhere:
        other = elsewhere.post("/privacy", data={"email": "one.more@example.org"})
    assert answers[:-1] == [200] * budgets.PRIVACY.per_address and answers[-1] == 429
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    tree = lxml.html.fromstring(refused.text)
    assert "try again" in tree.xpath('string(//*[@id="email-error"])')
    assert other.status_code == 200


def test_a_bad_link_is_refused_without_an_error_page_of_the_server(site: Site) -> None:
    for path in ("/privacy/nonsense", "/privacy/nonsense/export", "/privacy/nonsense/erase"):
        assert site.app.get(path).status_code in (400, 404, 422)
    assert site.app.post("/privacy/nonsense/erase").status_code in (400, 404, 422)


def test_staff_export_and_erase_at_the_desk_admins_only_with_csrf(site: Site) -> None:
    email = f"desk.{uuid.uuid4().hex[:8]}@example.org"
    text = _unique("Said at the desk's door")
    with site.app.client() as reader:
        comment = site.post(reader, body=text, email=email)
    mod = site.app.log_in("mod")
    try:
        assert mod.get("/admin/privacy").status_code == 403
    finally:
        mod.close()
    boss = site.app.log_in("boss")
    try:
        page = boss.get("/admin/privacy")
        assert page.status_code == 200
        csrf = desk_csrf(boss, "/admin/privacy")
        assert boss.post("/admin/privacy/export", data={"email": email}).status_code == 403
        export = boss.post("/admin/privacy/export", data={"email": email, "csrf": csrf})
        assert export.status_code == 200
        assert [c["body_markdown"] for c in export.json()["comments"]] == [text]
        unconfirmed = boss.post("/admin/privacy/erase", data={"email": email, "csrf": csrf})
        assert unconfirmed.status_code == 422
        tree = lxml.html.fromstring(unconfirmed.text)
        assert tree.xpath('//input[@id="erase-confirm"]/@aria-invalid') == ["true"]
        bad = boss.post(
            "/admin/privacy/erase", data={"email": "x@", "csrf": csrf, "confirm": "yes"}
        )
        assert bad.status_code == 422
        done = boss.post(
            "/admin/privacy/erase", data={"email": email, "csrf": csrf, "confirm": "yes"}
        )
        assert done.status_code == 200
        assert "1 comments removed" in lxml.html.fromstring(done.text).text_content()
    finally:
        boss.close()
    assert text not in site.app.get(f"/articles/{site.article}").text
    with site.db.read() as conn:
        entries = conn.execute(
            audit_log.select().where(audit_log.c.action.in_(("erasure", "privacy_export")))
        ).all()
    assert {row.actor for row in entries if row.actor_kind == "user"} == {"boss"}
    assert not any(email in str(tuple(row)) for row in entries)
    assert comment > 0


def test_the_cli_exports_anonymises_and_purges(site: Site, tmp_path: Path) -> None:
    email = f"cli.{uuid.uuid4().hex[:8]}@example.org"
    text = _unique("Kept, but no longer signed")
    with site.app.client() as reader:
        comment = site.post(reader, body=text, name="Carla Cli", email=email)
    out = tmp_path / "data.json"
    cli("privacy", "export", email, "--output", str(out), db_url=site.db_url)
    assert [c["id"] for c in json.loads(out.read_text())["comments"]] == [comment]
    bad = cli("privacy", "export", "nobody", db_url=site.db_url, check=False)
    assert bad.returncode != 0 and "EMAIL" in bad.stderr
    refused = cli("privacy", "erase", email, db_url=site.db_url, check=False)
    assert refused.returncode != 0 and "--yes" in refused.stderr
    # What mail notifications keep about the address: a followed discussion, an unsubscription
    # (by the address's number), and a notice for someone else about their comment.
    key, now = email.lower(), utcnow()
    with site.db.write() as conn:
        [article_id] = conn.execute(
            select(comments.c.article_id).where(comments.c.id == comment)
        ).one()
        notify_store.add_follow(conn, article_id=article_id, recipient=key, address=email, now=now)
        number = notify_store.recipient_id(conn, key, now)
        notify_store.opt_out(conn, recipient=number, site_id=1, article_id=article_id, now=now)
        notify_store.add_notice(
            conn,
            site_id=1,
            topic="replies",
            recipient="other@example.org",
            address="other@example.org",
            comment_id=comment,
            reason="reply",
            due_at=now,
            now=now,
        )
    env = {"REJOINDER_ERASURE": "anonymise"}
    ran = cli("privacy", "erase", email, "--yes", db_url=site.db_url, env=env)
    assert "1 comments anonymised" in ran.stdout
    with site.db.read() as conn:
        assert notify_store.recipient_address(conn, number) is None
        assert not notify_store.opted_out(conn, address=key, site_id=1, article_id=article_id)
        assert key not in [recipient for recipient, _ in notify_store.followers(conn, article_id)]
        assert not [n for n in notify_store.pending_notices(conn) if n.comment_id == comment]
    page = site.app.get(f"/articles/{site.article}").text
    assert text in page and "Carla Cli" not in page
    with site.db.read() as conn:
        found = conn.execute(
            select(comments.c.author_name, comments.c.author_email, comments.c.email_key).where(
                comments.c.id == comment
            )
        ).one()
    assert tuple(found) == ("Anonymous", "", "")
    assert "Purged" in cli("privacy", "purge", db_url=site.db_url).stdout


def test_retention_purges_held_and_refused_personal_data_and_keeps_the_rest(site: Site) -> None:
    email = f"held.{uuid.uuid4().hex[:8]}@example.org"
    with site.app.client() as reader:
        published = site.post(reader, body=_unique("Stays published"), email=email)
        held = site.post(reader, body=_unique("Waits for the desk"), email=email)
        reject = site.admin("POST", f"/api/v1/admin/comments/{held}/reject", json={})
    assert reject.status_code == 200, reject.text  # published, then rejected by the desk
    later = utcnow() + timedelta(days=31)
    purged = purge(site.db, now=later, retention_days=30)
    assert purged.comments >= 1
    with site.db.read() as conn:
        rows = dict(
            conn.execute(
                select(comments.c.id, comments.c.author_email).where(
                    comments.c.id.in_((published, held))
                )
            ).all()
        )
        [entry] = audit_store.list_entries(conn, action="retention_purge", limit=1)
    assert rows[published] == email and rows[held] == ""
    assert entry.data["retention_days"] == 30 and email not in json.dumps(entry.data)


def test_without_mail_the_page_asks_for_no_address(client: httpx.Client) -> None:
    # The session's app sends no mail: the page says whom to ask instead, and neither
    # offers a form nor tells the reader to type an address into one.
    page = client.get("/privacy")
    assert page.status_code == 200
    html = lxml.html.fromstring(page.text)
    assert html.xpath("//form[@action='/privacy']") == []
    text = " ".join(html.xpath("//main//text()"))
    assert "sends no mail" in text
    assert "Type the email address" not in text
