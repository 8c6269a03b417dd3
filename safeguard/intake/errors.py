"""Errors of the intake capability."""

from __future__ import annotations

from safeguard.errors import Conflict, InvalidInput, MalformedInput, NotFound


class ImportRejected(MalformedInput):
    """A referral file cannot be imported. ``where`` names the line, column or element; nothing was kept."""

    code = "import-rejected"
    title = "Referral file rejected"

    def __init__(self, reason: str, *, where: str) -> None:
        super().__init__(f"{where}: {reason}", where=where, reason=reason)
        self.where = where
        self.reason = reason


class UnknownFormat(InvalidInput):
    code = "unknown-format"
    title = "Unknown referral format"


class ReferralChanged(Conflict):
    """A referral id that was already imported arrived again with different content."""

    code = "referral-changed"
    title = "Referral already imported with different content"


class InvalidIdentifier(InvalidInput):
    code = "invalid-identifier"
    title = "Invalid identifier"


class ReferralNotFound(NotFound):
    code = "referral-not-found"
    title = "Referral not found"


class SuspectNotFound(NotFound):
    code = "suspect-not-found"
    title = "Suspect not found"


class AlertNotFound(NotFound):
    code = "alert-not-found"
    title = "Alert not found"


class InvalidSplit(InvalidInput):
    code = "invalid-split"
    title = "Invalid split"


class InvalidMerge(InvalidInput):
    code = "invalid-merge"
    title = "Invalid merge"


class InvalidTransition(Conflict):
    code = "invalid-transition"
    title = "Invalid package state change"


class InvalidOutcome(InvalidInput):
    code = "invalid-outcome"
    title = "Invalid outcome"


class InvalidConfig(InvalidInput):
    code = "invalid-intake-config"
    title = "Invalid intake configuration"


class InvalidFilter(InvalidInput):
    code = "invalid-filter"
    title = "Invalid filter"
