"""Tables of hash banks, their content and signals, the change log, URL lists and keyword lists.

Every change to what can match (content added, removed, disabled, enabled; a bank changed) appends a row
to ``bank_changes`` under one global, gap-free sequence kept in ``bank_checkpoint``. API workers replay
that log to keep their in-memory indexes current; exchanges and callers fetch changes since a checkpoint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from safeguard.store.base import Base, JSONDoc, utcnow

BIGINT = BigInteger().with_variant(Integer(), "sqlite")
DEFAULT_PDQ_THRESHOLD = 31


class Bank(Base):
    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Matches from an allowlist bank suppress matches of other banks for the same query hash.
    is_allowlist: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Share of queries this bank answers (gradual roll-out, as HMA's matching_enabled_ratio).
    enabled_ratio: Mapped[float] = mapped_column(Float, default=1.0)
    pdq_threshold: Mapped[int] = mapped_column(Integer, default=DEFAULT_PDQ_THRESHOLD)
    # The change sequence number of the last change to this bank or its content.
    version: Mapped[int] = mapped_column(BIGINT, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class BankContent(Base):
    """One item of known material: its signals, labels, source, external ids and notes."""

    __tablename__ = "bank_content"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    labels: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    source: Mapped[str] = mapped_column(String(200), default="")
    external_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # HMA's temporary disable (``disable_until_ts``): the item does not match before this time.
    disabled_until: Mapped[datetime | None] = mapped_column(default=None)
    # HMA's user metadata of an item (``content_id``, ``content_uri``, ``json``), returned as given.
    hma_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(default=None)


class BankSignal(Base):
    """One hash of a content item. ``kind`` is ``primary`` or ``variant`` (extra hashes banked for recall).

    ``value`` is the canonical hash (hex, or a vPDQ string of up to 2 MB); ``value_key`` is what the
    uniqueness index holds: the value itself, or for a vPDQ string ``sha256:`` and its digest (PostgreSQL
    cannot index values over about 2.7 kB). ``signals.signal_key`` computes it.
    """

    __tablename__ = "bank_signals"
    __table_args__ = (
        UniqueConstraint(
            "bank_id", "signal_type", "value_key", name="uq_bank_signals_bank_id_signal_type_value_key"
        ),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    content_id: Mapped[int] = mapped_column(BIGINT, ForeignKey("bank_content.id"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    signal_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(Text)
    value_key: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), default="primary")
    # False once the content is removed or disabled: such signals never match.
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class BankChange(Base):
    """The change log. ``op``: add, remove, disable, enable (of one signal) or bank (a bank's settings)."""

    __tablename__ = "bank_changes"

    seq: Mapped[int] = mapped_column(BIGINT, primary_key=True, autoincrement=False)
    op: Mapped[str] = mapped_column(String(16))
    bank_id: Mapped[int] = mapped_column(Integer)
    content_id: Mapped[int | None] = mapped_column(BIGINT, default=None)
    signal_id: Mapped[int | None] = mapped_column(BIGINT, default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class BankCheckpoint(Base):
    """One row: the last change sequence number handed out; every writer locks it, so seqs commit in order."""

    __tablename__ = "bank_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BIGINT, default=0)


class UrlList(Base):
    __tablename__ = "url_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UrlListEntry(Base):
    """A listed URL. ``match`` is exact, host (the host and its subdomains) or prefix (a path prefix)."""

    __tablename__ = "url_list_entries"
    __table_args__ = (
        UniqueConstraint("list_id", "match", "key", name="uq_url_list_entries_list_id_match_key"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("url_lists.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    match: Mapped[str] = mapped_column(String(16))
    # The normalised form compared at lookup: host, or host + path (+ sorted query for exact entries).
    key: Mapped[str] = mapped_column(String(2048), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KeywordList(Base):
    __tablename__ = "keyword_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    message: Mapped[str] = mapped_column(Text)
    help_links: Mapped[list[dict[str, str]]] = mapped_column(JSONDoc, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KeywordTerm(Base):
    __tablename__ = "keyword_terms"
    __table_args__ = (
        UniqueConstraint("list_id", "normalized", name="uq_keyword_terms_list_id_normalized"),
        Index("ix_keyword_terms_list_id", "list_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("keyword_lists.id"))
    term: Mapped[str] = mapped_column(String(500))
    normalized: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
