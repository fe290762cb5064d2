"""Verified addresses, by their normal form (`core.emails.normal_address`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from rejoinder.core.emails import normal_address
from rejoinder.store.schema import verified_addresses


def is_verified(conn: Connection, address: str) -> bool:
    query = select(verified_addresses.c.address).where(
        verified_addresses.c.address == normal_address(address)
    )
    return conn.execute(query).first() is not None


def verified_among(conn: Connection, addresses: Iterable[str]) -> set[str]:
    """The normal forms of those of `addresses` that are verified."""
    wanted = sorted({normal_address(a) for a in addresses if a})
    if not wanted:
        return set()
    query = select(verified_addresses.c.address).where(verified_addresses.c.address.in_(wanted))
    return set(conn.execute(query).scalars())


def mark_verified(conn: Connection, address: str, now: datetime) -> bool:
    """Record the address as verified; False when it already was."""
    insert_ = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    # Two clicks at once both succeed: the second finds the row and adds nothing.
    added = conn.execute(
        insert_(verified_addresses)
        .values(address=normal_address(address), verified_at=now)
        .on_conflict_do_nothing(index_elements=[verified_addresses.c.address])
    )
    return added.rowcount == 1
