"""A site's moderation policy as one validated shape: what is stored in the site's settings,
what the admin API takes and gives, what the desk's form edits and what `rejoinder policy`
reads. Each setting's type, bounds, label and hint are declared here once; the pure core keeps
its plain `Policy` dataclass, and `PolicySettings` converts to and from it.

Adding a setting: a field on `core.moderation.models.Policy` and one here. A field with
`desk=True` (see `_desk`) appears in the desk's form with its label, hint and bounds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rejoinder.core.moderation.matching.folding import phrase_pattern
from rejoinder.core.moderation.models import (
    Action,
    Mode,
    Policy,
    Profanity,
    Threshold,
    WordLists,
)

PRESET_NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"
MAX_PHRASES = 5000
MAX_PHRASE_CHARS = 200


#: The core's defaults are the settings' defaults: they are declared once, on `Policy`.
_DEFAULT = Policy()


def _desk(name: str, label: str, hint: str, lowest: int, highest: int) -> Any:
    """A whole-number limit the desk's form shows: empty (None) switches it off."""
    return Field(
        getattr(_DEFAULT, name),
        strict=True,
        ge=lowest,
        le=highest,
        title=label,
        description=hint,
        json_schema_extra={"desk": True},
    )


def _count(name: str, hint: str) -> Any:
    """A whole number, at least 0 (None, where allowed, switches the check off)."""
    return Field(getattr(_DEFAULT, name), strict=True, ge=0, description=hint)


class ThresholdSetting(BaseModel):
    """Scores at or above `hold` hold a comment; at or above `refuse` refuse it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hold: float = Field(strict=True, ge=0, le=1)
    refuse: float | None = Field(default=None, strict=True, ge=0, le=1)

    @model_validator(mode="before")
    @classmethod
    def _a_number_is_a_hold_point(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return {"hold": value}
        if not isinstance(value, Mapping):
            raise ValueError("a threshold is a number or {hold, refuse}")
        return value

    @model_validator(mode="after")
    def _refuse_at_or_above_hold(self) -> ThresholdSetting:
        if self.refuse is not None and self.refuse < self.hold:
            raise ValueError("need 0 <= hold <= refuse <= 1")
        return self


class PolicySettings(BaseModel):
    """One site's moderation rules. A limit left empty (None) is switched off; settings left
    out take their defaults; an unknown setting is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Mode = Field(_DEFAULT.mode, description="What waits for a moderator.")
    model_preset: str | None = Field(
        None,
        pattern=PRESET_NAME,
        description="A preset of the shipped model whose thresholds apply (then no "
        "`thresholds`); none: the site's own thresholds.",
    )
    thresholds: dict[str, ThresholdSetting] | None = Field(
        None, description="The site's own hold and refuse points per model category."
    )
    trust_margin: float = Field(
        _DEFAULT.trust_margin,
        strict=True,
        ge=0,
        le=1,
        description="Model holds this close above the threshold are excused for trusted "
        "commenters.",
    )
    trust_min_approved: int = _count(
        "trust_min_approved", "Approved comments that make a commenter trusted"
    )
    close_after_days: int | None = _desk(
        "close_after_days",
        "Close comments after, days",
        "Counted from the article's publication",
        1,
        36500,
    )
    flood_seconds: int | None = _desk(
        "flood_seconds",
        "Flood interval, seconds",
        "Between two comments from one address or email",
        0,
        86400,
    )
    per_minute: int | None = _desk(
        "per_minute", "Per minute", "Comments from one address or email in a minute", 0, 10000
    )
    per_hour: int | None = _desk(
        "per_hour", "Per hour", "Comments from one address or email in an hour", 0, 100000
    )
    top_level_per_thread: int | None = _desk(
        "top_level_per_thread",
        "Top-level comments per thread",
        "Then a commenter's new threads under one article are held",
        0,
        10000,
    )
    surge_per_minute: int | None = _count(
        "surge_per_minute", "Site-wide comments a minute above which new ones wait"
    )
    duplicate_site_limit: int | None = _count(
        "duplicate_site_limit", "The same text this often site-wide in an hour"
    )
    duplicate_min_chars: int = _count(
        "duplicate_min_chars", "Shorter texts may repeat across the site"
    )
    min_form_seconds: float | None = Field(
        _DEFAULT.min_form_seconds,
        strict=True,
        ge=0,
        description="A form sent sooner than this is held",
    )
    max_form_age_seconds: int | None = _count(
        "max_form_age_seconds", "A form older than this is held"
    )
    link_limit: int | None = _desk(
        "link_limit",
        "Link limit",
        "More links than this hold a comment (0: any link holds)",
        0,
        1000,
    )
    spam_signs_to_hold: int | None = _count(
        "spam_signs_to_hold", "Signs of spam that hold a comment"
    )
    pattern_actions: dict[str, Action] = Field(
        default_factory=dict, description="What a phrase code does, e.g. threat: refuse."
    )
    refuse_words: dict[str, list[str]] | None = Field(
        None, description="Replaces the shipped refuse list: phrases, or {category: phrases}."
    )
    hold_words: dict[str, list[str]] | None = Field(
        None, description="Replaces the shipped hold list: phrases, or {category: phrases}."
    )
    shortener_domains: list[str] | None = Field(
        None, description="Replaces the shipped list of link shorteners."
    )
    require_verified: bool = Field(
        _DEFAULT.require_verified,
        strict=True,
        description="A comment waits, shown only to its writer, until its address is "
        "confirmed by the link mailed to it; then moderation's verdict applies. Needs mail "
        "(an SMTP host); without it the setting does nothing.",
    )
    profanity: Profanity = Field(
        _DEFAULT.profanity,
        description="Profanity that attacks nobody: hold (the model's toxicity and obscenity "
        "holds stand) or publish (such a hold lapses when every word that drove it is a swear "
        "word; swearing at people, insults and every other phase still hold).",
    )

    @model_validator(mode="before")
    @classmethod
    def _known_settings_only(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise ValueError("a policy is an object of settings")
        unknown = sorted(str(k) for k in data if k not in cls.model_fields)
        if unknown:
            raise ValueError(f"unknown moderation policy settings: {', '.join(unknown)}")
        return data

    @model_validator(mode="after")
    def _a_preset_or_own_thresholds(self) -> PolicySettings:
        if self.model_preset is not None and self.thresholds is not None:
            raise ValueError("give a model preset or thresholds of your own, not both")
        return self

    @field_validator("refuse_words", "hold_words", mode="before")
    @classmethod
    def _phrases_by_category(cls, value: Any) -> Any:
        """A plain list of phrases is one category, "word"."""
        return {"word": value} if isinstance(value, list | tuple) else value

    @field_validator("refuse_words", "hold_words")
    @classmethod
    def _phrases_can_match(cls, lists: dict[str, list[str]] | None) -> Any:
        if lists is None:
            return None
        phrases = [p for found in lists.values() for p in found]
        if len(phrases) > MAX_PHRASES:
            raise ValueError(f"at most {MAX_PHRASES} phrases")
        for phrase in phrases:
            if len(phrase) > MAX_PHRASE_CHARS or not phrase_pattern(phrase):
                raise ValueError(
                    f"{phrase[:40]!r} cannot be matched (no letters or digits, or longer "
                    f"than {MAX_PHRASE_CHARS} characters)"
                )
        return lists

    @field_validator("shortener_domains")
    @classmethod
    def _lower_case_domains(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [d.lower() for d in value]

    # --- the core's dataclass -----------------------------------------------------------------

    def to_policy(self) -> Policy:
        """The pure core's policy; without own thresholds, the core's defaults (the
        application fills in a preset's: `usecases.policy.effective_policy`)."""
        values: dict[str, Any] = {name: getattr(self, name) for name in PLAIN_FIELDS}
        values["mode"] = self.mode
        values["model_preset"] = self.model_preset
        if self.thresholds is not None:
            values["thresholds"] = {
                c: Threshold(t.hold, t.refuse) for c, t in self.thresholds.items()
            }
        values["pattern_actions"] = dict(self.pattern_actions)
        values["refuse_words"] = _word_lists(self.refuse_words)
        values["hold_words"] = _word_lists(self.hold_words)
        if self.shortener_domains is not None:
            values["shortener_domains"] = tuple(self.shortener_domains)
        return Policy(**values)

    @classmethod
    def from_policy(cls, policy: Policy) -> PolicySettings:
        """The settings that make `policy`: its preset's name, or its own thresholds."""
        thresholds = (
            None
            if policy.model_preset
            else {
                c: ThresholdSetting(hold=t.hold, refuse=t.refuse)
                for c, t in policy.thresholds.items()
            }
        )
        return cls(
            mode=policy.mode,
            model_preset=policy.model_preset,
            thresholds=thresholds,
            **{name: getattr(policy, name) for name in PLAIN_FIELDS},
            pattern_actions=dict(policy.pattern_actions),
            refuse_words=_plain_lists(policy.refuse_words),
            hold_words=_plain_lists(policy.hold_words),
            shortener_domains=(
                None if policy.shortener_domains is None else list(policy.shortener_domains)
            ),
        )

    def stored(self) -> dict[str, Any]:
        """As JSON-ready values, to store and to show: a preset's name or own thresholds,
        never both; every other setting, None where switched off."""
        data = self.model_dump(mode="json")
        data.pop("thresholds" if self.model_preset else "model_preset")
        return data


#: The settings that are plain numbers, in the order they are stored.
PLAIN_FIELDS = tuple(
    name
    for name in PolicySettings.model_fields
    if name
    not in (
        "mode",
        "model_preset",
        "thresholds",
        "pattern_actions",
        "refuse_words",
        "hold_words",
        "shortener_domains",
    )
)


def desk_limits() -> dict[str, tuple[str, str, int, int]]:
    """The whole-number limits the desk's form edits: name -> (label, hint, lowest, highest)."""
    out = {}
    for name, info in PolicySettings.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get("desk"):
            lowest = highest = 0
            for rule in info.metadata:
                lowest = int(getattr(rule, "ge", lowest))
                highest = int(getattr(rule, "le", highest))
            out[name] = (str(info.title), str(info.description), lowest, highest)
    return out


def read_policy_settings(data: Mapping[str, Any]) -> PolicySettings:
    """Validate stored or sent settings; `PolicyProblem` names the first wrong one."""
    try:
        return PolicySettings.model_validate(data)
    except ValidationError as error:
        raise PolicyProblem(error) from None


class PolicyProblem(ValueError):
    """The first thing wrong with a policy: `setting` is its top-level name ("" for the whole
    policy), and the message reads "thresholds.insult: need 0 <= hold <= refuse <= 1"."""

    def __init__(self, error: ValidationError) -> None:
        found = error.errors()[0]
        loc = [str(part) for part in found["loc"]]
        self.setting = loc[0] if loc else ""
        message = str(found["msg"]).removeprefix("Value error, ")
        limits = desk_limits()
        if self.setting in limits and len(loc) == 1:
            _label, _hint, lowest, highest = limits[self.setting]
            message = f"must be a whole number from {lowest} to {highest}, or null"
        elif self.setting == "model_preset":
            message = "must be a preset's name (letters, digits, -, _)"
        self.detail = message[:1].upper() + message[1:] + "."
        super().__init__(f"{'.'.join(loc)}: {message}" if loc else message)


def _word_lists(lists: dict[str, list[str]] | None) -> WordLists | None:
    return None if lists is None else {c: tuple(p) for c, p in lists.items()}


def _plain_lists(lists: WordLists | None) -> dict[str, list[str]] | None:
    return None if lists is None else {c: list(p) for c, p in lists.items()}
