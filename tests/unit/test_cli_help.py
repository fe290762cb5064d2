"""Every command and group of the CLI has help that says what it does (read through Typer's
runner: help opens no database and needs no process of its own)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import typer.main
from typer.testing import CliRunner

from rejoinder.cli import app

WIDE = {"COLUMNS": "400", "NO_COLOR": "1"}  # help on one line per paragraph, no colour codes


def commands() -> Iterator[tuple[list[str], str]]:
    """Every command and group of the CLI, with its documented description."""
    stack: list[tuple[list[str], Any]] = [([], typer.main.get_command(app))]
    while stack:
        path, command = stack.pop()
        yield path, " ".join((command.help or "").split())
        stack.extend(([*path, name], sub) for name, sub in getattr(command, "commands", {}).items())


def test_every_command_has_help_that_says_what_it_does() -> None:
    found = list(commands())
    assert {" ".join(path) for path, _ in found} >= {
        "",
        "serve",
        "demo",
        "db",
        "db upgrade",
        "db current",
        "article",
        "article add",
        "import-page",
    }
    runner = CliRunner()
    for path, description in found:
        name = " ".join(["rejoinder", *path])
        result = runner.invoke(app, [*path, "--help"], env=WIDE, prog_name="rejoinder")
        assert result.exit_code == 0, (name, result.output)
        assert description, f"{name} has no description"
        shown = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())
        assert f"Usage: {name}" in shown, shown[:300]
        assert description in shown, f"{name} --help does not say what it does"
