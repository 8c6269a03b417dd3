"""API keys can expire and show when they were last used.

Revision ID: 0010_key_expiry
"""

import sqlalchemy as sa
from alembic import op

from safeguard.store.base import UTCDateTime

revision = "0010_key_expiry"
down_revision = "0009_tenant_scope"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_used_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
