"""Migration 0009_tenant_scope on existing data (SQLite and PostgreSQL): each conversation, its retained
text and its alerts get the owner of the key that created it (from the audit log), or ``legacy``; the
migration also runs back down and up again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard.auth import Actor, Role
from safeguard.store.base import JSONDoc, UTCDateTime, utcnow
from safeguard.store.db import Database
from safeguard.store.migrate import alembic_config, upgrade
from safeguard.text import service
from safeguard.text.config import TextSettings
from safeguard.text.models import ConversationMessageRow, ConversationStateRow, GroomingAlertRow
from safeguard.text.state import ConversationState

T = UTCDateTime()

states = sa.table(
    "conversation_states",
    sa.column("conversation_id"),
    sa.column("state", JSONDoc),
    sa.column("messages"),
    sa.column("risk"),
    sa.column("created_at", T),
    sa.column("updated_at", T),
)
messages = sa.table(
    "conversation_messages",
    sa.column("conversation_id"),
    sa.column("message_id"),
    sa.column("author_id"),
    sa.column("text"),
    sa.column("received_at", T),
    sa.column("risk"),
    sa.column("expires_at", T),
)
alerts = sa.table(
    "grooming_alerts",
    sa.column("conversation_id"),
    sa.column("author_id"),
    sa.column("other_authors", JSONDoc),
    sa.column("message_id"),
    sa.column("author_message_index"),
    sa.column("risk"),
    sa.column("threshold"),
    sa.column("behaviours", JSONDoc),
    sa.column("reasons", JSONDoc),
    sa.column("model"),
    sa.column("raised_at", T),
)
audit_log = sa.table(
    "audit_log",
    *(sa.column(c) for c in ("seq", "actor_kind", "actor_id", "role", "action", "object_type", "object_id")),
    *(sa.column(c) for c in ("request_id", "change_digest", "prev_hash", "hash")),
    sa.column("at", T),
)


def _before(db: Database) -> str:
    """The revision 0009 follows (the chain is re-ordered at merges)."""
    down = ScriptDirectory.from_config(alembic_config(db)).get_revision("0009_tenant_scope").down_revision
    assert isinstance(down, str)
    return down


@pytest.fixture
def old_db(db: Database) -> Iterator[Database]:
    """The database one revision before 0009, given back at the head whatever the test does."""
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, _before(db))
    try:
        yield db
    finally:
        upgrade(db)


def _seed(db: Database) -> None:
    now = utcnow()
    state = ConversationState().to_dict()
    with db.engine.begin() as conn:
        for cid in ("c-audited", "c-unknown"):
            conn.execute(
                states.insert().values(
                    conversation_id=cid, state=state, messages=1, risk=0.0, created_at=now, updated_at=now
                )
            )
            conn.execute(
                messages.insert().values(
                    conversation_id=cid,
                    message_id="m1",
                    author_id="a",
                    text="hi",
                    received_at=now,
                    risk=0.0,
                    expires_at=now + timedelta(days=1),
                )
            )
            conn.execute(
                alerts.insert().values(
                    conversation_id=cid,
                    author_id="a",
                    other_authors=[],
                    message_id="m1",
                    author_message_index=1,
                    risk=0.9,
                    threshold=0.5,
                    behaviours=[],
                    reasons={"reasons": []},
                    model="x" * 64,
                    raised_at=now,
                )
            )
        for seq, key in ((1, "7"), (2, "8")):  # key 7 created it; key 8 only wrote to it later
            conn.execute(
                audit_log.insert().values(
                    seq=seq,
                    at=now,
                    actor_kind="api_key",
                    actor_id=key,
                    role="integrator",
                    action="conversation.messages",
                    object_type="conversation",
                    object_id="c-audited",
                    request_id=None,
                    change_digest="0" * 64,
                    prev_hash="0" * 64,
                    hash=f"{seq}" * 64,
                )
            )


def _pairs(
    session: Session, model: type[ConversationStateRow | ConversationMessageRow | GroomingAlertRow]
) -> dict[str, str]:
    rows = session.execute(select(model.conversation_id, model.owner))
    return {cid: owner for cid, owner in rows}


def test_existing_conversations_get_their_creators_owner(old_db: Database) -> None:
    _seed(old_db)
    upgrade(old_db)
    with old_db.read_session() as session:
        owners = _pairs(session, ConversationStateRow)
        text = _pairs(session, ConversationMessageRow)
        alerted = _pairs(session, GroomingAlertRow)
        assert owners == text == alerted == {"c-audited": "api_key:7", "c-unknown": "legacy"}
        creator = Actor(kind="api_key", id="7", role=Role.integrator)
        scorer, _ = service.scorer_for(TextSettings())
        assert service.conversation_risk(session, creator, "c-audited", scorer).messages == 0


def test_downgrade_and_upgrade_again(old_db: Database) -> None:
    _seed(old_db)
    upgrade(old_db)
    cfg = alembic_config(old_db)
    with old_db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, _before(old_db))
    with old_db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM conversation_messages")).scalar() == 2
    upgrade(old_db)
    with old_db.read_session() as session:
        assert session.scalar(select(sa.func.count(ConversationMessageRow.id))) == 2
