"""Who made each ban (the desk account or token's name) and their note, for the list of
bans that staff read, lift and shorten. The note is staff's own: unlike `reason`, which the
moderation pipeline's message quotes, it is never said to the writer. Bans made before have
neither: the audit log still names their makers.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bans") as batch:
        batch.add_column(sa.Column("created_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("note", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("bans") as batch:
        batch.drop_column("note")
        batch.drop_column("created_by")
