"""`rejoinder import FORMAT FILE`: comments from WordPress (WXR), Disqus, Isso (its SQLite
database), remark42 (its backup), Commento or Rejoinder's own JSON Lines format, brought into
a site's discussions (docs/IMPORT.md)."""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer

from rejoinder.cli.options import DatabaseOption, SiteOption, fail

if TYPE_CHECKING:
    from rejoinder.core.imports.records import Problem, ThreadBatch
    from rejoinder.usecases.imports import Summary

CHUNK = 1 << 20  # bytes read at a time: memory stays bounded whatever the file's size
PLAIN_EVERY = 100  # threads between progress lines when the output is not a terminal


class Format(enum.StrEnum):
    json = "json"
    wordpress = "wordpress"
    disqus = "disqus"
    isso = "isso"
    remark42 = "remark42"
    commento = "commento"


class _Progress:
    """Bytes read so far, shown as a rich bar on a terminal, and as a line every
    PLAIN_EVERY threads read otherwise (threads are stored a group at a time)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.bar: object = None
        self.task: object = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("Importing", total=total)

    def advance(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            from rich.progress import Progress, TaskID

            assert isinstance(self.bar, Progress) and isinstance(self.task, int)
            self.bar.update(TaskID(self.task), completed=self.done)

    def thread(self, threads: int, comments: int) -> None:
        if self.bar is None and threads and threads % PLAIN_EVERY == 0:
            share = 100 * self.done // max(self.total, 1)
            typer.echo(f"... {threads} threads, {comments} comments ({share}% read)", err=True)

    def close(self) -> None:
        if self.bar is not None:
            from rich.progress import Progress

            assert isinstance(self.bar, Progress)
            self.bar.stop()


def _chunks(file: Path, progress: _Progress, opened: list[IO[bytes]]) -> Iterator[bytes]:
    """The file's bytes, CHUNK at a time; the stream is listed in `opened` so the command
    closes it at its end, even where a reader stopped on an error half way."""
    with file.open("rb") as stream:
        opened.append(stream)
        while chunk := stream.read(CHUNK):
            progress.advance(len(chunk))
            yield chunk


def _rewrites(values: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        old, sep, new = value.partition("=")
        if not sep or not old.strip() or not new.strip():
            fail(f"--rewrite-url takes OLD=NEW (two URL prefixes), not {value!r}")
        pairs.append((old.strip(), new.strip()))
    return tuple(pairs)


def _warn(problem: Problem) -> None:
    typer.secho(f"warning: {problem}", fg=typer.colors.YELLOW, err=True)


def _summary(summary: Summary, dry_run: bool) -> str:
    verb = "Would import" if dry_run else "Imported"
    words = [f"{verb} {summary.threads} threads, {summary.comments} comments"]
    if summary.already:
        words.append(f"{summary.already} already imported")
    if summary.held_by_moderation:
        words.append(f"{summary.held_by_moderation} held by moderation")
    if summary.skipped:
        reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(summary.skipped.items()))
        words.append(f"skipped: {reasons}")
    words.append(f"{len(summary.warnings)} warnings")
    return "; ".join(words) + (" (dry run: nothing written)" if dry_run else "")


def import_comments(
    format: Annotated[
        Format,
        typer.Argument(
            help="json, wordpress (WXR), disqus, isso (its SQLite file), remark42 (a backup)"
            " or commento."
        ),
    ],
    file: Annotated[Path, typer.Argument(help="The export file.")],
    site: SiteOption = "default",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be imported and every problem.")
    ] = False,
    moderate: Annotated[
        bool, typer.Option("--moderate", help="Judge each comment as if newly posted.")
    ] = False,
    rewrite_url: Annotated[
        list[str] | None,
        typer.Option("--rewrite-url", help="OLD=NEW: rewrite URL prefixes (a moved site)."),
    ] = None,
    with_pingbacks: Annotated[
        bool, typer.Option("--with-pingbacks", help="Import pingbacks and trackbacks too.")
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Import comments, threads and all, from another system's export (docs/IMPORT.md)."""
    from rejoinder.cli.options import runtime_for
    from rejoinder.core.errors import RejoinderError
    from rejoinder.core.imports.commento import read_commento
    from rejoinder.core.imports.disqus import read_disqus
    from rejoinder.core.imports.generic import read_generic
    from rejoinder.core.imports.records import ImportFileError, Problem
    from rejoinder.core.imports.remark42 import read_remark42
    from rejoinder.core.imports.wordpress import read_wordpress
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.imports import Importer, Options, Summary, isso_threads

    if not file.is_file():
        fail(f"No such file: {file}")
    options = Options(
        source=format.value,
        with_pingbacks=with_pingbacks,
        rewrites=_rewrites(rewrite_url or []),
        dry_run=dry_run,
    )
    size = file.stat().st_size
    progress = _Progress(size * 2 if format in (Format.disqus, Format.commento) else size)
    opened: list[IO[bytes]] = []
    opener: Callable[[], Iterable[bytes]] = lambda: _chunks(file, progress, opened)  # noqa: E731
    items: Iterator[ThreadBatch | Problem]
    if format is Format.disqus:
        items = read_disqus(opener)
    elif format is Format.wordpress:
        items = read_wordpress(opener())
    elif format is Format.isso:
        items = isso_threads(file)
    elif format is Format.remark42:
        items = read_remark42(opener())
    elif format is Format.commento:
        items = read_commento(opener)
    else:
        items = read_generic(opener())
    summary = Summary()
    runtime = runtime_for(database_url)
    broken: ImportFileError | None = None
    refused: str | None = None
    stopped = False
    try:
        target = runtime.site_named(site)
        importer = Importer(
            runtime.db,
            runtime.events,
            target.id,
            options,
            summary,
            utcnow,
            moderator=runtime.moderator if moderate else None,
        )
        read_threads = read_comments = 0
        try:
            for item in items:
                if isinstance(item, Problem):
                    summary.warnings.append(item)
                    _warn(item)
                    continue
                before = len(summary.warnings)
                outcome = importer.add(item)
                for problem in summary.warnings[before:]:
                    _warn(problem)
                if dry_run and outcome is not None:
                    typer.echo(
                        f"{outcome.title}: {outcome.comments} comments to import"
                        f" ({outcome.already} already there) -> /articles/{outcome.slug}"
                    )
                read_threads += 1
                read_comments += len(item.comments)
                progress.thread(read_threads, read_comments)
        except ImportFileError as error:
            broken = error
        importer.flush()  # the threads read whole before a break are stored too
    except RejoinderError as error:
        refused = error.message
    except KeyboardInterrupt:  # Ctrl-C: the group being written is rolled back, whole
        stopped = True
    finally:
        for stream in opened:
            stream.close()
        progress.close()
        runtime.close()
    if refused is not None:
        fail(f"{file}: {refused}")
    typer.echo(_summary(summary, dry_run))
    if stopped:
        typer.echo(
            "Stopped. Each thread is imported whole or not at all; run the same import again"
            " to bring in the rest.",
            err=True,
        )
        raise typer.Exit(130)
    paths = format in (Format.isso, Format.commento)
    if paths and summary.skipped["thread without page id or URL"]:
        typer.echo(
            f"{'Isso' if format is Format.isso else 'This export'} names pages by their path:"
            " give the site's address with --rewrite-url /=https://example.com/ (your site's)"
            " to import them.",
            err=True,
        )
    if broken is not None:
        resume = (
            " The threads before it are imported whole; fix the file and run the import again"
            " to bring in the rest."
            if summary.threads and not dry_run
            else ""
        )
        fail(f"{file}: {broken}.{resume}")
