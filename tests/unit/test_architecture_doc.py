"""docs/ARCHITECTURE.md names every module of the package and of training/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "rejoinder"
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")


def _only_a_docstring(path: Path) -> bool:
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in body)


def _modules(every_init: bool = False) -> list[str]:
    """Each module as the document names it: `core/models.py`, `training/pipeline.py`; a
    package's `__init__.py` only when it holds more than its docstring (or `every_init`)."""
    found = []
    for base, prefix in ((PACKAGE, ""), (ROOT / "training", "training/")):
        for path in sorted(base.rglob("*.py")):
            if path.name == "__init__.py" and not every_init and _only_a_docstring(path):
                continue
            found.append(prefix + path.relative_to(base).as_posix())
    return found


def _named(module: str) -> bool:
    """Named in full, or, inside a table row or a list, by its file name after its folder."""
    if f"`{module}`" in DOC or f"{module}`" in DOC:
        return True
    folder, _, name = module.rpartition("/")
    return any(f"`{folder}/" in line and f"`{name}`" in line for line in DOC.splitlines())


def test_every_module_is_named_in_the_architecture_document() -> None:
    missing = [module for module in _modules() if not _named(module)]
    assert not missing, f"docs/ARCHITECTURE.md does not name: {', '.join(missing)}"


def test_the_document_names_no_module_that_is_gone() -> None:
    modules = set(_modules(every_init=True))
    named = {
        token.strip("`")
        for line in DOC.splitlines()
        for token in line.split()
        if token.startswith("`") and token.rstrip("`,").endswith(".py")
    }
    gone = sorted(
        m
        for m in (n.rstrip("`,") for n in named)
        if "/" in m
        and not m.startswith(("static/", "tests/", "bench/"))
        and m not in modules
        and not (m.startswith("scripts/") and (ROOT / m).is_file())
    )
    assert not gone, f"docs/ARCHITECTURE.md names modules that do not exist: {', '.join(gone)}"
