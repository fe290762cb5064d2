"""`rejoinder serve --workers 2` with moderation on: the model and the phrase patterns are
loaded once, in the process that forks the workers, and every worker judges with that copy;
a worker killed is replaced by a fork of the same process, which judges with it too."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Databases, Server

ONNXRUNTIME = b"onnxruntime_pybind11_state"
# A comment the model itself judges (an insult the n-grams are sure of), and a civil one.
RUDE = "You are a pathetic idiot and everyone on this page knows it."
CIVIL = "The bus lane pilot deserves a fair test before the council decides."


@pytest.fixture(scope="module")
def judged(databases: Databases) -> Iterator[Server]:
    env = {"REJOINDER_MODERATION": "true"}
    running = Server(databases.new(), workers=2, env=env).start(timeout=90)
    try:
        yield running
    finally:
        running.stop()


def _maps(pid: int) -> bytes:
    return Path(f"/proc/{pid}/maps").read_bytes()


def _workers(server: Server) -> list[int]:
    assert server.process is not None
    parent = server.process.pid
    found = []
    for entry in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        command = Path(f"/proc/{entry}/cmdline").read_bytes()
        # Not multiprocessing's helper, nor the outbox's sender process (web/sender.py).
        if b"resource_tracker" not in command and b"rejoinder.web.sender" not in command:
            found.append(int(entry))
    return found


def _scores(server: Server, text: str) -> dict[str, float]:
    answer = httpx.post(f"{server.url}/api/v1/moderation/check", json={"text": text}, timeout=30)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["scores"])


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc")
def test_the_model_is_loaded_before_the_fork_and_every_worker_judges_with_it(
    judged: Server,
) -> None:
    assert judged.process is not None
    # The serving parent holds the model's runtime: it loaded it before forking.
    assert ONNXRUNTIME in _maps(judged.process.pid)
    workers = _workers(judged)
    assert len(workers) == 2
    assert all(ONNXRUNTIME in _maps(pid) for pid in workers)
    # Whichever worker answers (a new connection each time), the scores are the same.
    rude = [_scores(judged, RUDE) for _ in range(6)]
    civil = [_scores(judged, CIVIL) for _ in range(6)]
    assert all(scores == rude[0] for scores in rude)
    assert all(scores == civil[0] for scores in civil)
    assert rude[0]["insult"] > civil[0]["insult"]


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc")
def test_a_killed_worker_is_replaced_and_the_new_one_judges(judged: Server) -> None:
    before = _workers(judged)
    os.kill(before[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = _workers(judged)
        if len(now) == 2 and before[0] not in now:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the killed worker was not replaced: {before} then {_workers(judged)}")
    assert ONNXRUNTIME in _maps(next(pid for pid in now if pid not in before))
    # A connection each, so both workers answer, the new one among them: the same scores.
    rude = [_scores(judged, RUDE) for _ in range(6)]
    assert all(scores == rude[0] for scores in rude)
    assert rude[0]["insult"] > _scores(judged, CIVIL)["insult"]
