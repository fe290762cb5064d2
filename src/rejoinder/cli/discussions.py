"""`rejoinder discussion`: discussions of pages hosted elsewhere, made ahead of time, and
whether a site makes them on a page's first load."""

from __future__ import annotations

from typing import Annotated

import typer

from rejoinder.cli.options import DatabaseOption, opened

app = typer.Typer(help="Discussions of pages that Rejoinder does not host (the widget).")
SiteName = Annotated[str, typer.Option("--site", help="The site's name.")]


@app.command("add")
def discussion_add(
    page_id: Annotated[str, typer.Argument(help="The page's id on the site (or its URL).")],
    site: SiteName = "default",
    title: Annotated[str, typer.Option(help="The page's title.")] = "",
    url: Annotated[str, typer.Option(help="The page's canonical URL.")] = "",
    database_url: DatabaseOption = None,
) -> None:
    """Make a page's discussion ahead of time."""
    from rejoinder.core.embed import page_ref
    from rejoinder.runtime import utcnow
    from rejoinder.usecases import embed

    with opened(database_url) as runtime:
        ref = page_ref(page_id, title, url)
        article = embed.add_discussion(
            runtime.db, runtime.events, runtime.site_named(site).id, ref, utcnow()
        )
    typer.echo(f"Added the discussion of {ref.page_id} as /articles/{article.slug}")


@app.command("creation")
def discussion_creation(
    when: Annotated[str, typer.Argument(help="on-load (the default) or ahead")],
    site: SiteName = "default",
    database_url: DatabaseOption = None,
) -> None:
    """Whether a page's first load makes its discussion (on-load), or only `discussion add`
    and the admin API do (ahead)."""
    from rejoinder.cli.options import fail
    from rejoinder.usecases import embed

    if when not in ("on-load", "ahead"):
        fail("Say on-load or ahead.")
    with opened(database_url) as runtime:
        embed.set_create_on_load(runtime.db, runtime.site_named(site).id, when == "on-load")
    made = "on a page's first load" if when == "on-load" else "ahead of time only"
    typer.echo(f"Discussions of {site} are made {made}.")
