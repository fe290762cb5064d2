"""Phase "duplicates": the same text again from the same commenter, or many times site-wide.

A commenter who sends the same words twice (a double click, a retry, a copy-paste
campaign) is refused: the first copy is already there. The same text arriving often
across the site in an hour (one message pasted under every article, by many hands) is
held. Texts compare by :func:`fingerprint`, so case, punctuation, invisible characters
and lookalike letters do not make two copies different.
"""

from __future__ import annotations

import hashlib
import re

from rejoinder.core.messages import N_, Nn_
from rejoinder.core.moderation.matching.folding import fold
from rejoinder.core.moderation.models import Action, Policy, Signal, Submission

PHASE = "duplicates"


def fingerprint(text: str) -> str:
    """A short hash of the words of ``text``; the store keeps it to count copies site-wide."""
    words = " ".join(re.findall(r"[^\W_]+", fold(text).text))
    return hashlib.sha256(words.encode("utf-8")).hexdigest()[:32]


def check(sub: Submission, policy: Policy) -> list[Signal]:
    words = re.findall(r"[^\W_]+", fold(sub.text).text)
    if not words:
        return []
    signals = []
    mine = fingerprint(sub.text)
    if any(fingerprint(text) == mine for text in sub.recent.own_texts):
        message = N_("you have already posted this same comment")
        signals.append(Signal.said(PHASE, "repeated_by_you", message, Action.REFUSE))
    copies = sub.recent.same_text_site_wide
    limit = policy.duplicate_site_limit
    long_enough = len(" ".join(words)) >= policy.duplicate_min_chars
    if limit and long_enough and copies >= limit:
        message = Nn_(
            "the same text was posted {n} time across the site in the last hour",
            "the same text was posted {n} times across the site in the last hour",
            copies,
        )
        signals.append(Signal.said(PHASE, "repeated_site_wide", message, Action.HOLD))
    return signals
