"""Banks hold vPDQ: a signal's value may be a long vPDQ string, so uniqueness moves to ``value_key``.

``value`` becomes unbounded text; ``value_key`` (the value itself, or ``sha256:<digest>`` for values over
128 characters) carries the unique constraint, since PostgreSQL cannot index values over about 2.7 kB.
Existing signals are hex hashes of at most 64 characters, so their key is their value.

Revision ID: 0008_banks_vpdq
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_banks_vpdq"
down_revision = "0003_text"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_signals") as batch:
        batch.add_column(sa.Column("value_key", sa.String(128), nullable=True))
    op.execute("UPDATE bank_signals SET value_key = value")
    with op.batch_alter_table("bank_signals") as batch:
        # The old index goes first, so that changing the column's type does not rebuild it.
        batch.drop_constraint("uq_bank_signals_bank_id_signal_type_value", type_="unique")
        batch.alter_column("value", type_=sa.Text(), existing_type=sa.String(128), existing_nullable=False)
        batch.alter_column("value_key", nullable=False, existing_type=sa.String(128))
        batch.create_unique_constraint(
            "uq_bank_signals_bank_id_signal_type_value_key", ["bank_id", "signal_type", "value_key"]
        )


def downgrade() -> None:
    held = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM bank_signals WHERE value_key <> value"))
    if held.scalar():
        raise RuntimeError("banks hold vpdq signals: remove that content before downgrading")
    with op.batch_alter_table("bank_signals") as batch:
        batch.drop_constraint("uq_bank_signals_bank_id_signal_type_value_key", type_="unique")
        batch.create_unique_constraint(
            "uq_bank_signals_bank_id_signal_type_value", ["bank_id", "signal_type", "value"]
        )
        batch.alter_column("value", type_=sa.String(128), existing_type=sa.Text(), existing_nullable=False)
        batch.drop_column("value_key")
