"""Use cases of moderation: judge a submission with everything the pipeline needs, purge.

The pipeline itself is pure (`rejoinder.core.moderation`); this module gathers what it looks
at (the site's policy, bans, the commenter's history and recent activity, the model's
scores) and records what it decided.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from rejoinder.core.emails import normal_address
from rejoinder.core.errors import Refused
from rejoinder.core.messages import N_
from rejoinder.core.models import Article, CleanComment
from rejoinder.core.moderation import (
    ArticleRef,
    Decision,
    ModelScore,
    Policy,
    RecentActivity,
    Submission,
    Verdict,
    decide,
    explanation,
    fingerprint,
)
from rejoinder.core.moderation.matching import lexicon, phrasebook
from rejoinder.core.moderation.phases.rates import GROUP_FACTOR
from rejoinder.core.validation import clean_line
from rejoinder.metrics import MODEL_SECONDS
from rejoinder.store import moderation as moderation_store
from rejoinder.store import site_models as site_model_store
from rejoinder.store import sites as site_store
from rejoinder.store.database import Database
from rejoinder.store.ratebook import RedisRates
from rejoinder.usecases.policy import ModelPresets, check_preset, effective_policy

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from rejoinder.classifier.site_models import SiteHeads

log = logging.getLogger("rejoinder.usecases.moderation")


class Scorer(Protocol):
    """The model as the pipeline wants it: scores of a text, with the site's own heads when
    it has an active model version (None: the shipped heads), for the site's preset and hold
    points (which decide where the cascade spends the encoder; None: the default's)."""

    def __call__(
        self,
        text: str,
        heads: SiteHeads | None = None,
        preset: str | None = None,
        holds: Mapping[str, float] | None = None,
        /,
    ) -> Mapping[str, ModelScore]: ...


@dataclass(frozen=True)
class _Active:
    """A site's active model version as this process last loaded it."""

    model_id: int
    version: int
    heads: SiteHeads | None  # None: the stored heads could not be used (logged)


@dataclass(frozen=True)
class Screening:
    """How a submission arrived: the hashed address, and the form's timing and honeypot."""

    ip_hash: str = ""
    ip_group_hash: str = ""
    via_form: bool = False
    form_issued_at: datetime | None = None
    honeypot: str = ""
    # The verified addresses (normal forms) the writer's browser proves it confirmed; None
    # where no address can be verified (no mail): then the address alone is believed.
    proven: frozenset[str] | None = None

    def vouches_for(self, email: str) -> bool:
        """Whether the writer may be credited with the good record of `email`."""
        return self.proven is None or normal_address(email) in self.proven


@dataclass(frozen=True)
class Judgement:
    decision: Decision
    scores: Mapping[str, ModelScore]
    fingerprint: str
    model_version: int | None = None  # the site's model version that scored it, if any

    def record(self) -> str:
        """What is kept on the comment (or the refusal): verdict, reasons, signals, scores,
        and the site's model version when one scored it."""
        data: dict[str, Any] = self.decision.to_dict()
        data["scores"] = {k: round(v.score, 4) for k, v in self.scores.items()}
        if self.model_version is not None:
            data["model_version"] = self.model_version
        return json.dumps(data)


class Moderator:
    """Judges submissions for one running server or command."""

    def __init__(
        self,
        db: Database,
        scorer: Scorer | None,
        rates: RedisRates | None = None,
        presets: ModelPresets | None = None,
    ) -> None:
        self._db = db
        self._scorer = scorer
        self._rates = rates  # with Redis, posting times come from there, shared by all workers
        # The shipped model's presets: a site that has not set thresholds of its own gets
        # its preset's, since a score only means something against its own model's scale.
        self.presets = presets if scorer is not None else None
        # Per site, the active model version last loaded: looked up (one indexed query) for
        # every comment, so an activation or a rollback applies to the next comment in every
        # worker; the heads themselves are read again only when the version changes.
        self._active: dict[int, _Active] = {}

    def _policy_from(self, stored: Mapping[str, Any], preset: str | None = None) -> Policy:
        """The effective policy; with `preset`, that preset's thresholds instead of the
        site's (ValueError when the model has no such preset)."""
        if preset is not None:
            check_preset(self.presets, preset)
            stored = {k: v for k, v in stored.items() if k != "thresholds"}
            stored["model_preset"] = preset
        return effective_policy(stored, self.presets)

    def policy(self, site_id: int, preset: str | None = None) -> Policy:
        with self._db.read() as conn:
            stored = site_store.get_site_settings(conn, site_id).get("policy", {})
        return self._policy_from(stored, preset)

    def _site_heads(self, conn: Connection, site_id: int) -> _Active | None:
        """The site's active model version, loaded once per version per process."""
        if self._scorer is None:
            return None
        found = site_model_store.get_active(conn, site_id)
        if found is None:
            self._active.pop(site_id, None)
            return None
        cached = self._active.get(site_id)
        if cached is not None and cached.model_id == found[0]:
            return cached
        from rejoinder.classifier.site_models import SiteHeads, shipped_base

        heads: SiteHeads | None = None
        raw = site_model_store.get_heads(conn, found[0])
        try:
            heads = SiteHeads.from_bytes(raw or b"")
        except ValueError:
            log.exception(
                "site %s: model version %s cannot be read; using the shipped model",
                site_id,
                found[1],
            )
        if heads is not None and heads.base != shipped_base():
            log.warning(
                "site %s: model version %s was made for other shipped weights; the shipped "
                "model judges until it is trained again",
                site_id,
                found[1],
            )
            heads = None
        active = _Active(found[0], found[1], heads)
        self._active[site_id] = active
        return active

    def prepare(self, kept: PhrasebookShelf | None = None) -> None:
        """`prepare_phrasebooks`: every phrase pattern ready before the first comment."""
        prepare_phrasebooks(kept)

    def warm(self, now: datetime) -> None:
        """`warm_phases`: the other phases' word lists compiled before the first comment.
        The model itself loads on the first comment it scores (unless the process this
        worker was forked from loaded it: `runtime.preload_moderation`)."""
        warm_phases(now)

    def scores(
        self, text: str, heads: SiteHeads | None = None, policy: Policy | None = None
    ) -> Mapping[str, ModelScore] | None:
        """The model's scores (with the site's heads, if given; routed for the `policy`'s
        preset and hold points); None when there is no model or it failed (then the other
        phases still judge, and the failure is logged: a post never fails for it)."""
        if self._scorer is None:
            return None
        if not text.strip():
            return {}
        preset, holds = None, None
        if policy is not None:
            preset = self.presets.resolve(policy.model_preset) if self.presets else None
            holds = {c: t.hold for c, t in policy.thresholds.items()}
        try:
            with MODEL_SECONDS.time():
                return self._scorer(text, heads, preset, holds)
        except Exception:
            log.exception("the moderation model failed; judging without it")
            return None

    def judge(
        self,
        *,
        site_id: int,
        article: Article,
        comment: CleanComment,
        screening: Screening,
        now: datetime,
        policy: Policy | None = None,
        edit: bool = False,
    ) -> Judgement:
        """Everything the phases need, read in one transaction; then the model; then decide.

        An `edit` is the writer's new text for a comment already stored: judged for what it
        says (words, links, spam, the model, bans, the site's mode), not as a new post, so
        the rate and duplicate phases see no recent activity (the comment itself would count).
        """
        text_print = fingerprint(comment.body)
        with self._db.read() as conn:
            stored = site_store.get_site_settings(conn, site_id).get("policy", {})
            rules = policy or self._policy_from(stored)
            bans = moderation_store.list_bans(conn, site_id, now)
            history = moderation_store.get_history(conn, site_id, comment.email)
            if not screening.vouches_for(comment.email):
                # Anyone can type a regular's address: its good record counts only with the
                # proof of a confirmed address; its bad record counts for anyone who types it.
                history = replace(history, approved=0)
            recent = (
                RecentActivity()
                if edit
                else moderation_store.get_recent_activity(
                    conn,
                    site_id=site_id,
                    article_id=article.id,
                    ip_hash=screening.ip_hash,
                    ip_group_hash=screening.ip_group_hash,
                    email=comment.email,
                    fingerprint=text_print,
                    now=now,
                    top_level=bool(rules.top_level_per_thread),
                    surge_cap=rules.surge_per_minute or None,
                    same_text_cap=rules.duplicate_site_limit or None,
                    **_times_needed(rules),
                )
            )
            active = self._site_heads(conn, site_id)
        if self._rates is not None and not edit:
            shared = self._rates.recent(
                site_id, screening.ip_hash, comment.email, now, group_hash=screening.ip_group_hash
            )
            recent = replace(
                recent,
                by_ip=shared.by_ip,
                by_group=shared.by_group,
                by_email=shared.by_email,
                site_last_minute=shared.site_last_minute,
            )
        heads = active.heads if active else None
        scores = self.scores(comment.body, heads, rules)
        submission = Submission(
            text=comment.body,
            name=comment.name,
            email=comment.email,
            website=comment.website,
            parent_id=comment.parent_id,
            article=ArticleRef(
                article.id, article.comments_open, article.published_at, article.reopened_at
            ),
            now=now,
            ip_hash=screening.ip_hash,
            ip_group_hash=screening.ip_group_hash,
            via_form=screening.via_form,
            form_issued_at=screening.form_issued_at,
            honeypot=screening.honeypot,
            history=history,
            recent=recent,
            bans=bans,
            model_scores=scores,
        )
        decision = decide(submission, rules)
        return Judgement(
            decision=decision,
            scores=scores or {},
            fingerprint=text_print,
            model_version=active.version if active and heads and scores else None,
        )

    def accepted(
        self, site_id: int, comment_id: int, screening: Screening, email: str, at: datetime
    ) -> None:
        """Count a stored comment (published or held) towards its writer's rate limits and
        its network group's."""
        if self._rates is not None:
            self._rates.record(
                site_id,
                screening.ip_hash,
                email,
                at,
                str(comment_id),
                group_hash=screening.ip_group_hash,
            )

    def check(
        self,
        *,
        site_id: int,
        text: str,
        name: str,
        email: str,
        website: str,
        now: datetime,
        preset: str | None = None,
    ) -> Judgement:
        """A new comment on an open article under the site's policy (with another model
        `preset`'s thresholds, if given), with no history: what the pipeline would say.
        Reads the policy, stores nothing."""
        comment = CleanComment(
            body=_as_sent(text),
            name=clean_line(name),
            email=clean_line(email),
            website=clean_line(website) or None,
            parent_id=None,
            notify_replies=False,
        )
        with self._db.read() as conn:
            stored = site_store.get_site_settings(conn, site_id).get("policy", {})
            active = self._site_heads(conn, site_id)
        heads = active.heads if active else None
        rules = self._policy_from(stored, preset)
        scores = self.scores(comment.body, heads, rules)
        submission = Submission(
            text=comment.body,
            name=comment.name,
            email=comment.email,
            website=comment.website,
            article=ArticleRef(0, True, None),
            now=now,
            via_form=False,
            model_scores=scores,
        )
        decision = decide(submission, rules)
        return Judgement(
            decision=decision,
            scores=scores or {},
            fingerprint=fingerprint(comment.body),
            model_version=active.version if active and heads and scores else None,
        )


def prepare_phrasebooks(kept: PhrasebookShelf | None = None) -> None:
    """Make every phrasebook (threats, insults, attacks on groups) ready now, so that no
    comment waits for one: nothing to do where they are built already (in this process, or
    in the one it was forked from); else from `kept` when an earlier start of the same code
    and data left them there, else built (several times longer) and left there for the next.
    """
    if phrasebook.all_built():
        return
    started = time.perf_counter()
    digest = lexicon.digest() if kept else ""
    if kept and phrasebook.adopt(kept.take(digest)):
        log.info("took the phrase patterns kept by an earlier start")
        return
    count = phrasebook.build_all()
    log.info("built %d phrase patterns in %.2f s", count, time.perf_counter() - started)
    if kept:
        kept.keep(digest, phrasebook.built())


def warm_phases(now: datetime) -> None:
    """Compile the other phases' word lists now rather than on the first comment."""
    text = "A first comment, to load what judging needs."
    decide(Submission(text=text, name="A reader", email="", article=ArticleRef(0), now=now))


class PhrasebookShelf(Protocol):
    """Where a server keeps compiled phrasebooks between starts (the runtime's file cache)."""

    def take(self, digest: str) -> Mapping[str, object]:
        """What was kept under `digest`, or {} when nothing usable was."""
        ...

    def keep(self, digest: str, books: Mapping[str, object]) -> None:
        """Keep `books` under `digest`; failing quietly is fine."""
        ...


def _times_needed(rules: Policy) -> dict[str, Any]:
    """How many of a writer's latest times, over how long, the rate phase can use."""
    windows = [
        (limit, seconds)
        for limit, seconds in (
            (1 if rules.flood_seconds else 0, rules.flood_seconds or 0),
            (rules.per_minute or 0, 60),
            (rules.per_hour or 0, 3600),
        )
        if limit
    ]
    if not windows:
        return {"times_cap": 0, "group_times_cap": 0}
    # The group has no flood interval, and GROUP_FACTOR times each limit.
    group_limits = [limit for limit in (rules.per_minute, rules.per_hour) if limit]
    return {
        "times_cap": max(limit for limit, _ in windows),
        "group_times_cap": max(group_limits, default=0) * GROUP_FACTOR,
        "times_window": timedelta(seconds=max(seconds for _, seconds in windows)),
    }


def _as_sent(text: str) -> str:
    """The text as sent, so that spans index it (the web page highlights them in its
    textarea); only lone surrogates, which cannot be encoded, become U+FFFD, one for one."""
    return re.sub("[\ud800-\udfff]", "\ufffd", text)


BANNED = N_("Your comment could not be posted on this site.")


def refusal(judgement: Judgement, *, edit: bool = False) -> Refused:
    """The error a refused submission raises: the sentence for the writer, and why."""
    decision = judgement.decision
    if any(reason.phase == "bans" for reason in decision.reasons):
        # Whoever typed the address or the name learns nothing about bans: the same words
        # for every kind of ban and no reasons (the desk and the audit keep the real ones).
        return Refused(BANNED, field="body", reasons=(), banned=True)
    message = explanation(decision, edit=edit)
    fields = [span.field for reason in decision.reasons for span in reason.spans]
    field = "body" if not fields or "text" in fields else fields[0]
    field = {"text": "body"}.get(field, field)
    return Refused(
        message,
        field=field,
        reasons=tuple(reason_out(r) for r in decision.reasons),
        retry_after=decision.retry_after,
        banned=any(r.phase == "bans" for r in decision.reasons),
    )


def reason_out(signal: Any) -> dict[str, object]:
    """A reason as the machine contract shows it: code, message, spans."""
    return {
        "code": signal.code,
        "message": signal.message,
        "spans": [
            {"start": s.start, "end": s.end, "text": s.text, "field": s.field} for s in signal.spans
        ],
    }


def verdict_out(judgement: Judgement) -> dict[str, object]:
    """`{"verdict", "reasons", "scores"}`: the contract of `moderation check`."""
    decision = judgement.decision
    return {
        "verdict": decision.verdict.value,
        "reasons": [reason_out(r) for r in decision.reasons],
        "scores": {k: round(v.score, 4) for k, v in judgement.scores.items()},
    }


def is_refused(judgement: Judgement) -> bool:
    return judgement.decision.verdict is Verdict.REFUSE


def purge_refused(db: Database, *, now: datetime, retention_days: int) -> int:
    """Delete refused submissions older than the retention period."""
    with db.write() as conn:
        return moderation_store.purge_refused(conn, now - timedelta(days=retention_days))


def evaluate_rows(
    moderator: Moderator,
    site_id: int,
    rows: list[tuple[str, int, str]],
    now: datetime,
    preset: str | None = None,
) -> dict[str, Any]:
    """The model's ROC-AUC on labelled rows, and what the whole pipeline does with them under
    the site's policy (with another model `preset`'s thresholds, if given): label 1 (must not
    be published automatically) held or refused, label 0 held or refused by mistake; overall
    and per category."""
    from rejoinder.classifier.evaluation import EvalRow, evaluate_scores

    policy = moderator.policy(site_id, preset)
    verdicts, scores = [], []
    for text, _label, _cat in rows:
        judgement = moderator.check(
            site_id=site_id, text=text, name="", email="", website="", now=now, preset=preset
        )
        verdicts.append(judgement.decision.verdict is not Verdict.PUBLISH)
        scores.append(judgement.scores)
    report: dict[str, Any] = {
        "rows": len(rows),
        "label_1": sum(1 for r in rows if r[1] == 1),
        "preset": policy.model_preset,  # None: the site's own thresholds
    }
    if all(scores):
        categories = list(scores[0])
        model = evaluate_scores(
            {c: [s[c].score for s in scores] for c in categories},
            [EvalRow(text, label, cat) for text, label, cat in rows],
            {c: t.hold for c, t in policy.thresholds.items() if c in categories},
        )
        report["model_auc"] = model.auc
        report["model_auc_by_category"] = {c.category: c.auc for c in model.categories}

    def rate(selected: list[bool]) -> float | None:
        return round(sum(selected) / len(selected), 4) if selected else None

    report["recall"] = rate([v for v, r in zip(verdicts, rows, strict=True) if r[1] == 1])
    report["false_holds"] = rate([v for v, r in zip(verdicts, rows, strict=True) if r[1] == 0])
    by_cat: dict[str, float | None] = {}
    for cat in sorted({r[2] for r in rows if r[1] == 1}):
        by_cat[cat] = rate(
            [v for v, r in zip(verdicts, rows, strict=True) if r[1] == 1 and r[2] == cat]
        )
    report["recall_by_category"] = by_cat
    auc = report.get("model_auc")
    lines = [
        f"thresholds: preset {policy.model_preset}"
        if policy.model_preset
        else "thresholds: the site's own",
        f"rows {report['rows']} (label 1: {report['label_1']})  model ROC-AUC "
        + (f"{auc:.3f}" if isinstance(auc, float) else "n/a")
        + f"  pipeline recall {report['recall']}  false holds {report['false_holds']}",
    ]
    lines += [f"  {cat:<16} recall {value}" for cat, value in by_cat.items()]
    report["lines"] = lines
    return report


def evaluate_cases(
    moderator: Moderator,
    site_id: int,
    cases: list[dict[str, Any]],
    now: datetime,
    preset: str | None = None,
) -> dict[str, Any]:
    """What the whole pipeline does with functional cases (`training/fairness.py`'s JSON
    lines: text, family, expected, group, measure) under the site's policy: accuracy overall
    and per family, civil hold rate and hateful recall per group, and their spread
    (`core/moderation/fairness.py`)."""
    from rejoinder.core.moderation.fairness import JudgedCase, figure_lines, figures

    policy = moderator.policy(site_id, preset)
    judged = []
    for case in cases:
        decision = moderator.check(
            site_id=site_id,
            text=case["text"],
            name="",
            email="",
            website="",
            now=now,
            preset=preset,
        ).decision
        judged.append(
            JudgedCase(
                family=case["family"],
                expected=case["expected"],
                group=case.get("group"),
                measure=case.get("measure"),
                verdict=decision.verdict.value,
                reasons=tuple(reason.code for reason in decision.reasons),
            )
        )
    report = {"preset": policy.model_preset, **figures(judged)}
    report["lines"] = [
        f"thresholds: preset {policy.model_preset}"
        if policy.model_preset
        else "thresholds: the site's own",
        f"cases {report['cases']} (scored {report['scored_cases']})",
        *figure_lines(report),
    ]
    return report
