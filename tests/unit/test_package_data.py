"""Every file the package reads at run time is listed in the package data, so a wheel has it."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "rejoinder"


def test_every_non_python_file_is_in_the_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["rejoinder"]
    missing = []
    for path in PACKAGE.rglob("*"):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(PACKAGE).as_posix()
        in_a_package = path.suffix == ".py" and (path.parent / "__init__.py").exists()
        if in_a_package:
            continue
        # fnmatch's * crosses "/": compare the folder exactly, and the name with the glob.
        if not any(
            Path(p).parent.as_posix() == Path(relative).parent.as_posix()
            and fnmatch(Path(relative).name, Path(p).name)
            for p in patterns
        ):
            missing.append(relative)
    assert not missing, f"add these to [tool.setuptools.package-data]: {missing}"
