"""Errors of the review capability."""

from __future__ import annotations

from safeguard.errors import Conflict, Forbidden, InvalidInput, NotFound


class CaseNotFound(NotFound):
    code = "case-not-found"
    title = "Case not found"


class DecisionNotFound(NotFound):
    code = "decision-not-found"
    title = "Decision not found"


class LeaseNotHeld(Conflict):
    """The moderator does not hold the case's lease (never claimed it, or it expired and moved on)."""

    code = "lease-not-held"
    title = "Lease not held"


class CaseNotOpen(Conflict):
    code = "case-not-open"
    title = "Case not open"


class FourEyesViolation(Forbidden):
    code = "four-eyes"
    title = "A second moderator must confirm"


class SeniorOnly(Forbidden):
    code = "senior-only"
    title = "Escalated cases need a senior reviewer"


class InvalidDecision(InvalidInput):
    code = "invalid-decision"
    title = "Invalid decision"
