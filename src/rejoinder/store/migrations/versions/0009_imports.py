"""Comments brought in by `rejoinder import`, keyed by the discussion they went to, the
source format and the id the source gave them, so that importing a file again (or resuming
a broken import) adds nothing twice.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imported_comments",
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id"), primary_key=True),
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("source_id", sa.String(200), primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("comment_id", sa.Integer, sa.ForeignKey("comments.id"), nullable=False),
    )
    op.create_index("ix_imported_comments_comment", "imported_comments", ["comment_id"])


def downgrade() -> None:
    op.drop_index("ix_imported_comments_comment", table_name="imported_comments")
    op.drop_table("imported_comments")
