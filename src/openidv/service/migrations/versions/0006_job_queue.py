"""the job queue: procrastinate's tables and functions (PostgreSQL only)

Revision ID: 0006_job_queue
Revises: 0005_case_language
Create Date: 2026-12-06 23:00:00

``OPENIDV_JOB_QUEUE=procrastinate`` keeps the post-submit analysis, outbox and housekeeping jobs
in PostgreSQL (``procrastinate_jobs``, ``procrastinate_workers``, ``procrastinate_events``,
``procrastinate_periodic_defers`` and their functions and triggers). The SQL is the schema of the
pinned procrastinate release (3.10.0), read from the installed package when this revision runs;
a later procrastinate upgrade comes with a revision applying its migration scripts. On SQLite
(the embedded mode, jobs in process) this revision does nothing.
"""

from __future__ import annotations

from alembic import op

revision = "0006_job_queue"
down_revision = "0005_case_language"
branch_labels = None
depends_on = None

TABLES = ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs", "procrastinate_workers")
TYPES = ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type", "procrastinate_job_status")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    # the driver's own connection, in this migration's transaction: the script holds '%' and '::'
    # that neither SQLAlchemy's bind parameters nor psycopg's placeholders may touch
    bind.connection.driver_connection.execute(SchemaManager.get_schema())  # type: ignore[union-attr]


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute(
        "DO $$ DECLARE f record; BEGIN FOR f IN SELECT oid::regprocedure AS sig FROM pg_proc "
        "WHERE proname LIKE 'procrastinate%' LOOP EXECUTE 'DROP FUNCTION ' || f.sig || ' CASCADE'; END LOOP; END $$"
    )
    for type_name in TYPES:
        op.execute(f"DROP TYPE IF EXISTS {type_name} CASCADE")
