"""Launch Debian's chromium through Playwright, the same way in every browser test.

Playwright's own browser downloads cannot be had here: tests drive the system chromium
that scripts/install-test-deps installs, at $REJOINDER_CHROMIUM.
"""

import os

import pytest
from playwright.sync_api import Browser, Playwright

CHROMIUM = os.environ.get("REJOINDER_CHROMIUM", "/usr/bin/chromium")

# --no-sandbox: the tests run as root. The network flags keep chromium from calling out,
# which this machine's closed network refuses, many times over.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """Skip the calling test when there is no chromium to drive."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no chromium at {CHROMIUM}: run scripts/install-test-deps")


def launch(playwright: Playwright) -> Browser:
    """Start headless chromium; the caller closes it."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
