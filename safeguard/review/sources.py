"""Adapters from the upstream capabilities' own types to review's signals and interfaces.

- Banks (``safeguard.banks.matching``): :func:`signals_from_matches` turns the ``SignalMatches`` of one
  upload into :class:`MediaMatchSignal` s (allowlist hits and matches an allowlist suppressed are not
  signals); :func:`open_case_from_scan` files them into the upload's one case (``safeguard.flows.scan``).
  :class:`BanksSink` applies "add to bank" / "add to allowlist" decisions with ``banks.service.add_content``.
- Grooming detection (``safeguard.text``): :func:`alert_from_text` takes the fields of a per-conversation
  risk (conversation, accounts, risk, behaviour names, reasons); detector and review share one behaviour
  vocabulary (``safeguard.text.vocabulary``). ``safeguard.flows.conversation`` files it into the
  conversation's case, on the alert and on every later message that changes the assessment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from safeguard.auth import Actor
from safeguard.banks import service as banks
from safeguard.banks.matching import SignalMatches
from safeguard.banks.signals import DISTANCE_TYPES, PDQ_MAX_THRESHOLD, VPDQ
from safeguard.review.banking import RecordingBankSink, media_of
from safeguard.review.config import ReviewSettings
from safeguard.review.flows import CaseResult, open_case_with_signals
from safeguard.review.models import BankRequest, Case, Decision
from safeguard.review.signals import GroomingAlertSignal, MediaMatchSignal, Reach
from safeguard.review.states import BankRequestStatus
from safeguard.text.vocabulary import Behaviour

INDUSTRY_LABELS = ("A1", "A2", "B1", "B2")


def signals_from_matches(
    results: Iterable[SignalMatches],
    *,
    content_id: str,
    account_id: str | None = None,
    content_sha256: str | None = None,
    reach: Reach | None = None,
    thresholds: Mapping[int, int] | None = None,
) -> list[MediaMatchSignal]:
    """One signal per bank entry that matched the upload (the closest hash per entry)."""
    best: dict[tuple[int, int], tuple[SignalMatches, int]] = {}
    for result in results:
        for i, m in enumerate(result.matches):
            if m.is_allowlist or m.suppressed_by_allowlist:
                continue
            key = (m.bank_id, m.content_id)
            if key not in best or m.distance < best[key][0].matches[best[key][1]].distance:
                best[key] = (result, i)
    signals = []
    for result, i in best.values():
        m = result.matches[i]
        # vPDQ's distance is its matched frames' median PDQ distance, held to the same frame threshold.
        default = PDQ_MAX_THRESHOLD if m.signal_type in DISTANCE_TYPES or m.signal_type == VPDQ else 0
        signals.append(
            MediaMatchSignal(
                content_id=content_id,
                account_id=account_id,
                bank=m.bank,
                bank_content_id=str(m.content_id),
                signal_type=m.signal_type,
                distance=m.distance,
                threshold=max(m.distance, (thresholds or {}).get(m.bank_id, default)),
                labels=[label for label in m.labels if label in INDUSTRY_LABELS],
                external_ids=[f"{k}:{v}"[:200] for k, v in sorted(m.external_ids.items())][:20],
                content_sha256=content_sha256,
                query_hash=result.hash,
                reach=reach or Reach(),
            )
        )
    return signals


def open_case_from_scan(
    session: Session,
    actor: Actor,
    results: Iterable[SignalMatches],
    *,
    content_id: str,
    account_id: str | None = None,
    content_sha256: str | None = None,
    reach: Reach | None = None,
    settings: ReviewSettings | None = None,
) -> CaseResult | None:
    """File every bank match of one upload into ONE content case (decided at most once); None when
    nothing matched."""
    signals = signals_from_matches(
        results, content_id=content_id, account_id=account_id, content_sha256=content_sha256, reach=reach
    )
    if not signals:
        return None
    return open_case_with_signals(session, actor, signals, settings=settings)


class BanksSink:
    """Applies bank requests with the banks service: the upload's own hashes go into the bank the decision
    names (``Decision.bank``, the moderator's pick) - or else ``bank`` / ``allowlist`` - with the decision's
    label, so re-uploads match; provenance (case, decision, moderator, confirmer) goes into the item's
    external ids. A case without hashes leaves the request pending for an operator."""

    def __init__(self, actor: Actor, *, bank: str | None = None, allowlist: str | None = None) -> None:
        self.actor = actor
        self.bank = bank
        self.allowlist = allowlist
        self._record = RecordingBankSink()

    def request(
        self, session: Session, case: Case, decision: Decision, action: str, now: datetime
    ) -> BankRequest:
        row = self._record.request(session, case, decision, action, now)
        hashes = {(m["signal_type"], m["query_hash"]) for m in media_of(session, case) if m.get("query_hash")}
        name = decision.bank or (self.bank if action == "add_to_bank" else self.allowlist)
        if not hashes or name is None:
            return row  # nothing to bank, or nowhere to: stays pending for an operator
        target = banks.get_bank_by_name(session, name)
        labels = (decision.label,) if decision.label in INDUSTRY_LABELS else ()
        banks.add_content(
            session,
            self.actor,
            target,
            [banks.SignalIn(signal_type, value) for signal_type, value in sorted(hashes)],
            banks.ContentMeta(
                labels=labels,
                source=f"safeguard review case {case.id}",
                external_ids=provenance(case, decision),
            ),
        )
        row.status = BankRequestStatus.applied
        return row


def provenance(case: Case, decision: Decision) -> dict[str, str]:
    """Where a banked item came from, as the bank item's external ids."""
    found = {
        "safeguard_case": str(case.id),
        "safeguard_decision": str(decision.id),
        "safeguard_moderator": decision.moderator[:200],
    }
    if decision.confirmed_by:
        found["safeguard_confirmed_by"] = decision.confirmed_by[:200]
    return found


def alert_from_text(
    *,
    conversation_id: str,
    risk: float,
    behaviours: Iterable[str],
    reasons: Iterable[str] = (),
    account_id: str | None = None,
    child_account_id: str | None = None,
    live: bool = True,
    reach: Reach | None = None,
) -> GroomingAlertSignal:
    """A grooming alert from the detector's output (behaviour names of ``safeguard.text.vocabulary``; an
    unknown name is an error, never silently "other")."""
    found: list[Behaviour] = []
    for name in behaviours:
        behaviour = Behaviour(name)
        if behaviour is not Behaviour.minor_self_disclosure and behaviour not in found:
            found.append(behaviour)
    return GroomingAlertSignal(
        conversation_id=conversation_id,
        account_id=account_id,
        child_account_id=child_account_id,
        risk=min(1.0, max(0.0, risk)),
        behaviours=found[:20],
        reasons=[r[:500] for r in reasons][:20],
        live=live,
        reach=reach or Reach(),
    )
