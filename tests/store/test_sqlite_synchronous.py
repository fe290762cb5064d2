"""REJOINDER_SQLITE_SYNCHRONOUS decides SQLite's synchronous pragma on every connection:
normal (survives a killed process) by default, full (survives a power cut) when asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from rejoinder.runtime import open_database
from rejoinder.settings import load_settings
from rejoinder.store.database import Database

NORMAL, FULL = 1, 2  # what PRAGMA synchronous answers


def _synchronous(db: Database) -> set[int]:
    """The pragma on a reading and a writing connection, held at once (two of the pool)."""
    with db.read() as reading, db.write() as writing:
        return {
            int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())
            for conn in (reading, writing)
        }


def test_default_is_normal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REJOINDER_SQLITE_SYNCHRONOUS", raising=False)
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'normal.db'}")
    assert settings.sqlite_synchronous == "normal"
    db = open_database(settings)
    try:
        assert _synchronous(db) == {NORMAL}
    finally:
        db.dispose()


@pytest.mark.parametrize("value", ["full", "FULL", " Full "])
def test_full_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("REJOINDER_SQLITE_SYNCHRONOUS", value)
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'full.db'}")
    assert settings.sqlite_synchronous == "full"
    db = open_database(settings)
    try:
        assert _synchronous(db) == {FULL}
    finally:
        db.dispose()


@pytest.mark.parametrize("value", ["off", "extra", "0", ""])
def test_other_values_are_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("REJOINDER_SQLITE_SYNCHRONOUS", value)
    with pytest.raises(ValidationError, match="sqlite_synchronous"):
        load_settings()
