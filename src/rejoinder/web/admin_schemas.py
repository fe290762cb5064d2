"""The admin API's response bodies (/api/v1/admin), declared so that the OpenAPI document says
what each call answers and schemathesis checks that it does. The handlers build the JSON
themselves (orjson, no validation on the way out); these models only describe it.

Unlike the public models (`web/schemas.py`), these hold private fields: a desk item shows the
writer's email to the moderators who may see it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class QueueCountsOut(BaseModel):
    counts: dict[str, int] = Field(description="Items per queue: held, reported, ...")


class ItemArticleOut(BaseModel):
    id: int | None
    slug: str | None
    title: str | None


class ItemParentOut(BaseModel):
    author: str
    body: str
    status: str


class ItemAuthorOut(BaseModel):
    name: str
    email: str
    website: str | None


class ItemReasonOut(BaseModel):
    code: str
    message: str
    action: str


class DeskItemOut(BaseModel):
    id: int
    kind: str = Field(description="comment, or refused (a submission the pipeline refused).")
    status: str
    number: int | None
    article: ItemArticleOut
    parent_id: int | None
    parent: ItemParentOut | None
    author: ItemAuthorOut
    ip_group: str | None = Field(description="The start of the hashed address group.")
    body: str
    created_at: datetime
    verdict: str
    reasons: list[ItemReasonOut]
    marked: list[str] = Field(description="The words the reasons point at.")
    scores: dict[str, float]
    history: dict[str, int] | None
    featured: bool
    pinned: bool
    report_count: int
    hidden: bool
    moderated_by: str | None
    moderated_at: datetime | None


class QueueOut(BaseModel):
    queue: str
    counts: dict[str, int]
    next_cursor: int | None = Field(description="Pass as ?cursor= for the next page.")
    items: list[DeskItemOut]


class ActionOut(BaseModel):
    id: int
    action: str
    status: str = Field(description="The comment's status after the action.")
    message: str


class BulkDoneOut(BaseModel):
    id: int
    status: str
    message: str


class BulkFailedOut(BaseModel):
    id: int
    message: str


class BulkOut(BaseModel):
    done: list[BulkDoneOut]
    failed: list[BulkFailedOut]
    counts: dict[str, int]


class AuditEntryOut(BaseModel):
    id: int
    created_at: datetime
    site_id: int | None
    comment_id: int | None
    actor_kind: str = Field(description="user, token, system or machine.")
    actor: str
    action: str
    before: str | None
    after: str | None
    note: str
    data: dict[str, Any]


class AuditOut(BaseModel):
    entries: list[AuditEntryOut]
    next_before: int | None = Field(description="Pass as ?before= for older entries.")


class ThresholdOut(BaseModel):
    hold: float
    refuse: float | None


class PresetOut(BaseModel):
    civil_aim: float | None
    thresholds: dict[str, ThresholdOut]


class PresetsOut(BaseModel):
    default: str
    presets: dict[str, PresetOut]


class WordListSizeOut(BaseModel):
    phrases: int
    categories: int


class PolicyOut(BaseModel):
    site: str
    policy: dict[str, Any] = Field(description="The settings as stored; PUT takes the same.")
    reports_to_queue: int
    hide_reported: bool
    thresholds_in_effect: dict[str, ThresholdOut]
    model_presets: PresetsOut | None = Field(description="null when no model runs.")
    shipped_words: dict[str, WordListSizeOut]


class DecisionsOut(BaseModel):
    approved: int
    rejected: int


class ModelVersionOut(BaseModel):
    version: int
    created_at: datetime
    active: bool
    usable: bool = Field(description="False when made for other shipped weights.")
    metrics: dict[str, Any]


class ModelsOut(BaseModel):
    site: str
    decisions: DecisionsOut
    active: int | None = Field(description="The active version; null: the shipped model.")
    versions: list[ModelVersionOut]


class DiscussionOut(BaseModel):
    slug: str
    title: str
    comments_open: bool = Field(description="Whether it takes comments now.")
    closed_by: str | None = Field(
        description="closed (its own flag) or closed_by_age (the site's close_after_days)."
    )
    closed_at: datetime | None = Field(description="For closed_by_age: when it closed.")
    reopened_at: datetime | None = Field(description="When staff last reopened it.")


class ArticleManagedOut(BaseModel):
    slug: str
    title: str
    dek: str
    author: str
    body: str = Field(description="Markdown, as written.")
    published_at: datetime
    source_name: str | None
    source_url: str | None
    comment_count: int
    url: str


class ArticleDeletedOut(BaseModel):
    deleted: str = Field(description="The slug of the article deleted.")
    title: str
    comments: int = Field(description="How many comments went with it (held ones too).")


class BanOut(BaseModel):
    id: int
    kind: str = Field(description="email, email_domain, ip_group or name.")
    value: str = Field(description="What is banned (an address group: the start of its hash).")
    until: datetime | None = Field(description="When it ends; null: never.")
    active: bool
    created_at: datetime
    created_by: str | None = Field(description="Who banned (null for bans older than that).")
    why: str = Field(description="The note given with the ban.")


class BanList(BaseModel):
    bans: list[BanOut]


class EmbeddingOut(BaseModel):
    site: str
    create_on_load: bool = Field(
        description="Whether a page's first load makes its discussion (else only the API and CLI)"
    )


class WebhookDeliveryOut(BaseModel):
    """One try of one delivery, as the endpoint's log keeps it."""

    delivery: str = Field(description="The delivery's id (X-Rejoinder-Delivery).")
    event: str
    attempt: int
    status_code: int | None = Field(description="The endpoint's answer; null when none came.")
    ok: bool
    error: str | None
    at: str


class WebhookOut(BaseModel):
    """A webhook endpoint; its secret is never shown again after it is made or rotated."""

    id: int
    url: str
    events: list[str]
    active: bool
    paused_reason: str | None
    notify: str | None = Field(description="Who is mailed when it is paused.")
    failures: int = Field(description="Failed deliveries in a row.")
    created_at: str
    deliveries: list[WebhookDeliveryOut] = Field(description="The latest tries, newest first.")


class WebhookWithSecret(WebhookOut):
    secret: str = Field(description="Shown this once: keep it where the receiver can read it.")


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]


class WebhookTestOut(BaseModel):
    delivery: str


class OutboxMessageOut(BaseModel):
    """A message of the site's outbox (never a recipient's address)."""

    id: int
    kind: str
    about: str = Field(description="A webhook's event and endpoint, or a mail's template.")
    state: str
    attempts: int
    next_attempt_at: str
    last_error: str | None
    created_at: str


class OutboxOut(BaseModel):
    counts: dict[str, int]
    messages: list[OutboxMessageOut]
