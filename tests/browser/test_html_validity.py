"""Every kind of page the server renders is valid HTML to the Nu HTML checker (vnu)."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from .conftest import VNU_JAR, PageKind, require_vnu

pytestmark = [pytest.mark.browser, pytest.mark.one_backend]

# A short run wants a quick start: the C1 compiler only and a serial GC take the checker from
# about 3 s to 1 s here, with the same messages. C1-compiled code needs a deeper stack.
FAST_JAVA = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss16m"]


def run_vnu(files: list[Path]) -> list[dict[str, object]]:
    """All the checker's messages for `files`, from one java start."""
    result = subprocess.run(
        ["java", *FAST_JAVA, "-jar", str(VNU_JAR), "--format", "json", "--stdout", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr  # 1 means "errors found"
    messages: list[dict[str, object]] = json.loads(result.stdout)["messages"]
    return messages


def page_of(message: dict[str, object]) -> str:
    return Path(unquote(urlparse(str(message.get("url", ""))).path)).stem


def describe(message: dict[str, object]) -> str:
    where = page_of(message)
    kind = message.get("subType") or message["type"]
    line = message.get("lastLine", "?")
    extract = str(message.get("extract", "")).replace("\n", " ")
    return f"{where}:{line}: {kind}: {message['message']} [{extract}]"


# A control page, checked in the same run, proves the checker reports errors at all.
BROKEN = (
    '<!DOCTYPE html><html lang="en"><head><title>x</title></head>'
    '<body><p id="a">one</p><p id="a">two</div></body></html>'
)


def test_every_kind_of_page_is_valid_html(page_kinds: dict[str, PageKind], tmp_path: Path) -> None:
    require_vnu()
    files = [tmp_path / "control-broken.html"]
    files[0].write_text(BROKEN, encoding="utf-8")
    for name, kind in page_kinds.items():
        path = tmp_path / f"{name}.html"
        path.write_text(kind.fetch_html(), encoding="utf-8")
        files.append(path)
    by_page: dict[str, list[dict[str, object]]] = {path.stem: [] for path in files}
    warnings: Counter[str] = Counter()
    for message in run_vnu(files):
        by_page.setdefault(page_of(message), []).append(message)  # "" for a run-wide message
        if message["type"] == "info":
            warnings[f"{page_of(message)}: {message['message']}"] += 1
        else:
            print(describe(message))
    for warning, times in sorted(warnings.items()):
        print(f"{times} x {warning}")
    control = by_page.pop("control-broken")
    assert sum(m["type"] == "error" for m in control) >= 2, control
    errors = [
        describe(m)
        for ms in by_page.values()
        for m in ms
        if m["type"] in ("error", "non-document-error")
    ]
    assert errors == []
    if "seed" not in page_kinds:
        pytest.skip(f"checked {len(by_page)} kinds of page, but not the seed page: no seed file")
