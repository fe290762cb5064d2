"""Use cases of desk accounts: users, logins with sessions, API tokens. Passwords are argon2."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from rejoinder.core.errors import Conflict, Forbidden, Invalid, NotFound
from rejoinder.core.models import Role, User
from rejoinder.store import accounts as account_store
from rejoinder.store import audit as audit_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database

if TYPE_CHECKING:
    from sqlalchemy import Connection

SESSION_HOURS = 12
PASSWORD_MIN = 10
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")
# Login attempts: how many may fail in LOGIN_WINDOW, counted by account and by network.
#
# An attempt is counted *before* its password is checked: in one write transaction, which
# takes a lock so that no other attempt counts meanwhile, the attempt's rows are added if
# every budget below has room, or it is refused (429) without any argon2 work. A right
# password takes its rows back; a wrong one leaves them as its failure. So parallel guesses
# cannot all pass the check before any is recorded: at most the budget is ever verified.
#
# "Address" is the client's IPv4 address or IPv6 /64, "group" its IPv4 /24 or IPv6 /48
# (`core.addresses.networks_of`). The budgets:
# - one account from one address: LOGIN_LIMIT_ACCOUNT (the owner's typos, a guesser's
#   patience), and from one group: LOGIN_LIMIT_ACCOUNT_GROUP (rotating addresses in a /24);
# - one address over all accounts: LOGIN_LIMIT_ADDRESS; one group: LOGIN_LIMIT_GROUP;
# - one account from everywhere: LOGIN_LIMIT_ACCOUNT_ALL, much larger. It does not lock the
#   account: past it, only a group that has not failed against the account in the window
#   may try (once, since its first failure makes it one that has). So whoever guesses from
#   one network locks out only that network, the owner logs in from any other, and guessers
#   spread over many networks get one guess per /24 or /48 per window.
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_LIMIT_ACCOUNT = 5
LOGIN_LIMIT_ACCOUNT_GROUP = 10
LOGIN_LIMIT_ADDRESS = 20
LOGIN_LIMIT_GROUP = 60
LOGIN_LIMIT_ACCOUNT_ALL = 50
# Attempts older than LOGIN_WINDOW count for nothing: each login deletes up to this many of
# the oldest (it adds 5), so the table holds about one window's attempts, never more.
LOGIN_PURGE_BATCH = 50
#: How passwords are hashed (REJOINDER_PASSWORD_HASHING): argon2id with RFC 9106's
#: low-memory parameters (64 MiB, 3 passes, 4 lanes: about a quarter of a second of CPU per
#: hash or check), or, for test suites alone, argon2-cffi's cheapest parameters, which
#: protect nothing. A hash carries its parameters, so either kind is checked under either.
PASSWORD_HASHING = {"standard": profiles.RFC_9106_LOW_MEMORY, "test-only": profiles.CHEAPEST}


@dataclass(frozen=True)
class _Hashing:
    profile: str  # a key of PASSWORD_HASHING
    hasher: PasswordHasher


def _hashing_by(profile: str) -> _Hashing:
    return _Hashing(profile, PasswordHasher.from_parameters(PASSWORD_HASHING[profile]))


_hashing = _hashing_by("standard")


def use_password_hashing(name: str) -> None:
    """Hash new passwords in this process with the named parameters (`PASSWORD_HASHING`)."""
    global _hashing
    _hashing = _hashing_by(name)


def _hash(password: str) -> str:
    return _hashing.hasher.hash(_check_password(password))


@functools.cache
def _dummy_hash(profile: str) -> str:
    """A real hash to verify against when the account does not exist, so that the answer
    takes as long; made on the first such login, not when the module is imported."""
    return PasswordHasher.from_parameters(PASSWORD_HASHING[profile]).hash("not a password")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_password(password: str) -> str:
    if len(password) < PASSWORD_MIN:
        raise Invalid("password", f"A password has at least {PASSWORD_MIN} characters.")
    if len(password) > 1000:
        raise Invalid("password", "That password is too long.")
    return password


def add_user(
    db: Database, name: str, role: Role, password: str, now: datetime, sites: Sequence[str] = ()
) -> User:
    """A desk account; `sites` limits it to those sites (none: it acts on every site)."""
    if not _NAME.match(name):
        raise Invalid("name", "A user name is letters, digits, dots, hyphens or underscores.")
    hashed = _hash(password)
    with db.write() as conn:
        if account_store.get_user(conn, name):
            raise Conflict(f"There is already a user named {name!r}.")
        site_ids = _site_ids(conn, sites)
        user = account_store.add_user(conn, name, role, hashed, now)
        account_store.set_staff_sites(conn, user.id, site_ids)
        limited = f" on {', '.join(sorted(set(sites)))}" if sites else ""
        audit_store.add_entry(
            conn,
            at=now,
            actor_kind="system",
            actor="cli",
            action="user_add",
            after=f"{name} ({role}){limited}",
        )
    return replace(user, site_ids=site_ids)


def _site_ids(conn: Connection, names: Sequence[str]) -> frozenset[int]:
    ids = set()
    for name in names:
        site = site_store.get_site(conn, name)
        if site is None:
            raise NotFound(f"There is no site named {name!r}.")
        ids.add(site.id)
    return frozenset(ids)


def set_user_sites(db: Database, name: str, sites: Sequence[str], now: datetime) -> User:
    """Limit an account to these sites; none: it acts on every site again. Its sessions
    carry on, limited from their next request."""
    with db.write() as conn:
        user = _existing(conn, name)
        site_ids = _site_ids(conn, sites)
        account_store.set_staff_sites(conn, user.id, site_ids)
        audit_store.add_entry(
            conn,
            at=now,
            actor_kind="system",
            actor="cli",
            action="user_sites",
            after=f"{name}: {', '.join(sorted(set(sites))) or 'every site'}",
        )
    return replace(user, site_ids=site_ids)


def list_users(db: Database) -> list[User]:
    """Every account, with the sites each is limited to."""
    with db.read() as conn:
        limits = account_store.list_all_staff_site_ids(conn)
        return [
            replace(user, site_ids=limits.get(user.id, frozenset()))
            for user in account_store.list_users(conn)
        ]


def _with_sites(conn: Connection, user: User) -> User:
    return replace(user, site_ids=account_store.list_staff_site_ids(conn, user.id))


def _existing(conn: Connection, name: str) -> User:
    user = account_store.get_user(conn, name)
    if user is None:
        raise NotFound(f"There is no user named {name!r}.")
    return user


def set_password(db: Database, name: str, password: str, now: datetime) -> None:
    hashed = _hash(password)
    with db.write() as conn:
        user = _existing(conn, name)
        account_store.update_user(conn, user.id, now, password_hash=hashed)
        account_store.delete_user_sessions(conn, user.id)  # a new password ends old sessions
        audit_store.add_entry(
            conn, at=now, actor_kind="system", actor="cli", action="user_passwd", after=name
        )


def set_disabled(db: Database, name: str, disabled: bool, now: datetime) -> None:
    with db.write() as conn:
        user = _existing(conn, name)
        account_store.update_user(conn, user.id, now, disabled=disabled)
        if disabled:
            account_store.delete_user_sessions(conn, user.id)
        action = "user_disable" if disabled else "user_enable"
        audit_store.add_entry(
            conn, at=now, actor_kind="system", actor="cli", action=action, after=name
        )


@dataclass(frozen=True)
class Login:
    user: User
    token: str  # goes in the cookie; only its SHA-256 is stored
    csrf: str
    expires: datetime


def _login_keys(name: str, ip_hash: str, group_hash: str) -> dict[str, str]:
    """The keys an attempt is counted under (hashed: names and networks stay out of them)."""

    def key(kind: str, *parts: str) -> str:
        return f"{kind}:{hashlib.sha256(chr(0).join(parts).encode()).hexdigest()[:40]}"

    account = name.lower()[:60]
    return {
        "account": key("acct", account),
        "account_address": key("acct-addr", account, ip_hash),
        "account_group": key("acct-group", account, group_hash),
        "address": key("addr", ip_hash),
        "group": key("group", group_hash),
    }


def _login_refused(counts: dict[str, int]) -> bool:
    return (
        counts["account_address"] >= LOGIN_LIMIT_ACCOUNT
        or counts["account_group"] >= LOGIN_LIMIT_ACCOUNT_GROUP
        or counts["address"] >= LOGIN_LIMIT_ADDRESS
        or counts["group"] >= LOGIN_LIMIT_GROUP
        or (counts["account"] >= LOGIN_LIMIT_ACCOUNT_ALL and counts["account_group"] > 0)
    )


def log_in(
    db: Database, name: str, password: str, ip_hash: str, group_hash: str, now: datetime
) -> Login:
    """Count the attempt, check the password, open a session (the limits: see LOGIN_WINDOW);
    `ip_hash` and `group_hash` are the client's address and group, hashed."""
    keys = _login_keys(name, ip_hash, group_hash)
    with db.write() as conn:
        account_store.lock_login_attempts(conn)
        account_store.purge_login_attempts(conn, now - LOGIN_WINDOW, LOGIN_PURGE_BATCH)
        counted = account_store.count_login_attempts(conn, list(keys.values()), now - LOGIN_WINDOW)
        refused = _login_refused({kind: counted.get(key, 0) for kind, key in keys.items()})
        reserved = (
            [] if refused else account_store.add_login_attempts(conn, list(keys.values()), now)
        )
        found = account_store.get_password_hash(conn, name)
    if refused:
        raise Forbidden("Too many failed attempts; wait 15 minutes and try again.")
    try:
        hashing = _hashing
        hashing.hasher.verify(found[1] if found else _dummy_hash(hashing.profile), password)
        ok = found is not None and not found[0].disabled
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or found is None:  # the reserved rows stay: they are this failure
        raise Invalid("password", "That name and password do not match an active account.")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + timedelta(hours=SESSION_HOURS)
    with db.write() as conn:
        account_store.delete_login_attempts(conn, reserved)  # a success costs no budget
        account_store.add_session(conn, _digest(token), found[0].id, csrf, now, expires)
    return Login(user=found[0], token=token, csrf=csrf, expires=expires)


def session_user(db: Database, token: str, now: datetime) -> tuple[User, str] | None:
    """The user and CSRF token of a live session, or None."""
    if not token or len(token) > 200:
        return None
    with db.read() as conn:
        found = account_store.get_session(conn, _digest(token), now)
        return (_with_sites(conn, found[0]), found[1]) if found else None


def log_out(db: Database, token: str) -> None:
    with db.write() as conn:
        account_store.delete_session(conn, _digest(token))


def add_token(db: Database, user_name: str, token_name: str, now: datetime) -> str:
    """A new API token for the user; shown once, stored as its SHA-256."""
    token = "rjt_" + secrets.token_urlsafe(32)
    with db.write() as conn:
        user = _existing(conn, user_name)
        account_store.add_token(conn, user.id, token_name[:60] or "token", _digest(token), now)
        audit_store.add_entry(
            conn,
            at=now,
            actor_kind="system",
            actor="cli",
            action="token_add",
            after=f"{user_name}: {token_name}",
        )
    return token


def token_user(db: Database, token: str, now: datetime) -> User | None:
    if not token.startswith("rjt_") or len(token) > 200:
        return None
    with db.write() as conn:
        user = account_store.get_token_user(conn, _digest(token), now)
        return _with_sites(conn, user) if user else None
