"""Sites of their own (base URL, embedding origins, language), discussions for pages hosted
elsewhere (a page id and URL per article), pinned comments, staff limited to some sites, and
the index the posting budget per network group reads.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("base_url", sa.String(500), nullable=True))
        batch.add_column(sa.Column("origins", sa.Text, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("language", sa.String(16), nullable=False, server_default="en"))
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("page_id", sa.String(300), nullable=True))
        batch.add_column(sa.Column("page_url", sa.String(1000), nullable=True))
    op.create_index("uq_articles_site_page", "articles", ["site_id", "page_id"], unique=True)
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("ix_comments_ip_group_created", "comments", ["ip_group_hash", "created_at"])
    op.create_table(
        "staff_sites",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id"), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("staff_sites")
    op.drop_index("ix_comments_ip_group_created", table_name="comments")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("pinned")
    op.drop_index("uq_articles_site_page", table_name="articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("page_url")
        batch.drop_column("page_id")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("language")
        batch.drop_column("origins")
        batch.drop_column("base_url")
