"""The inputs of review: small typed shapes that the banks, text and API layers convert into.

Review depends on these, not on the upstream capabilities' own types (``sources.py`` adapts those), so the
flow content -> match/alert -> case works and is testable whatever produced the signal. They are Pydantic
models so the integrator API accepts them as they are (``type`` tells them apart).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from safeguard.banks.errors import InvalidSignal
from safeguard.banks.signals import VPDQ, VPDQ_MAX_CHARS, parse_vpdq
from safeguard.text.vocabulary import LIVE_RISK, Behaviour

# Ids are the platform's own; NUL and other control characters are refused (PostgreSQL cannot store NUL,
# and a newline or escape in an id would forge lines in logs and exports).
Id = Annotated[str, Field(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]+$")]
MAX_HEX_HASH_CHARS = 4096
_HEX = re.compile(r"[0-9a-fA-F]+")


class Label(StrEnum):
    """Media: the industry classification (A: prepubescent, B: pubescent; 1: sex act, 2: lascivious
    exhibition). Conversations: what the adult did. Plus the two outcomes that are not a category."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    online_enticement = "online_enticement"
    sextortion = "sextortion"
    image_solicitation = "image_solicitation"
    not_violating = "not_violating"
    needs_escalation = "needs_escalation"


VIOLATION_LABELS = frozenset({Label.A1, Label.A2, Label.B1, Label.B2})
CONVERSATION_LABELS = frozenset({Label.online_enticement, Label.sextortion, Label.image_solicitation})
OUTCOME_LABELS = frozenset({Label.not_violating, Label.needs_escalation})

# The NCMEC CyberTipline incident type each violation label reports under (its Appendix B names; the UK
# NCA's reporting takes the same categories). Sextortion and solicited images are enticement there, with
# the sextortion annotation for the former.
REPORT_CATEGORIES: dict[Label, str] = {
    **{label: "Child Pornography (possession, manufacture, and distribution)" for label in VIOLATION_LABELS},
    Label.online_enticement: "Online Enticement of Children for Sexual Acts",
    Label.sextortion: "Online Enticement of Children for Sexual Acts",
    Label.image_solicitation: "Online Enticement of Children for Sexual Acts",
}
MatchLabel = Literal["A1", "A2", "B1", "B2"]


# One vocabulary with the detector (safeguard.text.vocabulary): an alert names behaviours as it does.
LIVE_RISK_BEHAVIOURS = LIVE_RISK


class Reach(BaseModel):
    """How many people the content or contact reached, as the platform counts it."""

    model_config = ConfigDict(extra="forbid")
    views: int = Field(default=0, ge=0, le=10**12)
    shares: int = Field(default=0, ge=0, le=10**12)
    recipients: int = Field(default=0, ge=0, le=10**12)


class MediaMatchSignal(BaseModel):
    """Uploaded content matched an entry of a hash bank."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["media_match"] = "media_match"
    content_id: Id = Field(description="The platform's id of the uploaded content.")
    account_id: Id | None = Field(default=None, description="The uploader.")
    bank: str = Field(min_length=1, max_length=200)
    bank_content_id: str = Field(min_length=1, max_length=200, description="The bank entry that matched.")
    signal_type: str = Field(default="pdq", min_length=1, max_length=50)
    distance: int = Field(ge=0, le=10**6)
    threshold: int = Field(default=31, ge=0, le=10**6, description="Largest distance counted as a match.")
    labels: list[MatchLabel] = Field(default_factory=list, max_length=8)
    external_ids: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=20)
    content_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    query_hash: str | None = Field(
        default=None,
        max_length=VPDQ_MAX_CHARS,
        description="The upload's own hash: hex, or for vpdq its JSON list of frames (banked on confirm).",
    )
    reach: Reach = Field(default_factory=Reach)

    @model_validator(mode="after")
    def _query_hash_is_a_hash(self) -> MediaMatchSignal:
        value = self.query_hash
        if value is None:
            return self
        if self.signal_type == VPDQ:
            try:
                parse_vpdq(value, field="query_hash")
            except InvalidSignal as exc:
                raise ValueError(f"query_hash: {exc.detail}") from None
        elif len(value) > MAX_HEX_HASH_CHARS or not _HEX.fullmatch(value):
            raise ValueError(f"query_hash must be a hex hash of at most {MAX_HEX_HASH_CHARS} digits")
        return self


class GroomingAlertSignal(BaseModel):
    """The grooming detector flagged a conversation."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["grooming_alert"] = "grooming_alert"
    conversation_id: Id
    account_id: Id | None = Field(default=None, description="The suspected adult.")
    child_account_id: Id | None = None
    risk: float = Field(ge=0, le=1)
    behaviours: list[Behaviour] = Field(
        default_factory=list,
        max_length=20,
        description="Behaviours seen, in the detector's vocabulary (docs/grooming.md, 'What it looks for').",
    )
    reasons: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list, max_length=20)
    live: bool = Field(default=True, description="The conversation is still going on.")
    reach: Reach = Field(default_factory=Reach)


class ReporterKind(StrEnum):
    user = "user"
    child = "child"
    parent = "parent"
    trusted_flagger = "trusted_flagger"
    staff = "staff"


class ReportCategory(StrEnum):
    csam = "csam"
    grooming = "grooming"
    sextortion = "sextortion"
    meeting = "meeting"
    nudity = "nudity"
    other = "other"


class UserReportSignal(BaseModel):
    """A user (or a child, a parent...) reported content, a conversation or an account."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["user_report"] = "user_report"
    subject_kind: Literal["content", "conversation", "account"]
    subject_id: Id
    account_id: Id | None = Field(default=None, description="The reported account (owner or sender).")
    reporter_kind: ReporterKind = ReporterKind.user
    reporter_id: Id | None = None
    category: ReportCategory = ReportCategory.other
    text: str | None = Field(default=None, max_length=4000)
    content_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    reach: Reach = Field(default_factory=Reach)


Signal = Annotated[MediaMatchSignal | GroomingAlertSignal | UserReportSignal, Field(discriminator="type")]


def subject_of(signal: MediaMatchSignal | GroomingAlertSignal | UserReportSignal) -> tuple[str, str]:
    """(kind, subject id) of the case a signal belongs to."""
    if isinstance(signal, MediaMatchSignal):
        return "content", signal.content_id
    if isinstance(signal, GroomingAlertSignal):
        return "conversation", signal.conversation_id
    return signal.subject_kind, signal.subject_id


def fingerprints_of(signal: MediaMatchSignal | GroomingAlertSignal | UserReportSignal) -> list[str]:
    """Identities of the media across uploads: a re-upload matches the same bank entry or has the same
    SHA-256."""
    found: list[str] = []
    if isinstance(signal, MediaMatchSignal):
        found.append(f"bank:{signal.bank}:{signal.bank_content_id}")
    if isinstance(signal, MediaMatchSignal | UserReportSignal) and signal.content_sha256:
        found.append(f"sha256:{signal.content_sha256}")
    return found
