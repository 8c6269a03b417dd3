"""Banks: hash banks, content, signals, the change log and checkpoint, URL lists and keyword lists.

Revision ID: 0002_banks
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import safeguard.store.base

revision = "0002_banks"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

UTC = safeguard.store.base.UTCDateTime()
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "banks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("is_allowlist", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("enabled_ratio", sa.Float(), nullable=False),
        sa.Column("pdq_threshold", sa.Integer(), nullable=False),
        sa.Column("version", BIGINT, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("deleted_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_banks"),
        sa.UniqueConstraint("name", name="uq_banks_name"),
    )
    op.create_table(
        "bank_content",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("external_ids", JSON, nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("removed_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_bank_content"),
        sa.ForeignKeyConstraint(["bank_id"], ["banks.id"], name="fk_bank_content_bank_id_banks"),
    )
    op.create_index("ix_bank_content_bank_id", "bank_content", ["bank_id"])
    op.create_table(
        "bank_signals",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("content_id", BIGINT, nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("signal_type", sa.String(16), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bank_signals"),
        sa.ForeignKeyConstraint(
            ["content_id"], ["bank_content.id"], name="fk_bank_signals_content_id_bank_content"
        ),
        sa.ForeignKeyConstraint(["bank_id"], ["banks.id"], name="fk_bank_signals_bank_id_banks"),
        sa.UniqueConstraint(
            "bank_id", "signal_type", "value", name="uq_bank_signals_bank_id_signal_type_value"
        ),
    )
    op.create_index("ix_bank_signals_content_id", "bank_signals", ["content_id"])
    op.create_table(
        "bank_changes",
        sa.Column("seq", BIGINT, nullable=False, autoincrement=False),
        sa.Column("op", sa.String(16), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("content_id", BIGINT, nullable=True),
        sa.Column("signal_id", BIGINT, nullable=True),
        sa.Column("at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_bank_changes"),
    )
    op.create_table(
        "bank_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", BIGINT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bank_checkpoint"),
    )
    op.create_table(
        "url_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_url_lists"),
        sa.UniqueConstraint("name", name="uq_url_lists_name"),
    )
    op.create_table(
        "url_list_entries",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("match", sa.String(16), nullable=False),
        sa.Column("key", sa.String(2048), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_url_list_entries"),
        sa.ForeignKeyConstraint(["list_id"], ["url_lists.id"], name="fk_url_list_entries_list_id_url_lists"),
        sa.UniqueConstraint("list_id", "match", "key", name="uq_url_list_entries_list_id_match_key"),
    )
    op.create_index("ix_url_list_entries_list_id", "url_list_entries", ["list_id"])
    op.create_index("ix_url_list_entries_key", "url_list_entries", ["key"])
    op.create_table(
        "keyword_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("help_links", JSON, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_keyword_lists"),
        sa.UniqueConstraint("name", name="uq_keyword_lists_name"),
    )
    op.create_table(
        "keyword_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(500), nullable=False),
        sa.Column("normalized", sa.String(500), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_keyword_terms"),
        sa.ForeignKeyConstraint(
            ["list_id"], ["keyword_lists.id"], name="fk_keyword_terms_list_id_keyword_lists"
        ),
        sa.UniqueConstraint("list_id", "normalized", name="uq_keyword_terms_list_id_normalized"),
    )
    op.create_index("ix_keyword_terms_list_id", "keyword_terms", ["list_id"])


def downgrade() -> None:
    op.drop_table("keyword_terms")
    op.drop_table("keyword_lists")
    op.drop_table("url_list_entries")
    op.drop_table("url_lists")
    op.drop_table("bank_checkpoint")
    op.drop_table("bank_changes")
    op.drop_table("bank_signals")
    op.drop_table("bank_content")
    op.drop_table("banks")
