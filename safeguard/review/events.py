"""The events review emits to the platform, and their payloads (the webhook ``data`` object)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from safeguard.review.models import Case, Decision
from safeguard.review.signals import REPORT_CATEGORIES, Label

CASE_OPENED = "case.opened"
DECISION_MADE = "decision.made"
CASE_ESCALATED = "case.escalated"
EVENT_TYPES = (CASE_OPENED, DECISION_MADE, CASE_ESCALATED)


def case_ref(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "kind": case.kind,
        "subject_id": case.subject,
        "account_id": case.account_id,
    }


def case_opened(case: Case) -> dict[str, Any]:
    return {
        **case_ref(case),
        "live_risk": case.live_risk,
        "labels": [label for label in case.labels.split(",") if label],
    }


def case_escalated(case: Case, escalated_at: datetime) -> dict[str, Any]:
    """A moderator handed the case to a senior reviewer (the moderator's reason stays internal)."""
    return {**case_ref(case), "live_risk": case.live_risk, "escalated_at": escalated_at.isoformat()}


def decision_made(case: Case, decision: Decision, *, appeal_outcome: str | None = None) -> dict[str, Any]:
    return {
        **case_ref(case),
        "decision_id": decision.id,
        "decision_kind": decision.kind,
        "label": decision.label,
        # The authorities' category the label reports under (NCMEC incident type), None for non-violations.
        "report_category": REPORT_CATEGORIES.get(Label(decision.label)),
        "actions": list(decision.actions),
        "automatic": decision.kind == "auto",
        "source_decision_id": decision.source_decision_id,
        "appeal_id": decision.appeal_id,
        "appeal_outcome": appeal_outcome,
        "decided_at": (decision.confirmed_at or decision.created_at).isoformat(),
    }
