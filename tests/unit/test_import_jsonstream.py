"""The streamed JSON reader: the same values as json.loads, whatever the chunks' sizes, and
a clear error, with its line, for a broken document."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rejoinder.core.imports.jsonstream import members
from rejoinder.core.imports.records import ImportFileError

DOCUMENT: dict[str, Any] = {
    "version": 3,
    "pages": [{"id": "p1", "path": "/caf\u00e9", "title": "\u65e5\u672c"}],
    "comments": [
        {"id": n, "score": 12345678901234567890 * n, "text": "x" * n, "ok": n % 2 == 0}
        for n in range(40)
    ],
    "empty": [],
    "commenters": [],
    "meta": {"nested": [1, 2.5, None]},
}


def _read(raw: bytes, size: int) -> list[tuple[str, int | None, Any]]:
    chunks = [raw[i : i + size] for i in range(0, len(raw), size)]
    return list(members(chunks, {"pages", "comments", "commenters", "empty"}))


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("indent", [None, 2])
def test_every_member_and_element_comes_as_json_reads_it(size: int, indent: int | None) -> None:
    raw = ("\ufeff" + json.dumps(DOCUMENT, indent=indent, ensure_ascii=False)).encode()
    found = _read(raw, size)
    assert found[0] == ("version", None, 3)
    assert [value for name, _, value in found if name == "comments"] == DOCUMENT["comments"]
    assert [index for name, index, _ in found if name == "comments"] == list(range(40))
    assert ("pages", 0, DOCUMENT["pages"][0]) in found
    assert not [item for item in found if item[0] in ("empty", "commenters")]
    assert found[-1] == ("meta", None, DOCUMENT["meta"])


@pytest.mark.parametrize(
    ("raw", "words", "line"),
    [
        (b"", "the file is empty", None),
        (b"[1, 2]", "not JSON: '['", 1),
        (b'{"comments": [\n{"id": 1},\n{"id": 2}', "ends early", 3),
        (b'{"comments": [\n{"id": 1},\n{"id": 2,}\n]}', "not JSON (Expecting property", 3),
        (b'{"comments": [{"id": 1}] "x": 2}', "',' or '}' should follow", 1),
        (b'{"a": 1}\n{"b": 2}', "more follows", 2),
        (b'{"a": "caf\xe9"}', "not UTF-8 (byte 11", 1),
    ],
)
def test_a_broken_document_is_named_with_its_line(raw: bytes, words: str, line: int | None) -> None:
    with pytest.raises(ImportFileError) as caught:
        _read(raw, 4)
    assert words in caught.value.message
    assert caught.value.line == line
