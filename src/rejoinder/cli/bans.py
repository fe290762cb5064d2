"""`rejoinder bans list|lift|shorten`: a site's bans, who made them, and ending them sooner."""

from __future__ import annotations

from typing import Annotated

import typer

from rejoinder.cli.options import DatabaseOption, SiteOption, opened

app = typer.Typer(
    help="Bans: list them with who banned, when, why and until when; lift or shorten them. "
    "Lines are tab-separated: number, kind, value, until, made, by, why."
)
NoteOption = Annotated[str, typer.Option("--note", help="Why, for the audit log.")]
BanId = Annotated[int, typer.Argument(help="The ban's number, as `rejoinder bans list` shows.")]


@app.command("list")
def bans_list(
    every: Annotated[bool, typer.Option("--all", help="Show ended and lifted bans too.")] = False,
    site: SiteOption = "default",
    database_url: DatabaseOption = None,
) -> None:
    """List the site's bans in force, newest first, one a line (number, kind, value, ...)."""
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.bans import list_bans

    now = utcnow()
    with opened(database_url) as runtime:
        found = list_bans(
            runtime.db, site_id=runtime.site_named(site).id, now=now, include_ended=every
        )
    if not found:
        typer.echo("No bans." if every else "No bans in force.")
    for ban in found:
        until = ban.until.isoformat() if ban.until else "for ever"
        ended = "" if ban.is_active(now) else " (ended)"
        why = " ".join(ban.why.split())
        typer.echo(
            f"{ban.id}\t{ban.kind}\t{ban.shown}\t{until}{ended}\t{ban.created_at.isoformat()}"
            f"\t{ban.created_by or '-'}\t{why or '-'}"
        )


@app.command("lift")
def bans_lift(
    ban_id: BanId,
    site: SiteOption = "default",
    note: NoteOption = "",
    database_url: DatabaseOption = None,
) -> None:
    """End a ban now (audited)."""
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.bans import lift_ban
    from rejoinder.usecases.desk import Actor

    with opened(database_url) as runtime:
        lift_ban(
            runtime.db,
            site_id=runtime.site_named(site).id,
            ban_id=ban_id,
            actor=Actor(kind="system", name="cli"),
            note=note,
            now=utcnow(),
        )
    typer.echo(f"Lifted ban {ban_id}")


@app.command("shorten")
def bans_shorten(
    ban_id: BanId,
    days: Annotated[str, typer.Option("--days", help="Ends this many days from now.")] = "",
    until: Annotated[
        str, typer.Option("--until", help="Ends at this date or time (ISO 8601, UTC).")
    ] = "",
    site: SiteOption = "default",
    note: NoteOption = "",
    database_url: DatabaseOption = None,
) -> None:
    """Make a ban end sooner: give --days or --until (audited)."""
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.bans import new_end, shorten_ban
    from rejoinder.usecases.desk import Actor

    now = utcnow()
    with opened(database_url) as runtime:
        changed = shorten_ban(
            runtime.db,
            site_id=runtime.site_named(site).id,
            ban_id=ban_id,
            end=new_end(days=days, until=until, now=now),
            actor=Actor(kind="system", name="cli"),
            note=note,
            now=now,
        )
    assert changed.until is not None
    typer.echo(f"Ban {ban_id} now ends {changed.until.isoformat()}")
