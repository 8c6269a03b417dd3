"""Intake: referrals, identifiers, media hashes, suspects (packages), link evidence, constraints, alerts.

Revision ID: 0005_intake
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import safeguard.store.base

revision = "0005_intake"
down_revision = "0007_web"
branch_labels = None
depends_on = None

UTC = safeguard.store.base.UTCDateTime()
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "intake_batches",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("filename", sa.String(500), nullable=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("referrals", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("warnings", JSON, nullable=False),
        sa.Column("imported_at", UTC, nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_intake_batches"),
    )
    op.create_table(
        "intake_suspects",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("merged_into", BIGINT, nullable=True),
        sa.Column("assigned_to", sa.String(200), nullable=True),
        sa.Column("assigned_force", sa.String(200), nullable=True),
        sa.Column("assigned_at", UTC, nullable=True),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("features", JSON, nullable=False),
        sa.Column("referral_count", sa.Integer(), nullable=False),
        sa.Column("force_area", sa.String(100), nullable=True),
        sa.Column("council", sa.String(100), nullable=True),
        sa.Column("previous_packages", sa.Integer(), nullable=False),
        sa.Column("apprehended", sa.Boolean(), nullable=False),
        sa.Column("apprehended_at", UTC, nullable=True),
        sa.Column("charged", sa.Boolean(), nullable=False),
        sa.Column("charged_at", UTC, nullable=True),
        sa.Column("no_further_action", sa.Boolean(), nullable=False),
        sa.Column("no_further_action_at", UTC, nullable=True),
        sa.Column("children_safeguarded", sa.Integer(), nullable=False),
        sa.Column("safeguarded_at", UTC, nullable=True),
        sa.Column("outcome_notes", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("assessed_at", UTC, nullable=True),
        sa.Column("actioned_at", UTC, nullable=True),
        sa.Column("closed_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_intake_suspects"),
        sa.ForeignKeyConstraint(
            ["merged_into"], ["intake_suspects.id"], name="fk_intake_suspects_merged_into_intake_suspects"
        ),
    )
    op.create_index("ix_intake_suspects_state_score", "intake_suspects", ["state", "score"])
    op.create_index("ix_intake_suspects_assigned_to", "intake_suspects", ["assigned_to"])
    op.create_table(
        "intake_referrals",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("batch_id", BIGINT, nullable=False),
        sa.Column("suspect_id", BIGINT, nullable=True),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("incident_at", UTC, nullable=True),
        sa.Column("imported_at", UTC, nullable=False),
        sa.Column("incident_type", sa.String(200), nullable=True),
        sa.Column("platform", sa.String(200), nullable=True),
        sa.Column("reporter", sa.String(200), nullable=True),
        sa.Column("force_area", sa.String(100), nullable=True),
        sa.Column("council", sa.String(100), nullable=True),
        sa.Column("indicators", JSON, nullable=False),
        sa.Column("warnings", JSON, nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_intake_referrals"),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["intake_batches.id"], name="fk_intake_referrals_batch_id_intake_batches"
        ),
        sa.ForeignKeyConstraint(
            ["suspect_id"], ["intake_suspects.id"], name="fk_intake_referrals_suspect_id_intake_suspects"
        ),
        sa.UniqueConstraint("source", "external_id", name="uq_intake_referrals_source_external_id"),
    )
    op.create_index("ix_intake_referrals_batch_id", "intake_referrals", ["batch_id"])
    op.create_index("ix_intake_referrals_suspect_id", "intake_referrals", ["suspect_id"])
    op.create_table(
        "intake_identifiers",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("referral_id", BIGINT, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("platform", sa.String(100), nullable=True),
        sa.Column("seen_at", UTC, nullable=True),
        sa.Column("linkable", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_intake_identifiers"),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["intake_referrals.id"],
            name="fk_intake_identifiers_referral_id_intake_referrals",
        ),
    )
    op.create_index("ix_intake_identifiers_referral_id", "intake_identifiers", ["referral_id"])
    op.create_index("ix_intake_identifiers_key", "intake_identifiers", ["key"])
    op.create_index("ix_intake_identifiers_kind_value", "intake_identifiers", ["kind", "value"])
    op.create_table(
        "intake_media",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("referral_id", BIGINT, nullable=False),
        sa.Column("name", sa.String(500), nullable=True),
        sa.Column("md5", sa.String(32), nullable=True),
        sa.Column("sha1", sa.String(40), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("pdq", sa.String(64), nullable=True),
        sa.Column("classification", sa.String(2), nullable=True),
        sa.Column("category", sa.String(1), nullable=True),
        sa.Column("viewed_by_platform", sa.Boolean(), nullable=True),
        sa.Column("publicly_available", sa.Boolean(), nullable=True),
        sa.Column("annotations", JSON, nullable=False),
        sa.Column("labels", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_intake_media"),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["intake_referrals.id"], name="fk_intake_media_referral_id_intake_referrals"
        ),
    )
    op.create_index("ix_intake_media_referral_id", "intake_media", ["referral_id"])
    op.create_table(
        "intake_pdq",
        sa.Column("media_id", BIGINT, nullable=False, autoincrement=False),
        *(sa.Column(f"c{n}", sa.Integer(), nullable=False) for n in range(16)),
        sa.PrimaryKeyConstraint("media_id", name="pk_intake_pdq"),
        sa.ForeignKeyConstraint(
            ["media_id"], ["intake_media.id"], name="fk_intake_pdq_media_id_intake_media"
        ),
    )
    for n in range(16):
        op.create_index(f"ix_intake_pdq_c{n}", "intake_pdq", [f"c{n}"])
    op.create_table(
        "intake_links",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("suspect_id", BIGINT, nullable=False),
        sa.Column("referral_a", BIGINT, nullable=False),
        sa.Column("referral_b", BIGINT, nullable=False),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("measure", sa.Float(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_intake_links"),
        sa.ForeignKeyConstraint(
            ["suspect_id"], ["intake_suspects.id"], name="fk_intake_links_suspect_id_intake_suspects"
        ),
        sa.ForeignKeyConstraint(
            ["referral_a"], ["intake_referrals.id"], name="fk_intake_links_referral_a_intake_referrals"
        ),
        sa.ForeignKeyConstraint(
            ["referral_b"], ["intake_referrals.id"], name="fk_intake_links_referral_b_intake_referrals"
        ),
    )
    op.create_index("ix_intake_links_suspect_id", "intake_links", ["suspect_id"])
    op.create_table(
        "intake_pending",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("suspect_a", BIGINT, nullable=False),
        sa.Column("suspect_b", BIGINT, nullable=False),
        sa.Column("referral_a", BIGINT, nullable=False),
        sa.Column("referral_b", BIGINT, nullable=False),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("measure", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_intake_pending"),
        sa.ForeignKeyConstraint(
            ["suspect_a"], ["intake_suspects.id"], name="fk_intake_pending_suspect_a_intake_suspects"
        ),
        sa.ForeignKeyConstraint(
            ["suspect_b"], ["intake_suspects.id"], name="fk_intake_pending_suspect_b_intake_suspects"
        ),
        sa.ForeignKeyConstraint(
            ["referral_a"], ["intake_referrals.id"], name="fk_intake_pending_referral_a_intake_referrals"
        ),
        sa.ForeignKeyConstraint(
            ["referral_b"], ["intake_referrals.id"], name="fk_intake_pending_referral_b_intake_referrals"
        ),
    )
    op.create_index("ix_intake_pending_suspect_a", "intake_pending", ["suspect_a"])
    op.create_index("ix_intake_pending_suspect_b", "intake_pending", ["suspect_b"])
    op.create_table(
        "intake_shared_keys",
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("marked_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_intake_shared_keys"),
    )
    op.create_table(
        "intake_link_blocks",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("referral_a", BIGINT, nullable=False),
        sa.Column("referral_b", BIGINT, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_intake_link_blocks"),
        sa.ForeignKeyConstraint(
            ["referral_a"], ["intake_referrals.id"], name="fk_intake_link_blocks_referral_a_intake_referrals"
        ),
        sa.ForeignKeyConstraint(
            ["referral_b"], ["intake_referrals.id"], name="fk_intake_link_blocks_referral_b_intake_referrals"
        ),
    )
    op.create_index("ix_intake_link_blocks_referral_a", "intake_link_blocks", ["referral_a"])
    op.create_index("ix_intake_link_blocks_referral_b", "intake_link_blocks", ["referral_b"])
    op.create_table(
        "intake_alerts",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("suspect_id", BIGINT, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("referral_id", BIGINT, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("acknowledged_at", UTC, nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_intake_alerts"),
        sa.ForeignKeyConstraint(
            ["suspect_id"], ["intake_suspects.id"], name="fk_intake_alerts_suspect_id_intake_suspects"
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["intake_referrals.id"], name="fk_intake_alerts_referral_id_intake_referrals"
        ),
    )
    op.create_index("ix_intake_alerts_suspect_id", "intake_alerts", ["suspect_id"])
    op.create_index("ix_intake_alerts_owner", "intake_alerts", ["owner"])


def downgrade() -> None:
    for index, table in (
        ("ix_intake_alerts_owner", "intake_alerts"),
        ("ix_intake_alerts_suspect_id", "intake_alerts"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "intake_alerts",
        "intake_link_blocks",
        "intake_shared_keys",
        "intake_pending",
        "intake_links",
        "intake_pdq",
        "intake_media",
        "intake_identifiers",
        "intake_referrals",
        "intake_suspects",
        "intake_batches",
    ):
        op.drop_table(table)
