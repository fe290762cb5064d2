"""Use cases of a site's own model: train it on the desk's decisions, list, activate, roll back.

Every approve and reject at the desk is a labelled example of the site's standard: a rejected
comment must not be published automatically (label 1), an approved one may (label 0). Training
fits new encoder heads near the shipped ones (`rejoinder.classifier.site_models`) on the
project's own examples and the site's decisions, and measures, on the most recent decisions
(which the measured fit never saw), how often the machine and the moderators agreed with the
shipped model and with the new heads. The version is stored inactive unless asked; the
moderator uses the active version for the site's next comment. The shipped model is never
changed, and every training, activation and rollback is audited.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rejoinder.core.errors import Conflict, Invalid, NotFound
from rejoinder.core.moderation import Threshold
from rejoinder.core.validation import clean_text
from rejoinder.store import audit
from rejoinder.store import site_models as store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.site_models import DeskDecision, SiteModel
from rejoinder.usecases.policy import ModelPresets, effective_policy

if TYPE_CHECKING:
    from rejoinder.classifier.model import Classifier
    from rejoinder.classifier.site_models import SiteHeads

MIN_DECISIONS = 30  # fewer, and the recent part is too small to say anything
MAX_DECISIONS = 3000  # the latest ones: each is encoded when the site model is trained
RECENT_SHARE = 0.2  # the most recent fifth of the decisions is kept aside to measure on...
RECENT_MIN = 10  # ...but at least this many
# Phases whose holds are not a judgement of the comment: the site's premoderation mode and the
# trust margin (which only excuses); the model's own signals are recomputed.
_NOT_JUDGING = ("model", "trust")


@dataclass(frozen=True)
class Trained:
    version: int
    active: bool
    metrics: dict[str, Any]


@dataclass(frozen=True)
class ModelsPage:
    """What the desk shows: the decisions there are, each version, which one is active."""

    approved: int
    rejected: int
    versions: list[SiteModel]
    active: int | None  # version number; None: the shipped model
    shipped_base: str

    @property
    def decisions(self) -> int:
        return self.approved + self.rejected

    def usable(self, model: SiteModel) -> bool:
        """Made for the weights shipped now (a version made before an upgrade is not)."""
        return model.metrics.get("base") == self.shipped_base


# --- what the machine said ---------------------------------------------------------------------


def other_phases_held(machine: Mapping[str, Any]) -> bool:
    """Whether a phase other than the model (and the premoderation mode) held or refused the
    comment when it was judged, from the decision stored on it."""
    signals = machine.get("signals") or machine.get("reasons") or []
    return any(
        isinstance(s, dict)
        and s.get("phase") not in _NOT_JUDGING
        and s.get("action") in ("hold", "refuse")
        for s in signals
    )


def model_held(scores: Mapping[str, Any], thresholds: Mapping[str, Threshold]) -> bool:
    return any(
        category in scores and scores[category].score >= t.hold
        for category, t in thresholds.items()
    )


def model_categories(machine: Mapping[str, Any]) -> list[str]:
    """The categories the model held a comment for when it was judged (its model reasons)."""
    reasons = machine.get("reasons") or []
    return sorted(
        {
            str(r.get("code", "")).removeprefix("model_")
            for r in reasons
            if isinstance(r, dict) and r.get("phase") == "model"
        }
        - {""}
    )


def agreement(held: Sequence[bool], labels: Sequence[int]) -> float:
    """The share of decisions where the machine did what the moderator did: held (or refused)
    what they rejected, published what they approved."""
    same = sum(1 for h, y in zip(held, labels, strict=True) if h == (y == 1))
    return round(same / len(labels), 4) if labels else 0.0


# --- training ----------------------------------------------------------------------------------


def split_recent(n: int) -> int:
    """How many of `n` decisions (oldest first) are the recent ones measured on."""
    return min(n - 1, max(math.ceil(n * RECENT_SHARE), min(RECENT_MIN, n // 2)))


def _labels_of(decisions: Sequence[DeskDecision], taught: Sequence[str]) -> list[dict[str, int]]:
    from rejoinder.classifier.site_models import labels_for

    out: list[dict[str, int]] = []
    for d, cats in zip(decisions, taught, strict=True):
        merged = labels_for(0, "none") if d.label == 0 else {}
        for cat in cats.split("+") if d.label else ():
            for key, value in labels_for(1, cat).items():
                merged[key] = max(merged.get(key, value), value)
        out.append(merged)
    return out


def fit_decisions(
    clf: Classifier,
    decisions: Sequence[DeskDecision],
    thresholds: Mapping[str, Threshold],
    strength: float | None = None,
    cache_folder: Path | None = None,
) -> tuple[SiteHeads, dict[str, Any]]:
    """New heads for a site from its decisions (oldest first), and the figures: fitted first
    on the older ones and measured on the most recent, then fitted again on all of them.

    A rejected comment the model held is taught as the categories it was held for; any other
    as `rejection_categories` says."""
    import numpy as np

    from rejoinder.classifier import site_models as sm
    from rejoinder.core.moderation.categories import CATEGORIES

    replay = sm.load_replay()
    texts = [d.text for d in decisions]
    zn, pooled = clf.features(texts)
    rz, rp = sm.replay_features(clf, replay, cache_folder)
    valid = set(CATEGORIES)
    taught = [
        "+".join(c for c in model_categories(d.machine) if c in valid) if d.label else ""
        for d in decisions
    ]
    prior = clf.shipped_heads()
    strength = sm.STRENGTH if strength is None else strength
    holds = [thresholds[c].hold if c in thresholds else 1.0 for c in CATEGORIES]
    unexplained = [i for i, d in enumerate(decisions) if d.label == 1 and not taught[i]]
    shipped_probs = 1 / (1 + np.exp(-prior.logits(zn[unexplained], pooled[unexplained])))
    for i, cat in zip(
        unexplained,
        sm.rejection_categories(shipped_probs, holds, pooled[unexplained], rp, replay.cats),
        strict=True,
    ):
        taught[i] = cat
    site_labels = _labels_of(decisions, taught)
    labels = np.array(
        [[row.get(c, sm.UNKNOWN) for c in CATEGORIES] for row in site_labels], dtype=np.int64
    ).reshape(len(decisions), len(CATEGORIES))

    def fit(upto: int) -> SiteHeads:
        rows = (
            np.vstack([rz, zn[:upto]]),
            np.vstack([rp, pooled[:upto]]),
            np.vstack([replay.labels, labels[:upto]]),
            np.array([0] * len(replay.texts) + [1] * upto, dtype=np.int64),
        )
        heads = sm.fit_heads(prior, *rows, strength, holds)
        shift = sm.held_out_shift(prior, *rows, strength, holds)
        return sm.SiteHeads(heads.encoder_w, heads.bias + shift, heads.ngram_share, heads.base)

    recent = split_recent(len(decisions))
    older = len(decisions) - recent
    measured = fit(older)
    recent_decisions = decisions[older:]
    recent_texts = texts[older:]
    others = [other_phases_held(d.machine) for d in recent_decisions]
    # one at a time, as comments are judged (batched scores differ in the last hundredths)
    # routed by the site's hold points, as the server would score them
    routing = {c: t.hold for c, t in thresholds.items()}
    shipped_scores = [clf.score(t, holds=routing) for t in recent_texts]
    site_scores = [clf.score(t, measured) for t in recent_texts]
    before = [o or model_held(s, thresholds) for o, s in zip(others, shipped_scores, strict=True)]
    after = [o or model_held(s, thresholds) for o, s in zip(others, site_scores, strict=True)]
    recent_labels = [d.label for d in recent_decisions]
    rejected = [i for i, y in enumerate(recent_labels) if y == 1]
    approved = [i for i, y in enumerate(recent_labels) if y == 0]
    heads = fit(len(decisions))
    metrics: dict[str, Any] = {
        "decisions": len(decisions),
        "rejected": sum(d.label for d in decisions),
        "approved": sum(1 - d.label for d in decisions),
        "trained_on": older,
        "recent": recent,
        "recent_from": recent_decisions[0].decided_at.isoformat(),
        "recent_to": recent_decisions[-1].decided_at.isoformat(),
        "agreement": {
            "before": agreement(before, recent_labels),
            "after": agreement(after, recent_labels),
        },
        "recent_rejected": len(rejected),
        "recent_rejected_held": {
            "before": sum(before[i] for i in rejected),
            "after": sum(after[i] for i in rejected),
        },
        "recent_approved": len(approved),
        "recent_approved_published": {
            "before": sum(not before[i] for i in approved),
            "after": sum(not after[i] for i in approved),
        },
        "taught_as": dict(sorted(Counter(c for c in taught if c).items())),
        "strength": strength,
        "base": heads.base,
    }
    return heads, metrics


def prepare_training(cache_folder: Path) -> float:
    """Compute the replayed examples' features and keep them in `cache_folder`, so that the
    first training on this host does not spend its time encoding them; the seconds it took
    (next to nothing when they were kept already)."""
    from rejoinder.classifier import site_models as sm
    from rejoinder.classifier.model import get_classifier

    started = time.monotonic()
    sm.replay_features(get_classifier(), sm.load_replay(), cache_folder)
    return time.monotonic() - started


def train(
    db: Database,
    site_id: int,
    *,
    presets: ModelPresets | None,
    actor_kind: str,
    actor: str,
    now: datetime,
    min_decisions: int = MIN_DECISIONS,
    activate: bool = False,
    strength: float | None = None,
    classifier: Classifier | None = None,
    cache_folder: Path | None = None,
) -> Trained:
    """Fit the site's heads on its decisions, measure them, store them as a new version."""
    from rejoinder.classifier.model import get_classifier

    if min_decisions < 4:
        raise Invalid("min_decisions", "At least 4 decisions are needed.")
    started = time.monotonic()
    with db.read() as conn:
        decisions = store.list_decisions(conn, site_id, MAX_DECISIONS)
        stored = site_store.get_site_settings(conn, site_id).get("policy", {})
    if len(decisions) < min_decisions:
        raise Conflict(
            f"The site has {len(decisions)} decisions by its moderators (approved or rejected "
            f"comments); training needs at least {min_decisions}."
        )
    thresholds = effective_policy(stored, presets).thresholds
    heads, metrics = fit_decisions(
        classifier or get_classifier(), decisions, thresholds, strength, cache_folder
    )
    metrics["seconds"] = round(time.monotonic() - started, 1)
    with db.write() as conn:
        version = store.add_model(conn, site_id, heads.to_bytes(), metrics, now)
        audit.add_entry(
            conn,
            at=now,
            actor_kind=actor_kind,
            actor=actor,
            action="model_train",
            site_id=site_id,
            after=f"v{version}",
            data={"version": version, "agreement": metrics["agreement"]},
        )
        if activate:
            _switch(conn, site_id, version, actor_kind=actor_kind, actor=actor, now=now, note="")
    return Trained(version=version, active=activate, metrics=metrics)


# --- versions ----------------------------------------------------------------------------------


def read_models(db: Database, site_id: int) -> ModelsPage:
    from rejoinder.classifier.site_models import shipped_base

    with db.read() as conn:
        counts = store.count_decisions(conn, site_id)
        versions = store.list_models(conn, site_id)
    active = next((m.version for m in versions if m.active), None)
    return ModelsPage(
        approved=counts[0],
        rejected=counts[1],
        versions=versions,
        active=active,
        shipped_base=shipped_base(),
    )


def _switch(
    conn: Any,
    site_id: int,
    version: int | None,
    *,
    actor_kind: str,
    actor: str,
    now: datetime,
    note: str,
) -> None:
    current = store.get_active(conn, site_id)
    was = current[1] if current else None
    if was == version:
        shown = f"version {version}" if version else "the shipped model"
        raise Conflict(f"The site already uses {shown}; nothing was changed.")
    store.set_active(conn, site_id, version)
    rollback = version is None or (was is not None and version < was)
    audit.add_entry(
        conn,
        at=now,
        actor_kind=actor_kind,
        actor=actor,
        action="model_rollback" if rollback else "model_activate",
        site_id=site_id,
        before=f"v{was}" if was else "shipped",
        after=f"v{version}" if version else "shipped",
        note=note,
        data={"from": was, "to": version},
    )


def activate(
    db: Database,
    site_id: int,
    version: int | None,
    *,
    actor_kind: str,
    actor: str,
    now: datetime,
    note: str = "",
    expected: str = "",
) -> str:
    """Make `version` the site's model, or go back to the shipped one (None). `expected`, if
    given, is what the person saw active ("shipped" or the version number): a Conflict if
    someone switched since."""
    from rejoinder.classifier.site_models import shipped_base

    note = clean_text(note).strip()  # no control characters (PostgreSQL refuses NUL)
    if len(note) > 1000:
        raise Invalid("note", "A note has at most 1000 characters.")
    with db.write() as conn:
        store.lock_site(conn, site_id)
        current = store.get_active(conn, site_id)
        if expected and (str(current[1]) if current else "shipped") != expected:
            shown = f"version {current[1]}" if current else "the shipped model"
            raise Conflict(f"Someone switched the model meanwhile: the site now uses {shown}.")
        if version is not None:
            model = store.get_model(conn, site_id, version)
            if model is None:
                raise NotFound(f"There is no version {version} of this site's model.")
            if model.metrics.get("base") != shipped_base():
                raise Conflict(
                    f"Version {version} was made for other shipped weights (an earlier "
                    "release); train a new version instead."
                )
        _switch(conn, site_id, version, actor_kind=actor_kind, actor=actor, now=now, note=note)
    return (
        f"The site now uses version {version}."
        if version
        else ("The site now uses the shipped model.")
    )


def summary_lines(trained: Trained) -> list[str]:
    """What `rejoinder moderation train` prints."""
    m = trained.metrics
    agree = m["agreement"]
    return [
        f"version {trained.version}" + (" (active)" if trained.active else " (not active)"),
        f"decisions {m['decisions']} (rejected {m['rejected']}, approved {m['approved']}); "
        f"fitted on the older {m['trained_on']}, measured on the latest {m['recent']}",
        f"agreement with the moderators on the latest {m['recent']}: shipped model "
        f"{agree['before']:.1%}, this version {agree['after']:.1%}",
        f"  rejected ones held: {m['recent_rejected_held']['before']} -> "
        f"{m['recent_rejected_held']['after']} of {m['recent_rejected']}",
        f"  approved ones published: {m['recent_approved_published']['before']} -> "
        f"{m['recent_approved_published']['after']} of {m['recent_approved']}",
        f"rejections taught as: {', '.join(f'{k} {v}' for k, v in m['taught_as'].items()) or '-'}"
        f"; {m['seconds']} s",
    ]
