"""When staff last reopened a discussion: the site's close_after_days counts from then, so a
discussion that age had closed can be reopened (`core.discussion.openness`); and an index of
the few pinned comments, so a thread's first page finds them without reading the others.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rejoinder.store.schema import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("reopened_at", UTCDateTime, nullable=True))
    op.create_index(
        "ix_comments_pinned",
        "comments",
        ["article_id", "number"],
        sqlite_where=sa.text("pinned IS 1"),
        postgresql_where=sa.text("pinned IS true"),
    )


def downgrade() -> None:
    op.drop_index("ix_comments_pinned", table_name="comments")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("reopened_at")
