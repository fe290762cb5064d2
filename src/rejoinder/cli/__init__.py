"""The `rejoinder` command: every command group, registered here in one place."""

from __future__ import annotations

import typer

from rejoinder.cli import (
    accounts,
    articles,
    audit,
    backup,
    bans,
    db,
    discussions,
    exports,
    imports,
    moderation,
    policy,
    privacy,
    serve,
    settings,
    sites,
)

app = typer.Typer(
    help="Rejoinder: the discussion under news and opinion articles, on your own machine.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(serve.serve)
app.command()(serve.demo)
app.add_typer(db.app, name="db")
app.add_typer(sites.app, name="site")
app.add_typer(articles.app, name="article")
app.add_typer(articles.app, name="articles", hidden=True)  # the plural works too
app.add_typer(discussions.app, name="discussion")
app.command("import-page")(articles.import_page)
app.command("import")(imports.import_comments)
app.command("export")(exports.export_comments)
app.add_typer(moderation.app, name="moderation")
app.command()(moderation.purge)
app.add_typer(policy.app, name="policy")
app.add_typer(accounts.app, name="user")
app.add_typer(accounts.token_app, name="token")
app.add_typer(audit.app, name="audit")
app.add_typer(bans.app, name="bans")
app.add_typer(privacy.app, name="privacy")
app.command("settings")(settings.show_settings)
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)


def main() -> None:
    app(prog_name="rejoinder")


if __name__ == "__main__":
    main()
