"""The widget stays small: what a host page downloads to show a discussion or its counts."""

from __future__ import annotations

import gzip
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "src" / "rejoinder" / "web" / "static"
WIDGET_MAX = 12 * 1024  # embed.js and its CSS, gzipped
COUNTS_MAX = 1024  # count.js, gzipped


def gzipped(name: str) -> int:
    return len(gzip.compress((STATIC / name).read_bytes(), compresslevel=9))


def test_the_widget_and_its_css_fit_in_12_kb_gzipped() -> None:
    size = gzipped("embed.js") + gzipped("embed.css")
    assert 0 < size <= WIDGET_MAX, f"embed.js + embed.css: {size:,} bytes gzipped"


def test_the_count_script_fits_in_1_kb_gzipped() -> None:
    size = gzipped("count.js")
    assert 0 < size <= COUNTS_MAX, f"count.js: {size:,} bytes gzipped"


def test_the_widget_asks_no_server_but_its_own() -> None:
    """No third-party requests: every address the scripts reach is built from their own src."""
    for name in ("embed.js", "count.js", "embed.css"):
        text = (STATIC / name).read_text(encoding="utf-8")
        code = "\n".join(
            line for line in text.splitlines() if not line.lstrip().startswith(("//", "/*"))
        )
        assert "http://" not in code and "https://" not in code, name
        assert "iframe" not in code, name
