"""The account commands as a real process: a refusal exits 1 with its message on stderr and no
traceback, and with no terminal there is no password prompt to hang on."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from rejoinder.store.database import Database
from rejoinder.store.schema import users
from tests import PASSWORD
from tests.conftest import Databases, add_staff, rejoinder


class Commands:
    """A database with the schema in place, and password files."""

    def __init__(self, db_url: str, tmp: Path) -> None:
        self.db_url = db_url
        self.tmp = tmp

    def password_file(self, password: str = PASSWORD) -> str:
        path = self.tmp / f"pw-{uuid.uuid4().hex[:8]}"
        path.write_text(password + "\n", encoding="utf-8")
        return str(path)


@pytest.fixture(scope="module")
def commands(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Commands:
    return Commands(databases.new(), tmp_path_factory.mktemp("commands"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "add", "tooshort", "--password-file", "SHORT"), "at least 10 characters"),
        (("user", "add", "x", "--role", "owner", "--password-file", "GOOD"), "admin or moderator"),
        (("user", "add", "nofile", "--password-file", "/no/such/file"), "No such file"),
        (("user", "passwd", "nobody-here", "--password-file", "GOOD"), "no user named"),
        (("token", "add", "nobody-here"), "no user named"),
    ],
)
def test_user_commands_refuse_bad_input_with_a_message(
    commands: Commands, args: tuple[str, ...], message: str
) -> None:
    files = {"SHORT": commands.password_file("short"), "GOOD": commands.password_file()}
    done = rejoinder(*(files.get(a, a) for a in args), db_url=commands.db_url, check=False)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_duplicate_user_name_is_refused(commands: Commands) -> None:
    name = f"u{uuid.uuid4().hex[:10]}"
    add_staff(commands.db_url, name)
    done = rejoinder(
        "user",
        "add",
        name,
        "--password-file",
        commands.password_file(),
        db_url=commands.db_url,
        check=False,
    )
    assert done.returncode == 1 and "already a user" in done.stderr


def test_no_password_and_no_terminal_is_a_clear_error(commands: Commands) -> None:
    for args in (("user", "add", "promptless"), ("user", "passwd", "promptless")):
        done = rejoinder(*args, db_url=commands.db_url, input="a password\n", check=False)
        assert done.returncode == 1
        assert "--password-file" in done.stderr and "Traceback" not in done.stderr
    db = Database(commands.db_url, pool_size=1)
    try:
        with db.read() as conn:
            found = conn.execute(select(users.c.id).where(users.c.name == "promptless")).first()
        assert found is None
    finally:
        db.dispose()
