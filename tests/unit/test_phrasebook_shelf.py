"""Compiled phrasebooks kept between starts (runtime.FileShelf): a start takes them only when
they come from the same code and data and from a file no one else could have written, and
what it takes finds exactly what freshly built phrasebooks find."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

from rejoinder.core.moderation.matching import lexicon, phrasebook
from rejoinder.core.moderation.matching.folding import fold
from rejoinder.runtime import FileShelf
from rejoinder.usecases.moderation import prepare_phrasebooks

BOOKS = ("threats", "insults", "identity")
DIGEST = "0123456789abcdef" * 4


def _examples(name: str) -> list[str]:
    data = lexicon.load(name)["patterns"]
    return [
        text
        for entries in data.values()
        for entry in entries
        if isinstance(entry, dict)
        for text in entry.get("examples", [])
    ]


def test_kept_phrasebooks_find_what_built_ones_find(tmp_path: Path) -> None:
    phrasebook.build_all()
    shelf = FileShelf(tmp_path / "cache")
    shelf.keep(DIGEST, phrasebook.built())
    kept = shelf.take(DIGEST)
    assert set(kept) == set(BOOKS)
    for name in BOOKS:
        fresh, taken = phrasebook.phrasebook(name), kept[name]
        assert isinstance(taken, phrasebook.Phrasebook) and taken is not fresh
        texts = _examples(name)
        assert len(texts) >= 10, name
        found = [fresh.find(fold(text)) for text in texts]
        assert sum(bool(spans) for spans in found) > len(texts) // 2, name
        assert [taken.find(fold(text)) for text in texts] == found, name


def test_another_digest_finds_nothing_kept(tmp_path: Path) -> None:
    phrasebook.build_all()
    shelf = FileShelf(tmp_path)
    shelf.keep(DIGEST, phrasebook.built())
    assert shelf.take("f" * 64) == {}


def test_a_file_others_may_write_or_a_broken_one_is_not_read(tmp_path: Path) -> None:
    shelf = FileShelf(tmp_path / "cache")
    phrasebook.build_all()
    shelf.keep(DIGEST, phrasebook.built())
    [path] = list((tmp_path / "cache").iterdir())
    os.chmod(path, 0o666)
    assert shelf.take(DIGEST) == {}
    os.chmod(path, 0o600)
    assert set(shelf.take(DIGEST)) == set(BOOKS)
    path.write_bytes(pickle.dumps({"threats": "not a phrasebook"})[:10])
    assert shelf.take(DIGEST) == {}


def test_adopt_takes_all_or_nothing() -> None:
    assert not phrasebook.adopt({"threats": phrasebook.phrasebook("threats")})
    assert not phrasebook.adopt({name: object() for name in BOOKS})
    assert phrasebook.adopt({name: phrasebook.phrasebook(name) for name in BOOKS})


def test_the_digest_follows_the_data_files() -> None:
    assert lexicon.digest() == lexicon.digest()
    assert len(lexicon.digest()) == 64
    # every data file counts: a file the phrasebooks read is among those hashed
    data = Path(lexicon.__file__).parents[1] / "data"
    assert {path.stem for path in data.glob("*.json")} >= set(BOOKS)
    assert all(json.loads((data / f"{name}.json").read_text()) for name in BOOKS)


class _Shelf:
    def __init__(self) -> None:
        self.kept: dict[str, object] = {}
        self.asked: list[str] = []

    def take(self, digest: str) -> dict[str, object]:
        self.asked.append(digest)
        return dict(self.kept)

    def keep(self, digest: str, books: object) -> None:
        assert isinstance(books, dict)
        self.kept = dict(books)


def test_prepare_keeps_what_it_built_and_a_later_start_takes_it(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    shelf = _Shelf()
    caplog.set_level("INFO", logger="rejoinder.usecases.moderation")
    monkeypatch.setattr(phrasebook, "_PHRASEBOOKS", {})  # a fresh process: nothing built
    prepare_phrasebooks(shelf)
    assert set(shelf.kept) == set(BOOKS)
    assert shelf.asked == [lexicon.digest()]
    assert "built" in caplog.text
    caplog.clear()
    monkeypatch.setattr(phrasebook, "_PHRASEBOOKS", {})  # a later start
    prepare_phrasebooks(shelf)
    assert "took the phrase patterns" in caplog.text
    assert phrasebook.all_built()


def test_a_worker_forked_with_the_phrasebooks_built_neither_reads_nor_builds() -> None:
    # runtime.preload_moderation builds them before the workers fork: each worker's own
    # prepare must keep those shared pages rather than read a private copy off the shelf.
    phrasebook.build_all()
    books = phrasebook.built()
    shelf = _Shelf()
    prepare_phrasebooks(shelf)
    assert shelf.asked == []
    assert shelf.kept == {}
    assert all(phrasebook.phrasebook(name) is books[name] for name in BOOKS)
