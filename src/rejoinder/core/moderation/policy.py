"""Run the phases in order and combine their signals into one verdict, with its reasons.

The combination is declarative: any REFUSE signal refuses; otherwise any HOLD signal that
no EXCUSE signal lifts holds; otherwise the comment is published. The reasons kept on the
decision are exactly the signals that caused the verdict; the others stay in ``signals``
for the moderator.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import ModuleType

from rejoinder.core.messages import N_, Message
from rejoinder.core.moderation.models import (
    Action,
    Decision,
    Policy,
    Signal,
    Submission,
    Verdict,
)
from rejoinder.core.moderation.phases import (
    bans,
    bots,
    closed,
    duplicates,
    empty,
    identity,
    insults,
    links,
    model_scores,
    rates,
    spam,
    threats,
    trust,
    words,
)

# The order is the order of the reasons shown: first what no revision can fix (closed,
# banned, too fast), then the writer's words, then the model, then the site's trust rules.
PHASES: Sequence[ModuleType] = (
    closed,
    empty,
    bans,
    rates,
    duplicates,
    bots,
    links,
    spam,
    words,
    insults,
    identity,
    threats,
    model_scores,
    trust,
)


def decide(sub: Submission, policy: Policy | None = None) -> Decision:
    """Judge one submission under ``policy`` (the defaults when None)."""
    policy = policy or Policy()
    signals = tuple(signal for phase in PHASES for signal in phase.check(sub, policy))
    return combine(signals)


def combine(signals: Sequence[Signal]) -> Decision:
    """The verdict for a set of signals: refuse beats hold, hold beats publish."""
    signals = tuple(signals)
    refusals = tuple(s for s in signals if s.action is Action.REFUSE)
    if refusals:
        return Decision(Verdict.REFUSE, signals, refusals)
    excuses = [s for s in signals if s.action is Action.EXCUSE]
    excused = {code for s in excuses for code in s.excuses}
    holds = tuple(s for s in signals if s.action is Action.HOLD and s.code not in excused)
    if holds:
        return Decision(Verdict.HOLD, signals, holds)
    used = tuple(s for s in excuses if any(x.code in s.excuses for x in signals))
    return Decision(Verdict.PUBLISH, signals, used)


def explain(decision: Decision) -> str:
    """One or two sentences for the writer, naming the words that caused the verdict."""
    return str(explanation(decision))


def explanation(decision: Decision, *, edit: bool = False) -> Message:
    """`explain`'s sentences as a message the web can say in the writer's language; `edit`
    for an edit that was not saved."""
    if decision.verdict is Verdict.PUBLISH:
        return N_("Your comment is published.")
    because = reasons_said(decision.reasons)
    if decision.verdict is Verdict.HOLD:
        return N_(
            "Your comment is held for a moderator because {because}. "
            "Only you can see it until it is approved.",
            because=because,
        )
    if edit:
        return N_("Your edit was not saved because {because}.", because=because)
    return N_("Your comment was not posted because {because}.", because=because)


def reasons_said(reasons: Iterable[Signal]) -> tuple[Message, ...]:
    """The reasons' messages, each once (two phases may say the same), in order."""
    seen: dict[str, Message] = {}
    for signal in reasons:
        seen.setdefault(signal.message, signal.wording)
    return tuple(seen.values())
