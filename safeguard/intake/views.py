"""Typed read models of intake: what a package, a search hit or a referral shows, built once by
``safeguard.intake.packages`` and read as they are by the API (its schemas validate from attributes), the
CLI (``asdict`` for JSON) and the web pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from safeguard.intake.models import IntakeAlert, IntakeMedia, IntakeReferral, IntakeSuspect


@dataclass(frozen=True, slots=True)
class ReasonView:
    """One part of a package's priority."""

    factor: str
    points: float
    reason: str


@dataclass(slots=True)
class IdentifierView:
    """One identifier across the package's referrals."""

    kind: str
    value: str
    platforms: list[str]
    referrals: list[int]
    first_seen: datetime | None
    last_seen: datetime | None
    linkable: bool
    note: str | None


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    at: datetime
    kind: str
    text: str
    referral_id: int | None


@dataclass(frozen=True, slots=True)
class LocationView:
    force: str | None
    council: str | None
    referrals: list[int]


@dataclass(frozen=True, slots=True)
class LinkView:
    """Why two referrals are one suspect."""

    referral_a: int
    referral_b: int
    rule: str
    strength: str
    weight: float
    explanation: str
    actor: str
    created_at: datetime
    overruled: bool  # the two referrals are no longer in one suspect (an analyst split)


@dataclass(frozen=True, slots=True)
class EvidenceView:
    rule: str
    explanation: str
    weight: float
    counted: bool  # False when the key is shared (a family phone, a school IP)
    referral_a: int
    referral_b: int


@dataclass(frozen=True, slots=True)
class PossibleLinkView:
    """Another suspect the package may be, below the linking threshold."""

    suspect_id: int
    score: float
    threshold: float
    evidence: list[EvidenceView]


@dataclass(frozen=True, slots=True)
class BankMatchView:
    bank: str
    signal_type: str
    labels: list[str]
    allowlist: bool


@dataclass(frozen=True, slots=True)
class MediaView:
    """Hashes and labels of a reported file (intake never holds the media itself), with the live bank
    entries that hold one of its hashes."""

    id: int
    referral_id: int
    name: str | None
    md5: str | None
    sha1: str | None
    sha256: str | None
    pdq: str | None
    classification: str | None
    category: str | None
    viewed_by_platform: bool | None
    publicly_available: bool | None
    annotations: list[str]
    labels: list[str]
    bank_matches: list[BankMatchView] = field(default_factory=list)

    @classmethod
    def of(cls, m: IntakeMedia, matches: list[BankMatchView] | None = None) -> MediaView:
        return cls(
            id=m.id,
            referral_id=m.referral_id,
            name=m.name,
            md5=m.md5,
            sha1=m.sha1,
            sha256=m.sha256,
            pdq=m.pdq,
            classification=m.classification,
            category=m.category,
            viewed_by_platform=m.viewed_by_platform,
            publicly_available=m.publicly_available,
            annotations=list(m.annotations),
            labels=list(m.labels),
            bank_matches=list(matches or []),
        )


@dataclass(frozen=True, slots=True)
class OutcomeView:
    apprehended: bool
    apprehended_at: datetime | None
    charged: bool
    charged_at: datetime | None
    no_further_action: bool
    no_further_action_at: datetime | None
    children_safeguarded: int
    safeguarded_at: datetime | None
    notes: str | None

    @property
    def known(self) -> bool:
        """Whether any outcome was recorded: a new package's is not yet known, not "0 children"."""
        recorded = (self.apprehended, self.charged, self.no_further_action, self.safeguarded_at, self.notes)
        return any(recorded)

    @property
    def summary(self) -> str:
        if not self.known:
            return "not yet known"
        parts = [
            text
            for done, text in (
                (self.apprehended, "apprehended"),
                (self.charged, "charged"),
                (self.no_further_action, "no further action"),
            )
            if done
        ]
        if self.safeguarded_at is not None or self.children_safeguarded:
            n = self.children_safeguarded
            parts.append(f"{n} {'child' if n == 1 else 'children'} safeguarded")
        return "; ".join(parts) or "recorded (see notes)"

    @classmethod
    def of(cls, s: IntakeSuspect) -> OutcomeView:
        return cls(
            apprehended=s.apprehended,
            apprehended_at=s.apprehended_at,
            charged=s.charged,
            charged_at=s.charged_at,
            no_further_action=s.no_further_action,
            no_further_action_at=s.no_further_action_at,
            children_safeguarded=s.children_safeguarded,
            safeguarded_at=s.safeguarded_at,
            notes=s.outcome_notes,
        )


@dataclass(slots=True)
class PackageView:
    """Everything about one suspect, as an analyst reads it."""

    suspect: IntakeSuspect
    redirected_from: int | None  # the id asked for, when it was merged into this suspect
    merged_from: list[int]
    tier: str  # as of now (recency and escalation change with time)
    score: float
    reasons: list[ReasonView]
    referrals: list[IntakeReferral]
    identifiers: list[IdentifierView]
    media: list[MediaView]
    timeline: list[TimelineEvent]
    locations: list[LocationView]
    links: list[LinkView]
    possible_links: list[PossibleLinkView]
    alerts: list[IntakeAlert]

    @property
    def assigned(self) -> bool:
        """Deconfliction: already assigned to an officer or force."""
        return bool(self.suspect.assigned_to or self.suspect.assigned_force)

    @property
    def outcome(self) -> OutcomeView:
        return OutcomeView.of(self.suspect)


@dataclass(slots=True)
class ReferralView:
    """One referral as imported: the document, the import's warnings, its identifiers and media."""

    referral: IntakeReferral
    document: dict[str, Any]
    warnings: list[str]
    identifiers: list[IdentifierView]
    media: list[MediaView]


@dataclass(slots=True)
class SearchHit:
    kind: str
    value: str
    referral_id: int
    source: str
    external_id: str
    suspect_id: int | None
    tier: str | None
    state: str | None
    assigned_to: str | None
    seen_at: datetime | None = None


@dataclass(slots=True)
class SearchResult:
    query: str
    kinds: list[str]
    hits: list[SearchHit] = field(default_factory=list)
