"""The states of a suspect's investigation package (stored as strings, see
``safeguard.store.columns.StrEnumColumn``).

Packages move forward: ``new`` -> ``assessed`` -> ``actioned`` -> ``closed`` (steps may be skipped; a closed
package may be reopened to ``assessed``). ``merged`` is not a step: a suspect found to be another one is
merged into it and its package redirects there.
"""

from __future__ import annotations

from enum import StrEnum


class SuspectState(StrEnum):
    new = "new"
    assessed = "assessed"
    actioned = "actioned"
    closed = "closed"
    merged = "merged"


# The states an investigator sets (everything but merged), in workflow order.
PACKAGE_STATES: tuple[SuspectState, ...] = (
    SuspectState.new,
    SuspectState.assessed,
    SuspectState.actioned,
    SuspectState.closed,
)
OPEN_STATES = frozenset({SuspectState.new, SuspectState.assessed, SuspectState.actioned})
TRANSITIONS: dict[SuspectState, frozenset[SuspectState]] = {
    SuspectState.new: frozenset({SuspectState.assessed, SuspectState.actioned, SuspectState.closed}),
    SuspectState.assessed: frozenset({SuspectState.actioned, SuspectState.closed}),
    SuspectState.actioned: frozenset({SuspectState.closed}),
    SuspectState.closed: frozenset({SuspectState.assessed}),
    SuspectState.merged: frozenset(),
}
OUTCOME_STATES = frozenset({SuspectState.actioned, SuspectState.closed})
