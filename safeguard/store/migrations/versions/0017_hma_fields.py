"""Bank content keeps what HMA clients store with an item: a temporary disable and user metadata.

``disabled_until`` is HMA's ``disable_until_ts`` (the item does not match before that time);
``hma_metadata`` holds HMA's ``metadata`` object (``content_id``, ``content_uri``, ``json``) as given.

Revision ID: 0017_hma_fields
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

import safeguard.store.base

revision = "0017_hma_fields"
down_revision = "0011_audit_hmac"
branch_labels = None
depends_on = None

UTC = safeguard.store.base.UTCDateTime()
JSON_DOC = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("bank_content") as batch:
        batch.add_column(sa.Column("disabled_until", UTC, nullable=True))
        batch.add_column(sa.Column("hma_metadata", JSON_DOC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bank_content") as batch:
        batch.drop_column("hma_metadata")
        batch.drop_column("disabled_until")
