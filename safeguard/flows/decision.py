"""A moderator's decision -> the case's hashes banked (``POST /v1/cases/{id}/decisions`` and confirm).

A decision with ``add_to_bank`` names the bank the moderator picked (``add_to_allowlist``: an allowlist
bank). The bank is checked when the decision is made and the hashes the upload was scanned with go into it
when the decision becomes final - at once, or when a second moderator confirms it where four eyes are
configured for the action or label - with the decision's label and its provenance (case, decision,
moderator, confirmer) as the bank item's external ids. The banks' change log carries the new item to
every API worker's matcher, so a re-upload matches within the usual second.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from safeguard.auth import Actor
from safeguard.banks import service as banks
from safeguard.banks.errors import BankNotFound
from safeguard.review import decisions
from safeguard.review.config import ReviewSettings
from safeguard.review.decisions import BANK_ACTIONS, Action
from safeguard.review.errors import InvalidDecision
from safeguard.review.models import Decision
from safeguard.review.signals import Label
from safeguard.review.sources import BanksSink


def decide(
    session: Session,
    actor: Actor,
    case_id: int,
    *,
    label: Label,
    actions: Sequence[Action] = (),
    notes: str = "",
    bank: str | None = None,
    settings: ReviewSettings | None = None,
) -> Decision:
    """Decide a held case (see ``review.decisions.decide``); bank actions go into ``bank``."""
    check_bank(session, actions, bank)
    return decisions.decide(
        session,
        actor,
        case_id,
        label=label,
        actions=actions,
        notes=notes,
        settings=settings,
        bank=bank,
        bank_sink=BanksSink(actor),
    )


def confirm(
    session: Session, actor: Actor, case_id: int, decision_id: int, *, approve: bool, notes: str = ""
) -> Decision:
    """The second pair of eyes; an approved decision's bank action is applied now."""
    return decisions.confirm(
        session, actor, case_id, decision_id, approve=approve, notes=notes, bank_sink=BanksSink(actor)
    )


def check_bank(session: Session, actions: Sequence[Action], bank: str | None) -> None:
    """A bank action needs a bank of the right kind; a bank without a bank action is a mistake."""
    wanted = [a for a in dict.fromkeys(actions) if a in BANK_ACTIONS]
    if not wanted:
        if bank is not None:
            raise InvalidDecision("a bank is chosen only with add_to_bank or add_to_allowlist", field="bank")
        return
    if bank is None:
        raise InvalidDecision(f"{wanted[0].value} needs the bank to add the media to", field="bank")
    try:
        target = banks.get_bank_by_name(session, bank)
    except BankNotFound as exc:
        raise InvalidDecision(exc.detail, field="bank") from None
    for action in wanted:
        if action is Action.add_to_bank and target.is_allowlist:
            raise InvalidDecision(f"{bank!r} is an allowlist: choose a bank for add_to_bank", field="bank")
        if action is Action.add_to_allowlist and not target.is_allowlist:
            raise InvalidDecision(f"{bank!r} is not an allowlist bank", field="bank")
