"""Phase "bots": catch form-filling programs without a captcha, and without JavaScript.

The form carries a hidden field that people never see and programs fill in (the honeypot),
and the time it was issued, signed by the web layer, which hands us a datetime (or None
when the stamp is missing or its signature is wrong). A filled honeypot is refused; a form
sent back faster than a person can type, or one that is missing its stamp or is too old,
is held, so a person with an odd browser is delayed, never turned away.
"""

from __future__ import annotations

from rejoinder.core.messages import N_, Nn_
from rejoinder.core.moderation.models import Action, Policy, Signal, Submission
from rejoinder.core.moderation.times import elapsed

PHASE = "bots"


def check(sub: Submission, policy: Policy) -> list[Signal]:
    if not sub.via_form:
        return []
    if sub.honeypot.strip():
        message = N_("a field that must stay empty was filled in, as form-filling programs do")
        return [Signal.said(PHASE, "honeypot", message, Action.REFUSE)]
    if sub.form_issued_at is None:
        message = N_("the form was sent without its timestamp, so it may not come from our page")
        return [Signal.said(PHASE, "no_timestamp", message, Action.HOLD)]
    age = elapsed(sub.form_issued_at, sub.now)
    fastest = policy.min_form_seconds
    if fastest and age < fastest:
        message = N_(
            "the form was sent back {seconds:.1f} seconds after it was opened, "
            "faster than a person types",
            seconds=max(age, 0),
        )
        return [Signal.said(PHASE, "too_fast", message, Action.HOLD, score=round(age, 3))]
    oldest = policy.max_form_age_seconds
    if oldest and age > oldest:
        hours = max(1, round(oldest / 3600))
        message = Nn_(
            "the form was opened more than {n} hour ago",
            "the form was opened more than {n} hours ago",
            hours,
        )
        return [Signal.said(PHASE, "form_too_old", message, Action.HOLD, score=round(age, 3))]
    return []
