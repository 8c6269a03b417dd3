"""One case per piece of content: a subject's earlier cases are looked up by (owner, kind, subject), and a
decision records the bank its add_to_bank / add_to_allowlist action banks the case's hashes into.

Revision ID: 0012_case_per_content
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_case_per_content"
down_revision = "0014_typed_states"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_review_cases_owner_subject", "review_cases", ["owner", "kind", "subject"])
    with op.batch_alter_table("review_decisions") as batch:
        batch.add_column(sa.Column("bank", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("review_decisions") as batch:
        batch.drop_column("bank")
    op.drop_index("ix_review_cases_owner_subject", table_name="review_cases")
