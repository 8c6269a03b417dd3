"""What the queue and case pages show, read from the review capability and shaped for templates.

The review services own every rule (claiming, leases, decisions, four eyes); this module only reads and
explains: why a case sits where it does in the queue, what matched, what a grooming alert saw, and where
kept media can be found (``SAFEGUARD_MEDIA_DIR``; Safeguard keeps no raw media unless a decision did).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard.auth import Actor
from safeguard.banks import service as banks
from safeguard.review import flows, queue
from safeguard.review.banking import media_of
from safeguard.review.common import who
from safeguard.review.decisions import CONTENT_ACTIONS, Action, labels_for
from safeguard.review.models import Appeal, Case, Decision
from safeguard.review.priority import with_waiting
from safeguard.review.signals import GroomingAlertSignal, Label, MediaMatchSignal, UserReportSignal
from safeguard.review.states import CaseKind, CaseStatus
from safeguard.store.base import utcnow
from safeguard.text.vocabulary import CONTEXT, PLAIN
from safeguard.text.wording import plural

SHA256 = re.compile(r"^[0-9a-f]{64}$")
IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}
VIDEO_TYPES = (".mp4", ".webm", ".mov", ".mkv")
QUEUED = ("open", "awaiting_confirmation")
KINDS = ("content", "conversation", "account")

# Keyboard shortcuts on the case page: one key per label and per action, shown next to each control.
LABEL_CHOICES = [
    (Label.A1, "1", "A1: prepubescent, sex act"),
    (Label.A2, "2", "A2: prepubescent, lascivious exhibition"),
    (Label.B1, "3", "B1: pubescent, sex act"),
    (Label.B2, "4", "B2: pubescent, lascivious exhibition"),
    (Label.online_enticement, "5", "Online enticement"),
    (Label.sextortion, "6", "Sextortion"),
    (Label.image_solicitation, "7", "Soliciting images"),
    (Label.not_violating, "0", "Not violating"),
]
ACTION_CHOICES = [
    (Action.remove_content, "r", "Remove the content"),
    (Action.add_to_bank, "b", "Add the media to the hash bank"),
    (Action.add_to_allowlist, "l", "Add to the allowlist (false positive)"),
    (Action.restrict_account, "t", "Restrict the account"),
    (Action.suspend_account, "u", "Suspend the account"),
    (Action.preserve_evidence, "k", "Preserve evidence"),
    (Action.report_to_authorities, "p", "Report to the authorities"),
]


@dataclass(frozen=True, slots=True)
class CaseRow:
    id: int
    kind: str
    subject: str
    account_id: str | None
    status: str
    escalated: bool
    live_risk: bool
    labels: list[str]
    score: float
    reasons: list[str]
    queued_at: datetime
    due_at: datetime
    overdue: bool
    lease_holder: str | None
    signal_count: int

    @classmethod
    def of(cls, case: Case, now: datetime) -> CaseRow:
        parts = with_waiting(case.priority_parts, case.priority_base, case.queued_at, now)
        leased = case.lease_expires_at is not None and case.lease_expires_at > now
        reasons = [str(r) for r in case.priority_parts.get("reasons", []) if r]
        waiting = parts.get("waiting")
        if isinstance(waiting, int | float) and round(waiting) >= 1:
            reasons.append(f"waiting adds {plural(round(waiting), 'point')}")
        score = parts.get("score")
        return cls(
            id=case.id,
            kind=case.kind,
            subject=case.subject,
            account_id=case.account_id,
            status=case.status,
            escalated=case.escalated,
            live_risk=case.live_risk,
            labels=[label for label in case.labels.split(",") if label],
            score=float(score) if isinstance(score, int | float) else case.priority_base,
            reasons=reasons,
            queued_at=case.queued_at,
            due_at=case.due_at,
            overdue=case.status in QUEUED and case.due_at < now,
            lease_holder=case.lease_holder if leased else None,
            signal_count=case.signal_count,
        )


def bank_choices(session: Session) -> list[tuple[str, bool]]:
    """(name, is_allowlist) of every bank, for the decision form's "which bank" choice."""
    return [(bank.name, bank.is_allowlist) for bank in banks.list_banks(session)]


@dataclass(frozen=True, slots=True)
class QueueView:
    rows: list[CaseRow]
    stats: queue.QueueStats


def queue_view(
    session: Session,
    actor: Actor,
    *,
    kind: str = "",
    label: str = "",
    overdue: bool = False,
    escalated: bool | None = None,
) -> QueueView:
    """Waiting cases in claim order (live risk first, then rank), with the figures above the list."""
    now = utcnow()
    found: list[Case] = []
    for status in QUEUED:
        page = queue.list_cases(
            session,
            actor,
            status=status,
            kind=kind or None,
            label=label or None,
            overdue=True if overdue else None,
            escalated=escalated,
            limit=200,
        )
        found.extend(page.cases)
    found.sort(key=lambda c: (c.live_risk, c.rank, -c.id), reverse=True)
    return QueueView([CaseRow.of(c, now) for c in found[:200]], queue.stats(session))


@dataclass(frozen=True, slots=True)
class MediaItem:
    key: str  # the SHA-256 of the file the platform sent, or the bank entry id when that is all we know
    content_id: str
    bank: str | None
    bank_content_id: str | None
    signal_type: str | None
    available: bool  # kept media found in the media directory
    is_video: bool = False  # shown as a contact sheet of frames, never played


@dataclass(frozen=True, slots=True)
class MatchView:
    bank: str
    bank_content_id: str
    signal_type: str
    distance: int
    threshold: int
    labels: list[str]
    content_id: str


@dataclass(frozen=True, slots=True)
class AlertView:
    conversation_id: str
    risk: float
    live: bool
    behaviours: list[tuple[str, str]]  # (behaviour, plain words): what the suspect did
    context: list[tuple[str, str]]  # what the child said about themselves (their words, not the suspect's)
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class ReportView:
    subject_kind: str
    reporter_kind: str
    category: str
    text: str | None


@dataclass(slots=True)
class CaseView:
    case: CaseRow
    held_by_me: bool
    held_by_other: bool
    lease_expires_at: datetime | None
    pending: Decision | None
    final: Decision | None = None  # the decision in force on a decided case
    media: list[MediaItem] = field(default_factory=list)
    matches: list[MatchView] = field(default_factory=list)
    alerts: list[AlertView] = field(default_factory=list)
    reports: list[ReportView] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    appeals: list[Appeal] = field(default_factory=list)
    links: list[tuple[int, str]] = field(default_factory=list)
    priority: dict[str, Any] = field(default_factory=dict)

    @property
    def item_count(self) -> int:
        return max(1, len(self.media))


def media_file(media_dir: Path, sha256: str) -> Path | None:
    """The kept file for a SHA-256: ``<media_dir>/<sha256>.<ext>`` or ``<media_dir>/<aa>/<sha256>.<ext>``
    (an image, or a video shown as a contact sheet)."""
    if not SHA256.match(sha256):
        return None
    for folder in (media_dir, media_dir / sha256[:2]):
        for ext in (*IMAGE_TYPES, *VIDEO_TYPES):
            path = folder / f"{sha256}{ext}"
            if path.is_file():
                return path
    return None


def case_media(session: Session, case: Case, media_dir: Path) -> list[MediaItem]:
    items: dict[str, MediaItem] = {}
    for entry in media_of(session, case):
        sha = str(entry.get("content_sha256") or "")
        key = sha or f"{entry.get('bank')}:{entry.get('bank_content_id')}"
        if key in items:
            continue
        kept = media_file(media_dir, sha) if sha else None
        items[key] = MediaItem(
            key=key,
            content_id=str(entry.get("content_id", "")),
            bank=entry.get("bank"),
            bank_content_id=entry.get("bank_content_id"),
            signal_type=entry.get("signal_type"),
            available=kept is not None,
            is_video=kept is not None and kept.suffix.lower() in VIDEO_TYPES,
        )
    return list(items.values())


def case_view(session: Session, case: Case, actor: Actor, media_dir: Path) -> CaseView:
    now = utcnow()
    leased = case.lease_expires_at is not None and case.lease_expires_at > now
    mine = leased and case.lease_holder == who(actor)
    pending = session.get(Decision, case.pending_decision_id) if case.pending_decision_id else None
    view = CaseView(
        case=CaseRow.of(case, now),
        held_by_me=mine,
        held_by_other=leased and not mine,
        lease_expires_at=case.lease_expires_at if leased else None,
        pending=pending,
        final=session.get(Decision, case.decision_id)
        if case.decision_id and case.status == CaseStatus.decided
        else None,
        priority=with_waiting(case.priority_parts, case.priority_base, case.queued_at, now),
    )
    view.media = case_media(session, case, media_dir)
    seen_matches: set[tuple[str, str, str, int]] = set()
    signals = flows.signals_of(session, case.id)
    # A grooming case gets a signal each time the conversation changes; each holds the author's whole
    # assessment so far, so the latest per author is shown.
    latest_alert = {s.account_id: i for i, s in enumerate(signals) if isinstance(s, GroomingAlertSignal)}
    for i, signal in enumerate(signals):
        if isinstance(signal, MediaMatchSignal):
            key = (signal.bank, signal.bank_content_id, signal.signal_type, signal.distance)
            if key in seen_matches:
                continue  # a re-scan of the same upload: the same match again
            seen_matches.add(key)
            view.matches.append(
                MatchView(
                    signal.bank,
                    signal.bank_content_id,
                    signal.signal_type,
                    signal.distance,
                    signal.threshold,
                    list(signal.labels),
                    signal.content_id,
                )
            )
        elif isinstance(signal, GroomingAlertSignal) and latest_alert[signal.account_id] == i:
            view.alerts.append(
                AlertView(
                    signal.conversation_id,
                    signal.risk,
                    signal.live,
                    [(b.value, PLAIN[b]) for b in signal.behaviours if b not in CONTEXT],
                    [(b.value, PLAIN[b]) for b in signal.behaviours if b in CONTEXT],
                    list(signal.reasons),
                )
            )
        elif isinstance(signal, UserReportSignal):
            view.reports.append(
                ReportView(
                    signal.subject_kind, signal.reporter_kind.value, signal.category.value, signal.text
                )
            )
    view.decisions = list(
        session.scalars(select(Decision).where(Decision.case_id == case.id).order_by(Decision.id))
    )
    view.appeals = list(session.scalars(select(Appeal).where(Appeal.case_id == case.id).order_by(Appeal.id)))
    view.links = flows.related_cases(session, case.id)
    return view


def decision_choices(kind: str) -> tuple[list[tuple[Label, str, str]], list[tuple[Action, str, str]]]:
    """The labels and actions the decision form offers for a case of ``kind``: only those that apply (a
    conversation has no content to remove or bank)."""
    labels = labels_for(CaseKind(kind))
    actions = [c for c in ACTION_CHOICES if kind != CaseKind.conversation or c[0] not in CONTENT_ACTIONS]
    return [c for c in LABEL_CHOICES if c[0] in labels], actions
