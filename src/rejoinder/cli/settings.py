"""`rejoinder settings`: every setting with its variable, default and meaning."""

from __future__ import annotations

from typing import Annotated

import typer


def show_settings(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the table docs/SETTINGS.md holds.")
    ] = False,
) -> None:
    """List every setting with its environment variable, default and meaning."""
    from rejoinder.settings import settings_table

    rows = settings_table()
    if markdown:
        typer.echo("# Settings\n")
        typer.echo("Environment variables, or lower-case keys in the TOML file named by")
        typer.echo("`REJOINDER_CONFIG_FILE`. Made by `rejoinder settings --markdown`; a test")
        typer.echo("checks that this file and the code agree.\n")
        typer.echo("| variable | default | meaning |")
        typer.echo("|---|---|---|")
        for variable, default, meaning in rows:
            typer.echo(f"| `{variable}` | `{default}` | {meaning} |")
        return
    for variable, default, meaning in rows:
        typer.echo(f"{variable:<34} {default:<28} {meaning}")
