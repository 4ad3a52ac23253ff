"""privacy: status tokens, sealed reports, destroyable data keys, the seller's video-call message

Revision ID: 0003_privacy
Revises: 0002
Create Date: 2026-12-06 20:00:00

``cases.status_token_hash``: the read-only status link's token (SHA-256); ``cases.sealed_reports``:
the full engine reports encrypted under the case's data key (``cases.reports`` keeps checks and
scores only); ``cases.wrapped_data_key`` becomes nullable (NULL = destroyed at purge or erasure);
``video_slots.outcome_seller_message``: the seller's message, apart from the internal note.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_privacy"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sealed_reports", sa.LargeBinary(), nullable=True))
        batch_op.alter_column("wrapped_data_key", existing_type=sa.LargeBinary(), nullable=True)
        batch_op.create_index(batch_op.f("ix_cases_status_token_hash"), ["status_token_hash"], unique=True)
    with op.batch_alter_table("video_slots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome_seller_message", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("video_slots", schema=None) as batch_op:
        batch_op.drop_column("outcome_seller_message")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_status_token_hash"))
        batch_op.alter_column("wrapped_data_key", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("sealed_reports")
        batch_op.drop_column("status_token_hash")
