"""Grooming alerts: the typed event raised when an author's risk crosses the threshold.

The scorer reports a :class:`~safeguard.text.scorer.Crossing`; the service turns it into a
:class:`GroomingAlert` and hands it to every :class:`AlertSink` it was given. :class:`DatabaseAlertSink`
stores it in the ``grooming_alerts`` table (the record the review queue reads, see ``docs/grooming.md``);
the HTTP layer adds a sink that files the alert as a review case. A sink must not commit: it runs inside
the caller's transaction, so the alert, the conversation state and the retained text are saved together
or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from safeguard.text.models import GroomingAlertRow
from safeguard.text.scorer import AuthorRisk
from safeguard.text.vocabulary import CONTEXT, PLAIN, Behaviour
from safeguard.text.wording import plural, quote


@dataclass(frozen=True, slots=True)
class GroomingAlert:
    """One author of one conversation crossed the threshold at one message."""

    conversation_id: str
    author_id: str  # the suspected groomer
    other_authors: tuple[str, ...]  # the other participants (the child, in a one-to-one chat)
    message_id: str  # the message at which the risk crossed the threshold
    author_message_index: int  # its 1-based position among the author's messages
    risk: float
    threshold: float
    behaviours: tuple[str, ...]  # behaviours seen so far (safeguard.text.behaviours names)
    reasons: tuple[dict[str, Any], ...]  # the reasons, with message ids, spans and excerpts
    model: str  # the model file's SHA-256 (which model raised it)
    raised_at: datetime
    owner: str = ""  # the integrator whose conversation it is ("api_key:7")
    id: int | None = field(default=None)

    @classmethod
    def from_risk(
        cls,
        risk: AuthorRisk,
        *,
        message_id: str,
        others: tuple[str, ...],
        threshold: float,
        model: str,
        raised_at: datetime,
        owner: str = "",
    ) -> GroomingAlert:
        return cls(
            conversation_id=risk.conversation_id,
            author_id=risk.author_id,
            other_authors=others,
            message_id=message_id,
            author_message_index=risk.first_flag_message or risk.messages,
            risk=risk.risk,
            threshold=threshold,
            behaviours=tuple(r.behaviour for r in risk.reasons),
            reasons=tuple(r.to_dict() for r in risk.reasons),
            model=model,
            raised_at=raised_at,
            owner=owner,
        )

    def summary_lines(self) -> list[str]:
        """One line per reason in words, for queues that show text: ``Asking for secrecy (2 messages):
        “dont tell your mom”, “delete this chat”``. Context (what the other participants said about
        themselves) is labelled as their words, never the suspect's."""
        lines = []
        for reason in self.reasons:
            behaviour = Behaviour(reason["behaviour"])
            count = plural(int(reason["messages"]), "message")
            quotes = ", ".join(q for q in (quote(e["excerpt"]) for e in reason["evidence"][:2]) if q)
            if behaviour in CONTEXT:
                head = f"{PLAIN[behaviour]} (their own words, not the suspect's; {count})"
            else:
                head = f"{PLAIN[behaviour]} ({count})"
            lines.append(f"{head}: {quotes}"[:500] if quotes else head[:500])
        return lines


class AlertSink(Protocol):
    """Receives alerts as they are raised, inside the caller's transaction."""

    def emit(self, session: Session, alert: GroomingAlert) -> None: ...


class DatabaseAlertSink:
    """Stores alerts in ``grooming_alerts`` and sets ``alert.id``-equivalent on the row it returns."""

    def emit(self, session: Session, alert: GroomingAlert) -> None:
        row = GroomingAlertRow(
            owner=alert.owner,
            conversation_id=alert.conversation_id,
            author_id=alert.author_id,
            other_authors=list(alert.other_authors),
            message_id=alert.message_id,
            author_message_index=alert.author_message_index,
            risk=alert.risk,
            threshold=alert.threshold,
            behaviours=list(alert.behaviours),
            reasons={"reasons": list(alert.reasons)},
            model=alert.model,
            raised_at=alert.raised_at,
        )
        session.add(row)
        session.flush()
