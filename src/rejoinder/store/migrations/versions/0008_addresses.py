"""Addresses in one normal form, and verified addresses: comments and refusals keep the
writer's address as typed and its normal form (`core.emails.normal_address`), which every
lookup by address compares (history, flood and duplicate checks, the desk); and the addresses
whose owner confirmed them by mail, and the comments that wait for such a confirmation.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rejoinder.core.emails import normal_address
from rejoinder.store.schema import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_BATCH = 1000


def _fill(table: str) -> None:
    """The normal form of every stored address, computed here as the program computes it."""
    conn = op.get_bind()
    rows = sa.table(table, sa.column("id", sa.Integer), sa.column("author_email", sa.String))
    keyed = sa.table(table, sa.column("id", sa.Integer), sa.column("email_key", sa.String))
    last = 0
    while True:
        found = conn.execute(
            sa.select(rows.c.id, rows.c.author_email)
            .where(rows.c.id > last)
            .order_by(rows.c.id)
            .limit(_BATCH)
        ).all()
        if not found:
            return
        conn.execute(
            sa.update(keyed)
            .where(keyed.c.id == sa.bindparam("b_id"))
            .values(email_key=sa.bindparam("b_key")),
            [{"b_id": row_id, "b_key": normal_address(email)[:254]} for row_id, email in found],
        )
        last = found[-1][0]


def upgrade() -> None:
    for table in ("comments", "refused"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("email_key", sa.String(254), nullable=False, server_default="")
            )
        _fill(table)
    op.drop_index("ix_comments_email_created", table_name="comments")
    op.create_index("ix_comments_email_key_created", "comments", ["email_key", "created_at"])
    op.drop_index("ix_refused_email", table_name="refused")
    op.create_index("ix_refused_email_key", "refused", ["email_key"])
    with op.batch_alter_table("comments") as batch:
        batch.add_column(
            sa.Column("awaiting_address", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_table(
        "verified_addresses",
        sa.Column("address", sa.String(254), primary_key=True),
        sa.Column("verified_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("verified_addresses")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("awaiting_address")
    op.drop_index("ix_refused_email_key", table_name="refused")
    op.create_index("ix_refused_email", "refused", ["author_email"])
    op.drop_index("ix_comments_email_key_created", table_name="comments")
    op.create_index("ix_comments_email_created", "comments", ["author_email", "created_at"])
    for table in ("comments", "refused"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("email_key")
