"""Sites, articles, comments and the server's secrets.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rejoinder.store.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(60), nullable=False, unique=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("domain", sa.String(255), nullable=True, unique=True),
        sa.Column("settings", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("dek", sa.String(600), nullable=False, server_default=""),
        sa.Column("author", sa.String(200), nullable=False, server_default=""),
        sa.Column("body_markdown", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text, nullable=False),
        sa.Column("published_at", UTCDateTime, nullable=False),
        sa.Column("comments_open", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("source_name", sa.String(200), nullable=True),
        sa.Column("source_url", sa.String(500), nullable=True),
        sa.Column("comment_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("site_id", "slug", name="uq_articles_site_slug"),
    )
    op.create_index("ix_articles_site_published", "articles", ["site_id", "published_at"])
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id"), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("comments.id"), nullable=True),
        sa.Column("root_id", sa.Integer, sa.ForeignKey("comments.id"), nullable=True),
        sa.Column("depth", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("author_name", sa.String(100), nullable=False),
        sa.Column("author_email", sa.String(254), nullable=False),
        sa.Column("author_website", sa.String(500), nullable=True),
        sa.Column("body_markdown", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("edited_at", UTCDateTime, nullable=True),
        sa.Column("imported", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("notify_replies", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_comments_article_depth_number", "comments", ["article_id", "depth", "number"]
    )
    op.create_index("ix_comments_root", "comments", ["root_id"])
    op.create_index("ix_comments_parent", "comments", ["parent_id"])


def downgrade() -> None:
    op.drop_table("comments")
    op.drop_table("articles")
    op.drop_table("sites")
    op.drop_table("server_secrets")
