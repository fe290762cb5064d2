"""No phase of moderation costs more than linear time in the text's length: 1x, 10x and 100x
the longest comment go through every phase, timed in CPU seconds (what the process itself
spent, so a busy machine does not change it much). A quadratic phase would cost about 100
times more for 10 times the text; a linear one about 10 times."""

from __future__ import annotations

import gc
import random
import time
from datetime import UTC, datetime

import pytest

from rejoinder.core.models import Limits
from rejoinder.core.moderation import ArticleRef, Policy, Submission
from rejoinder.core.moderation.matching import folding, sentences
from rejoinder.core.moderation.matching.phrasebook import build_all
from rejoinder.core.moderation.policy import PHASES

LONGEST = Limits().body_max
# civil words and every kind of trigger: threats, insults, groups, links, spam, quotes, stars
PHRASES = (
    "the council said you should kill the plan and they are rats who breed like vermin ,",
    "I will find you idiot moron http://spam.example buy now !!! jews muslims run the banks",
    "' quoted \" text f*ck s h o o t you nobody should die in a fire we know where you live",
)
WORDS = [word for phrase in PHRASES for word in phrase.split()]
#: a linear phase costs about 10x for 10x the text; allow for caches and noise, not for n^2
MOST = 30


def _text(length: int, seed: int) -> str:
    pick = random.Random(seed)
    out: list[str] = []
    size = 0
    while size < length:
        word = pick.choice(WORDS) + ("." if pick.random() < 0.05 else "")
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:length]


def _cpu_seconds(phase: object, text: str) -> float:
    folding.fold.cache_clear()  # nothing of an earlier text helps this one
    sentences._plain_sentences.cache_clear()
    sub = Submission(
        text=text, name="A", email="a@example.org", article=ArticleRef(1), now=datetime.now(UTC)
    )
    gc.disable()
    try:
        started = time.process_time()
        phase.check(sub, Policy())  # type: ignore[attr-defined]
        return time.process_time() - started
    finally:
        gc.enable()


@pytest.mark.parametrize("phase", PHASES, ids=lambda p: p.__name__.rsplit(".", 1)[-1])
def test_a_phase_costs_linear_time_in_the_length_of_the_text(phase: object) -> None:
    build_all()
    _cpu_seconds(phase, _text(LONGEST, seed=0))  # what compiles on first use, compiled
    one, ten, hundred = (
        _cpu_seconds(phase, _text(LONGEST * times, seed=times)) for times in (1, 10, 100)
    )
    floor = 0.002  # below a few milliseconds, ratios are noise
    assert ten <= MOST * max(one, floor), (one, ten)
    assert hundred <= MOST * max(ten, floor), (ten, hundred)
