"""The tables, as SQLAlchemy Core metadata; Alembic migrations create them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import text


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them without a zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(200), nullable=False),
)

sites = Table(
    "sites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(60), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("domain", String(255), nullable=True, unique=True),
    Column("settings", Text, nullable=False, server_default="{}"),
    # The site's public address (links, canonical URLs, feed ids, mail); None: the server's.
    Column("base_url", String(500), nullable=True),
    Column("origins", Text, nullable=False, server_default="[]"),  # JSON: who may embed it
    Column("language", String(16), nullable=False, server_default="en"),
    Column("created_at", UTCDateTime, nullable=False),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=False),
    Column("slug", String(120), nullable=False),
    Column("title", String(300), nullable=False),
    Column("dek", String(600), nullable=False, server_default=""),
    Column("author", String(200), nullable=False, server_default=""),
    Column("body_markdown", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("comments_open", Boolean, nullable=False, server_default="1"),
    Column("source_name", String(200), nullable=True),
    Column("source_url", String(500), nullable=True),
    Column("comment_count", Integer, nullable=False, server_default="0"),
    # Bumped by every change to the article or its comments: the cache key and the ETag.
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # A discussion of a page hosted elsewhere (the embed): its id on the site, and its URL.
    Column("page_id", String(300), nullable=True),
    Column("page_url", String(1000), nullable=True),
    # When staff last reopened its discussion: close_after_days counts from then.
    Column("reopened_at", UTCDateTime, nullable=True),
    UniqueConstraint("site_id", "slug", name="uq_articles_site_slug"),
    Index("uq_articles_site_page", "site_id", "page_id", unique=True),
    Index("ix_articles_site_published", "site_id", "published_at"),
)

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False),
    Column("parent_id", Integer, ForeignKey("comments.id"), nullable=True),
    # The top-level comment of the branch (NULL for a top-level comment): one query loads
    # every reply of a page of top-level comments, whatever their depth.
    Column("root_id", Integer, ForeignKey("comments.id"), nullable=True),
    Column("depth", Integer, nullable=False),
    Column("number", Integer, nullable=False),
    Column("author_name", String(100), nullable=False),
    Column("author_email", String(254), nullable=False),
    # The address in its normal form (core.emails.normal_address): what lookups compare.
    Column("email_key", String(254), nullable=False, server_default=""),
    Column("author_website", String(500), nullable=True),
    Column("body_markdown", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("edited_at", UTCDateTime, nullable=True),
    Column("imported", Boolean, nullable=False, server_default="0"),
    Column("notify_replies", Boolean, nullable=False, server_default="0"),
    # Keyed HMACs of the address and of its /24 or /48: never the address itself.
    Column("ip_hash", String(64), nullable=True),
    Column("ip_group_hash", String(64), nullable=True),
    Column("fingerprint", String(64), nullable=True),  # for "the same text site-wide"
    Column("moderation", Text, nullable=True),  # the pipeline's decision, as JSON
    Column("featured", Boolean, nullable=False, server_default="0"),
    Column("report_count", Integer, nullable=False, server_default="0"),
    Column("hidden", Boolean, nullable=False, server_default="0"),  # by reports, until reviewed
    Column("moderated_at", UTCDateTime, nullable=True),
    Column("moderated_by", String(100), nullable=True),
    Column("pinned", Boolean, nullable=False, server_default="0"),  # shown first in its thread
    # Held until its writer confirms the address (a site requiring verified addresses): not
    # in the desk's queue yet; the confirmation publishes it or hands it to the desk.
    Column("awaiting_address", Boolean, nullable=False, server_default="0"),
    Index("ix_comments_article_depth_number", "article_id", "depth", "number"),
    Index("ix_comments_root", "root_id"),
    Index("ix_comments_parent", "parent_id"),
    Index("ix_comments_ip_created", "ip_hash", "created_at"),
    Index("ix_comments_ip_group_created", "ip_group_hash", "created_at"),
    Index("ix_comments_email_key_created", "email_key", "created_at"),
    Index("ix_comments_fingerprint_created", "fingerprint", "created_at"),
    Index("ix_comments_created", "created_at"),
    Index("ix_comments_status_created", "status", "created_at"),
    Index("ix_comments_reported", "report_count"),
)
# The few pinned comments of a thread, found without reading its other top-level ones.
Index(
    "ix_comments_pinned",
    comments.c.article_id,
    comments.c.number,
    sqlite_where=comments.c.pinned.is_(True),
    postgresql_where=comments.c.pinned.is_(True),
)

bans = Table(
    "bans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", String(254), nullable=False),
    Column("until", UTCDateTime, nullable=True),
    Column("reason", String(500), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(100), nullable=True),  # who banned (none before 0010)
    # Staff's note on why: listed at the desk, never in the message the writer is given.
    Column("note", Text, nullable=False, server_default=""),
    Index("ix_bans_site", "site_id"),
)

# Submissions the pipeline refused: kept for the audit for a retention period, then purged.
refused = Table(
    "refused",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=False),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=True),
    Column("parent_id", Integer, nullable=True),
    Column("author_name", String(100), nullable=False),
    Column("author_email", String(254), nullable=False),
    Column("email_key", String(254), nullable=False, server_default=""),
    Column("author_website", String(500), nullable=True),
    Column("body", Text, nullable=False),
    Column("ip_hash", String(64), nullable=True),
    Column("ip_group_hash", String(64), nullable=True),
    Column("moderation", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_refused_created", "created_at"),
    Index("ix_refused_email_key", "email_key"),
)


users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(60), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # SHA-256 of the cookie's token, never the token
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_sessions_user", "user_id"),
)

# The sites a staff account may act on; an account with no rows here acts on every site.
staff_sites = Table(
    "staff_sites",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), primary_key=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", String(60), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked", Boolean, nullable=False, server_default="0"),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_login_attempts_key_created", "key", "created_at"),
)

reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("comment_id", Integer, ForeignKey("comments.id"), nullable=False),
    Column("reason", String(16), nullable=False),
    Column("text", String(500), nullable=False, server_default=""),
    Column("reporter", String(64), nullable=False),
    Column("ip_hash", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("resolved", Boolean, nullable=False, server_default="0"),
    UniqueConstraint("comment_id", "reporter", name="uq_reports_comment_reporter"),
    Index("ix_reports_comment", "comment_id"),
    Index("ix_reports_ip_created", "ip_hash", "created_at"),
)

# Append-only: the migration adds triggers that refuse UPDATE and DELETE on every backend.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("site_id", Integer, nullable=True),
    Column("comment_id", Integer, nullable=True),
    Column("actor_kind", String(16), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(40), nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("note", Text, nullable=False, server_default=""),
    Column("data", Text, nullable=False, server_default="{}"),
    Index("ix_audit_created", "created_at"),
    Index("ix_audit_comment", "comment_id"),
    Index("ix_audit_action", "action"),
)

# The personal part of audit entries (a text, a name, an address, reasons quoting a text),
# kept apart from the append-only log so that erasure and retention can delete it: the entry
# stays and says what happened; its personal part is gone ("erased"). `person` is the address
# (normal form) the part is about, `comment_id` and `refused_id` what it quotes.
audit_personal = Table(
    "audit_personal",
    metadata,
    # The entry (audit_log.id). No foreign key: one would make PostgreSQL refuse a TRUNCATE
    # of the log for that reason before the append-only trigger could say why.
    Column("entry_id", Integer, primary_key=True, autoincrement=False),
    Column("person", String(254), nullable=False, server_default=""),
    Column("comment_id", Integer, nullable=True),
    Column("refused_id", Integer, nullable=True),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("data", Text, nullable=False, server_default="{}"),
    Index("ix_audit_personal_person", "person"),
    Index("ix_audit_personal_comment", "comment_id"),
    Index("ix_audit_personal_refused", "refused_id"),
)

site_models = Table(
    "site_models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("active", Boolean, nullable=False, server_default="0"),
    Column("heads", LargeBinary, nullable=False),
    Column("metrics", Text, nullable=False, server_default="{}"),
    UniqueConstraint("site_id", "version", name="uq_site_models_site_version"),
    # At most one active version per site (migration 0004); the moderator looks it up by this.
    Index(
        "ix_site_models_active",
        "site_id",
        unique=True,
        sqlite_where=text("active = 1"),
        postgresql_where=text("active"),
    ),
)

# Messages to other systems (mail now), written in the transaction of the change that causes
# them and delivered by the workers' senders (usecases/outbox.py): durable, leased, retried.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    # The message's own id (a mail's Message-ID): the same on every try, so a receiver that
    # got it twice can tell.
    Column("message_id", String(200), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # "mail"; how `payload` is delivered
    Column("recipient", String(254), nullable=False),
    Column("payload", Text, nullable=False),  # JSON: what the deliverer builds the message from
    Column("state", String(10), nullable=False),  # pending, sending, sent, failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    # While sending: until when the claiming worker holds it, and that worker's claim.
    Column("lease_until", UTCDateTime, nullable=True),
    Column("claim", String(32), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    # The site the message is about (the desk's outbox page lists a site's own).
    Column("site_id", Integer, nullable=True),
    Index("ix_outbox_state_next", "state", "next_attempt_at"),
    Index("ix_outbox_recipient_created", "recipient", "created_at"),
    Index("ix_outbox_site_state", "site_id", "state"),
)

# A site's webhook endpoints. The secret signs every delivery, so the server keeps it as it
# is; it is shown to a person once, when made or rotated.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("events", String(400), nullable=False),  # the chosen events, comma-separated
    Column("secret", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("paused_reason", Text, nullable=True),
    Column("notify", String(254), nullable=True),  # who is mailed when it is paused
    # Failed deliveries in a row, and when the first of them failed (None after a success).
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("failing_since", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_webhooks_site", "site_id"),
    sqlite_autoincrement=True,  # a removed endpoint's id is never given to another
)

# The latest deliveries of each endpoint (a bounded number is kept).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("webhook_id", Integer, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("message_id", String(200), nullable=False),
    Column("event", String(40), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("ok", Boolean, nullable=False),
    Column("error", Text, nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_webhook_deliveries_hook", "webhook_id", "id"),
)

# Addresses whose owner followed a confirmation link (by normal form); until then nothing but
# the confirmation is mailed to one, and no trust is granted on it.
verified_addresses = Table(
    "verified_addresses",
    metadata,
    Column("address", String(254), primary_key=True),
    Column("verified_at", UTCDateTime, nullable=False),
)

# Comments brought in by `rejoinder import`, by their id in the file's system within the
# discussion they went to (two blogs' comment ids overlap; their pages do not): a second
# import of the same file (or one resumed after a break) skips what is already here.
imported_comments = Table(
    "imported_comments",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id"), primary_key=True),
    Column("source", String(16), primary_key=True),  # the format: wordpress, disqus, json
    Column("source_id", String(200), primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=False),
    Column("comment_id", Integer, ForeignKey("comments.id"), nullable=False),
    Index("ix_imported_comments_comment", "comment_id"),
)

# Mail that tells people (reply notifications, moderators' alerts), gathered until its group
# is due: one group per (site, topic, recipient) becomes one mail (`usecases/notify.py`).
notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=False),
    # "reply:<article id>" (a reader's replies on one discussion) or "alert:<user id>".
    Column("topic", String(40), nullable=False),
    Column("recipient", String(254), nullable=False),  # the address in its normal form
    Column("address", String(254), nullable=False),  # as typed: the mail's To
    Column("comment_id", Integer, ForeignKey("comments.id"), nullable=False),
    Column("reason", String(16), nullable=False),  # reply, held, reported
    Column("due_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_notices_due", "due_at"),
    Index("ix_notices_group", "site_id", "topic", "recipient"),
)

# An opaque number per address that mail was sent to: unsubscribe links carry it (signed),
# never the address.
mail_recipients = Table(
    "mail_recipients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("address", String(254), nullable=False, unique=True),  # normal form
    Column("created_at", UTCDateTime, nullable=False),
)

# Readers who asked for no more reply notifications: on one discussion, or (article_id 0) on
# the whole site.
notify_optouts = Table(
    "notify_optouts",
    metadata,
    Column("recipient_id", Integer, ForeignKey("mail_recipients.id"), primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), primary_key=True),
    Column("article_id", Integer, primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Readers who asked for mail about every new comment of a discussion (by normal address).
discussion_follows = Table(
    "discussion_follows",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id"), primary_key=True),
    Column("recipient", String(254), primary_key=True),
    Column("address", String(254), nullable=False),  # as typed: the mail's To
    Column("created_at", UTCDateTime, nullable=False),
)

# Each staff member's alerts by mail for one site: off, immediately, hourly or daily.
staff_alerts = Table(
    "staff_alerts",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), primary_key=True),
    Column("frequency", String(16), nullable=False),
    Column("address", String(254), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
