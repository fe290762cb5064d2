"""`rejoinder site`: the sites one server hosts."""

from __future__ import annotations

from typing import Annotated

import typer

from rejoinder.cli.options import DatabaseOption, opened

app = typer.Typer(help="Sites: one server can host the discussions of several sites.")


@app.command("add")
def site_add(
    name: Annotated[str, typer.Argument(help="Short name: lowercase letters, digits, hyphens.")],
    title: Annotated[str, typer.Option(help="Shown in the masthead and feeds.")],
    domain: Annotated[
        str | None, typer.Option(help="Host name whose requests belong to it.")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Add a site; requests whose Host is its domain see its articles."""
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.publishing import add_site

    with opened(database_url) as runtime:
        added = add_site(runtime.db, name, title, domain, utcnow())
    typer.echo(f"Added site {added.name} ({added.domain or 'no domain'})")


@app.command("list")
def site_list(database_url: DatabaseOption = None) -> None:
    """List the sites with their domains."""
    from rejoinder.usecases.publishing import list_sites

    with opened(database_url) as runtime:
        for site in list_sites(runtime.db):
            typer.echo(f"{site.name}\t{site.domain or '-'}\t{site.title}")
