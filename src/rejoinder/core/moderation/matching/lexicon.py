"""The word lists and tables shipped in ``data/``, read once from the installed package.

This is the only read in the moderation core, and it reads constants: the editable JSON
files that ship inside the package, never anything about a site or a commenter. Each file
is read on first use (not at import) and kept.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def load(name: str) -> Any:
    """The parsed contents of ``data/<name>.json``."""
    resource = files("rejoinder.core.moderation").joinpath("data").joinpath(f"{name}.json")
    return json.loads(resource.read_text(encoding="utf-8"))


def table(name: str, *sections: str) -> dict[str, str]:
    """A mapping from a data file, merging the named sections (all but ``_about`` if none)."""
    data = load(name)
    names = sections or tuple(key for key in data if not key.startswith("_"))
    merged: dict[str, str] = {}
    for section in names:
        merged.update(data[section])
    return merged


def word_lists(name: str) -> dict[str, tuple[str, ...]]:
    """``{category: phrases}`` from a list file (``refuse`` or ``hold``)."""
    return {
        category: tuple(entry["phrases"])
        for category, entry in load(name).items()
        if not category.startswith("_")
    }


def message(name: str, category: str, default: str) -> str:
    """The message template of a category in a list file, with ``{words}`` to fill in."""
    entry = load(name).get(category)
    return str(entry["message"]) if isinstance(entry, dict) and "message" in entry else default


def digest() -> str:
    """A digest of everything a compiled phrasebook is made of: the matching code and the
    data files. Equal digests, equal phrasebooks: a start may reuse what an earlier one built."""
    package = files("rejoinder.core.moderation")
    seen = hashlib.sha256()
    for folder, suffix in (("matching", ".py"), ("data", ".json")):
        for item in sorted(package.joinpath(folder).iterdir(), key=lambda item: item.name):
            if item.name.endswith(suffix):
                seen.update(item.name.encode() + b"\0" + item.read_bytes() + b"\0")
    return seen.hexdigest()
