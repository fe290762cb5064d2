"""The categories the model scores."""

from __future__ import annotations

CATEGORIES = ("toxicity", "insult", "threat", "identity_attack", "obscenity", "spam")
#: Categories of abuse (all but spam); a positive in one of them is also toxic.
TOXIC_CATEGORIES = ("toxicity", "insult", "threat", "identity_attack", "obscenity")
