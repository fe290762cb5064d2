"""The replayed examples' features are kept in the cache folder between trainings
(`classifier.site_models.replay_features`): read back as written, and only from a file that
no one else may write."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rejoinder.classifier.model import get_classifier
from rejoinder.classifier.site_models import Replay, replay_features

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
