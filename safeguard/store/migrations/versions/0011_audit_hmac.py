"""The audit chain is keyed: each record says how its hash was made (``version``).

Version 1 records (every record written before this revision) keep their plain SHA-256 and still verify;
new records are version 2, an HMAC-SHA256 keyed with the audit key kept outside the database. ``add_column``
(not a batch rebuild) keeps SQLite's append-only triggers in place.

Revision ID: 0011_audit_hmac
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_audit_hmac"
down_revision = "0012_case_per_content"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    keyed = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM audit_log WHERE version <> 1"))
    if keyed.scalar():
        raise RuntimeError("the audit log holds keyed records, which the old schema cannot verify")
    op.drop_column("audit_log", "version")
