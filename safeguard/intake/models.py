"""Tables of the intake capability.

- ``intake_batches``: one row per imported file.
- ``intake_referrals``: one row per referral (unique per source and id), with the parsed document.
- ``intake_identifiers``: normalised identifiers; the inverted index linking reads (``key``) and searches
  (``kind``, ``value``).
- ``intake_media``: hashes and labels of reported files (never the media), and ``intake_pdq``, the 16
  indexed chunks of each linkable PDQ hash for near-neighbour look-ups.
- ``intake_suspects``: one row per suspect investigation package (merged ones point at the survivor).
- ``intake_links``: the evidence behind every link, one row per piece of evidence.
- ``intake_pending``: evidence between two suspects still below the merge threshold (possible links).
- ``intake_shared_keys``: identifiers found to be shared (viral media, NAT addresses): they never link.
- ``intake_link_blocks``: analysts' do-not-link constraints (a referral on each side of a split).
- ``intake_alerts``: deconfliction alerts for a suspect's owner.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from safeguard.intake.states import SuspectState
from safeguard.store.base import Base, JSONDoc, utcnow
from safeguard.store.columns import StrEnumColumn

BIGINT = BigInteger().with_variant(Integer(), "sqlite")


class IntakeBatch(Base):
    __tablename__ = "intake_batches"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    format: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str | None] = mapped_column(String(500), default=None)
    digest: Mapped[str] = mapped_column(String(64))
    referrals: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(200))


class IntakeSuspect(Base):
    __tablename__ = "intake_suspects"
    __table_args__ = (
        Index("ix_intake_suspects_state_score", "state", "score"),
        Index("ix_intake_suspects_assigned_to", "assigned_to"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    state: Mapped[SuspectState] = mapped_column(StrEnumColumn(SuspectState, 16), default=SuspectState.new)
    merged_into: Mapped[int | None] = mapped_column(BIGINT, ForeignKey("intake_suspects.id"), default=None)
    assigned_to: Mapped[str | None] = mapped_column(String(200), default=None)
    assigned_force: Mapped[str | None] = mapped_column(String(200), default=None)
    assigned_at: Mapped[datetime | None] = mapped_column(default=None)
    tier: Mapped[str] = mapped_column(String(16), default="low")
    score: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    features: Mapped[dict[str, Any]] = mapped_column(default=dict)
    referral_count: Mapped[int] = mapped_column(Integer, default=0)
    force_area: Mapped[str | None] = mapped_column(String(100), default=None)
    council: Mapped[str | None] = mapped_column(String(100), default=None)
    previous_packages: Mapped[int] = mapped_column(Integer, default=0)
    apprehended: Mapped[bool] = mapped_column(Boolean, default=False)
    apprehended_at: Mapped[datetime | None] = mapped_column(default=None)
    charged: Mapped[bool] = mapped_column(Boolean, default=False)
    charged_at: Mapped[datetime | None] = mapped_column(default=None)
    no_further_action: Mapped[bool] = mapped_column(Boolean, default=False)
    no_further_action_at: Mapped[datetime | None] = mapped_column(default=None)
    children_safeguarded: Mapped[int] = mapped_column(Integer, default=0)
    safeguarded_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome_notes: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    assessed_at: Mapped[datetime | None] = mapped_column(default=None)
    actioned_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class IntakeReferral(Base):
    __tablename__ = "intake_referrals"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_intake_referrals_source_external_id"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int] = mapped_column(BIGINT, ForeignKey("intake_batches.id"), index=True)
    suspect_id: Mapped[int | None] = mapped_column(BIGINT, ForeignKey("intake_suspects.id"), index=True)
    received_at: Mapped[datetime] = mapped_column()
    incident_at: Mapped[datetime | None] = mapped_column(default=None)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    incident_type: Mapped[str | None] = mapped_column(String(200), default=None)
    platform: Mapped[str | None] = mapped_column(String(200), default=None)
    reporter: Mapped[str | None] = mapped_column(String(200), default=None)
    force_area: Mapped[str | None] = mapped_column(String(100), default=None)
    council: Mapped[str | None] = mapped_column(String(100), default=None)
    indicators: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    warnings: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    document: Mapped[dict[str, Any]] = mapped_column(default=dict)


class IntakeIdentifier(Base):
    __tablename__ = "intake_identifiers"
    __table_args__ = (
        Index("ix_intake_identifiers_key", "key"),
        Index("ix_intake_identifiers_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    referral_id: Mapped[int] = mapped_column(BIGINT, ForeignKey("intake_referrals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(400))
    platform: Mapped[str | None] = mapped_column(String(100), default=None)
    seen_at: Mapped[datetime | None] = mapped_column(default=None)
    linkable: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(300), default=None)


class IntakeMedia(Base):
    __tablename__ = "intake_media"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    referral_id: Mapped[int] = mapped_column(BIGINT, ForeignKey("intake_referrals.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(500), default=None)
    md5: Mapped[str | None] = mapped_column(String(32), default=None)
    sha1: Mapped[str | None] = mapped_column(String(40), default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    pdq: Mapped[str | None] = mapped_column(String(64), default=None)
    classification: Mapped[str | None] = mapped_column(String(2), default=None)
    category: Mapped[str | None] = mapped_column(String(1), default=None)
    viewed_by_platform: Mapped[bool | None] = mapped_column(Boolean, default=None)
    publicly_available: Mapped[bool | None] = mapped_column(Boolean, default=None)
    annotations: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    labels: Mapped[list[str]] = mapped_column(JSONDoc, default=list)


class IntakePdq(Base):
    """The 16 chunks of 16 bits of a linkable PDQ hash, each indexed: a hash within 15 bits of another
    shares at least one chunk with it, so near neighbours are found with 16 index look-ups (one row per
    hash, not one per chunk: a tenth of the rows to write on import). Viral copies get no row."""

    __tablename__ = "intake_pdq"
    __table_args__ = tuple(Index(f"ix_intake_pdq_c{n}", f"c{n}") for n in range(16))

    media_id: Mapped[int] = mapped_column(
        BIGINT, ForeignKey("intake_media.id"), primary_key=True, autoincrement=False
    )
    c0: Mapped[int] = mapped_column(Integer)
    c1: Mapped[int] = mapped_column(Integer)
    c2: Mapped[int] = mapped_column(Integer)
    c3: Mapped[int] = mapped_column(Integer)
    c4: Mapped[int] = mapped_column(Integer)
    c5: Mapped[int] = mapped_column(Integer)
    c6: Mapped[int] = mapped_column(Integer)
    c7: Mapped[int] = mapped_column(Integer)
    c8: Mapped[int] = mapped_column(Integer)
    c9: Mapped[int] = mapped_column(Integer)
    c10: Mapped[int] = mapped_column(Integer)
    c11: Mapped[int] = mapped_column(Integer)
    c12: Mapped[int] = mapped_column(Integer)
    c13: Mapped[int] = mapped_column(Integer)
    c14: Mapped[int] = mapped_column(Integer)
    c15: Mapped[int] = mapped_column(Integer)


class IntakeLink(Base):
    __tablename__ = "intake_links"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    suspect_id: Mapped[int] = mapped_column(BIGINT, ForeignKey("intake_suspects.id"), index=True)
    referral_a: Mapped[int] = mapped_column(BIGINT, ForeignKey("intake_referrals.id"))
    referral_b: Mapped[int] = mapped_column(BIGINT, ForeignKey("intake_referrals.id"))
    rule: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(400))
    weight: Mapped[float] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text, default="")
    measure: Mapped[float | None] = mapped_column(Float, default=None)
    actor: Mapped[str] = mapped_column(String(200), default="linker")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntakePending(Base):
    __tablename__ = "intake_pending"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    suspect_a: Mapped[int] = mapped_column(BIGINT, ForeignKey("intake_suspects.id"), index=True)
    suspect_b: Mapped[int] = mapped_column(BIGINT, ForeignKey("intake_suspects.id"), index=True)
    referral_a: Mapped[int] = mapped_column(BIGINT, ForeignKey("intake_referrals.id"))
    referral_b: Mapped[int] = mapped_column(BIGINT, ForeignKey("intake_referrals.id"))
    rule: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(400))
    weight: Mapped[float] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text, default="")
    measure: Mapped[float | None] = mapped_column(Float, default=None)


class IntakeSharedKey(Base):
    __tablename__ = "intake_shared_keys"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    reason: Mapped[str] = mapped_column(String(300))
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntakeLinkBlock(Base):
    __tablename__ = "intake_link_blocks"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    referral_a: Mapped[int] = mapped_column(BIGINT, ForeignKey("intake_referrals.id"), index=True)
    referral_b: Mapped[int] = mapped_column(BIGINT, ForeignKey("intake_referrals.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntakeAlert(Base):
    __tablename__ = "intake_alerts"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    suspect_id: Mapped[int] = mapped_column(BIGINT, ForeignKey("intake_suspects.id"), index=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    referral_id: Mapped[int | None] = mapped_column(BIGINT, ForeignKey("intake_referrals.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), default=None)
