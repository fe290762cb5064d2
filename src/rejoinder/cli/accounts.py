"""`rejoinder user` and `rejoinder token`: desk accounts and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from rejoinder.cli.options import DatabaseOption, PasswordFile, fail, opened, read_password

app = typer.Typer(help="Desk accounts: moderators act on comments; admins also manage.")
token_app = typer.Typer(
    help="API tokens for scripts using /api/v1/admin; an admin's token also publishes articles "
    "(POST /api/v1/articles) on the admin's sites, in place of REJOINDER_ADMIN_TOKEN, which "
    "only bootstraps."
)
StaffSites = Annotated[
    list[str] | None,
    typer.Option(
        "--site",
        help="A site the account acts on; repeat for each. None: it acts on every site.",
        show_default=False,
    ),
]


@app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help="admin or moderator.")] = "moderator",
    password_file: PasswordFile = None,
    site: StaffSites = None,
    database_url: DatabaseOption = None,
) -> None:
    """Add a desk account; the password is hashed with argon2."""
    from rejoinder.core.models import Role
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.accounts import add_user

    if role not in ("admin", "moderator"):
        fail("--role is admin or moderator.")
    password = read_password(password_file)
    with opened(database_url) as runtime:
        user = add_user(runtime.db, name, Role(role), password, utcnow(), site or ())
    where = f" on {', '.join(sorted(set(site)))}" if site else ""
    typer.echo(f"Added {user.role.value} {user.name}{where}")


@app.command("sites")
def user_sites(
    name: Annotated[str, typer.Argument(help="Login name.")],
    site: StaffSites = None,
    every: Annotated[
        bool, typer.Option("--all", help="Let the account act on every site again.")
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Limit an account to some sites (--site, repeated), or let it act on all (--all)."""
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.accounts import set_user_sites

    if bool(site) == every:
        fail("Give the sites with --site NAME (repeat it), or --all for every site.")
    with opened(database_url) as runtime:
        set_user_sites(runtime.db, name, site or (), utcnow())
    typer.echo(f"{name} acts on {', '.join(sorted(set(site))) if site else 'every site'}")


@app.command("list")
def user_list(database_url: DatabaseOption = None) -> None:
    """List the desk accounts with their roles and the sites they act on."""
    from rejoinder.usecases.accounts import list_users
    from rejoinder.usecases.sites import list_sites

    with opened(database_url) as runtime:
        names = {site.id: site.name for site in list_sites(runtime.db)}
        for user in list_users(runtime.db):
            state = "disabled" if user.disabled else "active"
            where = ",".join(sorted(names[i] for i in user.site_ids)) or "every site"
            typer.echo(f"{user.name}\t{user.role.value}\t{state}\t{where}")


def _set_disabled(name: str, disabled: bool, database_url: str | None) -> None:
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.accounts import set_disabled

    with opened(database_url) as runtime:
        set_disabled(runtime.db, name, disabled, utcnow())
    typer.echo(f"{'Disabled' if disabled else 'Enabled'} {name}")


@app.command("disable")
def user_disable(name: str, database_url: DatabaseOption = None) -> None:
    """Disable an account and end its sessions."""
    _set_disabled(name, True, database_url)


@app.command("enable")
def user_enable(name: str, database_url: DatabaseOption = None) -> None:
    """Enable a disabled account again."""
    _set_disabled(name, False, database_url)


@app.command("passwd")
def user_passwd(
    name: str, password_file: PasswordFile = None, database_url: DatabaseOption = None
) -> None:
    """Set an account's password (its open sessions end)."""
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.accounts import set_password

    password = read_password(password_file)
    with opened(database_url) as runtime:
        set_password(runtime.db, name, password, utcnow())
    typer.echo(f"Password of {name} changed")


@token_app.command("add")
def token_add(
    user: Annotated[str, typer.Argument(help="The account the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "script",
    database_url: DatabaseOption = None,
) -> None:
    """Make an API token for /api/v1/admin and, for an admin, publishing articles (printed
    once; only its hash is kept)."""
    from rejoinder.runtime import utcnow
    from rejoinder.usecases.accounts import add_token

    with opened(database_url) as runtime:
        token = add_token(runtime.db, user, name, utcnow())
    typer.echo(token)
