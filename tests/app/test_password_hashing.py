"""Desk passwords: argon2id with RFC 9106's low-memory parameters unless a test suite asks
for the cheapest (REJOINDER_PASSWORD_HASHING), and a hash made under either is checked under
the other (a hash carries its own parameters)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import extract_parameters, profiles

from rejoinder.core.errors import Invalid
from rejoinder.core.models import Role
from rejoinder.settings import Settings
from rejoinder.store import accounts as account_store
from rejoinder.store.database import Database
from rejoinder.usecases import accounts
from tests.conftest import Databases

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@pytest.mark.one_backend  # settings and parameters, no database
def test_the_standard_is_rfc_9106_low_memory_and_tests_alone_say_otherwise() -> None:
    assert Settings.model_fields["password_hashing"].default == "standard"
    standard = accounts.PASSWORD_HASHING["standard"]
    assert standard == profiles.RFC_9106_LOW_MEMORY
    assert (standard.memory_cost, standard.time_cost, standard.parallelism) == (65536, 3, 4)
    assert Settings(password_hashing="test-only").password_hashing == "test-only"
    with pytest.raises(ValueError):
        Settings(password_hashing="md5")  # type: ignore[arg-type]


def test_an_account_made_under_one_kind_logs_in_under_the_other(databases: Databases) -> None:
    from rejoinder.store.migrate import upgrade

    db = Database(databases.new(), pool_size=1)
    upgrade(db)
    try:
        accounts.use_password_hashing("standard")
        accounts.add_user(db, "strong", Role.ADMIN, PASSWORD, NOW)
        accounts.use_password_hashing("test-only")
        accounts.add_user(db, "cheap", Role.ADMIN, PASSWORD, NOW)
        with db.read() as conn:
            strong = account_store.get_password_hash(conn, "strong")
            cheap = account_store.get_password_hash(conn, "cheap")
        assert strong is not None and cheap is not None
        assert extract_parameters(strong[1]).memory_cost == 65536
        assert extract_parameters(cheap[1]) == profiles.CHEAPEST

        for name, hashing in (("strong", "test-only"), ("cheap", "standard")):
            accounts.use_password_hashing(hashing)
            assert accounts.log_in(db, name, PASSWORD, "ip", "group", NOW).csrf
            with pytest.raises(Invalid):
                accounts.log_in(db, name, "not the password", "ip2", "group2", NOW)
    finally:
        accounts.use_password_hashing("test-only")
        db.dispose()
