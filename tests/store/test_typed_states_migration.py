"""0014_typed_states renames the behaviours review stored in its own words to the one vocabulary."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, select, update

from safeguard.review import flows
from safeguard.review.models import Case, CaseSignal
from safeguard.review.signals import GroomingAlertSignal
from safeguard.store.db import Database
from safeguard.store.migrate import MIGRATIONS_DIR, alembic_config, upgrade
from safeguard.text.vocabulary import Behaviour
from tests.review.helpers import INTEGRATOR, REVIEW, alert

# Only this revision runs (the schema is already at head; later revisions are not data-only).
REVISION = "0014_typed_states"
_script = ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(REVISION)
assert _script is not None and isinstance(_script.down_revision, str)
BEFORE: str = _script.down_revision


def _store_old_names(db: Database) -> int:
    with db.session() as session:
        chat = alert("c1", behaviours=[Behaviour.meeting, Behaviour.secrecy])
        case_id = flows.open_case(session, INTEGRATOR, chat, settings=REVIEW).case.id
    old = ["meeting_arrangement", "age_probing", "personal_information", "other", "secrecy"]
    with db.session() as session:
        signal = session.scalars(select(CaseSignal)).one()
        session.execute(
            update(CaseSignal)
            .where(CaseSignal.id == signal.id)
            .values(payload={**signal.payload, "behaviours": old})
        )
        case = session.get(Case, case_id)
        assert case is not None
        parts = {
            **case.priority_parts,
            "reasons": ["child at risk now: meeting_arrangement", "grooming alert"],
        }
        session.execute(update(Case).where(Case.id == case_id).values(priority_parts=parts))
    with db.engine.begin() as conn:
        command.stamp(_config(db, conn), BEFORE)
    return case_id


REVISION = "0014_typed_states"
# The schema is built at head and stamped just before this migration, so only its data step runs, whatever
# migrations come before or after it in the chain.
_down = ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(REVISION)
BEFORE = str(_down.down_revision) if _down is not None else ""


def _config(db: Database, conn: Connection) -> Config:
    cfg = alembic_config(db)
    cfg.attributes["connection"] = conn
    return cfg


def test_upgrade_renames_review_behaviours_to_the_detector_vocabulary(db: Database) -> None:
    case_id = _store_old_names(db)
    upgrade(db, REVISION)
    with db.read_session() as session:
        payload = session.scalars(select(CaseSignal.payload)).one()
        case = session.get(Case, case_id)
        assert case is not None
        reasons = case.priority_parts["reasons"]
    assert payload["behaviours"] == ["meeting", "age_location_probing", "secrecy"]
    # The stored signal reads back in the new vocabulary (it would fail validation with the old names).
    assert GroomingAlertSignal.model_validate(payload).behaviours[0] is Behaviour.meeting
    assert reasons == ["child at risk now: meeting", "grooming alert"]


def test_downgrade_restores_review_names(db: Database) -> None:
    _store_old_names(db)
    upgrade(db, REVISION)
    with db.engine.begin() as conn:
        command.downgrade(_config(db, conn), BEFORE)
    with db.read_session() as session:
        payload = session.scalars(select(CaseSignal.payload)).one()
    assert payload["behaviours"] == ["meeting_arrangement", "age_probing", "secrecy"]
