"""the applicant's language on the case, for the seller's emails

Revision ID: 0005_case_language
Revises: 0004_return_reuse
Create Date: 2026-12-06 21:30:00

``cases.language``: the ISO 639-1 code (``en``, ``es``) of the applicant's pages, set when the
case starts (``Accept-Language``) and by the language switcher; NULL on older cases (English).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_case_language"
down_revision = "0004_return_reuse"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("language")
