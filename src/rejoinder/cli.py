"""The `rejoinder` command: serve, demo, database, articles, imports."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rejoinder.cli_audit import audit_app

if TYPE_CHECKING:
    from rejoinder.moderation import Moderator
    from rejoinder.runtime import Runtime

app = typer.Typer(
    help="Rejoinder: the discussion under news and opinion articles, on your own machine.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="The database: apply migrations, show the schema's revision.")
article_app = typer.Typer(help="Articles: add them from Markdown files.")
site_app = typer.Typer(help="Sites: one server can host the discussions of several sites.")
moderation_app = typer.Typer(
    help="Moderation: judge comments from standard input, evaluate, retrain the local model."
)
app.add_typer(moderation_app, name="moderation")
user_app = typer.Typer(help="Desk accounts: moderators act on comments; admins also manage.")
token_app = typer.Typer(help="API tokens for scripts using /api/v1/admin.")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
PasswordFile = Annotated[
    Path | None,
    typer.Option("--password-file", help="Read the password from this file (else a prompt)."),
]


def _password(password_file: Path | None) -> str:
    if password_file is not None:
        if not password_file.is_file():
            _fail(f"No such file: {password_file}")
        return password_file.read_text(encoding="utf-8").strip("\r\n")
    if not sys.stdin.isatty():
        _fail("No password: give --password-file, or run this in a terminal to be asked.")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


app.add_typer(db_app, name="db")
app.add_typer(site_app, name="site")
app.add_typer(article_app, name="article")

SiteOption = Annotated[str, typer.Option("--site", help="The site's name.")]
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides REJOINDER_DATABASE_URL.", show_default=False),
]


def _settings(database_url: str | None = None, **overrides: object):  # type: ignore[no-untyped-def]
    from rejoinder.settings import load_settings

    return load_settings(database_url=database_url, **overrides)


def _runtime(database_url: str | None = None, **overrides: object):  # type: ignore[no-untyped-def]
    from rejoinder.runtime import open_runtime

    return open_runtime(_settings(database_url, **overrides))


@contextmanager
def _opened(database_url: str | None, **overrides: object) -> Iterator[Any]:
    """The runtime for one command, closed after; a domain error becomes a clean exit 1."""
    from rejoinder.core.errors import RejoinderError

    runtime = _runtime(database_url, **overrides)
    try:
        yield runtime
    except RejoinderError as error:
        _fail(error.message)
    finally:
        runtime.close()


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: cores, at most 4).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Run the site and the API: migrate the database, then serve with uvicorn."""
    settings = _settings(database_url, host=host, port=port, workers=workers)
    _run_server(settings)


def _run_server(settings) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    from rejoinder.store.database import Database
    from rejoinder.store.migrate import upgrade

    db = Database(settings.database_url)
    upgrade(db)  # once, here, before the workers start
    db.dispose()
    # Workers build their own settings from the environment: hand ours over through it.
    os.environ["REJOINDER_DATABASE_URL"] = settings.database_url
    os.environ["REJOINDER_MIGRATE_ON_START"] = "false"
    if settings.secret_key:
        os.environ["REJOINDER_SECRET_KEY"] = settings.secret_key
    workers = f"{settings.workers} worker" + ("s" if settings.workers != 1 else "")
    typer.echo(f"Rejoinder on http://{settings.host}:{settings.port}/ ({workers})")
    uvicorn.run(
        "rejoinder.web.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="warning",
        access_log=False,
        server_header=False,
    )


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database: Annotated[Path, typer.Option(help="SQLite file for the demo.")] = Path(
        "rejoinder-demo.db"
    ),
) -> None:
    """Serve a demo site on http://127.0.0.1:PORT with sample articles and discussions."""
    from rejoinder.demo.content import load_demo
    from rejoinder.runtime import open_runtime

    url = f"sqlite:///{database}"
    settings = _settings(
        url, port=port, host="127.0.0.1", base_url=f"http://127.0.0.1:{port}",
        site_title="The Callowmere Ledger",
    )  # fmt: skip
    runtime = open_runtime(settings)
    try:
        added = load_demo(runtime)
        password = _demo_desk_user(runtime)
    finally:
        runtime.close()
    if added:
        typer.echo(f"Demo content written to {database}: {', '.join(added)}")
    typer.echo(f"Open http://127.0.0.1:{port}/ (Ctrl+C stops it)")
    typer.echo(
        f"The moderators' desk: http://127.0.0.1:{port}/admin/login as {DEMO_USER}, "
        f"password {password} (a new one at every start)"
    )
    _run_server(settings)


DEMO_USER = "demo"


def _demo_desk_user(runtime: Runtime) -> str:
    """An admin account for trying the desk, with a fresh random password each start (the
    demo listens on 127.0.0.1 only)."""
    import secrets
    import string

    from rejoinder import accounts
    from rejoinder.core.models import Role
    from rejoinder.runtime import utcnow

    password = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
    if any(user.name == DEMO_USER for user in accounts.list_users(runtime.db)):
        accounts.set_password(runtime.db, DEMO_USER, password, utcnow())
    else:
        accounts.add_user(runtime.db, DEMO_USER, Role.ADMIN, password, utcnow())
    return password


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseOption = None) -> None:
    """Apply every migration the database does not have yet."""
    from rejoinder.store.database import Database
    from rejoinder.store.migrate import current, upgrade

    db = Database(_settings(database_url).database_url)
    upgrade(db)
    typer.echo(f"Database at revision {current(db)}")
    db.dispose()


@db_app.command("current")
def db_current(database_url: DatabaseOption = None) -> None:
    """Print the schema revision the database is at."""
    from rejoinder.store.database import Database
    from rejoinder.store.migrate import current

    db = Database(_settings(database_url).database_url)
    typer.echo(current(db) or "empty (no migrations applied)")
    db.dispose()


@article_app.command("add")
def article_add(
    file: Annotated[Path, typer.Argument(help="Markdown with front matter: title, slug, dek, ...")],
    site: SiteOption = "default",
    database_url: DatabaseOption = None,
) -> None:
    """Publish an article from a Markdown file with front matter."""
    from rejoinder.core.articlefile import parse_article_file
    from rejoinder.core.errors import RejoinderError
    from rejoinder.publishing import add_article
    from rejoinder.runtime import utcnow

    if not file.is_file():
        _fail(f"No such file: {file}")
    runtime = _runtime(database_url)
    try:
        draft = parse_article_file(file.read_text(encoding="utf-8"), default_published=utcnow())
        target = runtime.site_named(site)
        article = add_article(runtime.db, runtime.events, target.id, draft, utcnow())
    except RejoinderError as error:
        _fail(f"{file}: {error.message}")
    except UnicodeDecodeError:
        _fail(f"{file} is not UTF-8 text.")
    finally:
        runtime.close()
    typer.echo(f"Published /articles/{article.slug}")


@app.command("import-page")
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
    from rejoinder.publishing import import_page as run_import
    from rejoinder.runtime import utcnow

    if not file.is_file():
        _fail(f"No such file: {file}")
    runtime = _runtime(database_url)
    try:
        dump = parse_page_dump(file.read_text(encoding="utf-8"))
        article, comments = run_import(
            runtime.db, runtime.events, runtime.site_named(site).id, dump, utcnow(),
            slug=slug, source_url=source_url, moderator=runtime.moderator if moderate else None,
        )  # fmt: skip
    except (PageDumpError, UnicodeDecodeError) as error:
        _fail(f"{file}: {error}")
    except RejoinderError as error:
        _fail(f"{file}: {error.message}")
    finally:
        runtime.close()
    held = sum(1 for c in comments if c.status.value == "held")
    note = f" ({held} held for a moderator)" if held else ""
    typer.echo(f"Imported /articles/{article.slug} with {len(comments)} comments{note}")


@site_app.command("add")
def site_add(
    name: Annotated[str, typer.Argument(help="Short name: lowercase letters, digits, hyphens.")],
    title: Annotated[str, typer.Option(help="Shown in the masthead and feeds.")],
    domain: Annotated[
        str | None, typer.Option(help="Host name whose requests belong to it.")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Add a site; requests whose Host is its domain see its articles."""
    from rejoinder.publishing import add_site
    from rejoinder.runtime import utcnow

    with _opened(database_url) as runtime:
        added = add_site(runtime.db, name, title, domain, utcnow())
    typer.echo(f"Added site {added.name} ({added.domain or 'no domain'})")


@site_app.command("list")
def site_list(database_url: DatabaseOption = None) -> None:
    """List the sites with their domains."""
    from rejoinder.publishing import list_sites

    with _opened(database_url) as runtime:
        for site in list_sites(runtime.db):
            typer.echo(f"{site.name}\t{site.domain or '-'}\t{site.title}")


PresetOption = Annotated[
    str | None,
    typer.Option(
        help="Judge with this preset of the shipped model (standard, light) instead of the "
        "site's thresholds."
    ),
]


@moderation_app.command("check")
def moderation_check(
    site: SiteOption = "default",
    preset: PresetOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Judge JSON lines from standard input ({"text", "name"?, "email"?, "website"?}), each as
    a new comment on an open article with no history; write one JSON line per input:
    {"verdict", "reasons": [{"code", "message", "spans"}], "scores"}."""
    import json

    from rejoinder.moderation import verdict_out
    from rejoinder.runtime import utcnow

    runtime = _runtime(database_url, moderation=True)
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
    from rejoinder.moderation import check_preset

    if preset is not None:
        try:
            check_preset(moderator.presets, preset)
        except ValueError as error:
            _fail(str(error))


@moderation_app.command("eval")
def moderation_eval(
    file: Annotated[Path, typer.Argument(help='JSON lines: {"text", "label": 0|1, "cat"?}.')],
    site: SiteOption = "default",
    preset: PresetOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """ROC-AUC of the model, and under the site's policy the recall of label 1 (held or
    refused) and the false-hold rate of label 0, overall and per category."""
    import json

    from rejoinder.moderation import evaluate_rows
    from rejoinder.runtime import utcnow

    if not file.is_file():
        _fail(f"No such file: {file}")
    rows = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            rows.append((str(item["text"]), int(item["label"]), str(item.get("cat") or "none")))
        except (ValueError, KeyError, TypeError):
            _fail(f'{file}:{number}: expected {{"text": ..., "label": 0 or 1, "cat"?: ...}}')
    if not rows:
        _fail(f"{file} has no rows.")
    runtime = _runtime(database_url, moderation=True)
    assert runtime.moderator is not None
    try:
        _check_preset(runtime.moderator, preset)
        report = evaluate_rows(
            runtime.moderator, runtime.site_named(site).id, rows, utcnow(), preset
        )
    finally:
        runtime.close()
    for line in report["lines"]:
        typer.echo(line)
    typer.echo(json.dumps({k: v for k, v in report.items() if k != "lines"}))


@moderation_app.command("train")
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

    from rejoinder import site_models
    from rejoinder.runtime import model_presets, utcnow

    with _opened(database_url) as runtime:
        trained = site_models.train(
            runtime.db, runtime.site_named(site).id, presets=model_presets(),
            actor_kind="system", actor="cli", now=utcnow(), min_decisions=min_decisions,
            activate=activate, strength=strength,
        )  # fmt: skip
    for line in site_models.summary_lines(trained):
        typer.echo(line)
    typer.echo(
        json.dumps({"version": trained.version, "active": trained.active, **trained.metrics})
    )


@moderation_app.command("models")
def moderation_models(site: SiteOption = "default", database_url: DatabaseOption = None) -> None:
    """The site's model versions with their agreement figures; * marks the active one."""
    from rejoinder import site_models

    with _opened(database_url) as runtime:
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


@moderation_app.command("activate")
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
    from rejoinder import site_models
    from rejoinder.runtime import utcnow

    if (version is None) == (not shipped):
        _fail("Give either --version N or --shipped.")
    with _opened(database_url) as runtime:
        message = site_models.activate(
            runtime.db, runtime.site_named(site).id, None if shipped else version,
            actor_kind="system", actor="cli", now=utcnow(), note=note,
        )  # fmt: skip
    typer.echo(message)


@app.command()
def purge(
    days: Annotated[
        int | None, typer.Option(help="Keep this many days (default: setting).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Delete refused submissions older than the retention period (the server runs this daily)."""
    from rejoinder.moderation import purge_refused
    from rejoinder.runtime import utcnow

    with _opened(database_url) as runtime:
        keep = days or runtime.settings.retention_days
        gone = purge_refused(runtime.db, now=utcnow(), retention_days=keep)
    typer.echo(f"Purged {gone} refused submissions older than {keep} days")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help="admin or moderator.")] = "moderator",
    password_file: PasswordFile = None,
    database_url: DatabaseOption = None,
) -> None:
    """Add a desk account; the password is hashed with argon2."""
    from rejoinder.accounts import add_user
    from rejoinder.core.models import Role
    from rejoinder.runtime import utcnow

    if role not in ("admin", "moderator"):
        _fail("--role is admin or moderator.")
    password = _password(password_file)
    with _opened(database_url) as runtime:
        user = add_user(runtime.db, name, Role(role), password, utcnow())
    typer.echo(f"Added {user.role.value} {user.name}")


@user_app.command("list")
def user_list(database_url: DatabaseOption = None) -> None:
    """List the desk accounts with their roles."""
    from rejoinder.accounts import list_users

    with _opened(database_url) as runtime:
        for user in list_users(runtime.db):
            state = "disabled" if user.disabled else "active"
            typer.echo(f"{user.name}\t{user.role.value}\t{state}")


def _set_disabled(name: str, disabled: bool, database_url: str | None) -> None:
    from rejoinder.accounts import set_disabled
    from rejoinder.runtime import utcnow

    with _opened(database_url) as runtime:
        set_disabled(runtime.db, name, disabled, utcnow())
    typer.echo(f"{'Disabled' if disabled else 'Enabled'} {name}")


@user_app.command("disable")
def user_disable(name: str, database_url: DatabaseOption = None) -> None:
    """Disable an account and end its sessions."""
    _set_disabled(name, True, database_url)


@user_app.command("enable")
def user_enable(name: str, database_url: DatabaseOption = None) -> None:
    """Enable a disabled account again."""
    _set_disabled(name, False, database_url)


@user_app.command("passwd")
def user_passwd(
    name: str, password_file: PasswordFile = None, database_url: DatabaseOption = None
) -> None:
    """Set an account's password (its open sessions end)."""
    from rejoinder.accounts import set_password
    from rejoinder.runtime import utcnow

    password = _password(password_file)
    with _opened(database_url) as runtime:
        set_password(runtime.db, name, password, utcnow())
    typer.echo(f"Password of {name} changed")


@token_app.command("add")
def token_add(
    user: Annotated[str, typer.Argument(help="The account the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "script",
    database_url: DatabaseOption = None,
) -> None:
    """Make an API token for /api/v1/admin (printed once; only its hash is kept)."""
    from rejoinder.accounts import add_token
    from rejoinder.runtime import utcnow

    with _opened(database_url) as runtime:
        token = add_token(runtime.db, user, name, utcnow())
    typer.echo(token)


@app.command("settings")
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


def main() -> None:
    app(prog_name="rejoinder")


if __name__ == "__main__":
    main()
