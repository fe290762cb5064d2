"""Migration 0010 moves the personal part of audit entries already written (a desk edit's
texts, a ban's address, a verdict's reasons) out of the append-only log into the erasable
table; read back they are as before, the log's own rows hold none of it, and the log is still
append-only after."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from rejoinder.store import audit as audit_store
from rejoinder.store.database import Database
from rejoinder.store.migrate import upgrade
from rejoinder.store.schema import audit_log, audit_personal

OLD_TEXT = "The original words of Olga"
NEW_TEXT = "The words after the desk's edit"
ADDRESS = "olga@example.org"


def _entry(conn: object, **values: object) -> None:
    sql = text(
        "INSERT INTO audit_log (created_at, site_id, comment_id, actor_kind, actor, action, "
        "before, after, note, data) VALUES (:at, 1, :comment_id, :kind, :actor, :action, "
        ":before, :after, '', :data)"
    )
    conn.execute(sql, values)  # type: ignore[attr-defined]


def test_the_upgrade_moves_personal_fields_out_of_the_log(db_url: str) -> None:
    db = Database(db_url, pool_size=1)
    try:
        upgrade(db, "0009")
        now = datetime(2026, 1, 2, tzinfo=UTC).replace(tzinfo=None)
        with db.write() as conn:
            conn.execute(
                text("INSERT INTO sites (id, name, title, created_at) VALUES (1, 'd', 'N', :now)"),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO articles (id, site_id, slug, title, body_markdown, body_html, "
                    "published_at, created_at, updated_at) "
                    "VALUES (1, 1, 'a', 'A', 'x', 'x', :now, :now, :now)"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO comments (id, article_id, depth, number, author_name, "
                    "author_email, email_key, body_markdown, body_html, status, created_at) "
                    "VALUES (7, 1, 0, 1, 'Olga', :email, :email, :body, 'x', 'published', :now)"
                ),
                {"email": ADDRESS, "body": NEW_TEXT, "now": now},
            )
            common = {"at": now, "comment_id": 7, "kind": "user", "actor": "mod"}
            _entry(conn, **common, action="edit", before=OLD_TEXT, after=NEW_TEXT, data="{}")
            ban = {"ban_id": 1, "kind": "email", "value": ADDRESS, "until": None}
            _entry(
                conn,
                **common,
                action="ban",
                before=None,
                after=f"email:{ADDRESS}",
                data=json.dumps(ban),
            )
            verdict = {"reasons": [f"quotes “{OLD_TEXT}”"], "scores": {"insult": 0.1}}
            _entry(
                conn,
                **{**common, "kind": "machine", "actor": "pipeline"},
                action="verdict",
                before=None,
                after="publish",
                data=json.dumps(verdict),
            )
            _entry(conn, **common, action="approve", before="held", after="published", data="{}")
        upgrade(db)
        with db.read() as conn:
            raw = " ".join(str(tuple(row)) for row in conn.execute(select(audit_log)))
            people = set(conn.execute(select(audit_personal.c.person)).scalars())
            entries = {e.action: e for e in audit_store.list_entries(conn, comment_id=7)}
        assert OLD_TEXT not in raw and NEW_TEXT not in raw and ADDRESS not in raw
        assert people == {ADDRESS}
        assert (entries["edit"].before, entries["edit"].after) == (OLD_TEXT, NEW_TEXT)
        assert entries["ban"].after == f"email:{ADDRESS}"
        assert entries["ban"].data["value"] == ADDRESS and entries["ban"].data["kind"] == "email"
        assert entries["verdict"].data["reasons"] == verdict["reasons"]
        assert entries["approve"].after == "published" and not entries["approve"].erased
        with pytest.raises(DBAPIError), db.write() as conn:
            conn.execute(text("UPDATE audit_log SET note = 'changed'"))
    finally:
        db.dispose()
