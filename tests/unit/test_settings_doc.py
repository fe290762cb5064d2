"""docs/SETTINGS.md is made from the one typed list of settings and must stay in step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "SETTINGS.md"


def test_settings_doc_matches_the_code() -> None:
    made = subprocess.run(
        [sys.executable, "-m", "rejoinder", "settings", "--markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert DOC.read_text(encoding="utf-8") == made, (
        "run: rejoinder settings --markdown > docs/SETTINGS.md"
    )


def test_every_setting_is_in_the_doc() -> None:
    from rejoinder.settings import Settings

    text = DOC.read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`REJOINDER_{name.upper()}`" in text
