"""Importing the web app does no costly work: no password hash, no pattern, no model."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import rejoinder.web.app
from rejoinder.usecases import accounts
from rejoinder.classifier import model
print(accounts._dummy_hash.cache_info().currsize, model._instance)
"""


def test_importing_the_web_app_hashes_no_password_and_loads_no_model() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.split() == ["0", "None"], result.stdout + result.stderr
