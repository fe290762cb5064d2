"""The categories the model scores, listed once, and how a reason names each."""

from __future__ import annotations

from collections.abc import Mapping

CATEGORIES = ("toxicity", "insult", "threat", "identity_attack", "obscenity", "spam")
#: Categories of abuse (all but spam); a positive in one of them is also toxic.
TOXIC_CATEGORIES = tuple(c for c in CATEGORIES if c != "spam")
#: How a reason names a category: 'the model reads it as an insult'.
REASON_NAMES: Mapping[str, str] = {
    "toxicity": "toxic",
    "insult": "an insult",
    "threat": "a threat",
    "identity_attack": "an attack on people for who they are",
    "obscenity": "obscene",
    "spam": "spam",
}
