"""Webhooks: each site's endpoints (URL, events, signing secret, active or paused) and a
bounded log of their deliveries; the outbox learns the site of each message, so the desk can
show a site its own pending and failed messages.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rejoinder.store.schema import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", sa.String(400), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("paused_reason", sa.Text, nullable=True),
        sa.Column("notify", sa.String(254), nullable=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failing_since", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        # Ids never come back after a removal: a removed endpoint's messages still in the
        # outbox must not reach a new endpoint that took its number.
        sqlite_autoincrement=True,
    )
    op.create_index("ix_webhooks_site", "webhooks", ["site_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "webhook_id",
            sa.Integer,
            sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_webhook_deliveries_hook", "webhook_deliveries", ["webhook_id", "id"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("site_id", sa.Integer, nullable=True))
    op.create_index("ix_outbox_site_state", "outbox", ["site_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_outbox_site_state", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("site_id")
    op.drop_index("ix_webhook_deliveries_hook", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhooks_site", table_name="webhooks")
    op.drop_table("webhooks")
