"""tests/unit runs once, on the SQLite pass only (scripts/test), because nothing in it uses a
database or Redis: no unit test asks for the fixtures that make one or starts a server."""

from __future__ import annotations

import ast
from pathlib import Path

UNIT = Path(__file__).resolve().parent
BACKEND_FIXTURES = {"db_url", "databases", "server", "client", "make_article"}
BACKEND_NAMES = {"Server", "REJOINDER_TEST_DATABASE_URL", "REJOINDER_TEST_REDIS_URL"}


def test_no_unit_test_uses_a_database_server_or_redis() -> None:
    found = []
    for path in sorted(UNIT.rglob("*.py")):
        if path.name == Path(__file__).name:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        set_only = {  # monkeypatch.setenv(NAME, ...): a test of settings, not a backend
            id(call.args[0])
            for call in ast.walk(tree)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "setenv"
            and call.args
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                used = {a.arg for a in node.args.args} & BACKEND_FIXTURES
                found += [f"{path.name}:{node.name} asks for {name}" for name in sorted(used)]
            elif isinstance(node, ast.Name) and node.id in BACKEND_NAMES:
                found.append(f"{path.name}:{node.lineno} uses {node.id}")
            elif (
                isinstance(node, ast.Constant)
                and node.value in BACKEND_NAMES
                and id(node) not in set_only
            ):
                found.append(f"{path.name}:{node.lineno} reads {node.value}")
    assert found == []
