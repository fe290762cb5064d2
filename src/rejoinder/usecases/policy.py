"""Use cases of a site's moderation policy in the desk: read it, check an edit, preview, save.

The policy is stored as JSON under "policy" in the site's settings, beside the readers'
reports settings ("reports_to_queue", "hide_reported"). The moderator reads it afresh for
every comment, so a saved policy applies to the next comment. Every save is audited with
the rules before and after. A preview re-judges the site's latest comments under the
edited policy and under the current one, with the scores the model gave them when they
were posted, and counts the verdicts that would change; it stores nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from rejoinder.core.errors import Conflict, Invalid, InvalidMany
from rejoinder.core.moderation import (
    ArticleRef,
    Decision,
    Mode,
    ModelScore,
    Policy,
    Profanity,
    Submission,
    Threshold,
    Verdict,
    decide,
)
from rejoinder.core.moderation.categories import CATEGORIES
from rejoinder.core.moderation.matching import lexicon
from rejoinder.core.validation import clean_text
from rejoinder.store import audit
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.policy import Sample, latest_comments
from rejoinder.usecases.policy_schema import (
    PolicyProblem,
    PolicySettings,
    desk_limits,
    read_policy_settings,
)

MODES = {
    Mode.POST_MODERATE: "Post-moderate: publish unless something objects",
    Mode.PREMODERATE_NEW: "Pre-moderate new commenters (nothing approved yet)",
    Mode.PREMODERATE_LINKS: "Pre-moderate comments with links",
    Mode.PREMODERATE_ALL: "Pre-moderate every comment",
}
OWN = "own"  # the policy form's choice of no preset: the thresholds as typed
# What the desk says of each choice for profanity that attacks nobody.
PROFANITY_CHOICES = {
    Profanity.HOLD: "Hold it where the model reads it as toxic or obscene (the default)",
    Profanity.PUBLISH: "Publish it: swearing at nothing is not held (swearing at people still is)",
}

# What the desk says of each preset the shipped model has (docs/MODEL.md has the figures).
PRESET_LABELS = {
    "standard": "Standard: holds about 9 in 10 abusive comments, and about 1 in 8 civil ones",
    "light": "Light: holds about 8 in 10 abusive comments, and about 1 in 20 civil ones",
}
# The whole-number limits the desk edits: name -> (label, hint, lowest, highest).
LIMITS = desk_limits()
REPORTS_TO_QUEUE = 3  # readers' reports that send a comment to the Reported queue
PREVIEW_SIZE = 500
PREVIEW_EXAMPLES = 20


@dataclass(frozen=True)
class ModelPresets:
    """The shipped model's named operating points: each preset's thresholds, and the one a
    site gets until it chooses another (read from the model's metadata)."""

    default: str
    thresholds: Mapping[str, Mapping[str, Threshold]]
    civil_aims: Mapping[str, float]  # the cap on civil news sentences each was chosen under

    def resolve(self, name: str | None) -> str:
        """The preset to use for a stored name: itself when the model has it, else the
        default (a preset a newer model no longer ships)."""
        return name if name is not None and name in self.thresholds else self.default


def check_preset(presets: ModelPresets | None, name: str) -> None:
    """ValueError naming the presets there are, when `name` is not one of them."""
    if presets is None or name not in presets.thresholds:
        known = ", ".join(sorted(presets.thresholds)) if presets else "none (no model runs)"
        raise ValueError(f"No model preset {name!r}; the shipped model has: {known}.")


def effective_policy(stored: Mapping[str, Any], presets: ModelPresets | None) -> Policy:
    """The site's stored policy (`PolicyProblem` if it cannot be read); a site that has not
    set thresholds of its own gets those of its model preset (the default one unless it chose
    another), since a score only means something against its own model's scale."""
    settings = read_policy_settings(stored)
    policy = settings.to_policy()
    if presets and settings.thresholds is None:
        name = presets.resolve(policy.model_preset)
        policy = replace(policy, thresholds=dict(presets.thresholds[name]), model_preset=name)
    return policy


def stored_policy(policy: Policy) -> dict[str, Any]:
    """The policy as it is stored and as the API shows it."""
    return PolicySettings.from_policy(policy).stored()


@dataclass(frozen=True)
class SiteRules:
    """What the policy page edits: the moderation policy and the reports settings."""

    policy: Policy = field(default_factory=Policy)
    reports_to_queue: int = REPORTS_TO_QUEUE
    hide_reported: bool = False
    problem: str = ""  # when the stored policy could not be read (the defaults are shown)

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": stored_policy(self.policy),
            "reports_to_queue": self.reports_to_queue,
            "hide_reported": self.hide_reported,
        }

    @property
    def basis(self) -> str:
        """A short digest of the rules: a form saved on an older basis is a conflict."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]


def rules_from_settings(
    settings: Mapping[str, Any], presets: ModelPresets | None = None
) -> SiteRules:
    """The site's rules from its stored settings; the defaults for anything not set, and
    the thresholds of the site's model preset (of `presets`) unless it has its own."""
    problem = ""
    try:
        policy = effective_policy(settings.get("policy") or {}, presets)
    except ValueError as error:
        policy = effective_policy({}, presets)
        problem = f"The stored policy could not be read ({error})."
    reports = settings.get("reports_to_queue", REPORTS_TO_QUEUE)
    if isinstance(reports, bool) or not isinstance(reports, int) or reports < 1:
        reports = REPORTS_TO_QUEUE
    return SiteRules(policy, reports, settings.get("hide_reported") is True, problem)


def read_rules(db: Database, site_id: int, presets: ModelPresets | None = None) -> SiteRules:
    with db.read() as conn:
        return rules_from_settings(site_store.get_site_settings(conn, site_id), presets)


def default_sizes() -> dict[str, tuple[int, int]]:
    """For each shipped word list (refuse, hold): how many phrases, in how many categories."""
    sizes = {}
    for kind in ("refuse", "hold"):
        lists = lexicon.word_lists(kind)
        sizes[kind] = (sum(len(p) for p in lists.values()), len(lists))
    return sizes


# The form: every value is text as typed, so a form with errors comes back as it was sent.


def form_values(rules: SiteRules) -> dict[str, str]:
    """The page's fields for ``rules``."""
    policy = rules.policy
    values = {
        "mode": policy.mode.value,
        "model_preset": policy.model_preset or OWN,
        "profanity": policy.profanity.value,
        "require_verified": "on" if policy.require_verified else "",
    }
    for category in CATEGORIES:
        threshold = policy.thresholds.get(category)
        values[f"hold_{category}"] = _number(threshold.hold) if threshold else ""
        refuse = threshold.refuse if threshold else None
        values[f"refuse_{category}"] = "" if refuse is None else _number(refuse)
    values["refuse_words"] = _words_text(policy.refuse_words)
    values["hold_words"] = _words_text(policy.hold_words)
    for name in LIMITS:
        value = getattr(policy, name)
        values[name] = "" if value is None else _number(value)
    values["reports_to_queue"] = str(rules.reports_to_queue)
    values["hide_reported"] = "on" if rules.hide_reported else ""
    return values


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _words_text(lists: Mapping[str, tuple[str, ...]] | None) -> str:
    if lists is None:
        return ""
    lines: list[str] = []
    for category, phrases in lists.items():
        prefix = "" if category == "word" else f"{category}: "
        lines.extend(prefix + phrase for phrase in phrases)
    return "\n".join(lines)


def rules_from_form(
    form: Mapping[str, str], base: SiteRules, presets: ModelPresets | None = None
) -> SiteRules:
    """The edited rules, or InvalidMany with one error per field. Settings the page does not
    show (trust margin, surge brake...) keep their values from ``base``. With a model preset
    chosen, the thresholds are the preset's: the form must send them as the page showed them
    or as the preset has them (a changed one is an error, not silently dropped); with none
    ("own"), the thresholds as typed."""
    errors: list[Invalid] = []
    data = stored_policy(base.policy)
    mode = form.get("mode", "").strip()
    if mode not in {m.value for m in Mode}:
        errors.append(Invalid("mode", "Choose one of the moderation modes."))
    else:
        data["mode"] = mode
    # A checkbox: sent only when ticked.
    data["require_verified"] = form.get("require_verified", "") not in ("", "0", "off", "false")
    profanity = form.get("profanity")
    if profanity is not None:  # a form without the field keeps the stored choice
        if profanity.strip() not in {p.value for p in Profanity}:
            errors.append(Invalid("profanity", "Choose hold or publish."))
        else:
            data["profanity"] = profanity.strip()
    preset = form.get("model_preset", "").strip()
    if preset == OWN:
        preset = ""
    if preset and (presets is None or preset not in presets.thresholds):
        errors.append(
            Invalid("model_preset", "Choose one of the model's presets, or your own thresholds.")
        )
        preset = ""
    data.pop("model_preset", None)
    data.pop("thresholds", None)
    thresholds: dict[str, Any] = {}
    for category in CATEGORIES:
        hold = _fraction(form, f"hold_{category}", errors)
        refuse = _fraction(form, f"refuse_{category}", errors)
        if hold is None and refuse is not None:
            errors.append(
                Invalid(
                    f"hold_{category}",
                    "Set a hold threshold too (at most the refuse threshold), or clear both.",
                )
            )
        elif hold is not None and refuse is not None and refuse < hold:
            errors.append(
                Invalid(
                    f"refuse_{category}",
                    "The refuse threshold must be at least the hold threshold.",
                )
            )
        if hold is not None:
            thresholds[category] = {"hold": hold, "refuse": refuse}
    if preset and presets is not None:
        # The page showed the thresholds in effect; a page without JavaScript cannot show
        # another preset's when its button is chosen. Either is the preset's, then; a value
        # typed over them is a change the preset would silently drop.
        typed = {c: (t["hold"], t["refuse"]) for c, t in thresholds.items()}
        shipped = {c: (t.hold, t.refuse) for c, t in presets.thresholds[preset].items()}
        shown = {c: (t.hold, t.refuse) for c, t in base.policy.thresholds.items()}
        if typed not in (shipped, shown):
            errors.append(
                Invalid(
                    "model_preset",
                    f"You changed thresholds of the preset "
                    f"{preset!r}: choose “Own thresholds” to keep your values, "
                    "or put the preset's back.",
                )
            )
        data["model_preset"] = preset
    else:
        data["thresholds"] = thresholds
    for name in ("refuse_words", "hold_words"):
        data[name] = _phrases(form.get(name, ""))
        try:  # each list on its own, so its error comes back with every other field's
            read_policy_settings({name: data[name]})
        except PolicyProblem as problem:
            errors.append(Invalid(name, problem.detail))
    for name, (_label, _hint, lowest, highest) in LIMITS.items():
        data[name] = _whole(form, name, lowest, highest, errors)
    reports = _whole(form, "reports_to_queue", 1, 1000, errors)
    if reports is None and not any(e.field == "reports_to_queue" for e in errors):
        errors.append(
            Invalid(
                "reports_to_queue", "Enter how many reports send a comment to the Reported queue."
            )
        )
    if errors:
        raise InvalidMany(errors)
    try:
        policy = effective_policy(data, presets)
    except PolicyProblem as error:
        if error.setting in form:
            raise InvalidMany([Invalid(error.setting, error.detail)]) from None
        raise InvalidMany([Invalid("mode", f"The policy is not valid: {error}")]) from None
    hide = form.get("hide_reported", "") not in ("", "0", "off", "false")
    return SiteRules(policy, reports or REPORTS_TO_QUEUE, hide)


def _fraction(form: Mapping[str, str], name: str, errors: list[Invalid]) -> float | None:
    text = form.get(name, "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        errors.append(Invalid(name, f"{text[:40]!r} is not a number; use one from 0 to 1."))
        return None
    if not math.isfinite(value) or not 0 <= value <= 1:
        errors.append(Invalid(name, "A threshold is a score from 0 to 1."))
        return None
    return value


def _whole(
    form: Mapping[str, str], name: str, lowest: int, highest: int, errors: list[Invalid]
) -> int | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        errors.append(Invalid(name, f"{text[:40]!r} is not a whole number."))
        return None
    if not lowest <= value <= highest:
        errors.append(
            Invalid(name, f"Enter a whole number from {lowest} to {highest}, or leave it empty.")
        )
        return None
    return value


def _phrases(text: str) -> dict[str, list[str]] | None:
    """One phrase a line, optionally ``category: phrase``; nothing at all: the shipped lists.
    What a phrase may be is the schema's to say."""
    lists: dict[str, list[str]] = {}
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        category, phrase = "word", line
        head, sep, rest = line.partition(":")
        if sep and rest.strip() and head.strip().replace("_", "").isalnum() and " " not in head:
            category, phrase = head.strip().lower(), rest.strip()
        found = lists.setdefault(category, [])
        if phrase not in found:
            found.append(phrase)
    return lists or None


# The API: the same rules as JSON.


def rules_out(
    rules: SiteRules, site_name: str, presets: ModelPresets | None = None
) -> dict[str, Any]:
    """The rules as the API shows them: the policy as stored (a preset's name or the site's
    own thresholds), the thresholds in effect, and what the shipped model offers."""
    sizes = default_sizes()
    return {
        "site": site_name,
        **rules.to_dict(),
        "thresholds_in_effect": {
            c: {"hold": t.hold, "refuse": t.refuse} for c, t in rules.policy.thresholds.items()
        },
        "model_presets": None
        if presets is None
        else {
            "default": presets.default,
            "presets": {
                name: {
                    "civil_aim": presets.civil_aims.get(name),
                    "thresholds": {
                        c: {"hold": t.hold, "refuse": t.refuse} for c, t in chosen.items()
                    },
                }
                for name, chosen in presets.thresholds.items()
            },
        },
        "shipped_words": {kind: {"phrases": n, "categories": c} for kind, (n, c) in sizes.items()},
    }


def rules_from_json(data: Any, base: SiteRules, presets: ModelPresets | None = None) -> SiteRules:
    """``{"policy": {...}, "reports_to_queue", "hide_reported"}``: the policy given replaces
    the stored one (settings it leaves out take the defaults); the reports settings left out
    keep their values."""
    if not isinstance(data, Mapping):
        raise Invalid("policy", "Send a JSON object with a 'policy' object in it.")
    unknown = sorted(set(data) - {"policy", "reports_to_queue", "hide_reported", "note"})
    if unknown:
        raise Invalid(unknown[0], f"Unknown setting {unknown[0]!r}.")
    policy = base.policy
    if "policy" in data:
        given = data["policy"]
        if not isinstance(given, Mapping):
            raise Invalid("policy", "'policy' must be an object.")
        policy = _policy_from_json(given, presets)
    reports = data.get("reports_to_queue", base.reports_to_queue)
    if isinstance(reports, bool) or not isinstance(reports, int) or not 1 <= reports <= 1000:
        raise Invalid("reports_to_queue", "reports_to_queue must be a whole number, 1 to 1000.")
    hide = data.get("hide_reported", base.hide_reported)
    if not isinstance(hide, bool):
        raise Invalid("hide_reported", "hide_reported must be true or false.")
    return SiteRules(policy, reports, hide)


def _policy_from_json(given: Mapping[str, Any], presets: ModelPresets | None) -> Policy:
    """The policy, or Invalid naming the first setting that is wrong. Neither a preset nor
    thresholds given: the model's default preset."""
    try:
        policy = effective_policy(given, presets)
    except PolicyProblem as error:
        name = f"policy.{error.setting}" if error.setting else "policy"
        raise Invalid(name, f"policy.{error}" if error.setting else f"policy: {error}") from None
    try:
        if given.get("model_preset") is not None:
            check_preset(presets, given["model_preset"])
    except ValueError as error:
        raise Invalid("policy.model_preset", f"policy.model_preset: {error}") from error
    return policy


# Saving.


def save_rules(
    db: Database,
    site_id: int,
    rules: SiteRules,
    *,
    actor_kind: str,
    actor: str,
    now: datetime,
    note: str = "",
    basis: str | None = None,
    presets: ModelPresets | None = None,
) -> SiteRules:
    """Store the rules and audit the change, in one transaction. With ``basis`` (the digest
    of the rules the form was made from), a change made meanwhile by someone else is a
    Conflict and nothing is saved."""
    with db.write() as conn:
        settings = site_store.get_site_settings(conn, site_id)
        before = rules_from_settings(settings, presets)
        if basis is not None and basis != before.basis:
            raise Conflict(
                "Someone changed the policy after you opened this page: the form now shows "
                "your edit over their version; check it and save again."
            )
        settings.update(rules.to_dict())
        site_store.update_site_settings(conn, site_id, settings)
        old, new = before.to_dict(), rules.to_dict()
        changed = sorted(
            [f"policy.{k}" for k in new["policy"] if old["policy"].get(k) != new["policy"][k]]
            + [k for k in ("reports_to_queue", "hide_reported") if old[k] != new[k]]
        )
        audit.add_entry(
            conn,
            at=now,
            actor_kind=actor_kind,
            actor=actor,
            action="policy",
            site_id=site_id,
            before=json.dumps(old),
            after=json.dumps(new),
            note=clean_text(note).strip()[:2000],
            data={"changed": changed},
        )
    return rules


# The preview.


@dataclass(frozen=True)
class Change:
    sample: Sample
    before: Decision
    after: Decision


@dataclass(frozen=True)
class Preview:
    judged: int
    matrix: dict[tuple[str, str], int]  # (verdict now, verdict under the edit) -> comments
    changes: list[Change]  # the first PREVIEW_EXAMPLES changed comments, newest first
    changed: int

    def count(self, before: str, after: str) -> int:
        return self.matrix.get((before, after), 0)


VERDICTS = tuple(v.value for v in Verdict)


def _submission(sample: Sample) -> Submission:
    scores = sample.moderation.get("scores")
    model_scores = None
    if isinstance(scores, Mapping) and scores:
        model_scores = {
            str(k): ModelScore(float(v))
            for k, v in scores.items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
    return Submission(
        text=sample.body,
        name=sample.author_name,
        email=sample.author_email,
        website=sample.author_website,
        parent_id=sample.parent_id,
        article=ArticleRef(sample.article_id, True, sample.article_published_at),
        now=sample.created_at,
        via_form=False,
        model_scores=model_scores or None,
    )


def preview(
    db: Database, site_id: int, edited: Policy, current: Policy, limit: int = PREVIEW_SIZE
) -> Preview:
    """Re-judge the site's latest ``limit`` comments under both policies (no history, no
    recent activity, not through the form) and count what would change. Stores nothing."""
    with db.read() as conn:
        samples = latest_comments(conn, site_id, limit)
    matrix: dict[tuple[str, str], int] = {}
    changes: list[Change] = []
    changed = 0
    for sample in samples:
        submission = _submission(sample)
        before, after = decide(submission, current), decide(submission, edited)
        key = (before.verdict.value, after.verdict.value)
        matrix[key] = matrix.get(key, 0) + 1
        if before.verdict is not after.verdict:
            changed += 1
            if len(changes) < PREVIEW_EXAMPLES:
                changes.append(Change(sample, before, after))
    return Preview(judged=len(samples), matrix=matrix, changes=changes, changed=changed)
