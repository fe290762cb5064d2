"""`rejoinder backup` and `rejoinder restore` (SQLite; PostgreSQL: docs/OPERATIONS.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rejoinder.cli.options import DatabaseOption, fail, settings_for


def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the copy (a new file).")],
    database_url: DatabaseOption = None,
) -> None:
    """Copy the SQLite database, consistent to one commit, while the server keeps running.

    For PostgreSQL use pg_dump (docs/OPERATIONS.md, "Backups")."""
    from rejoinder.core.errors import RejoinderError
    from rejoinder.usecases.backup import backup_database

    try:
        copied = backup_database(settings_for(database_url).database_url, file)
    except RejoinderError as error:
        fail(error.message)
    except OSError as error:
        fail(f"Could not write {file}: {error.strerror or error}")
    typer.echo(
        f"Backed up to {file}: schema {copied.revision}, {copied.articles} articles, "
        f"{copied.comments} comments"
    )


def restore(
    file: Annotated[Path, typer.Argument(help="A file made by rejoinder backup.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a database that already holds data."),
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Put a backup in place of the configured SQLite database; stop the server first.

    A database that already holds data is replaced only with --force."""
    from rejoinder.core.errors import RejoinderError
    from rejoinder.usecases.backup import restore_database

    try:
        copied = restore_database(settings_for(database_url).database_url, file, force=force)
    except RejoinderError as error:
        fail(error.message)
    except OSError as error:
        fail(f"Could not restore {file}: {error.strerror or error}")
    typer.echo(
        f"Restored {file}: schema {copied.revision}, {copied.articles} articles, "
        f"{copied.comments} comments (rejoinder db upgrade brings an older schema up to date)"
    )
