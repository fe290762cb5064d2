"""Gzip exports (remark42's backups, Commento's exports) are read as a stream: output comes
in bounded steps whatever the compression, members one after another are all read, and a
cut or damaged file is named."""

from __future__ import annotations

import gzip

import pytest

from rejoinder.core.imports.generic import INFLATED_MAX, gunzipped
from rejoinder.core.imports.records import ImportFileError

TEXT = b'{"id": "a", "text": "<p>same words again</p>"}\n' * 100_000  # 4.7 MB, compresses well


@pytest.mark.one_backend
@pytest.mark.parametrize("size", [1, 4096, 1 << 20])
def test_gzip_comes_out_whole_in_bounded_steps(size: int) -> None:
    packed = gzip.compress(TEXT) + gzip.compress(b"second member\n")
    chunks = [packed[i : i + size] for i in range(0, len(packed), size)]
    out = list(gunzipped(chunks))
    assert b"".join(out) == TEXT + b"second member\n"
    assert max(len(piece) for piece in out) <= INFLATED_MAX


@pytest.mark.one_backend
def test_plain_text_passes_and_broken_gzip_is_named() -> None:
    assert b"".join(gunzipped([b"{", b"}\n"])) == b"{}\n"
    packed = gzip.compress(TEXT)
    with pytest.raises(ImportFileError, match="ends early"):
        list(gunzipped([packed[: len(packed) // 2]]))
    with pytest.raises(ImportFileError, match="damaged"):
        list(gunzipped([packed[:10] + b"\x00" * 64 + packed[74:]]))
