"""Mail that tells people: reply notifications and moderators' alerts gathered until they
are due (`notices`), an opaque number per address for unsubscribe links (`mail_recipients`),
readers' unsubscriptions (`notify_optouts`), the discussions readers follow
(`discussion_follows`), and each staff member's alert choice per site
(`staff_alerts`).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rejoinder.store.schema import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("comment_id", sa.Integer, sa.ForeignKey("comments.id"), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_notices_due", "notices", ["due_at"])
    op.create_index("ix_notices_group", "notices", ["site_id", "topic", "recipient"])
    op.create_table(
        "mail_recipients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("address", sa.String(254), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "notify_optouts",
        sa.Column(
            "recipient_id", sa.Integer, sa.ForeignKey("mail_recipients.id"), primary_key=True
        ),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id"), primary_key=True),
        sa.Column("article_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "discussion_follows",
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id"), primary_key=True),
        sa.Column("recipient", sa.String(254), primary_key=True),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "staff_alerts",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id"), primary_key=True),
        sa.Column("frequency", sa.String(16), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_alerts")
    op.drop_table("discussion_follows")
    op.drop_table("notify_optouts")
    op.drop_table("mail_recipients")
    op.drop_index("ix_notices_group", table_name="notices")
    op.drop_index("ix_notices_due", table_name="notices")
    op.drop_table("notices")
