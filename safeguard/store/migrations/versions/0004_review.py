"""Review: cases, signals, fingerprints, links, decisions, appeals, events (outbox), bank requests.

Revision ID: 0004_review
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import safeguard.store.base

revision = "0004_review"
down_revision = "0002_banks"
branch_labels = None
depends_on = None

UTC = safeguard.store.base.UTCDateTime()
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "review_cases",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("account_id", sa.String(300), nullable=True),
        sa.Column("open_key", sa.String(64), nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("queued", sa.Boolean(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("live_risk", sa.Boolean(), nullable=False),
        sa.Column("auto_eligible", sa.Boolean(), nullable=False),
        sa.Column("labels", sa.String(64), nullable=False),
        sa.Column("priority_base", sa.Float(), nullable=False),
        sa.Column("rank", sa.Float(), nullable=False),
        sa.Column("priority_parts", JSON, nullable=False),
        sa.Column("signal_count", sa.Integer(), nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("queued_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("due_at", UTC, nullable=False),
        sa.Column("lease_holder", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", UTC, nullable=True),
        sa.Column("pending_decision_id", BIGINT, nullable=True),
        sa.Column("blocked_reviewer", sa.String(200), nullable=True),
        sa.Column("decision_id", BIGINT, nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("appeal_id", BIGINT, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_review_cases"),
        sa.UniqueConstraint("open_key", name="uq_review_cases_open_key"),
    )
    op.create_index("ix_review_cases_queue", "review_cases", ["queued", "live_risk", "rank", "id"])
    op.create_index("ix_review_cases_owner_account", "review_cases", ["owner", "account_id"])
    op.create_table(
        "review_signals",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("case_id", BIGINT, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_cases.id"],
            name="fk_review_signals_case_id_review_cases",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_signals"),
    )
    op.create_index("ix_review_signals_case_id", "review_signals", ["case_id"])
    op.create_table(
        "review_fingerprints",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("case_id", BIGINT, nullable=False),
        sa.Column("fingerprint", sa.String(300), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_cases.id"],
            name="fk_review_fingerprints_case_id_review_cases",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_fingerprints"),
        sa.UniqueConstraint("case_id", "fingerprint", name="uq_review_fingerprints_case_id"),
    )
    op.create_index("ix_review_fingerprints_fingerprint", "review_fingerprints", ["fingerprint"])
    op.create_table(
        "review_links",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("case_id", BIGINT, nullable=False),
        sa.Column("other_case_id", BIGINT, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["review_cases.id"], name="fk_review_links_case_id_review_cases", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["other_case_id"],
            ["review_cases.id"],
            name="fk_review_links_other_case_id_review_cases",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_links"),
        sa.UniqueConstraint("case_id", "other_case_id", "reason", name="uq_review_links_case_id"),
    )
    op.create_index("ix_review_links_other_case_id", "review_links", ["other_case_id"])
    op.create_table(
        "review_decisions",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("case_id", BIGINT, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("label", sa.String(24), nullable=False),
        sa.Column("actions", JSON, nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("moderator", sa.String(200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("confirmed_by", sa.String(200), nullable=True),
        sa.Column("confirmed_at", UTC, nullable=True),
        sa.Column("source_decision_id", BIGINT, nullable=True),
        sa.Column("appeal_id", BIGINT, nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_cases.id"],
            name="fk_review_decisions_case_id_review_cases",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_decisions"),
    )
    op.create_index("ix_review_decisions_case_id", "review_decisions", ["case_id"])
    op.create_table(
        "review_appeals",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("case_id", BIGINT, nullable=False),
        sa.Column("decision_id", BIGINT, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome_decision_id", BIGINT, nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_cases.id"],
            name="fk_review_appeals_case_id_review_cases",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["review_decisions.id"],
            name="fk_review_appeals_decision_id_review_decisions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_appeals"),
    )
    op.create_index("ix_review_appeals_case_id", "review_appeals", ["case_id"])
    op.create_table(
        "review_events",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("case_id", BIGINT, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("dispatched_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_review_events"),
        sa.UniqueConstraint("event_id", name="uq_review_events_event_id"),
    )
    op.create_index("ix_review_events_dispatched_at", "review_events", ["dispatched_at"])
    op.create_table(
        "review_bank_requests",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("decision_id", BIGINT, nullable=False),
        sa.Column("case_id", BIGINT, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("label", sa.String(24), nullable=False),
        sa.Column("media", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["review_decisions.id"],
            name="fk_review_bank_requests_decision_id_review_decisions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_bank_requests"),
    )
    op.create_index("ix_review_bank_requests_case_id", "review_bank_requests", ["case_id"])


def downgrade() -> None:
    for table in (
        "review_bank_requests",
        "review_events",
        "review_appeals",
        "review_decisions",
        "review_links",
        "review_fingerprints",
        "review_signals",
        "review_cases",
    ):
        op.drop_table(table)
