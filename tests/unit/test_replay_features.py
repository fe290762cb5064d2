"""The replayed examples' features are kept in the cache folder between trainings
(`classifier.site_models.replay_features`): read back as written, and only from a file that
no one else may write; computed once by trainings that start together, and ahead of
any by `rejoinder moderation prepare`."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rejoinder.classifier.model import get_classifier
from rejoinder.classifier.site_models import Replay, replay_features
from tests.conftest import cli

TEXTS = ("The bridge is late again.", "What a lovely letter.", "You absolute muppet.")


def small_replay() -> Replay:
    labels = np.zeros((len(TEXTS), 6), dtype=np.int64)
    return Replay(texts=TEXTS, labels=labels, cats=("none",) * len(TEXTS))


def kept_file(folder: Path) -> Path:
    (found,) = folder.glob("replay-features-*.npz")
    return found


def test_features_are_kept_and_read_back_only_from_a_private_file(tmp_path: Path) -> None:
    clf = get_classifier()
    replay = small_replay()
    folder = tmp_path / "cache"
    fresh_zn, fresh_pooled = clf.features(list(TEXTS))

    zn, pooled = replay_features(clf, replay, folder)
    np.testing.assert_allclose(zn, fresh_zn)
    np.testing.assert_allclose(pooled, fresh_pooled)
    path = kept_file(folder)

    # What is kept is what is read: the file is the only source on the next call.
    np.savez(path, zn=np.zeros_like(zn), pooled=np.ones_like(pooled))
    zn, pooled = replay_features(clf, replay, folder)
    assert not zn.any() and pooled.all()

    # A file others may write is ignored, and replaced by the real features.
    path.chmod(0o666)
    zn, pooled = replay_features(clf, replay, folder)
    np.testing.assert_allclose(zn, fresh_zn)
    np.testing.assert_allclose(pooled, fresh_pooled)

    # Other texts (or other weights) are another digest, another file.
    other = Replay(texts=TEXTS[:2], labels=replay.labels[:2], cats=replay.cats[:2])
    zn, _ = replay_features(clf, other, folder)
    assert zn.shape[0] == 2 and len(list(folder.glob("replay-features-*.npz"))) == 2


def test_a_broken_file_or_no_folder_computes_them(tmp_path: Path) -> None:
    clf = get_classifier()
    replay = small_replay()
    fresh_zn, _ = clf.features(list(TEXTS))
    replay_features(clf, replay, tmp_path)
    kept_file(tmp_path).write_bytes(b"not an npz")
    zn, _ = replay_features(clf, replay, tmp_path)
    np.testing.assert_allclose(zn, fresh_zn)
    zn, _ = replay_features(clf, replay, None)
    np.testing.assert_allclose(zn, fresh_zn)


class Counting:
    """A classifier's features, counted, and slow enough that the callers overlap."""

    def __init__(self) -> None:
        self.inner = get_classifier()
        self.base = self.inner.base
        self.calls = 0
        self.started = threading.Event()

    def features(
        self, texts: Sequence[str]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]:
        self.calls += 1
        self.started.set()
        time.sleep(0.3)
        return self.inner.features(texts)


def test_trainings_that_start_together_compute_the_features_once(tmp_path: Path) -> None:
    clf = Counting()
    replay = small_replay()
    results: list[tuple[Any, Any]] = []
    first = threading.Thread(target=lambda: results.append(replay_features(clf, replay, tmp_path)))
    first.start()
    assert clf.started.wait(30)  # the first is computing, holding the lock
    results.append(replay_features(clf, replay, tmp_path))  # waits for it, then reads its file
    first.join(30)
    assert clf.calls == 1
    assert len(results) == 2
    np.testing.assert_allclose(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1])


def test_the_prepare_command_keeps_both_in_the_cache_folder_and_refuses_without_one(
    tmp_path: Path,
) -> None:
    # The user's own cache folder, as a server and a training use it (scripts/test prepares
    # it before the suite, so this mostly finds both kept already).
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    ran = cli("moderation", "prepare", db_url=url)
    folder = Path(ran.stdout.strip().splitlines()[-1].removeprefix("kept in "))
    assert "phrase patterns: ready in" in ran.stdout, ran.stdout
    assert list(folder.glob("replay-features-*.npz")), ran.stdout
    assert list(folder.glob("phrasebooks-*.pickle")), ran.stdout

    refused = cli(
        "moderation", "prepare", db_url=url, env={"REJOINDER_CACHE_DIR": "off"}, check=False
    )
    assert refused.returncode == 1
    assert "switched off" in refused.stderr, refused.stderr
