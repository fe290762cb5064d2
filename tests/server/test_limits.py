"""Per-network limits against real servers: an IPv6 /64 is one address and a /24 has a budget;
logins are counted before their password is checked and cannot lock the owner out; the
counts are shared through Redis; forwarding headers are believed only from trusted proxies.

Every server here sits behind a pretend proxy on 127.0.0.1 (REJOINDER_TRUSTED_PROXIES), so
X-Forwarded-For gives each request the address a test chooses, except the `untrusted` one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from rejoinder.usecases import accounts as account_rules
from rejoinder.usecases.budgets import CHECKS, REPORTS
from tests import parse_html, post
from tests.conftest import REDIS_URL, Databases, Server, add_staff

TRUSTING = {"REJOINDER_TRUSTED_PROXIES": "127.0.0.1"}
MODERATED = {**TRUSTING, "REJOINDER_MODERATION": "true", "REJOINDER_MODERATION_MODEL": "false"}
PASSWORD = "the owner's long password"


def _serve(databases: Databases, tmp: Path, env: dict[str, str], workers: int = 1) -> Server:
    return Server(databases.new(), env=env, workers=workers, log=tmp / "server.log").start()


@pytest.fixture(scope="module")
def moderated(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = _serve(databases, tmp_path_factory.mktemp("limits-moderated"), MODERATED)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def plain(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = _serve(databases, tmp_path_factory.mktemp("limits-plain"), TRUSTING)
    try:
        yield server
    finally:
        server.stop()


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def _check(server: Server, address: str) -> int:
    response = httpx.post(
        server.url + "/api/v1/moderation/check",
        json={"text": "A calm remark about the budget."},
        headers=_from(address),
        timeout=30,
    )
    assert response.status_code in (200, 429), response.text
    return response.status_code


def _prefix6() -> str:
    """A /64 of the documentation range, different for each test."""
    return f"2001:db8:{uuid.uuid4().int % 0xFFFF:x}:{uuid.uuid4().int % 0xFFFF:x}"


# -- The moderation check endpoint --------------------------------------------------------


def test_checks_from_rotating_ipv6_addresses_of_one_64_share_one_limit(moderated: Server) -> None:
    prefix = _prefix6()
    answers = [_check(moderated, f"{prefix}::{i + 1:x}") for i in range(CHECKS.per_address + 2)]
    assert answers.count(200) == CHECKS.per_address
    assert answers[-2:] == [429, 429]
    # The next /64 is another subscriber: its own limit.
    assert _check(moderated, f"{prefix[:-1]}{'0' if prefix[-1] != '0' else '1'}::1") == 200


def test_checks_from_many_addresses_of_one_ipv4_24_share_its_budget(moderated: Server) -> None:
    net = f"198.18.{uuid.uuid4().int % 250}"
    hosts = range(1, CHECKS.per_group // CHECKS.per_address + 2)
    answers = {
        h: [_check(moderated, f"{net}.{h}") for _ in range(CHECKS.per_address)] for h in hosts
    }
    passed = sum(a.count(200) for a in answers.values())
    assert passed == CHECKS.per_group
    assert answers[hosts[-1]] == [429] * CHECKS.per_address  # a fresh address of a spent /24


def test_a_429_from_the_check_endpoint_says_when_to_come_back(moderated: Server) -> None:
    address = f"{_prefix6()}::1"
    while _check(moderated, address) == 200:
        pass
    response = httpx.post(
        moderated.url + "/api/v1/moderation/check",
        json={"text": "Again."},
        headers=_from(address),
        timeout=30,
    )
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    assert 1 <= int(response.headers["retry-after"]) <= CHECKS.window


# -- Forwarding headers -------------------------------------------------------------------


@pytest.fixture(scope="module")
def untrusted(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """No trusted proxies (the default): every request is its socket's peer, 127.0.0.1."""
    env = {**MODERATED, "REJOINDER_TRUSTED_PROXIES": ""}  # over the test servers' 127.0.0.1
    server = _serve(databases, tmp_path_factory.mktemp("limits-untrusted"), env)
    try:
        yield server
    finally:
        server.stop()


def test_forwarding_headers_from_an_untrusted_peer_are_ignored(untrusted: Server) -> None:
    answers = []
    for i in range(CHECKS.per_address + 1):
        spoofed = {
            "X-Forwarded-For": f"203.0.113.{i + 1}",
            "Forwarded": f"for=198.51.100.{i + 1}",
        }
        response = httpx.post(
            untrusted.url + "/api/v1/moderation/check",
            json={"text": "A calm remark."},
            headers=spoofed,
            timeout=30,
        )
        answers.append(response.status_code)
    assert answers.count(200) == CHECKS.per_address and answers[-1] == 429


def test_a_trusted_proxy_is_walked_past_and_the_client_forged_hop_is_not_believed(
    moderated: Server,
) -> None:
    """Our proxy appends the address it saw to what the client sent: the client can put
    anything first, and it must not buy a fresh budget."""
    client = f"{_prefix6()}::1"
    answers = [
        _check(moderated, f"192.0.2.{i % 250 + 1}, {client}") for i in range(CHECKS.per_address + 1)
    ]
    assert answers.count(200) == CHECKS.per_address and answers[-1] == 429


# -- Logins -------------------------------------------------------------------------------


def _add_user(server: Server, tmp: Path, role: str = "admin") -> str:
    name = f"user{uuid.uuid4().hex[:8]}"
    add_staff(server.db_url, name, role, password=PASSWORD)
    return name


def _login_form(server: Server, address: str) -> tuple[httpx.Client, str]:
    http = httpx.Client(base_url=server.url, timeout=60, headers=_from(address))
    form = http.get("/admin/login")
    assert form.status_code == 200
    [token] = parse_html(form.text).xpath('//input[@name="csrf"]/@value')
    return http, str(token)


def _log_in(server: Server, name: str, password: str, address: str) -> int:
    http, token = _login_form(server, address)
    try:
        response = http.post(
            "/admin/login", data={"name": name, "password": password, "csrf": token}
        )
    finally:
        http.close()
    assert response.status_code in (303, 401, 429), response.text
    return response.status_code


def test_parallel_wrong_passwords_are_counted_before_any_is_checked(
    plain: Server, tmp_path: Path
) -> None:
    name = _add_user(plain, tmp_path)
    address = f"{_prefix6()}::7"
    forms = [_login_form(plain, address) for _ in range(40)]

    def guess(form: tuple[httpx.Client, str]) -> int:
        http, token = form
        try:
            data = {"name": name, "password": "a wrong guess!", "csrf": token}
            return http.post("/admin/login", data=data).status_code
        finally:
            http.close()

    with ThreadPoolExecutor(40) as pool:
        answers = list(pool.map(guess, forms))
    # 401: the password was checked and was wrong; 429: refused before argon2 ran.
    assert answers.count(401) == account_rules.LOGIN_LIMIT_ACCOUNT
    assert answers.count(429) == 40 - account_rules.LOGIN_LIMIT_ACCOUNT


def test_wrong_passwords_from_one_network_do_not_lock_the_owner_out_of_another(
    plain: Server, tmp_path: Path
) -> None:
    name = _add_user(plain, tmp_path)
    attacker = f"{_prefix6()}::66"
    for _ in range(account_rules.LOGIN_LIMIT_ACCOUNT):
        assert _log_in(plain, name, "a wrong guess!", attacker) == 401
    assert _log_in(plain, name, PASSWORD, attacker) == 429  # that network is locked out
    assert _log_in(plain, name, PASSWORD, "198.51.100.20") == 303  # the owner, elsewhere


def test_rotating_addresses_within_a_64_do_not_buy_more_guesses(
    plain: Server, tmp_path: Path
) -> None:
    name = _add_user(plain, tmp_path)
    prefix = _prefix6()
    answers = [
        _log_in(plain, name, "a wrong guess!", f"{prefix}::{i + 1:x}")
        for i in range(account_rules.LOGIN_LIMIT_ACCOUNT + 1)
    ]
    assert answers[:-1] == [401] * account_rules.LOGIN_LIMIT_ACCOUNT and answers[-1] == 429


def test_guesses_from_many_networks_slow_an_account_but_a_fresh_network_gets_in(
    plain: Server, tmp_path: Path
) -> None:
    name = _add_user(plain, tmp_path)
    per_group = account_rules.LOGIN_LIMIT_ACCOUNT_GROUP - 1  # no group spends its own budget
    groups = -(-account_rules.LOGIN_LIMIT_ACCOUNT_ALL // per_group)  # enough to spend the account's
    tag = uuid.uuid4().int % 200
    for g in range(groups):
        for i in range(per_group):
            host = f"100.{64 + g}.{tag}.{i + 1}"  # one /24 per group, a new address each time
            assert _log_in(plain, name, "a wrong guess!", host) in (401, 429)
    # Past the account's budget, a network that has failed against it may not try again...
    assert _log_in(plain, name, PASSWORD, f"100.64.{tag}.200") == 429
    # ... but a network that has not may: the owner logs in.
    assert _log_in(plain, name, PASSWORD, f"100.99.{tag}.1") == 303


# -- Reports ------------------------------------------------------------------------------


def _report(server: Server, comment_id: int, address: str) -> int:
    response = httpx.post(
        f"{server.url}/comments/{comment_id}/report",
        data={"reason": "spam"},
        headers=_from(address),
        timeout=30,
    )
    assert response.status_code in (303, 409, 429), response.text
    return response.status_code


def _comments(server: Server, count: int) -> list[int]:
    slug = str(server.publish()["slug"])
    with httpx.Client(base_url=server.url, timeout=30) as http:
        return [int(post(http, slug)["id"]) for _ in range(count)]


def test_reports_from_rotating_ipv6_addresses_of_one_64_share_one_hourly_limit(
    plain: Server,
) -> None:
    prefix = _prefix6()
    ids = _comments(plain, REPORTS.per_address + 1)
    answers = [_report(plain, c, f"{prefix}::{i + 1:x}") for i, c in enumerate(ids)]
    assert answers == [303] * REPORTS.per_address + [429]


def test_reports_from_many_addresses_of_one_ipv4_24_share_its_budget(plain: Server) -> None:
    net = f"198.19.{uuid.uuid4().int % 250}"
    ids = _comments(plain, REPORTS.per_group + 1)
    answers = [
        _report(plain, c, f"{net}.{i // REPORTS.per_address + 1}") for i, c in enumerate(ids)
    ]
    assert answers == [303] * REPORTS.per_group + [429]


# -- Shared through Redis -----------------------------------------------------------------


@pytest.mark.skipif(not REDIS_URL, reason="REJOINDER_TEST_REDIS_URL is not set")
def test_the_check_limit_is_shared_by_two_workers_through_redis(
    databases: Databases, tmp_path: Path
) -> None:
    import redis

    server = _serve(databases, tmp_path, {**MODERATED, "REJOINDER_REDIS_URL": REDIS_URL or ""}, 2)
    try:
        address = f"{_prefix6()}::1"
        # A new connection each time, so both workers answer some of them.
        answers = [_check(server, address) for _ in range(CHECKS.per_address + 10)]
    finally:
        server.stop()
    assert answers.count(200) == CHECKS.per_address
    client = redis.Redis.from_url(REDIS_URL or "")
    try:
        keys = [key.decode() for key in client.scan_iter("rj:limit:check:*", count=1000)]
    finally:
        client.close()
    assert keys and not any("2001:db8" in key for key in keys)  # hashes, never the address
