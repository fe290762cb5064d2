"""Phase "model": the classifier's per-category scores against the site's thresholds.

The scores are computed before the pipeline runs (by ``rejoinder.classifier``) and passed
in the submission, so this phase stays pure and cheap. A category at or above its hold
threshold holds the comment; at or above its refuse threshold (if the site set one) it
refuses. The spans the classifier gave for a category are passed through, so the message
quotes the words that drove the score. A hold (never a refusal) whose every span lies in a
sentence that reports someone else's words and denounces them (framing.py) is dropped: the
score is the quoted attack's. Under a policy of `profanity: publish`, a toxicity or
obscenity hold whose every span overlaps a swear word of ``data/profanity.json`` lapses too:
the score is the swearing's, and swearing that attacks nobody is the site's to allow.

A group's name is never given as the reason: a span that only names a people ("Muslims",
"Jewish people"; the identity grammar's lists) is left out of the message and the signal's
spans, so a hold the model made for the name alone says no words. The verdict is the
model's either way; the spans as the classifier gave them still decide the two lapses above.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

from rejoinder.core.messages import N_, Message
from rejoinder.core.moderation.categories import REASON_NAMES
from rejoinder.core.moderation.matching import groups, lexicon
from rejoinder.core.moderation.matching.folding import find_phrases, fold
from rejoinder.core.moderation.matching.framing import frames, inside
from rejoinder.core.moderation.models import (
    Action,
    ModelScore,
    Policy,
    Profanity,
    Signal,
    Span,
    Submission,
)
from rejoinder.core.moderation.phrasing import quoted_words

PHASE = "model"
#: The categories a swear word alone can drive; an insult, a threat or an attack on a people
#: is never only swearing.
SWEARING_CATEGORIES = ("toxicity", "obscenity")


def code_for(category: str) -> str:
    """The code of the signal a category raises: ``model_insult``."""
    return f"model_{category}"


def check(sub: Submission, policy: Policy) -> list[Signal]:
    if not sub.model_scores:
        return []
    signals = []
    for category, threshold in policy.thresholds.items():
        result = sub.model_scores.get(category)
        if result is None or result.score < threshold.hold:
            continue
        refuse = threshold.refuse is not None and result.score >= threshold.refuse
        if not refuse and _only_reported(sub.text, result.spans):
            continue
        if (
            not refuse
            and policy.profanity is Profanity.PUBLISH
            and category in SWEARING_CATEGORIES
            and _only_swearing(sub.text, result.spans)
        ):
            continue
        name = REASON_NAMES.get(category) or Message(category.replace("_", " "))
        shown = tuple(span for span in result.spans if not names_a_group_only(span.text))
        if shown:
            message = N_(
                "the model reads it as {name} ({score:.2f}), mostly for {words}",
                name=name,
                score=result.score,
                words=quoted_words(shown, limit=3),
            )
        else:
            message = N_(
                "the model reads it as {name} ({score:.2f})", name=name, score=result.score
            )
        signals.append(
            Signal.said(
                PHASE,
                code_for(category),
                message,
                Action.REFUSE if refuse else Action.HOLD,
                score=result.score,
                spans=shown,
            )
        )
    return signals


def names_a_group_only(text: str) -> bool:
    """Whether a span's words only name a people or a group of people ("Muslims", "the
    Jewish people", "a trans woman", "the nurses"; the identity grammar's lists and
    ``data/groups.json``): no word of it says anything about them."""
    folded = fold(text).text
    words = re.findall(r"[a-z0-9]+", folded)
    return bool(words) and (
        all(w in _group_words() or w in _ARTICLES for w in words)
        or groups.names_a_group_only(folded, _ARTICLES)
    )


_ARTICLES = frozenset({"a", "an", "the", "all", "those", "these", "of", "with", "s"})


@functools.cache
def _group_words() -> frozenset[str]:
    words = lexicon.load("identity")["words"]
    found = set()
    for key in ("people_noun", "people_adjective", "people_head", "people_phrase"):
        for entry in words[key]:
            found.update(re.findall(r"[a-z0-9]+", fold(entry).text))
    found.update(w.rstrip("s") for w in list(found) if len(w) > 3)
    found.update(("man", "woman", "person", "people"))
    return frozenset(found - _ARTICLES)


def _only_reported(text: str, spans: tuple[Span, ...]) -> bool:
    """Whether every word that drove the score lies in a sentence that reports someone
    else's words and denounces them (framing.py): the model read the quoted attack, not
    the writer's."""
    if not spans:
        return False
    denounced = frames(text)
    return bool(denounced) and all(inside(span, denounced) for span in spans)


def _only_swearing(text: str, spans: tuple[Span, ...]) -> bool:
    """Whether every word that drove the score overlaps a swear word that attacks nobody."""
    if not spans:
        return False
    folded = fold(text)
    swearing = [folded.span(start, end) for start, end in find_phrases(folded, _swear_words())]
    return all(any(s.start < span.end and span.start < s.end for s in swearing) for span in spans)


@functools.cache
def _swear_words() -> tuple[str, ...]:
    return tuple(lexicon.load("profanity")["phrases"])


def scores_from(results: Mapping[str, object], text: str) -> dict[str, ModelScore]:
    """Convert the classifier's output (objects with ``score`` and ``spans``) to ModelScores.

    Spans may be objects with ``start`` and ``end`` or ``(start, end)`` pairs; their text is
    taken from ``text``, the submission's original text.
    """
    converted = {}
    for category, result in results.items():
        score = float(getattr(result, "score"))  # noqa: B009 - duck-typed on purpose
        raw_spans: Iterable[object] = getattr(result, "spans", ()) or ()
        spans = []
        for raw in raw_spans:
            if isinstance(raw, tuple):
                start, end = int(raw[0]), int(raw[1])
            else:
                start, end = int(getattr(raw, "start")), int(getattr(raw, "end"))  # noqa: B009
            spans.append(Span(start, end, text[start:end]))
        converted[category] = ModelScore(score, tuple(spans))
    return converted
