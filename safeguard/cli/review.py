"""``safeguard cases ...``: queue figures, and claiming, deciding and releasing cases from a terminal.

The commands call the same functions as the API (``safeguard.review.queue``, ``safeguard.flows.decision``),
so leases, escalation, four eyes and bank-on-decision hold here too: a decision with a four-eyes label or
action waits for a second reviewer, who claims the case and runs ``safeguard cases confirm``. The reviewer
is ``--reviewer`` (default: the operating-system user), recorded as ``cli:<name>`` in the case and the
audit log.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated, Any

import typer
from rich.table import Table

from safeguard.auth import Actor
from safeguard.cli.common import console, db_session, open_db
from safeguard.errors import InvalidInput
from safeguard.review import queue
from safeguard.review.decisions import Action
from safeguard.review.events import case_ref
from safeguard.review.models import Case, Decision
from safeguard.review.signals import Label

app = typer.Typer(help="Review cases and the queue.", no_args_is_help=True)

Reviewer = Annotated[
    str | None,
    typer.Option(
        "--reviewer", help="Who reviews (default: the OS user); four eyes needs two different names"
    ),
]
CaseArg = Annotated[int, typer.Argument(min=1, help="Case id")]


def _actor(reviewer: str | None) -> Actor:
    actor = Actor.cli()
    if reviewer is None:
        return actor
    if not 1 <= len(reviewer) <= 100 or not reviewer.isprintable():
        raise InvalidInput("--reviewer must be 1 to 100 printable characters", field="--reviewer")
    return replace(actor, id=reviewer)


def _case_json(case: Case) -> dict[str, Any]:
    return {
        **case_ref(case),
        "status": case.status,
        "escalated": case.escalated,
        "live_risk": case.live_risk,
        "lease_holder": case.lease_holder,
        "lease_expires_at": case.lease_expires_at.isoformat() if case.lease_expires_at else None,
    }


def _decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "decision_id": decision.id,
        "case_id": decision.case_id,
        "status": decision.status,
        "label": decision.label,
        "actions": list(decision.actions),
        "moderator": decision.moderator,
        "confirmed_by": decision.confirmed_by,
        "bank": decision.bank,
    }


def _print(data: dict[str, Any]) -> None:
    print(json.dumps(data, sort_keys=True))


@app.command("claim")
def claim(
    kinds: Annotated[
        list[str] | None, typer.Option("--kind", help="content, conversation or account (repeatable)")
    ] = None,
    labels: Annotated[list[str] | None, typer.Option("--label", help="Suggested label (repeatable)")] = None,
    escalated: Annotated[
        bool | None, typer.Option("--escalated/--not-escalated", help="Only (or no) escalated cases")
    ] = None,
    live_risk: Annotated[bool, typer.Option("--live-risk", help="Only live-risk cases")] = False,
    reviewer: Reviewer = None,
) -> None:
    """Lease the most urgent waiting case (JSON on stdout; exit 3 when nothing is waiting)."""
    flt = queue.QueueFilter(kinds or (), labels or (), escalated, live_risk)
    with db_session() as session:
        case = queue.claim_next(session, _actor(reviewer), flt)
        data = _case_json(case) if case is not None else None
    if data is None:
        print("nothing waiting")
        raise typer.Exit(3)
    _print(data)


@app.command("decide")
def decide(
    case_id: CaseArg,
    label: Annotated[
        Label, typer.Option("--label", help="A1, A2, B1, B2, not_violating or needs_escalation")
    ],
    actions: Annotated[list[Action] | None, typer.Option("--action", help="An action (repeatable)")] = None,
    notes: Annotated[str, typer.Option("--notes", help="Why (kept with the decision)")] = "",
    bank: Annotated[
        str | None,
        typer.Option("--bank", help="The bank add_to_bank (or add_to_allowlist) puts the media in"),
    ] = None,
    reviewer: Reviewer = None,
) -> None:
    """Decide a case you hold; four-eyes labels and actions wait for `safeguard cases confirm`. With
    ``--action add_to_bank --bank NAME`` the upload's hashes go into that bank once the decision is final."""
    from safeguard.flows import decision as flow  # banks and review: only this command needs them

    with db_session() as session:
        decision = flow.decide(
            session, _actor(reviewer), case_id, label=label, actions=actions or [], notes=notes, bank=bank
        )
        data = _decision_json(decision)
    _print(data)


@app.command("confirm")
def confirm(
    case_id: CaseArg,
    decision_id: Annotated[int, typer.Argument(min=1, help="The decision awaiting confirmation")],
    approve: Annotated[bool, typer.Option("--approve/--reject", help="Confirm or reject it")],
    notes: Annotated[str, typer.Option("--notes")] = "",
    reviewer: Reviewer = None,
) -> None:
    """Confirm or reject another reviewer's four-eyes decision on a case you hold (an approved bank action
    is applied now)."""
    from safeguard.flows import decision as flow

    with db_session() as session:
        decision = flow.confirm(session, _actor(reviewer), case_id, decision_id, approve=approve, notes=notes)
        data = _decision_json(decision)
    _print(data)


@app.command("release")
def release(case_id: CaseArg, reviewer: Reviewer = None) -> None:
    """Give a case you hold back to the queue undecided."""
    with db_session() as session:
        data = _case_json(queue.release(session, _actor(reviewer), case_id))
    _print(data)


@app.command("stats")
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Cases waiting (by status and kind), claimed, overdue, escalated, live-risk, and decisions by label."""
    db = open_db()
    try:
        with db.read_session() as session:
            figures = queue.stats(session)
    finally:
        db.dispose()
    data = {
        "by_status": figures.by_status,
        "waiting_by_kind": figures.waiting_by_kind,
        "claimed": figures.claimed,
        "overdue": figures.overdue,
        "escalated": figures.escalated,
        "live_risk": figures.live_risk,
        "decided_by_label": figures.decided_by_label,
        "automatic_decisions": figures.automatic_decisions,
        "oldest_waiting_since": figures.oldest_waiting_since.isoformat()
        if figures.oldest_waiting_since
        else None,
    }
    if as_json:
        print(json.dumps(data, sort_keys=True))
        return
    table = Table("figure", "value", title="Review queue")
    for key, value in data.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in sorted(value.items())) or "-"
        table.add_row(key.replace("_", " "), str(value if value is not None else "-"))
    console.print(table)
