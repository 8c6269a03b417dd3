"""Messages -> grooming risk -> alert -> the conversation's review case (``POST /v1/conversations/...``).

The text capability scores the messages and raises an alert when an author's risk crosses the threshold;
this flow files that alert as the conversation's case, and then keeps the case following the
conversation: after every request that adds messages to an alerted conversation, each flagged author
whose assessment changed since the case last heard of them (a higher risk, a behaviour not seen before)
is filed again as a grooming signal - so the case's signal count, reasons, priority and live risk are the
conversation's as it is now, and the queue order follows in the same transaction.

A conversation whose case is decided opens a NEW case, linked to the decided one (``same_subject``),
when a flagged author shows a behaviour the decided case never held; a mere change of score does not
reopen a decided case. The decided case keeps its decision and history.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard.auth import Actor
from safeguard.review import flows
from safeguard.review.common import who
from safeguard.review.config import ReviewSettings
from safeguard.review.models import Case, CaseSignal
from safeguard.review.signals import GroomingAlertSignal
from safeguard.review.sources import alert_from_text
from safeguard.store.base import utcnow
from safeguard.text import service
from safeguard.text.alerts import GroomingAlert
from safeguard.text.config import TextSettings
from safeguard.text.models import GroomingAlertRow
from safeguard.text.scorer import AuthorRisk, StreamingScorer


def signal_of(alert: GroomingAlert) -> GroomingAlertSignal:
    """The review signal for an alert (or for an alerted author's assessment now)."""
    return alert_from_text(
        conversation_id=alert.conversation_id,
        risk=alert.risk,
        behaviours=alert.behaviours,
        reasons=alert.summary_lines(),
        account_id=alert.author_id,
        child_account_id=alert.other_authors[0] if len(alert.other_authors) == 1 else None,
    )


class ReviewCaseSink:
    """Files each alert as a review case and records the case id on the stored alert."""

    def __init__(self, actor: Actor, settings: ReviewSettings) -> None:
        self.actor = actor
        self.settings = settings

    def emit(self, session: Session, alert: GroomingAlert) -> None:
        result = flows.open_case_from_alert(session, self.actor, signal_of(alert), settings=self.settings)
        row = session.scalar(
            select(GroomingAlertRow)
            .where(GroomingAlertRow.owner == alert.owner)
            .where(GroomingAlertRow.conversation_id == alert.conversation_id)
            .where(GroomingAlertRow.author_id == alert.author_id)
            .where(GroomingAlertRow.message_id == alert.message_id)
            .order_by(GroomingAlertRow.id.desc())
            .limit(1)
        )
        if row is not None:
            row.review_case_id = result.case.id


def post_messages(
    session: Session,
    actor: Actor,
    conversation_id: str,
    incoming: Sequence[service.IncomingMessage],
    *,
    text_settings: TextSettings,
    review_settings: ReviewSettings,
    scorer: StreamingScorer,
    model_digest: str,
) -> service.ConversationAssessment:
    """Score the messages; file a crossing as the conversation's case, and update that case (or open a
    linked one after a decision) with every later change in a flagged author's assessment."""
    assessment = service.post_messages(
        session,
        actor,
        conversation_id,
        incoming,
        settings=text_settings,
        scorer=scorer,
        model_digest=model_digest,
        sinks=[ReviewCaseSink(actor, review_settings)],
    )
    if assessment.alerted_at is None:
        return assessment
    alerted_now = {a.author_id for a in assessment.alerts}
    others = [a.author_id for a in assessment.authors]
    for risk in assessment.authors:
        if risk.flagged and risk.author_id not in alerted_now:
            _follow_up(session, actor, risk, others, scorer.threshold, model_digest, review_settings)
    return assessment


def _follow_up(
    session: Session,
    actor: Actor,
    risk: AuthorRisk,
    authors: list[str],
    threshold: float,
    model: str,
    settings: ReviewSettings,
) -> None:
    current = GroomingAlert.from_risk(
        risk,
        message_id="",
        others=tuple(a for a in authors if a != risk.author_id),
        threshold=threshold,
        model=model,
        raised_at=utcnow(),
    )
    signal = signal_of(current)
    case = session.scalar(
        select(Case)
        .where(Case.owner == who(actor), Case.kind == "conversation", Case.subject == risk.conversation_id)
        .order_by(Case.id.desc())
        .limit(1)
    )
    if case is None:
        return  # the alert was filed elsewhere (no review sink) or its case was deleted
    held = [
        p
        for p in session.scalars(
            select(CaseSignal.payload)
            .where(CaseSignal.case_id == case.id, CaseSignal.type == signal.type)
            .order_by(CaseSignal.id)
        )
        if p.get("account_id") == signal.account_id
    ]
    seen = {b for p in held for b in p.get("behaviours", [])}
    new_behaviours = {b.value for b in signal.behaviours} - seen
    if case.status == "decided":
        changed = bool(new_behaviours)
    else:
        last = held[-1] if held else None
        changed = last is None or bool(new_behaviours) or round(signal.risk, 4) > round(last["risk"], 4)
    if changed:
        flows.open_case_from_alert(session, actor, signal, settings=settings)
