"""The values moderation passes around: a submission, the signals its phases raise, the decision."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rejoinder.core.messages import Message
from rejoinder.core.moderation.categories import CATEGORIES


class Verdict(enum.StrEnum):
    """What happens to a submission."""

    PUBLISH = "publish"
    HOLD = "hold"  # stored, waits for a moderator, shown to its writer only
    REFUSE = "refuse"  # not stored as a comment; the writer is told why and may revise


class Action(enum.StrEnum):
    """What one signal asks for. The policy turns the signals into one verdict."""

    NOTE = "note"  # shown to moderators, changes nothing
    HOLD = "hold"
    REFUSE = "refuse"
    EXCUSE = "excuse"  # lifts the HOLD signals whose codes it names (trust margin)


class BanKind(enum.StrEnum):
    EMAIL = "email"
    EMAIL_DOMAIN = "email_domain"
    IP = "ip"  # the HMAC of the address
    IP_GROUP = "ip_group"  # the HMAC of its /24 (IPv4) or /48 (IPv6)
    NAME = "name"


class Mode(enum.StrEnum):
    """When a site reviews comments before they appear."""

    POST_MODERATE = "post_moderate"  # publish unless a phase objects
    PREMODERATE_NEW = "premoderate_new"  # hold comments from commenters with nothing approved
    PREMODERATE_LINKS = "premoderate_links"  # hold every comment that has a link
    PREMODERATE_ALL = "premoderate_all"  # hold everything


class Profanity(enum.StrEnum):
    """What a site does with profanity that attacks nobody ("Bloody hell, the bus was late")."""

    HOLD = "hold"  # as any other comment: held where the model reads it as toxic or obscene
    PUBLISH = "publish"  # the model's toxicity and obscenity holds that only swearing drove lapse


@dataclass(frozen=True, slots=True)
class Span:
    """Characters ``start:end`` of a field of the ORIGINAL submission, and the text there."""

    start: int
    end: int
    text: str
    field: str = "text"  # "text", "name", "email" or "website"

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text, "field": self.field}


@dataclass(frozen=True, slots=True)
class Signal:
    """One thing a phase noticed, with the words that made it notice (``spans``)."""

    phase: str
    code: str
    message: str  # a clause that reads after "because": 'it calls people "halfwits"'
    action: Action
    score: float | None = None
    spans: tuple[Span, ...] = ()
    excuses: tuple[str, ...] = ()  # for EXCUSE: the codes of the HOLD signals it lifts
    retry_after: int | None = None  # seconds after which the same post would not be refused
    # `message` as a template and its values, for the web to say in the writer's language;
    # plain `message` when a phase gives none (see `said`).
    text: Message | None = None

    @classmethod
    def said(
        cls,
        phase: str,
        code: str,
        text: Message,
        action: Action,
        *,
        score: float | None = None,
        spans: tuple[Span, ...] = (),
        excuses: tuple[str, ...] = (),
        retry_after: int | None = None,
    ) -> Signal:
        """A signal whose message is `text` in English, kept translatable."""
        return cls(phase, code, str(text), action, score, spans, excuses, retry_after, text)

    @property
    def wording(self) -> Message:
        """The message as a translatable template (the plain English one when none was given)."""
        return self.text if self.text is not None else Message(self.message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "code": self.code,
            "message": self.message,
            "action": self.action.value,
            "score": self.score,
            "spans": [span.to_dict() for span in self.spans],
            "excuses": list(self.excuses),
            "retry_after": self.retry_after,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict, every signal raised (in phase order), and the ones that caused the verdict."""

    verdict: Verdict
    signals: tuple[Signal, ...]
    reasons: tuple[Signal, ...]

    @property
    def retry_after(self) -> int | None:
        """For a refusal by rate limits: seconds until the same post would be accepted."""
        waits = [s.retry_after for s in self.reasons if s.retry_after is not None]
        return max(waits) if waits else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "reasons": [s.to_dict() for s in self.reasons],
            "signals": [s.to_dict() for s in self.signals],
        }


@dataclass(frozen=True, slots=True)
class ModelScore:
    """The classifier's score for one category, and the spans of the text that drove it."""

    score: float
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """What moderation needs to know of the article commented on."""

    id: int
    is_open: bool = True  # the discussion's own flag (core.discussion has the whole rule)
    published_at: datetime | None = None
    reopened_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class History:
    """This commenter's earlier comments on the site, by outcome."""

    approved: int = 0  # published (automatically or by a moderator)
    held: int = 0  # still waiting for a moderator
    refused: int = 0  # refused by the pipeline
    rejected: int = 0  # held, then rejected by a moderator


@dataclass(frozen=True, slots=True)
class RecentActivity:
    """Recent activity the rate and duplicate phases look at; the store fills it.

    Count published and held comments, not refused attempts: a writer who revises a refused
    comment must not then be refused for posting too fast.
    """

    by_ip: tuple[datetime, ...] = ()  # when this hashed IP posted, at least the last hour
    by_email: tuple[datetime, ...] = ()  # when this email posted, at least the last hour
    # when anyone in this address's group (IPv4 /24, IPv6 /48) posted, at least the last hour
    by_group: tuple[datetime, ...] = ()
    top_level_in_thread: int = 0  # top-level comments by this commenter on this article
    site_last_minute: int = 0  # comments posted on the whole site in the last 60 seconds
    own_texts: tuple[str, ...] = ()  # texts of this commenter's recent comments (say 24 hours)
    same_text_site_wide: int = 0  # comments in the last hour with this text's fingerprint


@dataclass(frozen=True, slots=True)
class Ban:
    """A ban; ``until=None`` is for good. Expired bans are ignored, so the store may pass them."""

    kind: BanKind
    value: str  # an email, a domain, an IP or IP-group HMAC, or a name
    until: datetime | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Submission:
    """Everything the phases look at, all passed in: no phase reads a clock, a store or a file."""

    text: str
    name: str
    email: str
    article: ArticleRef
    now: datetime
    website: str | None = None
    parent_id: int | None = None
    ip_hash: str = ""
    ip_group_hash: str = ""
    via_form: bool = True  # False for channels without our form (API clients, imports)
    form_issued_at: datetime | None = None  # from the form's signed timestamp; None if missing
    honeypot: str = ""  # the hidden field a person never fills in
    history: History = field(default_factory=History)
    recent: RecentActivity = field(default_factory=RecentActivity)
    bans: tuple[Ban, ...] = ()
    model_scores: Mapping[str, ModelScore] | None = None  # None: no model ran

    @property
    def is_top_level(self) -> bool:
        return self.parent_id is None


@dataclass(frozen=True, slots=True)
class Threshold:
    """Model scores at or above ``hold`` hold a comment; at or above ``refuse`` refuse it."""

    hold: float
    refuse: float | None = None


# Starting points, to be set from `rejoinder moderation eval` on the site's own comments.
# The model only ever refuses an explicit threat; otherwise a person decides.
DEFAULT_THRESHOLDS: Mapping[str, Threshold] = dict(
    zip(
        CATEGORIES,
        (
            Threshold(0.80),  # toxicity
            Threshold(0.75),  # insult
            Threshold(0.60, refuse=0.95),  # threat
            Threshold(0.70),  # identity_attack
            Threshold(0.90),  # obscenity
            Threshold(0.80),  # spam
        ),
        strict=True,
    )
)

WordLists = Mapping[str, tuple[str, ...]]  # category ("slur", "insult", ...) -> phrases


@dataclass(frozen=True)
class Policy:
    """One site's moderation rules. A limit set to None (or 0) is switched off. Word lists
    left as None use the lists shipped in ``rejoinder/core/moderation/data/``. The defaults
    here are the settings' defaults; their stored form, bounds and labels are
    ``usecases.policy_schema.PolicySettings``."""

    mode: Mode = Mode.POST_MODERATE
    thresholds: Mapping[str, Threshold] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    # The named operating point of the shipped model that set `thresholds` (the application
    # fills them in from the model's metadata); None: the thresholds are the site's own.
    # Stored, a policy keeps either this name or its own thresholds, never both.
    model_preset: str | None = None
    trust_margin: float = 0.10  # model holds this close above the threshold are excused...
    trust_min_approved: int = 3  # ...for commenters with at least this many approved comments
    close_after_days: int | None = None  # comments close this long after publication
    flood_seconds: int | None = 15  # WordPress's flood interval, per IP and per email
    per_minute: int | None = 5
    per_hour: int | None = 30
    top_level_per_thread: int | None = 5
    surge_per_minute: int | None = 120  # site-wide brake: above it, new comments wait
    duplicate_site_limit: int | None = 3  # the same text this often site-wide in an hour
    duplicate_min_chars: int = 20  # shorter texts ("Agreed!") may repeat across the site
    min_form_seconds: float | None = 3.0
    max_form_age_seconds: int | None = 24 * 3600
    link_limit: int | None = 2
    spam_signs_to_hold: int | None = 2  # money, work from home, "click here", a link
    pattern_actions: Mapping[str, Action] = field(default_factory=dict)  # e.g. shouting -> hold
    refuse_words: WordLists | None = None
    hold_words: WordLists | None = None
    shortener_domains: tuple[str, ...] | None = None
    # A comment from an address its writer has not confirmed by mail waits, shown only to
    # its writer, until the confirmation link is followed (only where mail is set up).
    require_verified: bool = False
    # Profanity that attacks nobody: held as the model reads it (HOLD), or published.
    profanity: Profanity = Profanity.HOLD
