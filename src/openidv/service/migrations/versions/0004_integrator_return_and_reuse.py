"""integrator return URLs, document-reuse fingerprints, cross-device handoffs

Revision ID: 0004_return_reuse
Revises: 0002
Create Date: 2026-12-06 20:40:00

``api_keys.return_urls`` (the allow-list), ``cases.return_url``, and the table
``document_fingerprints`` (keyed HMAC of issuer and document number, deleted with its case), and
``handoffs`` (single-use links that open a case on the applicant's phone).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_return_reuse"
down_revision = "0003_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_urls", sa.JSON(), nullable=True))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_url", sa.String(length=2000), nullable=True))
    op.create_table(
        "document_fingerprints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("document_fingerprints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_fingerprints_case_id"), ["case_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_document_fingerprints_digest"), ["digest"], unique=False)
    op.create_table(
        "handoffs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("case_token_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoffs_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoffs_token_hash"), ["token_hash"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoffs_token_hash"))
        batch_op.drop_index(batch_op.f("ix_handoffs_case_id"))
    op.drop_table("handoffs")
    with op.batch_alter_table("document_fingerprints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_fingerprints_digest"))
        batch_op.drop_index(batch_op.f("ix_document_fingerprints_case_id"))
    op.drop_table("document_fingerprints")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("return_url")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("return_urls")
