"""`rejoinder site`: the sites one server hosts, each with its own address, embedding origins
and language. A running server picks a change up within seconds, without a restart."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from rejoinder.cli.options import DatabaseOption, fail, opened

if TYPE_CHECKING:
    from rejoinder.core.models import Site
    from rejoinder.runtime import Runtime

app = typer.Typer(help="Sites: one server can host the discussions of several sites.")

NameArgument = Annotated[
    str, typer.Argument(help="Short name: lowercase letters, digits, single hyphens.")
]
OriginOption = Annotated[
    list[str] | None,
    typer.Option(
        "--origin",
        help="An origin (scheme://host[:port]) whose pages may embed the site's discussions; "
        "repeat for each.",
        show_default=False,
    ),
]
# The option that sets each field, to name it in a message.
OPTIONS = {
    "name": "NAME",
    "title": "--title",
    "domain": "--domain",
    "base_url": "--base-url",
    "origins": "--origin",
    "language": "--language",
}
T = TypeVar("T")


@contextmanager
def _changing(database_url: str | None) -> Iterator[Runtime]:
    """The runtime, with every wrong field reported, each after the option that set it."""
    from rejoinder.core.errors import InvalidMany

    with opened(database_url) as runtime:
        try:
            yield runtime
        except InvalidMany as error:
            lines = [f"{OPTIONS.get(e.field or '', 'NAME')}: {e.message}" for e in error.errors]
            fail("\n".join(lines))


def _run(database_url: str | None, action: Callable[[Runtime, Any], T]) -> T:
    from rejoinder.runtime import utcnow

    with _changing(database_url) as runtime:
        return action(runtime, utcnow())


def _describe(site: Site) -> str:
    origins = ", ".join(site.origins) or "none"
    return (
        f"{site.name}: {site.title}; domain {site.domain or '-'}; "
        f"base URL {site.base_url or '(the server’s)'}; origins {origins}; "
        f"language {site.language}"
    )


@app.command("add")
def site_add(
    name: NameArgument,
    title: Annotated[
        str | None, typer.Option(help="Shown in the masthead and feeds (default: the name).")
    ] = None,
    domain: Annotated[
        str | None, typer.Option(help="Host name whose requests belong to it.")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Its public address, for every link it gives out (default: the server's)."
        ),
    ] = None,
    origin: OriginOption = None,
    language: Annotated[str, typer.Option(help="Its readers' default language: en or de.")] = "en",
    database_url: DatabaseOption = None,
) -> None:
    """Add a site; requests whose Host is its domain see its articles."""
    from rejoinder.usecases import sites

    data = {
        "name": name,
        "title": title if title is not None else name,
        "domain": domain,
        "base_url": base_url,
        "origins": origin or [],
        "language": language,
    }
    added = _run(
        database_url,
        lambda rt, now: sites.add_site(
            rt.db, rt.events, data, actor_kind="system", actor="cli", now=now
        ),
    )
    typer.echo(f"Added site {_describe(added)}")


@app.command("update")
def site_update(
    name: NameArgument,
    title: Annotated[str | None, typer.Option(help="A new title.")] = None,
    domain: Annotated[
        str | None, typer.Option(help='A new host name; "" for none.', show_default=False)
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(help='A new public address; "" for the server\'s.', show_default=False),
    ] = None,
    origin: OriginOption = None,
    no_origins: Annotated[
        bool, typer.Option("--no-origins", help="No page may embed the site any more.")
    ] = False,
    language: Annotated[str | None, typer.Option(help="en or de.", show_default=False)] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Change a site's title, domain, base URL, origins (--origin replaces them all) or
    language; what is not given stays."""
    from rejoinder.usecases import sites

    if origin and no_origins:
        fail("Give --origin or --no-origins, not both.")
    changes: dict[str, Any] = {}
    for field, value in (
        ("title", title),
        ("domain", domain),
        ("base_url", base_url),
        ("language", language),
    ):
        if value is not None:
            changes[field] = (value or None) if field in ("domain", "base_url") else value
    if origin or no_origins:
        changes["origins"] = [] if no_origins else origin
    if not changes:
        fail("Nothing to change: give --title, --domain, --base-url, --origin or --language.")
    updated = _run(
        database_url,
        lambda rt, now: sites.update_site(
            rt.db, rt.events, name, changes, actor_kind="system", actor="cli", now=now
        ),
    )
    typer.echo(f"Updated site {_describe(updated)}")


@app.command("remove")
def site_remove(name: NameArgument, database_url: DatabaseOption = None) -> None:
    """Remove a site that has no articles (never the default site)."""
    from rejoinder.usecases import sites

    removed = _run(
        database_url,
        lambda rt, now: sites.remove_site(
            rt.db, rt.events, name, actor_kind="system", actor="cli", now=now
        ),
    )
    typer.echo(f"Removed site {removed.name}")


@app.command("list")
def site_list(database_url: DatabaseOption = None) -> None:
    """List the sites: name, title, domain, base URL, origins, language (tab-separated)."""
    from rejoinder.usecases import sites

    with opened(database_url) as runtime:
        found = sites.list_sites(runtime.db)
    typer.echo("\t".join(("name", "title", "domain", "base_url", "origins", "language")))
    for site in found:
        row = (
            site.name,
            site.title,
            site.domain or "-",
            site.base_url or "-",
            " ".join(site.origins) or "-",
            site.language,
        )
        typer.echo("\t".join(row))
