"""`rejoinder privacy`: a commenter's data by email address (export, erase) and the retention
period's purge (which the server also runs daily). Each is audited without naming whose."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from rejoinder.cli.options import DatabaseOption, fail, opened

app = typer.Typer(help="A commenter's data: export, erasure, and the retention period's purge.")
Email = Annotated[str, typer.Argument(help="The commenter's email address (any case).")]


def _address(email: str) -> str:
    from rejoinder.core.errors import Invalid
    from rejoinder.usecases.privacy import check_address

    try:
        return check_address(email)
    except Invalid as bad:
        fail(f"EMAIL: {bad.message}")


@app.command("export")
def export(
    email: Email,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Everything held about an address, as one JSON document."""
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.privacy import staff_export

    address = _address(email)
    with opened(database_url) as runtime:
        data = staff_export(
            runtime.db,
            address,
            actor_kind="system",
            actor="cli",
            base_url=runtime.settings.base_url,
            now=utcnow(),
        )
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"Could not write {output}: {error.strerror or error}")
    typer.echo(f"Wrote the data of {len(data['comments'])} comments to {output}", err=True)


@app.command("erase")
def erase(
    email: Email,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Erase everything held about an address; its comments are removed or anonymised as the
    `erasure` setting says."""
    from rejoinder.core.privacy import ErasureMode
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.privacy import erase as erase_address

    address = _address(email)
    if not yes:
        if not sys.stdin.isatty():
            fail("Not erasing without confirmation: add --yes, or run this in a terminal.")
        typer.confirm(f"Erase everything held about {address}? This cannot be undone", abort=True)
    with opened(database_url) as runtime:
        mode = ErasureMode(runtime.settings.erasure)
        erased = erase_address(
            runtime.db,
            runtime.events,
            address=address,
            mode=mode,
            actor_kind="system",
            actor="cli",
            now=utcnow(),
        )
    done = "anonymised" if mode is ErasureMode.ANONYMISE else "removed"
    rest = ", ".join(f"{count} {name}" for name, count in erased.tables.items())
    typer.echo(f"Erased: {erased.comments} comments {done}; deleted rows: {rest}")


@app.command("purge")
def purge(
    days: Annotated[
        int | None, typer.Option(min=1, help="Keep this many days (default: the setting).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Delete the personal data of refused submissions and of held and rejected comments
    older than the retention period (the server runs this daily)."""
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.privacy import purge as purge_expired

    with opened(database_url) as runtime:
        keep = days or runtime.settings.retention_days
        purged = purge_expired(runtime.db, now=utcnow(), retention_days=keep)
    typer.echo(
        f"Purged the personal data of {purged.comments} comments and "
        f"{purged.refused} refused submissions older than {keep} days"
    )
