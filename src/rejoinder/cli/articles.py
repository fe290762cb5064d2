"""`rejoinder article add|edit|close|open|reopen|delete` (also spelt `articles`), and
`rejoinder import-page`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rejoinder.cli.options import DatabaseOption, SiteOption, fail, opened, runtime_for

app = typer.Typer(
    help="Articles: add them from Markdown files, edit or delete them; close or open their "
    "comments."
)
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
    from rejoinder.usecases.articles import publish_article
    from rejoinder.usecases.desk import Actor

    if not file.is_file():
        fail(f"No such file: {file}")
    runtime = runtime_for(database_url)
    try:
        draft = parse_article_file(file.read_text(encoding="utf-8"), default_published=utcnow())
        target = runtime.site_named(site)
        article = publish_article(
            runtime.db,
            runtime.events,
            site_id=target.id,
            draft=draft,
            actor=Actor(kind="system", name="cli"),
            now=utcnow(),
        )
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


app.command(
    "reopen",
    help="Reopen an article's discussion, as `open` does (close-after-days counts from now).",
)(article_open)


@app.command("edit")
def article_edit(
    slug: Annotated[str, typer.Argument(help="The article's slug (it stays the same).")],
    title: Annotated[str | None, typer.Option(help="A new title.")] = None,
    dek: Annotated[str | None, typer.Option(help='A new dek (standfirst); "" clears it.')] = None,
    author: Annotated[str | None, typer.Option(help="A new byline.")] = None,
    body_file: Annotated[
        Path | None, typer.Option("--body-file", help="A Markdown file with the new body.")
    ] = None,
    source_name: Annotated[str | None, typer.Option(help="The original's name.")] = None,
    source_url: Annotated[str | None, typer.Option(help="The original's URL.")] = None,
    published: Annotated[str | None, typer.Option(help="The publication time, ISO 8601.")] = None,
    site: SiteOption = "default",
    note: NoteOption = "",
    database_url: DatabaseOption = None,
) -> None:
    """Change an article's title, dek, byline, body, source or publication time (audited)."""
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.articles import edit_article
    from rejoinder.usecases.desk import Actor

    changes = {
        key: value
        for key, value in {
            "title": title,
            "dek": dek,
            "author": author,
            "source_name": source_name,
            "source_url": source_url,
            "published": published,
        }.items()
        if value is not None
    }
    if body_file is not None:
        if not body_file.is_file():
            fail(f"No such file: {body_file}")
        try:
            changes["body"] = body_file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            fail(f"{body_file} is not UTF-8 text.")
    if not changes:
        fail(
            "Nothing to change: give --title, --dek, --author, --body-file, --source-name, "
            "--source-url or --published."
        )
    with opened(database_url) as runtime:
        article, names = edit_article(
            runtime.db,
            runtime.events,
            site_id=runtime.site_named(site).id,
            slug=slug,
            changes=changes,
            actor=Actor(kind="system", name="cli"),
            note=note,
            now=utcnow(),
        )
    typer.echo(f"Changed {', '.join(names)} of /articles/{article.slug}")


@app.command("delete")
def article_delete(
    slug: Annotated[str, typer.Argument(help="The article's slug.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Delete without asking (for scripts).")
    ] = False,
    site: SiteOption = "default",
    note: NoteOption = "",
    database_url: DatabaseOption = None,
) -> None:
    """Delete an article and its whole discussion; asks first unless given --yes."""
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.articles import delete_article, get_article
    from rejoinder.usecases.desk import Actor

    with opened(database_url) as runtime:
        site_id = runtime.site_named(site).id
        if not yes:
            found = get_article(runtime.db, site_id, slug)
            question = (
                f"Delete /articles/{found.slug} ({found.title!r}) and its "
                f"{found.comment_count} shown comments, with every held and refused one?"
            )
            if not sys.stdin.isatty():
                fail(f"{question} Give --yes to delete without a terminal to ask in.")
            if not typer.confirm(question, default=False):
                fail("Nothing deleted.")
        gone = delete_article(
            runtime.db,
            runtime.events,
            site_id=site_id,
            slug=slug,
            actor=Actor(kind="system", name="cli"),
            note=note,
            now=utcnow(),
        )
    typer.echo(f"Deleted /articles/{gone.slug} and its {gone.comments} comments")


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
