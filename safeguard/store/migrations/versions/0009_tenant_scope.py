"""Tenant scope: conversations are keyed by (owner, conversation id); API keys may name the UI user who
holds them.

Existing conversations get the owner of the key that created them: the actor of the conversation's first
``conversation.messages`` audit record (``api_key:7``), or ``legacy`` where the log has none (an admin
reads those with ``?owner=legacy``). Retained text follows its conversation; an alert takes the owner of
the review case it was filed as, else that of its conversation, else ``legacy``.

SQLite: the child table drops its foreign key before the parent table is rebuilt, so rebuilding the
parent (copy, drop, rename) can never cascade a delete into the retained text.

Revision ID: 0009_tenant_scope
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_tenant_scope"
down_revision = "0008_banks_vpdq"
branch_labels = None
depends_on = None

LEGACY_OWNER = "legacy"
OLD_FK = "fk_conversation_messages_conversation_id_conversation_states"
NEW_FK = "fk_conversation_messages_owner_conversation_states"

_STATE_OWNERS = f"""
UPDATE conversation_states SET owner = COALESCE(
    (SELECT a.actor_kind || ':' || a.actor_id FROM audit_log a
     WHERE a.action = 'conversation.messages' AND a.object_type = 'conversation'
       AND a.object_id = conversation_states.conversation_id
     ORDER BY a.seq LIMIT 1),
    '{LEGACY_OWNER}')
"""
_MESSAGE_OWNERS = f"""
UPDATE conversation_messages SET owner = COALESCE(
    (SELECT s.owner FROM conversation_states s
     WHERE s.conversation_id = conversation_messages.conversation_id),
    '{LEGACY_OWNER}')
"""
_ALERT_OWNERS = f"""
UPDATE grooming_alerts SET owner = COALESCE(
    (SELECT c.owner FROM review_cases c WHERE c.id = grooming_alerts.review_case_id),
    (SELECT s.owner FROM conversation_states s WHERE s.conversation_id = grooming_alerts.conversation_id),
    '{LEGACY_OWNER}')
"""


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_api_keys_user_id_users", "users", ["user_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_api_keys_user_id", ["user_id"])

    for table in ("conversation_states", "conversation_messages", "grooming_alerts"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("owner", sa.String(200), nullable=True))
    op.execute(_STATE_OWNERS)
    op.execute(_MESSAGE_OWNERS)
    op.execute(_ALERT_OWNERS)

    with op.batch_alter_table("conversation_messages") as batch:
        batch.drop_constraint(OLD_FK, type_="foreignkey")
        batch.drop_index("ix_conversation_messages_conversation_id")
        batch.alter_column("owner", nullable=False, existing_type=sa.String(200))
    with op.batch_alter_table("conversation_states") as batch:
        batch.alter_column("owner", nullable=False, existing_type=sa.String(200))
        batch.drop_constraint("pk_conversation_states", type_="primary")
        batch.create_primary_key("pk_conversation_states", ["owner", "conversation_id"])
    with op.batch_alter_table("conversation_messages") as batch:
        batch.create_foreign_key(
            NEW_FK,
            "conversation_states",
            ["owner", "conversation_id"],
            ["owner", "conversation_id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_conversation_messages_owner_conversation_id", ["owner", "conversation_id"])
    with op.batch_alter_table("grooming_alerts") as batch:
        batch.alter_column("owner", nullable=False, existing_type=sa.String(200))
        batch.drop_index("ix_grooming_alerts_conversation_id")
        batch.create_index("ix_grooming_alerts_owner_conversation_id", ["owner", "conversation_id"])


def downgrade() -> None:
    shared = op.get_bind().execute(
        sa.text(
            "SELECT COUNT(*) FROM (SELECT conversation_id FROM conversation_states "
            "GROUP BY conversation_id HAVING COUNT(*) > 1) AS dup"
        )
    )
    if shared.scalar():
        raise RuntimeError("two owners share a conversation id: delete one of them before downgrading")
    with op.batch_alter_table("grooming_alerts") as batch:
        batch.drop_index("ix_grooming_alerts_owner_conversation_id")
        batch.create_index("ix_grooming_alerts_conversation_id", ["conversation_id"])
        batch.drop_column("owner")
    with op.batch_alter_table("conversation_messages") as batch:
        batch.drop_constraint(NEW_FK, type_="foreignkey")
        batch.drop_index("ix_conversation_messages_owner_conversation_id")
    with op.batch_alter_table("conversation_states") as batch:
        batch.drop_constraint("pk_conversation_states", type_="primary")
        batch.create_primary_key("pk_conversation_states", ["conversation_id"])
        batch.drop_column("owner")
    with op.batch_alter_table("conversation_messages") as batch:
        batch.drop_column("owner")
        batch.create_foreign_key(
            OLD_FK, "conversation_states", ["conversation_id"], ["conversation_id"], ondelete="CASCADE"
        )
        batch.create_index("ix_conversation_messages_conversation_id", ["conversation_id"])
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_index("ix_api_keys_user_id")
        batch.drop_constraint("fk_api_keys_user_id_users", type_="foreignkey")
        batch.drop_column("user_id")
