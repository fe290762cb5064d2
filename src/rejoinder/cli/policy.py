"""`rejoinder policy`: a site's moderation policy, shown as JSON or set from a JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from rejoinder.cli.options import DatabaseOption, SiteOption, fail, opened

app = typer.Typer(help="A site's moderation policy: show it as JSON, or set it from a file.")


@app.command("show")
def policy_show(site: SiteOption = "default", database_url: DatabaseOption = None) -> None:
    """Print the site's policy as the admin API shows it: the stored settings, the
    thresholds in effect and the model's presets."""
    from rejoinder.runtime import model_presets
    from rejoinder.usecases.policy import read_rules, rules_out

    with opened(database_url) as runtime:
        presets = model_presets() if runtime.settings.moderation_model else None
        target = runtime.site_named(site)
        rules = read_rules(runtime.db, target.id, presets)
    typer.echo(json.dumps(rules_out(rules, target.name, presets), indent=2))


@app.command("set")
def policy_set(
    file: Annotated[
        Path,
        typer.Argument(
            help='JSON: {"policy": {...}, "reports_to_queue"?, "hide_reported"?}, as '
            "`rejoinder policy show` prints it; the policy given replaces the stored one."
        ),
    ],
    site: SiteOption = "default",
    note: Annotated[str, typer.Option(help="Why, for the audit log.")] = "",
    database_url: DatabaseOption = None,
) -> None:
    """Replace the site's policy with the one in FILE (checked like the admin API's; audited)."""
    from rejoinder.core.errors import Invalid
    from rejoinder.runtime import model_presets, utcnow
    from rejoinder.usecases.policy import read_rules, rules_from_json, save_rules

    if not file.is_file():
        fail(f"No such file: {file}")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text.")
    except json.JSONDecodeError as error:
        fail(f"{file}:{error.lineno}:{error.colno}: not JSON ({error.msg}).")
    with opened(database_url) as runtime:
        presets = model_presets() if runtime.settings.moderation_model else None
        target = runtime.site_named(site)
        current = read_rules(runtime.db, target.id, presets)
        try:
            rules = rules_from_json(data, current, presets)
        except Invalid as error:
            fail(f"{file}: {error.message}")
        save_rules(
            runtime.db,
            target.id,
            rules,
            actor_kind="system",
            actor="cli",
            now=utcnow(),
            note=note,
            presets=presets,
        )
        runtime.changes.announce()  # servers read close_after_days again
    typer.echo(f"Saved the moderation policy of site {target.name}")
