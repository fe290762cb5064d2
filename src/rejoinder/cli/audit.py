"""`rejoinder audit export`: the whole audit log, oldest first, as CSV or JSON lines."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from rejoinder.cli.options import DatabaseOption, fail, settings_for

app = typer.Typer(help="The audit log: every verdict and every desk action, append-only.")

FIELDS = (
    "id",
    "created_at",
    "site_id",
    "comment_id",
    "actor_kind",
    "actor",
    "action",
    "before",
    "after",
    "note",
    "data",
)


class Format(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


def _row(entry: Any) -> dict[str, Any]:
    return dict(entry.to_dict(timespec="microseconds"))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A CSV cell. Text a spreadsheet would run as a formula (a note such as
    `=HYPERLINK(...)` written at the desk) starts with an apostrophe, as OWASP advises for
    CSV injection; JSON lines keep every value exactly as stored."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_export(entries: Any, out: IO[str], fmt: Format) -> int:
    """Write the entries as they come (nothing is held in memory); returns how many."""
    count = 0
    if fmt is Format.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FIELDS)
        for entry in entries:
            row = _row(entry)
            row["data"] = json.dumps(row["data"], ensure_ascii=False, separators=(",", ":"))
            writer.writerow([_cell(row[k]) for k in FIELDS])
            count += 1
    else:
        for entry in entries:
            out.write(json.dumps(_row(entry), ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
            count += 1
    return count


@app.command("export")
def export(
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            help="csv (with a header; a cell a spreadsheet would run as a formula starts "
            "with an apostrophe) or jsonl (every value exactly as stored).",
        ),
    ] = (Format.jsonl),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Every entry of the audit log, oldest first, streamed as CSV or JSON lines."""
    from rejoinder.core.errors import Unavailable
    from rejoinder.runtime import open_database
    from rejoinder.usecases.audit import export_entries

    db = open_database(settings_for(database_url))
    target: IO[str] = (
        output.open("w", encoding="utf-8", newline="") if output is not None else sys.stdout
    )
    try:
        count = write_export(export_entries(db), target, fmt)
    except Unavailable as error:
        fail(error.message)
    finally:
        if output is not None:
            target.close()
        db.dispose()
    if output is not None:
        typer.echo(f"Wrote {count} entries to {output}", err=True)
