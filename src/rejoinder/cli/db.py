"""`rejoinder db`: apply migrations, show the schema's revision."""

from __future__ import annotations

import typer

from rejoinder.cli.options import DatabaseOption, settings_for

app = typer.Typer(help="The database: apply migrations, show the schema's revision.")


@app.command("upgrade")
def db_upgrade(database_url: DatabaseOption = None) -> None:
    """Apply every migration the database does not have yet."""
    from rejoinder.runtime import migrate

    typer.echo(f"Database at revision {migrate(settings_for(database_url))}")


@app.command("current")
def db_current(database_url: DatabaseOption = None) -> None:
    """Print the schema revision the database is at."""
    from rejoinder.runtime import schema_revision

    typer.echo(schema_revision(settings_for(database_url)) or "empty (no migrations applied)")
