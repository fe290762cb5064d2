"""Tests for settings: REJOINDER_* variables, a TOML file, refusals, and documented fields."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from rejoinder.settings import Settings, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No REJOINDER_* variable from the shell or the test run leaks into these tests."""
    for name in list(os.environ):
        if name.upper().startswith("REJOINDER_"):
            monkeypatch.delenv(name)
    yield


def toml_file(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "rejoinder.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("REJOINDER_CONFIG_FILE", str(path))
    return path


def refused_fields(**values: object) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)  # type: ignore[arg-type]
    return [".".join(str(part) for part in error["loc"]) for error in caught.value.errors()]


def test_defaults_without_any_configuration() -> None:
    settings = Settings()
    assert settings.database_url == "sqlite:///./rejoinder.db"
    assert settings.redis_url is None
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.display_depth == 5
    assert settings.page_size == 50
    assert settings.edit_window_minutes == 15
    assert settings.body_max == 5000
    assert settings.migrate_on_start is True
    assert settings.secure_cookies is None
    assert settings.cookies_secure is False  # the default base URL is http://
    assert 1 <= settings.workers <= 4


def test_cookies_are_secure_by_default_when_the_site_is_served_over_https() -> None:
    assert Settings(base_url="https://comments.example").cookies_secure is True
    assert Settings(base_url="http://127.0.0.1:8000").cookies_secure is False
    assert (
        Settings(base_url="https://comments.example", secure_cookies=False).cookies_secure is False
    )
    assert Settings(base_url="http://127.0.0.1:8000", secure_cookies=True).cookies_secure is True


def test_environment_variables_are_read_and_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REJOINDER_DATABASE_URL", "postgresql+psycopg://app@db.internal/news")
    monkeypatch.setenv("REJOINDER_REDIS_URL", "redis://127.0.0.1:6379/2")
    monkeypatch.setenv("REJOINDER_PAGE_SIZE", "7")
    monkeypatch.setenv("REJOINDER_DISPLAY_DEPTH", "3")
    monkeypatch.setenv("REJOINDER_EDIT_WINDOW_MINUTES", "0")
    monkeypatch.setenv("REJOINDER_MIGRATE_ON_START", "false")
    monkeypatch.setenv("REJOINDER_SECURE_COOKIES", "1")
    monkeypatch.setenv("REJOINDER_SITE_TITLE", "The Callowmere Ledger")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://app@db.internal/news"
    assert settings.redis_url == "redis://127.0.0.1:6379/2"
    assert settings.page_size == 7
    assert settings.display_depth == 3
    assert settings.edit_window_minutes == 0
    assert settings.migrate_on_start is False
    assert settings.secure_cookies is True
    assert settings.site_title == "The Callowmere Ledger"


def test_unrelated_rejoinder_variables_do_not_break_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # scripts/test sets these for the test suite itself; they are not settings.
    monkeypatch.setenv("REJOINDER_TEST_DATABASE_URL", "postgresql+psycopg://postgres@h/test")
    monkeypatch.setenv("REJOINDER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    assert Settings().database_url == "sqlite:///./rejoinder.db"


def test_toml_file_named_by_rejoinder_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = toml_file(
        tmp_path,
        'site_title = "From TOML"\ndisplay_depth = 3\npage_size = 9\nsecure_cookies = true\n'
        f'database_url = "sqlite:///{tmp_path}/x.db"\n',
        monkeypatch,
    )
    settings = Settings()
    assert settings.site_title == "From TOML"
    assert settings.display_depth == 3
    assert settings.page_size == 9
    assert settings.secure_cookies is True
    assert settings.database_url == f"sqlite:///{tmp_path}/x.db"
    assert settings.config_file == path


def test_environment_beats_the_file_and_arguments_beat_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml_file(tmp_path, "page_size = 9\ndisplay_depth = 3\nport = 9000\n", monkeypatch)
    monkeypatch.setenv("REJOINDER_PAGE_SIZE", "7")
    settings = load_settings(port=8123, display_depth=None)  # None means "not given"
    assert (settings.page_size, settings.display_depth, settings.port) == (7, 3, 8123)


def test_toml_file_with_an_unknown_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml_file(tmp_path, 'colour = "red"\n', monkeypatch)
    with pytest.raises(ValidationError, match="colour"):
        Settings()


def test_toml_file_values_are_validated_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml_file(tmp_path, 'database_url = "mysql://root@localhost/news"\n', monkeypatch)
    with pytest.raises(ValidationError, match="database_url"):
        Settings()


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root@localhost/news",
        "oracle://scott@db/orcl",
        "mssql+pyodbc://x",
        "redis://h/0",
        "news.db",
        "",
    ],
)
def test_unsupported_database_url_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="only sqlite:/// and postgresql"):
        Settings(database_url=url)


def test_unsupported_database_url_in_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REJOINDER_DATABASE_URL", "mysql://root@localhost/news")
    with pytest.raises(ValidationError, match="database_url"):
        Settings()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///./rejoinder.db",
        "sqlite:////var/lib/rejoinder.db",
        "sqlite://",
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "postgresql://u@h/db",
    ],
)
def test_supported_database_urls_are_accepted(url: str) -> None:
    assert Settings(database_url=url).database_url == url


def test_display_depth_below_two_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert refused_fields(display_depth=1) == ["display_depth"]
    assert refused_fields(display_depth=0) == ["display_depth"]
    assert Settings(display_depth=2).display_depth == 2
    monkeypatch.setenv("REJOINDER_DISPLAY_DEPTH", "1")
    with pytest.raises(ValidationError, match="display_depth"):
        Settings()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("page_size", 0),
        ("page_size", 501),
        ("body_max", 0),
        ("edit_window_minutes", -1),
        ("port", "not-a-port"),
        ("migrate_on_start", "perhaps"),
    ],
)
def test_out_of_range_values_are_refused(field: str, value: object) -> None:
    assert refused_fields(**{field: value}) == [field]


def test_unknown_argument_is_refused() -> None:
    assert refused_fields(colour="red") == ["colour"]


def test_every_field_has_a_description() -> None:
    assert len(Settings.model_fields) >= 15
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        assert len(field.description) > 15, f"{name}: {field.description!r} says too little"


def test_rejoinder_settings_prints_every_variable_with_its_description() -> None:
    from typer.testing import CliRunner

    from rejoinder.cli import app

    result = CliRunner().invoke(app, ["settings"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name, field in Settings.model_fields.items():
        [line] = [line for line in lines if line.split()[0] == f"REJOINDER_{name.upper()}"]
        assert line.endswith(str(field.description))
