"""The rows behind telling people: notices gathered until due, the opaque number of each
address mail went to, readers' unsubscriptions, the discussions readers follow, and staff
members' alert choices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, delete, exists, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from rejoinder.store.schema import (
    discussion_follows,
    mail_recipients,
    notices,
    notify_optouts,
    staff_alerts,
    staff_sites,
    users,
    verified_addresses,
)

EVERY_DISCUSSION = 0  # notify_optouts.article_id of an unsubscription from the whole site


@dataclass(frozen=True)
class Notice:
    id: int
    site_id: int
    topic: str
    recipient: str
    address: str
    comment_id: int
    reason: str
    due_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class Group:
    """The notices that become one mail."""

    site_id: int
    topic: str
    recipient: str


@dataclass(frozen=True)
class AlertChoice:
    user_id: int
    site_id: int
    frequency: str
    address: str


# A notice joins its group's time: the group's earliest due_at, else its own. One statement,
# built once (it is on the posting path).
_GROUP_DUE = (
    select(func.min(notices.c.due_at))
    .where(
        notices.c.site_id == bindparam("group_site"),
        notices.c.topic == bindparam("group_topic"),
        notices.c.recipient == bindparam("group_recipient"),
    )
    .scalar_subquery()
)
_ADD_NOTICE = insert(notices).values(
    due_at=func.coalesce(_GROUP_DUE, bindparam("own_due", type_=notices.c.due_at.type))
)


def add_notice(
    conn: Connection,
    *,
    site_id: int,
    topic: str,
    recipient: str,
    address: str,
    comment_id: int,
    reason: str,
    due_at: datetime,
    now: datetime,
) -> None:
    """A notice joins its group; the group's first notice set when the group is due, so later
    ones wait with it rather than each starting their own interval."""
    conn.execute(
        _ADD_NOTICE,
        {
            "site_id": site_id,
            "topic": topic,
            "recipient": recipient,
            "address": address,
            "comment_id": comment_id,
            "reason": reason,
            "created_at": now,
            "group_site": site_id,
            "group_topic": topic,
            "group_recipient": recipient,
            "own_due": due_at,
        },
    )


def due_groups(conn: Connection, now: datetime, limit: int) -> list[Group]:
    query = (
        select(notices.c.site_id, notices.c.topic, notices.c.recipient)
        .group_by(notices.c.site_id, notices.c.topic, notices.c.recipient)
        .having(func.min(notices.c.due_at) <= now)
        .order_by(func.min(notices.c.due_at))
        .limit(limit)
    )
    return [Group(int(r.site_id), str(r.topic), str(r.recipient)) for r in conn.execute(query)]


def group_notices(conn: Connection, group: Group) -> list[Notice]:
    query = (
        select(notices)
        .where(
            notices.c.site_id == group.site_id,
            notices.c.topic == group.topic,
            notices.c.recipient == group.recipient,
        )
        .order_by(notices.c.id)
    )
    return [Notice(**dict(row)) for row in conn.execute(query).mappings()]


def take_notices(conn: Connection, ids: Sequence[int]) -> set[int]:
    """Delete the notices (made into a mail); the ids of those that were still there. On
    PostgreSQL a row another worker is taking waits for its transaction, then is gone."""
    if not ids:
        return set()
    taken = conn.execute(
        delete(notices).where(notices.c.id.in_(list(ids))).returning(notices.c.id)
    ).scalars()
    return {int(i) for i in taken}


def pending_notices(conn: Connection) -> list[Notice]:
    query = select(notices).order_by(notices.c.id)
    return [Notice(**dict(row)) for row in conn.execute(query).mappings()]


def recipient_id(conn: Connection, address: str, now: datetime) -> int:
    """The opaque number of a normalised address, made on first use."""
    insert_ = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    conn.execute(
        insert_(mail_recipients)
        .values(address=address, created_at=now)
        .on_conflict_do_nothing(index_elements=[mail_recipients.c.address])
    )
    query = select(mail_recipients.c.id).where(mail_recipients.c.address == address)
    return int(conn.execute(query).scalar_one())


def recipient_address(conn: Connection, number: int) -> str | None:
    query = select(mail_recipients.c.address).where(mail_recipients.c.id == number)
    found = conn.execute(query).scalar_one_or_none()
    return str(found) if found is not None else None


def opt_out(
    conn: Connection, *, recipient: int, site_id: int, article_id: int, now: datetime
) -> None:
    """No more reply notifications to the recipient on one discussion, or on the site
    (`EVERY_DISCUSSION`); again is fine."""
    insert_ = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    conn.execute(
        insert_(notify_optouts)
        .values(recipient_id=recipient, site_id=site_id, article_id=article_id, created_at=now)
        .on_conflict_do_nothing()
    )


def opted_out(conn: Connection, *, address: str, site_id: int, article_id: int) -> bool:
    """Whether the normalised address asked for no reply notifications on this discussion."""
    query = select(
        exists().where(
            notify_optouts.c.recipient_id == mail_recipients.c.id,
            mail_recipients.c.address == address,
            notify_optouts.c.site_id == site_id,
            notify_optouts.c.article_id.in_([article_id, EVERY_DISCUSSION]),
        )
    )
    return bool(conn.execute(query).scalar())


def add_follow(
    conn: Connection, *, article_id: int, recipient: str, address: str, now: datetime
) -> None:
    """The reader follows the discussion (again is fine: the address as last typed)."""
    insert_ = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    conn.execute(
        insert_(discussion_follows)
        .values(article_id=article_id, recipient=recipient, address=address, created_at=now)
        .on_conflict_do_update(
            index_elements=[discussion_follows.c.article_id, discussion_follows.c.recipient],
            set_={"address": address},
        )
    )


# On the posting path: built once.
_FOLLOWERS = (
    select(discussion_follows.c.recipient, discussion_follows.c.address)
    .where(discussion_follows.c.article_id == bindparam("article_id"))
    .order_by(discussion_follows.c.recipient)
)


def followers(conn: Connection, article_id: int) -> list[tuple[str, str]]:
    """(normal address, address as typed) of the discussion's followers."""
    found = conn.execute(_FOLLOWERS, {"article_id": article_id})
    return [(str(r.recipient), str(r.address)) for r in found]


_REACHABLE = select(verified_addresses.c.address).where(
    verified_addresses.c.address.in_(bindparam("addresses", expanding=True)),
    ~exists().where(
        notify_optouts.c.recipient_id == mail_recipients.c.id,
        mail_recipients.c.address == verified_addresses.c.address,
        notify_optouts.c.site_id == bindparam("site_id"),
        or_(
            notify_optouts.c.article_id == bindparam("article_id"),
            notify_optouts.c.article_id == EVERY_DISCUSSION,
        ),
    ),
)


def reachable(
    conn: Connection, addresses: Sequence[str], *, site_id: int, article_id: int
) -> set[str]:
    """Those of the normalised `addresses` that reply notifications of the discussion may go
    to: confirmed, and not unsubscribed from it or from the site (`opted_out`). One read."""
    if not addresses:
        return set()
    found = conn.execute(
        _REACHABLE,
        {"addresses": sorted(set(addresses)), "site_id": site_id, "article_id": article_id},
    )
    return {str(address) for address in found.scalars()}


def get_alert_choice(conn: Connection, user_id: int, site_id: int) -> AlertChoice | None:
    query = select(staff_alerts).where(
        staff_alerts.c.user_id == user_id, staff_alerts.c.site_id == site_id
    )
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    return AlertChoice(
        int(row["user_id"]), int(row["site_id"]), str(row["frequency"]), str(row["address"])
    )


def set_alert_choice(
    conn: Connection, *, user_id: int, site_id: int, frequency: str, address: str, now: datetime
) -> None:
    insert_ = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    values = {"frequency": frequency, "address": address, "updated_at": now}
    conn.execute(
        insert_(staff_alerts)
        .values(user_id=user_id, site_id=site_id, **values)
        .on_conflict_do_update(
            index_elements=[staff_alerts.c.user_id, staff_alerts.c.site_id], set_=values
        )
    )


def alert_choices(conn: Connection, site_id: int) -> list[AlertChoice]:
    """The alerts staff asked for on the site (not off), of enabled accounts that may still
    act on it."""
    may_act = or_(
        ~exists().where(staff_sites.c.user_id == staff_alerts.c.user_id),
        exists().where(
            and_(staff_sites.c.user_id == staff_alerts.c.user_id, staff_sites.c.site_id == site_id)
        ),
    )
    query = (
        select(staff_alerts)
        .join(users, users.c.id == staff_alerts.c.user_id)
        .where(
            staff_alerts.c.site_id == site_id,
            staff_alerts.c.frequency != "off",
            users.c.disabled.is_(False),
            may_act,
        )
        .order_by(staff_alerts.c.user_id)
    )
    return [
        AlertChoice(int(r["user_id"]), int(r["site_id"]), str(r["frequency"]), str(r["address"]))
        for r in conn.execute(query).mappings()
    ]
