"""Moderation: hashed addresses, fingerprints and verdicts on comments; bans; refused posts.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rejoinder.store.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("ip_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("ip_group_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("fingerprint", sa.String(64), nullable=True))
        batch.add_column(sa.Column("moderation", sa.Text, nullable=True))
    op.create_index("ix_comments_ip_created", "comments", ["ip_hash", "created_at"])
    op.create_index("ix_comments_email_created", "comments", ["author_email", "created_at"])
    op.create_index("ix_comments_fingerprint_created", "comments", ["fingerprint", "created_at"])
    op.create_index("ix_comments_created", "comments", ["created_at"])
    op.create_index("ix_comments_status_created", "comments", ["status", "created_at"])
    op.create_table(
        "bans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(254), nullable=False),
        sa.Column("until", UTCDateTime, nullable=True),
        sa.Column("reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_bans_site", "bans", ["site_id"])
    op.create_table(
        "refused",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id"), nullable=True),
        sa.Column("parent_id", sa.Integer, nullable=True),
        sa.Column("author_name", sa.String(100), nullable=False),
        sa.Column("author_email", sa.String(254), nullable=False),
        sa.Column("author_website", sa.String(500), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("ip_hash", sa.String(64), nullable=True),
        sa.Column("ip_group_hash", sa.String(64), nullable=True),
        sa.Column("moderation", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_refused_created", "refused", ["created_at"])
    op.create_index("ix_refused_email", "refused", ["author_email"])


def downgrade() -> None:
    op.drop_table("refused")
    op.drop_table("bans")
    for name in (
        "ix_comments_status_created",
        "ix_comments_created",
        "ix_comments_fingerprint_created",
        "ix_comments_email_created",
        "ix_comments_ip_created",
    ):
        op.drop_index(name, "comments")
    with op.batch_alter_table("comments") as batch:
        for column in ("moderation", "fingerprint", "ip_group_hash", "ip_hash"):
            batch.drop_column(column)
