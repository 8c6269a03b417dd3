"""Grooming detection: conversation states, retained conversation text, grooming alerts.

Revision ID: 0003_text
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import safeguard.store.base

revision = "0003_text"
down_revision = "0005_intake"
branch_labels = None
depends_on = None

UTC = safeguard.store.base.UTCDateTime()
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "conversation_states",
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("state", JSON, nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("alerted_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_conversation_states"),
    )
    op.create_table(
        "conversation_messages",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("author_id", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation_states.conversation_id"],
            name="fk_conversation_messages_conversation_id_conversation_states",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_conversation_messages"),
    )
    op.create_index("ix_conversation_messages_conversation_id", "conversation_messages", ["conversation_id"])
    op.create_index("ix_conversation_messages_expires_at", "conversation_messages", ["expires_at"])
    op.create_table(
        "grooming_alerts",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("author_id", sa.String(200), nullable=False),
        sa.Column("other_authors", JSON, nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("author_message_index", sa.Integer(), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("behaviours", JSON, nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("raised_at", UTC, nullable=False),
        sa.Column("review_case_id", BIGINT, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_grooming_alerts"),
    )
    op.create_index("ix_grooming_alerts_conversation_id", "grooming_alerts", ["conversation_id"])
    op.create_index("ix_grooming_alerts_raised_at", "grooming_alerts", ["raised_at"])


def downgrade() -> None:
    op.drop_index("ix_grooming_alerts_raised_at", table_name="grooming_alerts")
    op.drop_index("ix_grooming_alerts_conversation_id", table_name="grooming_alerts")
    op.drop_table("grooming_alerts")
    op.drop_index("ix_conversation_messages_expires_at", table_name="conversation_messages")
    op.drop_index("ix_conversation_messages_conversation_id", table_name="conversation_messages")
    op.drop_table("conversation_messages")
    op.drop_table("conversation_states")
