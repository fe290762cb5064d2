"""What every `rejoinder` command shares: its common options, the runtime, a clean failure."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from rejoinder.runtime import Runtime
    from rejoinder.settings import Settings

SiteOption = Annotated[str, typer.Option("--site", help="The site's name.")]
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides REJOINDER_DATABASE_URL.", show_default=False),
]
PasswordFile = Annotated[
    Path | None,
    typer.Option("--password-file", help="Read the password from this file (else a prompt)."),
]


def settings_for(database_url: str | None = None, **overrides: object) -> Settings:
    from rejoinder.settings import load_settings

    return load_settings(database_url=database_url, **overrides)


def runtime_for(database_url: str | None = None, **overrides: object) -> Runtime:
    from rejoinder.runtime import open_runtime

    return open_runtime(settings_for(database_url, **overrides))


@contextmanager
def opened(database_url: str | None, **overrides: object) -> Iterator[Runtime]:
    """The runtime for one command, closed after; a domain error becomes a clean exit 1."""
    from rejoinder.core.errors import RejoinderError

    runtime = runtime_for(database_url, **overrides)
    try:
        yield runtime
    except RejoinderError as error:
        fail(error.message)
    finally:
        runtime.close()


def fail(message: str) -> NoReturn:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def read_password(password_file: Path | None) -> str:
    if password_file is not None:
        if not password_file.is_file():
            fail(f"No such file: {password_file}")
        return password_file.read_text(encoding="utf-8").strip("\r\n")
    if not sys.stdin.isatty():
        fail("No password: give --password-file, or run this in a terminal to be asked.")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
