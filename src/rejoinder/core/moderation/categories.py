"""The categories the model scores, listed once, and how a reason names each."""

from __future__ import annotations

from collections.abc import Mapping

from rejoinder.core.messages import N_, Message

CATEGORIES = ("toxicity", "insult", "threat", "identity_attack", "obscenity", "spam")
#: Categories of abuse (all but spam); a positive in one of them is also toxic.
TOXIC_CATEGORIES = tuple(c for c in CATEGORIES if c != "spam")
#: How a reason names a category: 'the model reads it as an insult'.
REASON_NAMES: Mapping[str, Message] = {
    "toxicity": N_("toxic"),
    "insult": N_("an insult"),
    "threat": N_("a threat"),
    "identity_attack": N_("an attack on people for who they are"),
    "obscenity": N_("obscene"),
    "spam": N_("spam"),
}
