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


# ... and what only some servers use: an SMTP client where mail is set up.
DEFERRED = ("rejoinder.web.api", "rejoinder.web.embed", "rejoinder.web.desk.queue", "aiosmtplib")
PROBE_DEFERRED = f"""
import sys
import rejoinder.web.app
print(*[name for name in {DEFERRED!r} if name in sys.modules])
"""


def test_importing_the_web_app_leaves_the_deferred_routes_unmade() -> None:
    # web/deferred.py: the JSON API's, the widget's and the desk's modules are imported at
    # their first request or after the worker listens, never by the app's import.
    result = subprocess.run(
        [sys.executable, "-c", PROBE_DEFERRED],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.split() == [], result.stdout + result.stderr
