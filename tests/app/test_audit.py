"""The audit log: the desk page and its filters, the admin API, the export, and that nothing
in the application (no route, no method, no body) can change or delete an entry."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from starlette.routing import Mount

from rejoinder.store import audit as audit_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.schema import audit_log, users
from tests import (
    ERROR_KEYS,
    HELD_TEXT,
    MODERATION_ON,
    PASSWORD,
    REFUSED_TEXT,
    RELAXED,
    app_routes,
    desk_csrf,
    parse_html,
)
from tests import log_in as log_in_as
from tests.conftest import App, Databases, add_staff, add_token, cli

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "'><iframe srcdoc='<script>alert(1)</script>'>",
    "</td></tr></table><b onmouseover=alert(1)>x</b>",
    "{{ 7*7 }}<style>body{display:none}</style>",
    "<a href=\"javascript:alert('x')\">click</a>",
]
ENTRY_ID = re.compile(r'<tr id="audit-(\d+)"')


@dataclass
class Desk:
    """The app with moderation on, its database, an admin with a password and a token."""

    app: App
    db: Database
    token: str
    tmp: Path

    @property
    def url(self) -> str:
        return self.app.url

    def add(self, **fields: Any) -> int:
        values: dict[str, Any] = {"at": datetime.now(UTC), "actor_kind": "user", "actor": "adm"}
        values.update(fields)
        with self.db.write() as conn:
            return audit_store.add_entry(conn, **values)

    def rows(self) -> list[tuple[Any, ...]]:
        with self.db.read() as conn:
            return [tuple(row) for row in conn.execute(select(audit_log).order_by(audit_log.c.id))]


def log_in(http: httpx.Client, name: str = "adm", password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token (from the desk's forms)."""
    log_in_as(http, name, password, next="/admin/audit")
    return desk_csrf(http, "/admin/audit?action=__none__")


@pytest.fixture(scope="module")
def desk(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    tmp = tmp_path_factory.mktemp("audit")
    db_url = databases.new()
    app = App(db_url, env=MODERATION_ON).start()
    db = Database(db_url, pool_size=2)
    try:
        with db.write() as conn:
            site_store.update_site_settings(conn, 1, {"policy": RELAXED})
        add_staff(db_url, "adm", "admin")
        token = add_token(db_url, "adm", "audit tests")
        yield Desk(app, db, token, tmp)
    finally:
        db.dispose()
        app.stop()


@pytest.fixture
def admin(desk: Desk) -> Iterator[httpx.Client]:
    with desk.app.client() as http:
        log_in(http)
        yield http


def entry_ids(html: str) -> list[int]:
    return [int(n) for n in ENTRY_ID.findall(html)]


def test_audit_page_without_a_session_redirects_to_login(desk: Desk) -> None:
    response = desk.app.get(desk.url + "/admin/audit?action=verdict", timeout=10)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?next=/admin/audit")


def test_audit_page_is_newest_first_a_hundred_a_page_with_older_pages(
    desk: Desk, admin: httpx.Client
) -> None:
    action = f"t_page_{uuid.uuid4().hex[:8]}"
    made = [desk.add(action=action, note=f"n{i}") for i in range(230)]
    seen: list[int] = []
    address = f"/admin/audit?action={action}"
    pages = 0
    while address:
        page = admin.get(address)
        assert page.status_code == 200
        ids = entry_ids(page.text)
        assert ids == sorted(ids, reverse=True)
        seen += ids
        pages += 1
        older = parse_html(page.text).xpath('//nav[@class="audit-pages"]/a[@rel="next"]/@href')
        assert len(ids) == (100 if older else 30)
        address = str(older[0]) if older else ""
    assert pages == 3
    assert seen == sorted(made, reverse=True)


def test_audit_filters_by_actor_comment_and_dates(desk: Desk, admin: httpx.Client) -> None:
    actor = f"mod-{uuid.uuid4().hex[:8]}"
    day = datetime(2001, 3, 4, 12, tzinfo=UTC)
    early = desk.add(actor=actor, action="approve", comment_id=901, at=day - timedelta(days=2))
    on_day = desk.add(actor=actor, action="reject", comment_id=902, at=day)
    late_in_day = desk.add(actor=actor, action="reject", comment_id=902, at=day.replace(hour=23))
    later = desk.add(actor=actor, action="approve", comment_id=903, at=day + timedelta(days=3))

    def ids(**params: str) -> list[int]:
        page = admin.get("/admin/audit", params={"actor": actor, **params})
        assert page.status_code == 200, page.text
        return entry_ids(page.text)

    assert ids() == [later, late_in_day, on_day, early]
    assert ids(comment="902") == [late_in_day, on_day]
    assert ids(action="approve") == [later, early]
    # "To" includes the whole day it names; "From" starts at its midnight.
    assert ids(since="2001-03-04", until="2001-03-04") == [late_in_day, on_day]
    assert ids(since="2001-03-05") == [later]
    assert ids(until="2001-03-03") == [early]
    # The filters are kept in the form.
    form = parse_html(admin.get("/admin/audit", params={"actor": actor, "comment": "902"}).text)
    assert form.xpath('//input[@name="actor"]/@value') == [actor]
    assert form.xpath('//input[@name="comment"]/@value') == ["902"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2001-13-45"}, "since"),
        ({"until": "yesterday"}, "until"),
        ({"comment": "12; DROP TABLE audit_log"}, "comment"),
        ({"before": "-1"}, None),
    ],
)
def test_audit_filters_with_bad_values_answer_422_with_a_message(
    admin: httpx.Client, params: dict[str, str], field: str | None
) -> None:
    page = admin.get("/admin/audit", params=params)
    assert page.status_code == 422
    tree = parse_html(page.text)
    assert tree.xpath('//p[@class="field-error"]')
    if field:
        assert tree.xpath(f'//input[@name="{field}"]/@aria-invalid') == ["true"]


def test_xss_in_actor_note_before_after_and_data_renders_inert(
    desk: Desk, admin: httpx.Client
) -> None:
    action = f"t_xss_{uuid.uuid4().hex[:8]}"
    for payload in XSS:
        desk.add(
            actor=payload,
            action=action,
            note=payload,
            before=payload,
            after=payload,
            data={"reasons": [{"code": payload}], "scores": {payload: 0.5}, payload: payload},
        )
    page = admin.get("/admin/audit", params={"action": action})
    assert page.status_code == 200
    tree = parse_html(page.text)
    assert len(tree.xpath('//table[@class="audit"]/tbody/tr')) == len(XSS)
    # No element, attribute or script came from the entries: only the desk's own.
    assert tree.xpath("//img | //svg | //iframe | //style | //b") == []
    scripts = tree.xpath("//script")
    assert all(
        s.get("src", "").startswith("/static/desk.js") and not (s.text or "").strip()
        for s in scripts
    ), [s.attrib for s in scripts]
    assert not [a for a in tree.xpath("//@*") if a.attrname.startswith("on")]
    # Links made from entries stay on the desk (the payload is only in their query).
    assert all(h.startswith(("/", "#")) for h in tree.xpath("//a/@href | //form/@action"))
    for payload in XSS:
        assert str(escape(payload)) in page.text
    notes = [" ".join(td.text_content().split()) for td in tree.xpath('//td[@class="note"]')]
    assert sorted(notes) == sorted(" ".join(p.split()) for p in XSS)


def _post_comments(desk: Desk, emails: list[str]) -> list[int]:
    slug = desk.app.publish()["slug"]
    ids = []
    texts = ["A fair point about the bridge.", HELD_TEXT, REFUSED_TEXT]
    for n, email in enumerate(emails):
        response = desk.app.post(
            f"{desk.url}/api/v1/articles/{slug}/comments",
            json={"body": texts[n % 3], "name": f"Reader {n}", "email": email},
            timeout=10,
        )
        assert response.status_code in (201, 202, 422), response.text
        if response.status_code != 422:
            ids.append(int(response.json()["id"]))
    return ids


def test_machine_verdicts_appear_with_reasons_and_scores(desk: Desk, admin: httpx.Client) -> None:
    [published, held] = _post_comments(desk, ["v1@example.org", "v2@example.org"])
    page = admin.get("/admin/audit", params={"comment": str(held)})
    tree = parse_html(page.text)
    [row] = tree.xpath('//table[@class="audit"]/tbody/tr')
    assert row.get("class") == "audit-machine"
    assert " ".join(row.xpath('td[@class="actor"]')[0].text_content().split()) == (
        "machine pipeline"
    )
    assert row.xpath('td[@class="action"]')[0].text_content() == "verdict"
    assert row.xpath('td[@class="change"]')[0].text_content().strip() == "hold"
    data = " ".join(row.xpath('td[@class="data"]')[0].text_content().split())
    assert data.startswith("reasons ") and "scores" in data
    published_row = parse_html(admin.get(f"/admin/audit?comment={published}").text)
    assert published_row.xpath('//td[@class="change"]')[0].text_content().strip() == "publish"


def test_admin_api_lists_the_audit_with_the_same_filters(desk: Desk) -> None:
    actor = f"api-{uuid.uuid4().hex[:8]}"
    made = [
        desk.add(actor=actor, action="approve", note=f"note {i}", data={"i": i}) for i in range(3)
    ]
    bearer = {"Authorization": f"Bearer {desk.token}"}
    response = desk.app.get(
        f"{desk.url}/api/v1/admin/audit", params={"actor": actor}, headers=bearer
    )
    assert response.status_code == 200
    body = response.json()
    assert [e["id"] for e in body["entries"]] == made[::-1]
    assert body["next_before"] is None
    first = body["entries"][0]
    assert set(first) == {
        "id",
        "created_at",
        "site_id",
        "comment_id",
        "actor_kind",
        "actor",
        "action",
        "before",
        "after",
        "note",
        "data",
    }
    assert (first["actor"], first["note"], first["data"]) == (actor, "note 2", {"i": 2})
    bad = desk.app.get(f"{desk.url}/api/v1/admin/audit", params={"since": "soon"}, headers=bearer)
    assert bad.status_code == 422
    assert bad.json() == {"error": "invalid", "field": "since", "message": bad.json()["message"]}
    anonymous = desk.app.get(f"{desk.url}/api/v1/admin/audit")
    assert anonymous.status_code == 401 and set(anonymous.json()) == ERROR_KEYS


def _export(desk: Desk, fmt: str, *, to_file: bool) -> str:
    if not to_file:
        return cli("audit", "export", "--format", fmt, db_url=desk.app.db_url).stdout
    out = desk.tmp / f"export-{uuid.uuid4().hex[:6]}.{fmt}"
    done = cli("audit", "export", "--format", fmt, "--output", str(out), db_url=desk.app.db_url)
    assert done.stdout == ""  # the file has it all; standard output stays clean
    return out.read_text(encoding="utf-8")


@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "file"])
def test_export_as_csv_and_jsonl_parses_back_oldest_first_without_emails(
    desk: Desk, to_file: bool
) -> None:
    tag = uuid.uuid4().hex[:8]
    emails = [f"distinct.{tag}.{n}@mailbox-{tag}.example" for n in range(6)]
    _post_comments(desk, emails)
    desk.add(action="note_test", note='a "quoted", comma\nnewline note', data={"x": [1, "two"]})
    rows = desk.rows()
    csv_text = _export(desk, "csv", to_file=to_file)
    jsonl_text = _export(desk, "jsonl", to_file=to_file)
    for exported in (csv_text, jsonl_text):
        assert tag not in exported and "@mailbox-" not in exported

    table = list(csv.reader(io.StringIO(csv_text)))
    header, body = table[0], table[1:]
    assert header == [
        "id",
        "created_at",
        "site_id",
        "comment_id",
        "actor_kind",
        "actor",
        "action",
        "before",
        "after",
        "note",
        "data",
    ]
    assert len(body) == len(rows)
    assert all(len(row) == len(header) for row in body)
    assert [int(row[0]) for row in body] == [row[0] for row in rows]
    objects = [json.loads(line) for line in jsonl_text.splitlines()]
    assert len(objects) == len(rows)
    assert [o["id"] for o in objects] == [row[0] for row in rows]
    assert all(set(o) == set(header) for o in objects)
    # Both carry the same values: the note with quotes, commas and a newline survives.
    last_csv, last_json = dict(zip(header, body[-1], strict=True)), objects[-1]
    assert last_csv["note"] == last_json["note"] == 'a "quoted", comma\nnewline note'
    assert json.loads(last_csv["data"]) == last_json["data"] == {"x": [1, "two"]}
    verdicts = [o for o in objects if o["action"] == "verdict"]
    assert verdicts and all({"reasons", "scores"} <= set(o["data"]) for o in verdicts)


def test_csv_cells_a_spreadsheet_would_run_as_formulas_start_with_an_apostrophe(
    desk: Desk,
) -> None:
    formulas = ['=HYPERLINK("http://example.invalid","x")', "+1+1", "-2+3", "@SUM(A1)"]
    action = f"t_formula_{uuid.uuid4().hex[:8]}"
    for formula in formulas:
        desk.add(action=action, note=formula, actor=formula)
    desk.add(action=action, note="a plain note - with a dash inside", actor="plain")
    table = list(csv.reader(io.StringIO(_export(desk, "csv", to_file=False))))
    header, body = table[0], [row for row in table[1:] if row[6] == action]
    notes = [dict(zip(header, row, strict=True))["note"] for row in body]
    actors = [dict(zip(header, row, strict=True))["actor"] for row in body]
    assert notes == ["'" + f for f in formulas] + ["a plain note - with a dash inside"]
    assert actors == ["'" + f for f in formulas] + ["plain"]
    # JSON lines keep the values exactly as stored.
    objects = [json.loads(line) for line in _export(desk, "jsonl", to_file=False).splitlines()]
    assert [o["note"] for o in objects if o["action"] == action][:4] == formulas


# -- Nothing in the application changes or deletes an entry -------------------------------

JUNK_FIELDS = {
    "note": "tampered",
    "body": "tampered",
    "action": "delete",
    "before": "x",
    "after": "y",
    "data": "{}",
    "reason": "spam",
    "text": "tampered",
    "verdict": "published",
    "kind": "email",
    "value": "x@example.org",
    "duration": "forever",
    "policy": "{}",
    "role": "admin",
    "password": "x" * 12,
    "name": "victim",
    "q": "x",
}
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """Paths and methods, through included routers (FastAPI may keep them as one route)."""
    for route in routes:
        if isinstance(route, Mount):
            yield prefix + route.path + "/desk.css", {"GET"}
        elif hasattr(route, "original_router"):  # an included router, not yet flattened
            inner = prefix + getattr(route.include_context, "prefix", "")
            yield from _walk(route.original_router.routes, inner)
        else:
            yield prefix + str(route.path), set(getattr(route, "methods", None) or {"GET"})


def _routes(db_url: str) -> list[tuple[str, set[str]]]:
    """Every route of the app as the server builds it: path and methods."""
    return list(_walk(app_routes(db_url)))


def _fill(path: str, values: dict[str, list[str]]) -> list[str]:
    """The path with each {parameter} replaced by each plausible value."""
    paths = [path]
    for name in re.findall(r"{(\w+)(?::\w+)?}", path):
        key = "slug" if "slug" in name else "user" if "user" in name or name == "name" else "id"
        paths = [
            re.sub(r"{" + name + r"(?::\w+)?}", value, p) for p in paths for value in values[key]
        ]
    return paths


def test_no_route_method_or_body_changes_or_deletes_an_audit_entry(desk: Desk) -> None:
    victim_pw = desk.tmp / "victim-pw"
    victim_pw.write_text(PASSWORD)
    cli("user", "add", "victim", "--password-file", str(victim_pw), db_url=desk.app.db_url)
    [published, held] = _post_comments(desk, ["t1@example.org", "t2@example.org"])
    slug = str(desk.app.publish()["slug"])
    with desk.db.read() as conn:
        victim_id = conn.execute(select(users.c.id).where(users.c.name == "victim")).scalar_one()
    for payload in XSS[:2]:
        desk.add(actor="adm", action="approve", comment_id=held, note=payload)
    before = desk.rows()
    first_id, last_id = before[0][0], before[-1][0]
    values = {
        "slug": [slug, "no-such-article"],
        "id": [str(held), str(published), str(first_id), str(last_id), "0", "x"],
        "user": ["victim", str(victim_id)],
    }
    accepts: dict[str, set[str]] = {}
    for path, methods in _routes(desk.app.db_url):
        accepts.setdefault(path, set()).update(methods - {"HEAD"})
    assert "/admin/audit" in accepts and "/api/v1/admin/audit" in accepts
    bearer = {"Authorization": f"Bearer {desk.token}"}
    ids = {
        "id": str(first_id),
        "ids": str(last_id),
        "comment_id": str(held),
        "entry_id": str(first_id),
        "user_id": str(victim_id),
    }
    junk = {**JUNK_FIELDS, **ids}
    calls, server_errors, handled_writes = 0, [], 0
    with (
        desk.app.client() as session,
        desk.app.client() as anonymous,
    ):
        csrf = log_in(session)
        # Logging out ends the session: it goes last.
        for template in sorted(accepts, key=lambda p: p == "/admin/logout"):
            for path in _fill(template, values):
                for method in sorted(accepts[template] | set(WRITE_METHODS)):
                    with_csrf = {"X-CSRF-Token": csrf}
                    as_json = {**with_csrf, "Content-Type": "application/json"}
                    attempts: list[tuple[httpx.Client, dict[str, Any]]]
                    if method not in accepts[template]:
                        attempts = [(session, {"data": {**junk, "csrf": csrf}})]
                    elif method == "GET" and template.endswith("/events"):
                        attempts = []  # a live stream never ends, and writes nothing
                    elif method == "GET":
                        attempts = [
                            (session, {"params": junk}),
                            (anonymous, {"headers": bearer, "params": ids}),
                        ]
                    else:
                        attempts = [
                            (session, {"data": {**junk, "csrf": csrf}}),
                            (session, {"data": {**junk, "csrf": "forged"}}),
                            (session, {"data": junk}),
                            (session, {"json": junk, "headers": with_csrf}),
                            (session, {"content": b"\x00\xff{not json", "headers": as_json}),
                            (anonymous, {"json": junk, "headers": bearer}),
                            (anonymous, {"json": [1, 2, 3], "headers": bearer}),
                        ]
                    for http, kwargs in attempts:
                        response = http.request(method, path, **kwargs)
                        calls += 1
                        if response.status_code >= 500:
                            server_errors.append(f"{method} {path} -> {response.status_code}")
                        elif method != "GET" and response.status_code < 400:
                            handled_writes += 1
                    # An admin action may have ended the session (it is allowed to): again.
                    if (
                        template != "/admin/logout"
                        and method != "GET"
                        and session.get("/admin/audit?action=__none__").status_code != 200
                    ):
                        csrf = log_in(session)
    after = desk.rows()
    assert calls > 300 and handled_writes > 0  # the session and token were good: writes got in
    assert len(after) >= len(before)
    assert after[: len(before)] == before, "an audit entry was changed or deleted"
    assert server_errors == []


def test_the_database_refuses_update_delete_and_truncate_of_the_audit_log(desk: Desk) -> None:
    target = desk.add(action="t_tamper", note="original")
    before = desk.rows()
    statements = [
        "UPDATE audit_log SET note = 'changed'",
        f"UPDATE audit_log SET action = 'x' WHERE id = {target}",
        f"DELETE FROM audit_log WHERE id = {target}",
        "DELETE FROM audit_log",
    ]
    if not desk.db.is_sqlite:
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), desk.db.write() as conn:
            conn.execute(text(statement))
    assert desk.rows() == before


def test_export_of_many_entries_streams_quickly(desk: Desk) -> None:
    """10,000 extra entries export in both formats within a generous bound (measured)."""
    now = datetime.now(UTC)
    with desk.db.write() as conn:
        conn.execute(
            audit_log.insert(),
            [
                {
                    "created_at": now,
                    "actor_kind": "machine",
                    "actor": "pipeline",
                    "action": "verdict",
                    "comment_id": n,
                    "after": "published",
                    "note": "",
                    "data": json.dumps({"reasons": [], "scores": {"spam": 0.01}}),
                }
                for n in range(10_000)
            ],
        )
    total = len(desk.rows())
    for fmt in ("csv", "jsonl"):
        started = time.perf_counter()
        out = _export(desk, fmt, to_file=True)
        elapsed = time.perf_counter() - started
        if fmt == "csv":
            assert len(list(csv.reader(io.StringIO(out)))) == total + 1
        else:
            assert len(out.splitlines()) == total
        print(f"export {fmt}: {total} entries in {elapsed:.2f}s")
        assert elapsed < 30
