"""Desk accounts: the user and token commands, logging in and out, sessions that end, the
login limits, CSRF on the login form, and the admin API's bearer tokens."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from rejoinder.core.models import Role
from rejoinder.store import accounts as account_store
from rejoinder.store.database import Database
from rejoinder.store.schema import sessions, users
from rejoinder.usecases.accounts import add_user
from tests import ERROR_KEYS, PASSWORD, desk_csrf, login_csrf, parse_html
from tests.conftest import App, Databases, cli

DESK_PAGE = "/admin/audit"  # a desk page any logged-in moderator may open


@dataclass
class Accounts:
    app: App
    db: Database
    tmp: Path

    @property
    def url(self) -> str:
        return self.app.url

    def password_file(self, password: str = PASSWORD) -> str:
        path = self.tmp / f"pw-{uuid.uuid4().hex[:8]}"
        path.write_text(password + "\n", encoding="utf-8")
        return str(path)

    def cli(self, *args: str, check: bool = True) -> str:
        done = cli(*args, db_url=self.app.db_url, check=check)
        return done.stdout + done.stderr

    def add_user(self, role: str = "moderator", password: str = PASSWORD) -> str:
        """A new account through the use case the command runs (a process less per test)."""
        name = f"u{uuid.uuid4().hex[:10]}"
        add_user(self.db, name, Role(role), password, datetime.now(UTC))
        return name

    def client(self) -> httpx.Client:
        return self.app.client()


@pytest.fixture(scope="module")
def accounts(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Accounts]:
    tmp = tmp_path_factory.mktemp("accounts")
    db_url = databases.new()
    app = App(db_url).start()
    db = Database(db_url, pool_size=2)
    try:
        yield Accounts(app, db, tmp)
    finally:
        db.dispose()
        app.stop()


def attempt(http: httpx.Client, name: str, password: str) -> httpx.Response:
    token = login_csrf(http)
    return http.post(
        "/admin/login", data={"name": name, "password": password, "csrf": token, "next": DESK_PAGE}
    )


def is_sent_to_login(response: httpx.Response) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/admin/login")


def set_cookie(response: httpx.Response, name: str) -> dict[str, str]:
    """The attributes of one Set-Cookie header, lower-cased keys ('' for flags)."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(name + "="):
            parts = [p.strip() for p in header.split(";")]
            attributes = {"value": parts[0].split("=", 1)[1]}
            for part in parts[1:]:
                key, _, value = part.partition("=")
                attributes[key.lower()] = value
            return attributes
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


# -- The commands -------------------------------------------------------------------------


def user_list(accounts: Accounts) -> dict[str, list[str]]:
    lines = accounts.cli("user", "list").splitlines()
    return {line.split("\t")[0]: line.split("\t")[1:] for line in lines}


def test_user_add_list_disable_enable_and_token_add(accounts: Accounts) -> None:
    admin, moderator = f"a{uuid.uuid4().hex[:8]}", f"m{uuid.uuid4().hex[:8]}"
    pw = accounts.password_file()
    added = accounts.cli("user", "add", admin, "--role", "admin", "--password-file", pw)
    assert f"Added admin {admin}" in added
    accounts.cli("user", "add", moderator, "--password-file", pw)  # moderator by default
    listed = user_list(accounts)
    assert listed[admin] == ["admin", "active", "every site"]
    assert listed[moderator] == ["moderator", "active", "every site"]
    assert f"Disabled {moderator}" in accounts.cli("user", "disable", moderator)
    assert user_list(accounts)[moderator] == ["moderator", "disabled", "every site"]
    assert f"Enabled {moderator}" in accounts.cli("user", "enable", moderator)
    token = accounts.cli("token", "add", admin, "--name", "nightly").strip()
    assert re.fullmatch(r"rjt_[A-Za-z0-9_-]{40,}", token)
    with accounts.db.read() as conn:
        stored = conn.execute(
            select(users.c.password_hash).where(users.c.name == admin)
        ).scalar_one()
    assert stored.startswith("$argon2") and PASSWORD not in stored


# -- Logging in and out -------------------------------------------------------------------


def test_login_sets_an_httponly_samesite_lax_session_cookie(accounts: Accounts) -> None:
    name = accounts.add_user()
    with accounts.client() as http:
        done = attempt(http, name, PASSWORD)
        assert done.status_code == 303 and done.headers["location"] == DESK_PAGE
        cookie = set_cookie(done, "rj_desk")
        assert "httponly" in cookie and cookie["samesite"].lower() == "lax"
        assert cookie["path"] == "/" and int(cookie["max-age"]) > 0
        assert "secure" not in cookie  # plain HTTP here; see the HTTPS test below
        page = http.get(DESK_PAGE)
        assert page.status_code == 200 and name in page.text


def test_with_secure_cookies_the_session_cookie_is_secure(
    databases: Databases, tmp_path: Path
) -> None:
    db_url = databases.new()
    app = App(db_url, env={"REJOINDER_SECURE_COOKIES": "true"}).start()
    try:
        pw = tmp_path / "pw"
        pw.write_text(PASSWORD)
        cli("user", "add", "sec", "--password-file", str(pw), db_url=db_url)
        with app.client() as http:
            form = http.get("/admin/login")
            assert "secure" in set_cookie(form, "rj_login")
            # A browser sends Secure cookies over HTTPS only; this test speaks HTTP, so by hand.
            nonce = set_cookie(form, "rj_login")["value"]
            [token] = parse_html(form.text).xpath('//input[@name="csrf"]/@value')
            http.cookies.clear()
            done = http.post(
                "/admin/login",
                data={"name": "sec", "password": PASSWORD, "csrf": token},
                headers={"Cookie": f"rj_login={nonce}"},
            )
        assert done.status_code == 303, done.text
        cookie = set_cookie(done, "rj_desk")
        assert {"secure", "httponly"} <= set(cookie) and cookie["samesite"].lower() == "lax"
    finally:
        app.stop()


def test_a_wrong_password_answers_401_with_the_message_beside_the_form(accounts: Accounts) -> None:
    name = accounts.add_user()
    with accounts.client() as http:
        done = attempt(http, name, "not the password")
        assert done.status_code == 401
        page = parse_html(done.text)
        [error] = page.xpath('//form[@action="/admin/login"]//p[@id="login-error"]')
        assert "do not match" in error.text_content()
        assert page.xpath('//input[@name="name"]/@value') == [name]
        assert page.xpath('//input[@name="password"]/@aria-describedby') == ["login-error"]
        assert "rj_desk" not in done.headers.get("set-cookie", "")
        assert is_sent_to_login(http.get(DESK_PAGE))


def test_five_failures_lock_the_account_even_with_the_right_password(accounts: Accounts) -> None:
    name, other = accounts.add_user(), accounts.add_user()
    with accounts.client() as http:
        for _ in range(5):
            assert attempt(http, name, "wrong password!").status_code == 401
        locked = attempt(http, name, PASSWORD)
        assert locked.status_code == 429
        assert "too many" in locked.text.lower()
        assert "rj_desk" not in locked.headers.get("set-cookie", "")
        # The lock is per account: someone else from the same address still gets in.
        assert attempt(http, other, PASSWORD).status_code == 303


def test_the_login_form_without_its_csrf_token_is_refused(accounts: Accounts) -> None:
    name = accounts.add_user()
    with accounts.client() as http:
        token = login_csrf(http)
        for data in (
            {"name": name, "password": PASSWORD},
            {"name": name, "password": PASSWORD, "csrf": "forged." + token[6:]},
        ):
            refused = http.post("/admin/login", data=data)
            assert refused.status_code == 403
            assert "rj_desk" not in refused.headers.get("set-cookie", "")
        # The token of another browser (its cookie missing here) does not do either.
        with accounts.client() as stranger:
            done = stranger.post(
                "/admin/login", data={"name": name, "password": PASSWORD, "csrf": token}
            )
            assert done.status_code == 403
        assert attempt(http, name, PASSWORD).status_code == 303


def test_logout_ends_the_session(accounts: Accounts) -> None:
    name = accounts.add_user()
    with accounts.client() as http:
        assert attempt(http, name, PASSWORD).status_code == 303
        session = http.cookies["rj_desk"]
        csrf = desk_csrf(http)
        assert http.post("/admin/logout", data={}).status_code == 403  # CSRF applies here too
        assert http.get(DESK_PAGE).status_code == 200
        out = http.post("/admin/logout", data={"csrf": csrf})
        assert is_sent_to_login(out)
    with accounts.client() as replay:
        replay.cookies.set("rj_desk", session)
        assert is_sent_to_login(replay.get(DESK_PAGE))


def test_disabling_a_user_ends_their_sessions_and_logins(accounts: Accounts) -> None:
    name = accounts.add_user()
    with accounts.client() as http:
        assert attempt(http, name, PASSWORD).status_code == 303
        assert http.get(DESK_PAGE).status_code == 200
        accounts.cli("user", "disable", name)
        assert is_sent_to_login(http.get(DESK_PAGE))
        assert attempt(http, name, PASSWORD).status_code == 401
        accounts.cli("user", "enable", name)
        assert attempt(http, name, PASSWORD).status_code == 303


def test_an_expired_session_redirects_to_login(accounts: Accounts) -> None:
    name = accounts.add_user()
    now = datetime.now(UTC)
    token = f"expired-{uuid.uuid4().hex}"
    with accounts.db.write() as conn:
        user = account_store.get_user(conn, name)
        assert user is not None
        account_store.add_session(
            conn,
            hashlib.sha256(token.encode()).hexdigest(),
            user.id,
            "csrf-x",
            now - timedelta(hours=13),
            now - timedelta(minutes=1),
        )
    with accounts.client() as http:
        http.cookies.set("rj_desk", token)
        response = http.get(DESK_PAGE + "?action=verdict")
        assert is_sent_to_login(response)
        assert "next=/admin/audit?action=verdict" in response.headers["location"]
        # The API says 401 instead, with the error shape.
        api = http.get("/api/v1/admin/audit")
        assert api.status_code == 401 and set(api.json()) == ERROR_KEYS


def test_passwd_ends_existing_sessions_and_changes_the_password(accounts: Accounts) -> None:
    name = accounts.add_user()
    with accounts.client() as http:
        assert attempt(http, name, PASSWORD).status_code == 303
        with accounts.db.read() as conn:
            assert conn.execute(
                select(sessions.c.id).join(users).where(users.c.name == name)
            ).first()
        accounts.cli(
            "user", "passwd", name, "--password-file", accounts.password_file("a new long password")
        )
        assert is_sent_to_login(http.get(DESK_PAGE))
        with accounts.db.read() as conn:
            assert not conn.execute(
                select(sessions.c.id).join(users).where(users.c.name == name)
            ).first()
        assert attempt(http, name, PASSWORD).status_code == 401
        assert attempt(http, name, "a new long password").status_code == 303


# -- The admin API ------------------------------------------------------------------------


def test_admin_api_wants_a_good_token_or_a_session(accounts: Accounts) -> None:
    name = accounts.add_user("admin")
    token = accounts.cli("token", "add", name).strip()
    address = accounts.url + "/api/v1/admin/audit"
    missing = accounts.app.get(address)
    assert missing.status_code == 401
    assert set(missing.json()) == ERROR_KEYS and missing.json()["error"] == "unauthorized"
    assert missing.headers["www-authenticate"] == "Bearer"
    for bad in ("rjt_not-a-real-token", "test-admin-token", token + "x", token[:-1]):
        response = accounts.app.get(address, headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401 and set(response.json()) == ERROR_KEYS
    good = accounts.app.get(address, headers={"Authorization": f"Bearer {token}"})
    assert good.status_code == 200
    actions = {entry["action"] for entry in good.json()["entries"]}
    assert {"user_add", "token_add"} <= actions
    # A desk session works too (a GET needs no CSRF header).
    with accounts.client() as http:
        assert attempt(http, name, PASSWORD).status_code == 303
        assert http.get("/api/v1/admin/audit").status_code == 200
    # A disabled user's token stops working.
    accounts.cli("user", "disable", name)
    assert (
        accounts.app.get(address, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )
