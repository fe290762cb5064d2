"""`rejoinder moderation` (check, eval, train, prepare, models, activate) and `rejoinder purge`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rejoinder.cli.options import (
    DatabaseOption,
    SiteOption,
    fail,
    opened,
    runtime_for,
    settings_for,
)
from rejoinder.core.moderation.fairness import CIVIL, EXPECTED, HATEFUL

if TYPE_CHECKING:
    from rejoinder.usecases.moderation import Moderator

app = typer.Typer(
    help="Moderation: judge comments from standard input, evaluate, retrain the local model."
)


PresetOption = Annotated[
    str | None,
    typer.Option(
        help="Judge with this preset of the shipped model (standard, light) instead of the "
        "site's thresholds."
    ),
]


@app.command("check")
def moderation_check(
    site: SiteOption = "default",
    preset: PresetOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Judge JSON lines from standard input ({"text", "name"?, "email"?, "website"?}), each as
    a new comment on an open article with no history; write one JSON line per input:
    {"verdict", "reasons": [{"code", "message", "spans"}], "scores"}."""
    import json

    from rejoinder.runtime import utcnow
    from rejoinder.usecases.moderation import verdict_out

    runtime = runtime_for(database_url, moderation=True)
    assert runtime.moderator is not None
    failures = 0
    try:
        site_id = runtime.site_named(site).id
        _check_preset(runtime.moderator, preset)
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                    raise ValueError("each line is an object with a string 'text'")
                fields = {k: item.get(k) or "" for k in ("name", "email", "website")}
                if not all(isinstance(v, str) for v in fields.values()):
                    raise ValueError("name, email and website are strings")
            except ValueError as error:
                failures += 1
                out = {"error": "invalid", "line": number, "message": str(error)}
                typer.echo(json.dumps(out))
                continue
            judgement = runtime.moderator.check(
                site_id=site_id, text=item["text"], now=utcnow(), preset=preset, **fields
            )
            typer.echo(json.dumps(verdict_out(judgement), ensure_ascii=False))
    finally:
        runtime.close()
    if failures:
        raise typer.Exit(1)


def _check_preset(moderator: Moderator, preset: str | None) -> None:
    """Stop with a clear message when the shipped model has no such preset."""
    from rejoinder.usecases.policy import check_preset

    if preset is not None:
        try:
            check_preset(moderator.presets, preset)
        except ValueError as error:
            fail(str(error))


@app.command("eval")
def moderation_eval(
    file: Annotated[
        Path,
        typer.Argument(
            help='JSON lines: labelled rows {"text", "label": 0|1, "cat"?}, or functional '
            'cases {"text", "family", "expected", "group"?, "measure"?} '
            "(scripts/eval_fairness.py --cases FILE writes them)."
        ),
    ],
    site: SiteOption = "default",
    preset: PresetOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """ROC-AUC of the model, and under the site's policy the recall of label 1 (held or
    refused) and the false-hold rate of label 0, overall and per category. Given functional
    cases: accuracy overall and per family, and per group the hold rate of civil cases and
    the recall of hateful ones."""
    import json

    from rejoinder.runtime import utcnow
    from rejoinder.usecases.moderation import evaluate_cases, evaluate_rows

    if not file.is_file():
        fail(f"No such file: {file}")
    rows: list[tuple[str, int, str]] = []
    cases: list[dict[str, Any]] = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise TypeError
            if "expected" in item:
                cases.append(_case(item))
            else:
                rows.append((str(item["text"]), int(item["label"]), str(item.get("cat") or "none")))
        except (ValueError, KeyError, TypeError):
            fail(
                f'{file}:{number}: expected {{"text": ..., "label": 0 or 1, "cat"?: ...}} or '
                f'{{"text": ..., "family": ..., "expected": one of {", ".join(EXPECTED)}}}'
            )
        if rows and cases:
            fail(f"{file}:{number}: labelled rows and functional cases are mixed; give one kind.")
    if not rows and not cases:
        fail(f"{file} has no rows.")
    runtime = runtime_for(database_url, moderation=True)
    assert runtime.moderator is not None
    try:
        _check_preset(runtime.moderator, preset)
        site_id, now = runtime.site_named(site).id, utcnow()
        if cases:
            report = evaluate_cases(runtime.moderator, site_id, cases, now, preset)
        else:
            report = evaluate_rows(runtime.moderator, site_id, rows, now, preset)
    finally:
        runtime.close()
    # whether the model read each group's name replaced (the moderation_blind_groups setting)
    blind = runtime.settings.moderation_blind_groups
    for line in report["lines"]:
        typer.echo(line)
    if blind:
        typer.echo("the model read every group's name replaced (moderation_blind_groups)")
    typer.echo(
        json.dumps({**{k: v for k, v in report.items() if k != "lines"}, "blind_groups": blind})
    )


def _case(item: dict[str, Any]) -> dict[str, Any]:
    """One functional case as `evaluate_cases` takes it; ValueError if a field is wrong."""
    text, family, expected = item["text"], item["family"], item["expected"]
    group, measure = item.get("group"), item.get("measure")
    if not (isinstance(text, str) and isinstance(family, str) and family):
        raise ValueError("text and family are strings")
    if expected not in EXPECTED or measure not in (None, CIVIL, HATEFUL):
        raise ValueError("unknown expected verdict or measure")
    if group is not None and not isinstance(group, str):
        raise ValueError("group is a string")
    return {
        "text": text,
        "family": family,
        "expected": expected,
        "group": group,
        "measure": measure,
    }


@app.command("train")
def moderation_train(
    site: SiteOption = "default",
    min_decisions: Annotated[
        int, typer.Option(help="Refuse to train on fewer approved or rejected comments.", min=4)
    ] = 30,
    activate: Annotated[
        bool, typer.Option("--activate", help="Make the new version the site's model at once.")
    ] = False,
    strength: Annotated[
        float | None,
        typer.Option(help="How strongly the new heads are held near the shipped ones.", min=1e-6),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Retrain the site's model heads on the shipped examples plus its moderators' decisions;
    store the result as a new version (inactive unless --activate) and print how often the
    machine agreed with the moderators on their latest decisions, before and after."""
    import json

    from rejoinder.runtime import model_presets, utcnow
    from rejoinder.usecases import site_models

    with opened(database_url) as runtime:
        trained = site_models.train(
            runtime.db,
            runtime.site_named(site).id,
            presets=model_presets(),
            actor_kind="system",
            actor="cli",
            now=utcnow(),
            min_decisions=min_decisions,
            activate=activate,
            strength=strength,
            cache_folder=runtime.settings.cache_folder,
        )
    for line in site_models.summary_lines(trained):
        typer.echo(line)
    typer.echo(
        json.dumps({"version": trained.version, "active": trained.active, **trained.metrics})
    )


@app.command("prepare")
def moderation_prepare() -> None:
    """Build now, and keep in the cache folder (REJOINDER_CACHE_DIR), what a server's first
    start and a site's first training would otherwise build then: the phrase patterns and
    the shipped examples' features. Run it once where a host or an image is set up."""
    import time

    from rejoinder.runtime import phrasebook_shelf
    from rejoinder.usecases import site_models
    from rejoinder.usecases.moderation import prepare_phrasebooks

    settings = settings_for()
    folder = settings.cache_folder
    if folder is None:
        fail("The cache is switched off (REJOINDER_CACHE_DIR=off): there is nowhere to keep it.")
    started = time.monotonic()
    prepare_phrasebooks(phrasebook_shelf(settings))
    typer.echo(f"phrase patterns: ready in {time.monotonic() - started:.1f} s")
    seconds = site_models.prepare_training(folder)
    typer.echo(f"the shipped examples' features: ready in {seconds:.1f} s")
    typer.echo(f"kept in {folder}")


@app.command("models")
def moderation_models(site: SiteOption = "default", database_url: DatabaseOption = None) -> None:
    """The site's model versions with their agreement figures; * marks the active one."""
    from rejoinder.usecases import site_models

    with opened(database_url) as runtime:
        page = site_models.read_models(runtime.db, runtime.site_named(site).id)
    typer.echo(f"decisions {page.decisions} (rejected {page.rejected}, approved {page.approved})")
    typer.echo(("* " if page.active is None else "  ") + "shipped")
    for model in page.versions:
        agree = model.metrics.get("agreement", {})
        figures = (
            f"agreement {agree.get('before', 0):.1%} -> {agree.get('after', 0):.1%} on the "
            f"latest {model.metrics.get('recent', 0)} of {model.metrics.get('decisions', 0)}"
        )
        stale = "" if page.usable(model) else "  (made for other shipped weights)"
        typer.echo(
            f"{'* ' if model.active else '  '}v{model.version}\t"
            f"{model.created_at:%Y-%m-%d %H:%M}\t{figures}{stale}"
        )


@app.command("activate")
def moderation_activate(
    site: SiteOption = "default",
    version: Annotated[int | None, typer.Option(help="The version to use.", min=1)] = None,
    shipped: Annotated[
        bool, typer.Option("--shipped", help="Go back to the shipped model.")
    ] = False,
    note: Annotated[str, typer.Option(help="Why, for the audit log.")] = "",
    database_url: DatabaseOption = None,
) -> None:
    """Switch the site's model to a version, or back to the shipped one (a rollback is
    activating an earlier version or --shipped). Audited."""
    from rejoinder.runtime import utcnow
    from rejoinder.usecases import site_models

    if (version is None) == (not shipped):
        fail("Give either --version N or --shipped.")
    with opened(database_url) as runtime:
        message = site_models.activate(
            runtime.db,
            runtime.site_named(site).id,
            None if shipped else version,
            actor_kind="system",
            actor="cli",
            now=utcnow(),
            note=note,
        )
    typer.echo(message)


def purge(
    days: Annotated[
        int | None, typer.Option(help="Keep this many days (default: setting).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Delete refused submissions older than the retention period (the server runs this daily)."""
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.moderation import purge_refused

    with opened(database_url) as runtime:
        keep = days or runtime.settings.retention_days
        gone = purge_refused(runtime.db, now=utcnow(), retention_days=keep)
    typer.echo(f"Purged {gone} refused submissions older than {keep} days")
