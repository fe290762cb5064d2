"""`rejoinder export`: a site's comments as Rejoinder's own import format (JSON Lines) or
as WordPress's WXR, to standard output or a file (docs/IMPORT.md, "Exporting")."""

from __future__ import annotations

import contextlib
import enum
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rejoinder.cli.options import DatabaseOption, SiteOption, fail

if TYPE_CHECKING:
    from datetime import tzinfo


class Format(enum.StrEnum):
    json = "json"
    wxr = "wxr"


def _zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        fail(f"--timezone takes a time zone's name, such as Europe/Berlin or UTC, not {name!r}")


def export_comments(
    format: Annotated[
        Format,
        typer.Option("--format", help="json (Rejoinder's import format) or wxr (WordPress)."),
    ] = Format.json,
    site: SiteOption = "default",
    discussion: Annotated[
        str | None,
        typer.Option("--discussion", help="Only this discussion: its page id or slug."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", help="Write to this file (else standard output)."),
    ] = None,
    no_emails: Annotated[
        bool,
        typer.Option("--no-emails", help="Leave commenters' emails out (for sharing the file)."),
    ] = False,
    timezone: Annotated[
        str, typer.Option("--timezone", help="WXR: the zone of wp:comment_date (local time).")
    ] = "UTC",
    database_url: DatabaseOption = None,
) -> None:
    """Export a site's comments, threads and all: for another Rejoinder, or for WordPress."""
    from rejoinder.cli.options import runtime_for
    from rejoinder.core.errors import RejoinderError
    from rejoinder.runtime import utcnow
    from rejoinder.usecases import exports

    zone = _zone(timezone)
    if output is not None and output.parent and not output.parent.is_dir():
        fail(f"No such folder: {output.parent}")
    counts = exports.Counts()
    runtime = runtime_for(database_url)
    partial = output.with_name(output.name + ".part") if output is not None else None
    try:
        target = runtime.site_named(site)
        pieces = exports.export_comments(
            runtime.db,
            target,
            lambda path: runtime.site_url(target, path),
            exports.Format(format.value),
            counts,
            utcnow(),
            discussion=discussion,
            with_emails=not no_emails,
            zone=zone,
        )
        if output is None or partial is None:
            for piece in pieces:
                typer.echo(piece, nl=False)
        else:
            # Written beside the file and renamed at the end: a broken export never leaves
            # a file that looks whole.
            with partial.open("w", encoding="utf-8", newline="\n") as out:
                for piece in pieces:
                    out.write(piece)
            os.replace(partial, output)
    except RejoinderError as error:
        fail(error.message)
    except OSError as error:
        fail(f"{output}: {error.strerror or error}")
    finally:
        runtime.close()
        if partial is not None:
            with contextlib.suppress(OSError):
                partial.unlink()
    typer.echo(
        f"Exported {counts.threads} discussions, {counts.comments} comments"
        + (f" to {output}" if output is not None else ""),
        err=True,
    )
