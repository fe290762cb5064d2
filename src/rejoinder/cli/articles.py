"""`rejoinder article add`, `article close` and `article open`, and `rejoinder import-page`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rejoinder.cli.options import DatabaseOption, SiteOption, fail, opened, runtime_for

app = typer.Typer(help="Articles: add them from Markdown files; close or open their comments.")
NoteOption = Annotated[str, typer.Option("--note", help="Why, for the audit log.")]


@app.command("add")
def article_add(
    file: Annotated[Path, typer.Argument(help="Markdown with front matter: title, slug, dek, ...")],
    site: SiteOption = "default",
    database_url: DatabaseOption = None,
) -> None:
    """Publish an article from a Markdown file with front matter."""
    from rejoinder.core.articlefile import parse_article_file
    from rejoinder.core.errors import RejoinderError
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.publishing import add_article

    if not file.is_file():
        fail(f"No such file: {file}")
    runtime = runtime_for(database_url)
    try:
        draft = parse_article_file(file.read_text(encoding="utf-8"), default_published=utcnow())
        target = runtime.site_named(site)
        article = add_article(runtime.db, runtime.events, target.id, draft, utcnow())
    except RejoinderError as error:
        fail(f"{file}: {error.message}")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text.")
    finally:
        runtime.close()
    typer.echo(f"Published /articles/{article.slug}")


def _set_open(slug: str, is_open: bool, site: str, note: str, database_url: str | None) -> None:
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.desk import Actor, set_discussion_open

    with opened(database_url) as runtime:
        found = set_discussion_open(
            runtime.db,
            runtime.events,
            site_id=runtime.site_named(site).id,
            slug=slug,
            is_open=is_open,
            actor=Actor(kind="system", name="cli"),
            note=note,
            now=utcnow(),
        )
    state = "open" if found.state.is_open else "closed"
    typer.echo(f"Comments on /articles/{found.article.slug} are {state}")


@app.command("close")
def article_close(
    slug: Annotated[str, typer.Argument(help="The article's slug.")],
    site: SiteOption = "default",
    note: NoteOption = "",
    database_url: DatabaseOption = None,
) -> None:
    """Close an article's discussion: the form goes, and every post to it is refused."""
    _set_open(slug, False, site, note, database_url)


@app.command("open")
def article_open(
    slug: Annotated[str, typer.Argument(help="The article's slug.")],
    site: SiteOption = "default",
    note: NoteOption = "",
    database_url: DatabaseOption = None,
) -> None:
    """Open an article's discussion again (the site's close-after-days counts from now)."""
    _set_open(slug, True, site, note, database_url)


def import_page(
    file: Annotated[
        Path, typer.Argument(help="A page dump: title, dek, body, Source:, N. Name says ...")
    ],
    slug: Annotated[str | None, typer.Option(help="Slug (default: from the title).")] = None,
    source_url: Annotated[str | None, typer.Option(help="Canonical URL of the original.")] = None,
    site: SiteOption = "default",
    moderate: Annotated[
        bool, typer.Option("--moderate", help="Judge each comment as if newly posted.")
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Import an article and its comments, with their order and nesting, from a page dump."""
    from rejoinder.core.errors import RejoinderError
    from rejoinder.core.pagedump import PageDumpError, parse_page_dump
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.publishing import import_page as run_import

    if not file.is_file():
        fail(f"No such file: {file}")
    runtime = runtime_for(database_url)
    try:
        dump = parse_page_dump(file.read_text(encoding="utf-8"))
        article, comments = run_import(
            runtime.db,
            runtime.events,
            runtime.site_named(site).id,
            dump,
            utcnow(),
            slug=slug,
            source_url=source_url,
            moderator=runtime.moderator if moderate else None,
        )
    except (PageDumpError, UnicodeDecodeError) as error:
        fail(f"{file}: {error}")
    except RejoinderError as error:
        fail(f"{file}: {error.message}")
    finally:
        runtime.close()
    held = sum(1 for c in comments if c.status.value == "held")
    note = f" ({held} held for a moderator)" if held else ""
    typer.echo(f"Imported /articles/{article.slug} with {len(comments)} comments{note}")
