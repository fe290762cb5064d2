"""A site's bans as staff manage them: listed with who made each, when, why and until when;
lifted (the ban ends now) or shortened (it ends sooner). One transaction each, audited; the
rows stay, ended, so the list of every ban shows what was lifted. Bans are made at the desk,
on a comment (`usecases.desk.ban`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rejoinder.core.errors import Conflict, Invalid, NotFound
from rejoinder.core.models import BanRecord
from rejoinder.store import audit as audit_store
from rejoinder.store import moderation as moderation_store
from rejoinder.store.database import Database
from rejoinder.usecases.desk import Actor, clean_note

LIST_MAX = 500


def list_bans(
    db: Database, *, site_id: int, now: datetime, include_ended: bool = False
) -> list[BanRecord]:
    """The site's bans in force (with `include_ended`, the ended and lifted ones too),
    newest first, at most `LIST_MAX`."""
    with db.read() as conn:
        return moderation_store.list_ban_records(
            conn, site_id, now, include_ended=include_ended, limit=LIST_MAX
        )


def new_end(*, days: str = "", until: str = "", now: datetime) -> datetime:
    """When a shortened ban ends: `days` whole days from now, or the time `until` (ISO 8601;
    a date alone is its midnight UTC). Exactly one of the two; Invalid naming the field."""
    days, until = days.strip(), until.strip()
    if days and until:
        raise Invalid("days", "Give days (from now) or until (a date), not both.")
    if not days and not until:
        raise Invalid("days", "Give days (from now) or until (a date) for the new end.")
    if days:
        if len(days) > 5 or not (days.isascii() and days.isdigit()) or not 1 <= int(days) <= 36500:
            raise Invalid("days", "Days is a whole number from 1 to 36500.")
        return now + timedelta(days=int(days))
    if len(until) > 40:
        raise Invalid("until", "Until is a date or a time in ISO 8601, as 2027-01-31.")
    try:
        end = datetime.fromisoformat(until.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("until", "Until is a date or a time in ISO 8601, as 2027-01-31.") from None
    try:
        return end.astimezone(UTC) if end.tzinfo is not None else end.replace(tzinfo=UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is past the last year in UTC
        raise Invalid("until", "That date is out of range.") from None


def _shown(until: datetime | None) -> str:
    return until.isoformat() if until is not None else "for ever"


def _change(
    db: Database,
    *,
    site_id: int,
    ban_id: int,
    end: datetime | None,
    actor: Actor,
    note: str,
    now: datetime,
) -> BanRecord:
    """End the ban at `end` (None: now, a lift)."""
    note = clean_note(note)
    with db.write() as conn:
        ban = moderation_store.get_ban_record(conn, site_id, ban_id)
        if ban is None:
            raise NotFound("There is no such ban on this site.")
        if not ban.is_active(now):
            raise Conflict(f"Ban {ban_id} has already ended ({_shown(ban.until)}).")
        if end is not None:
            if end <= now:
                raise Invalid("until", "That time has passed: lift the ban instead.")
            if ban.until is not None and end >= ban.until:
                raise Invalid(
                    "until", f"The ban ends {_shown(ban.until)} already: a shorter one ends sooner."
                )
        ends = end or now
        moderation_store.set_ban_until(conn, ban.id, ends)
        audit_store.add_entry(
            conn,
            at=now,
            actor_kind=actor.kind,
            actor=actor.name,
            action="ban_shorten" if end is not None else "ban_lift",
            site_id=site_id,
            before=_shown(ban.until),
            after=ends.isoformat(),
            note=note,
            data={"ban_id": ban.id, "kind": ban.kind, "value": ban.shown},
        )
        changed = moderation_store.get_ban_record(conn, site_id, ban.id)
    assert changed is not None
    return changed


def lift_ban(
    db: Database, *, site_id: int, ban_id: int, actor: Actor, note: str, now: datetime
) -> BanRecord:
    """End a ban now: the banned writer's next comment is judged as anyone's."""
    return _change(db, site_id=site_id, ban_id=ban_id, end=None, actor=actor, note=note, now=now)


def shorten_ban(
    db: Database,
    *,
    site_id: int,
    ban_id: int,
    end: datetime,
    actor: Actor,
    note: str,
    now: datetime,
) -> BanRecord:
    """Make a ban end at `end`, sooner than it did and later than now."""
    return _change(db, site_id=site_id, ban_id=ban_id, end=end, actor=actor, note=note, now=now)
