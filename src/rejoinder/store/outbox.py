"""The outbox's rows: added inside another write's transaction, claimed with a lease, then
marked sent, put back for a later try, or failed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping, and_, bindparam, func, insert, or_, select, update

from rejoinder.core.outbox import OutboxMessage
from rejoinder.store.schema import outbox

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATES = (PENDING, SENDING, SENT, FAILED)


def _row(values: RowMapping) -> OutboxMessage:
    fields = dict(values)
    fields["payload"] = orjson.loads(fields["payload"])
    return OutboxMessage(**{name: fields[name] for name in OutboxMessage.__dataclass_fields__})


def add(
    conn: Connection,
    *,
    message_id: str,
    kind: str,
    recipient: str,
    payload: Mapping[str, Any],
    now: datetime,
    site_id: int | None = None,
) -> int:
    """A pending message, due at once; it commits (or not) with the caller's transaction.
    Its site is `site_id`, else the payload's "site_id" when it has one."""
    if site_id is None and isinstance(payload.get("site_id"), int):
        site_id = int(payload["site_id"])
    result = conn.execute(
        insert(outbox).values(
            site_id=site_id,
            message_id=message_id,
            kind=kind,
            recipient=recipient,
            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
            state=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


# On the posting path: built once.
_ADD = insert(outbox)


def add_many(
    conn: Connection,
    *,
    kind: str,
    messages: list[tuple[str, str, Mapping[str, Any]]],
    now: datetime,
    site_id: int | None,
) -> None:
    """Pending messages of one kind, due at once, in one statement: each (message id,
    recipient, payload); they commit (or not) with the caller's transaction."""
    if not messages:
        return
    rows = [
        {
            "site_id": site_id,
            "message_id": message_id,
            "kind": kind,
            "recipient": recipient,
            "payload": orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode(),
            "state": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for message_id, recipient, payload in messages
    ]
    conn.execute(_ADD, rows)


def _claimable(now: Any) -> Any:
    # Due and waiting, or held by a worker whose lease ran out (it died mid-send).
    return or_(
        and_(outbox.c.state == PENDING, outbox.c.next_attempt_at <= now),
        and_(outbox.c.state == SENDING, outbox.c.lease_until < now),
    )


# What each round of a sender runs: built once, with the time and the limit as parameters.
_NOW = bindparam("now", type_=outbox.c.next_attempt_at.type)
_DUE = (
    select(outbox.c.id)
    .where(_claimable(_NOW))
    .order_by(outbox.c.next_attempt_at, outbox.c.id)
    .limit(bindparam("limit"))
)


def _claim_due(due: Any) -> Any:
    return (
        update(outbox)
        .where(outbox.c.id.in_(due.scalar_subquery()), _claimable(_NOW))
        .values(
            state=SENDING,
            claim=bindparam("mark"),
            lease_until=bindparam("lease", type_=outbox.c.lease_until.type),
            attempts=outbox.c.attempts + 1,
        )
        .returning(*outbox.c)
    )


# On PostgreSQL, rows another sender is claiming at the same moment are skipped.
_CLAIM_DUE = {"postgresql": _claim_due(_DUE.with_for_update(skip_locked=True))}
_CLAIM_DUE_ELSEWHERE = _claim_due(_DUE)
_MARK_ALL_SENT = (
    update(outbox)
    .where(
        outbox.c.id.in_(bindparam("ids", expanding=True)),
        outbox.c.state == SENDING,
        outbox.c.claim == bindparam("held_by"),
    )
    .values(
        state=SENT,
        sent_at=bindparam("at", type_=outbox.c.sent_at.type),
        lease_until=None,
        claim=None,
        last_error=None,
    )
)


def due_ids(conn: Connection, now: datetime, limit: int) -> list[int]:
    """Messages a sender could claim now, oldest due first."""
    return [int(row) for row in conn.execute(_DUE, {"now": now, "limit": limit}).scalars()]


def claim(
    conn: Connection, row_id: int, *, claim: str, now: datetime, lease_until: datetime
) -> OutboxMessage | None:
    """Take one message for sending, counting the attempt; None when another worker (or host)
    took it first: the condition is checked by the UPDATE itself, so only one wins."""
    taken = conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id, _claimable(now))
        .values(
            state=SENDING,
            claim=claim,
            lease_until=lease_until,
            attempts=outbox.c.attempts + 1,
        )
    )
    if taken.rowcount != 1:
        return None
    found = conn.execute(select(outbox).where(outbox.c.id == row_id)).mappings().one()
    return _row(found)


def claim_many(
    conn: Connection, row_ids: list[int], *, claim: str, now: datetime, lease_until: datetime
) -> list[OutboxMessage]:
    """`claim` for several messages in one statement: those still claimable are taken (each
    attempt counted) and returned; the others went to another sender first."""
    if not row_ids:
        return []
    conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(row_ids), _claimable(now))
        .values(state=SENDING, claim=claim, lease_until=lease_until, attempts=outbox.c.attempts + 1)
    )
    taken = select(outbox).where(
        outbox.c.id.in_(row_ids),
        outbox.c.state == SENDING,
        outbox.c.claim == claim,
        outbox.c.lease_until == lease_until,
    )
    return [_row(row) for row in conn.execute(taken.order_by(outbox.c.id)).mappings()]


def claim_due(
    conn: Connection, *, claim: str, now: datetime, lease_until: datetime, limit: int
) -> list[OutboxMessage]:
    """Take up to `limit` of the messages claimable now, oldest due first (each attempt
    counted), in one UPDATE; those taken. On PostgreSQL, rows another sender is claiming at
    the same moment are skipped rather than waited for."""
    statement = _CLAIM_DUE.get(conn.dialect.name, _CLAIM_DUE_ELSEWHERE)
    taken = conn.execute(
        statement, {"now": now, "limit": limit, "mark": claim, "lease": lease_until}
    )
    return sorted((_row(row) for row in taken.mappings()), key=lambda message: message.id)


def _held(row_id: int, claim: str) -> Any:
    return and_(outbox.c.id == row_id, outbox.c.state == SENDING, outbox.c.claim == claim)


def mark_sent(conn: Connection, row_id: int, *, claim: str, now: datetime) -> bool:
    """The receiver took the message. False if the claim was lost meanwhile."""
    done = conn.execute(
        update(outbox)
        .where(_held(row_id, claim))
        .values(state=SENT, sent_at=now, lease_until=None, claim=None, last_error=None)
    )
    return done.rowcount == 1


def mark_all_sent(conn: Connection, row_ids: list[int], *, claim: str, now: datetime) -> int:
    """`mark_sent` for several messages in one statement; how many were still held."""
    if not row_ids:
        return 0
    done = conn.execute(_MARK_ALL_SENT, {"ids": list(row_ids), "held_by": claim, "at": now})
    return int(done.rowcount)


def mark_retry(
    conn: Connection, row_id: int, *, claim: str, error: str, next_attempt_at: datetime
) -> bool:
    """Back to pending, due again at `next_attempt_at`, with why this try failed."""
    done = conn.execute(
        update(outbox)
        .where(_held(row_id, claim))
        .values(
            state=PENDING,
            next_attempt_at=next_attempt_at,
            lease_until=None,
            claim=None,
            last_error=error,
        )
    )
    return done.rowcount == 1


def mark_failed(conn: Connection, row_id: int, *, claim: str, error: str) -> bool:
    """No more tries: the message stays, failed, with its last error."""
    done = conn.execute(
        update(outbox)
        .where(_held(row_id, claim))
        .values(state=FAILED, lease_until=None, claim=None, last_error=error)
    )
    return done.rowcount == 1


def sent_recently(
    conn: Connection, *, kind: str, recipient: str, topic: str, since: datetime
) -> bool:
    """Whether a message of `kind` about `topic` (its payload's "topic") went or is going to
    `recipient` since `since` and has not failed."""
    query = select(outbox.c.payload).where(
        outbox.c.kind == kind,
        outbox.c.recipient == recipient,
        outbox.c.created_at >= since,
        outbox.c.state != FAILED,
    )
    return any(json.loads(text).get("topic") == topic for text in conn.execute(query).scalars())


def get_message(conn: Connection, message_id: str) -> OutboxMessage | None:
    found = conn.execute(select(outbox).where(outbox.c.message_id == message_id)).mappings()
    row = found.one_or_none()
    return _row(row) if row else None


def oldest_due_at(conn: Connection, now: datetime) -> datetime | None:
    """When the longest-waiting message that is due (pending and past its next attempt, or
    sending past its lease) became due; None when nothing is due."""
    query = select(func.min(outbox.c.next_attempt_at)).where(_claimable(now))
    found: datetime | None = conn.execute(query).scalar_one_or_none()
    return found


def count_by_state(conn: Connection) -> dict[str, int]:
    """How many messages are in each state (every state named, 0 when none)."""
    counts = dict.fromkeys(STATES, 0)
    query = select(outbox.c.state, func.count()).group_by(outbox.c.state)
    for state, number in conn.execute(query):
        counts[str(state)] = int(number)
    return counts


def list_messages(conn: Connection, *, recipient: str | None = None) -> list[OutboxMessage]:
    query = select(outbox).order_by(outbox.c.id)
    if recipient is not None:
        query = query.where(outbox.c.recipient == recipient)
    return [_row(row) for row in conn.execute(query).mappings()]


def list_for_site(
    conn: Connection, site_id: int, *, states: tuple[str, ...], limit: int
) -> list[OutboxMessage]:
    """A site's messages in some states, newest first, at most `limit`."""
    query = (
        select(outbox)
        .where(outbox.c.site_id == site_id, outbox.c.state.in_(states))
        .order_by(outbox.c.id.desc())
        .limit(limit)
    )
    return [_row(row) for row in conn.execute(query).mappings()]


def count_for_site(conn: Connection, site_id: int) -> dict[str, int]:
    """A site's messages per state (every state named)."""
    counts = dict.fromkeys(STATES, 0)
    query = (
        select(outbox.c.state, func.count())
        .where(outbox.c.site_id == site_id)
        .group_by(outbox.c.state)
    )
    for state, number in conn.execute(query):
        counts[str(state)] = int(number)
    return counts


def retry_now(conn: Connection, row_id: int, *, site_id: int, now: datetime) -> bool:
    """A failed message, or a pending one, of the site due at once with its tries counted
    afresh; False when there is no such message (sent, being sent, or another site's)."""
    done = conn.execute(
        update(outbox)
        .where(
            outbox.c.id == row_id,
            outbox.c.site_id == site_id,
            outbox.c.state.in_((PENDING, FAILED)),
        )
        .values(state=PENDING, attempts=0, next_attempt_at=now, lease_until=None, claim=None)
    )
    return done.rowcount == 1
