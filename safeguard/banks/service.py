"""Business rules of hash banks: banks, their content and signals, and the change log they feed.

Every state-changing function records an audit entry and appends to the change log in the caller's
transaction (a service never commits).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from safeguard import audit
from safeguard.auth import Actor
from safeguard.banks import changes
from safeguard.banks.errors import BankExists, BankNotFound, ContentNotFound, InvalidSignal
from safeguard.banks.models import DEFAULT_PDQ_THRESHOLD, Bank, BankContent, BankSignal
from safeguard.banks.signals import (
    PDQ_MAX_THRESHOLD,
    VPDQ,
    VPDQ_QUALITY_FLOOR,
    normalize_hash,
    normalize_signal_type,
    parse_vpdq,
    signal_key,
    usable_frames,
)
from safeguard.errors import InvalidInput
from safeguard.store.base import utcnow

MAX_LABELS = 50
MAX_LABEL_CHARS = 100
MAX_SIGNALS_PER_CONTENT = 64


@dataclass(frozen=True, slots=True)
class SignalIn:
    signal_type: str
    value: str
    kind: str = "primary"  # or "variant": extra hashes banked for recall (dihedral, crops...)


@dataclass(frozen=True, slots=True)
class ContentMeta:
    labels: tuple[str, ...] = ()
    source: str = ""
    external_ids: Mapping[str, str] | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class AddedContent:
    content: BankContent
    created: bool  # False when every signal was already in the bank (an idempotent re-add)
    signals: list[BankSignal]


def no_nul(value: str, field: str) -> str:
    """Refuse NUL characters: PostgreSQL cannot store them in text or JSON."""
    if "\x00" in value:
        raise InvalidInput("text may not contain NUL characters", field=field)
    return value


# Banks -----------------------------------------------------------------------------------------------


def _check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 200 or any(ord(c) < 32 for c in cleaned):
        raise InvalidInput("a bank name is 1 to 200 printable characters", field="name")
    return cleaned


def _check_ratio(ratio: float) -> float:
    if not 0.0 <= ratio <= 1.0:
        raise InvalidInput("enabled_ratio is between 0 and 1", field="enabled_ratio")
    return float(ratio)


def _check_threshold(threshold: int) -> int:
    if not 0 <= threshold <= PDQ_MAX_THRESHOLD:
        raise InvalidInput(f"pdq_threshold is between 0 and {PDQ_MAX_THRESHOLD}", field="pdq_threshold")
    return threshold


def _name_taken(session: Session, name: str, *, except_id: int | None = None) -> bool:
    query = select(Bank.id).where(Bank.name == name)
    if except_id is not None:
        query = query.where(Bank.id != except_id)
    return session.scalar(query) is not None


def create_bank(
    session: Session,
    actor: Actor,
    *,
    name: str,
    description: str = "",
    is_allowlist: bool = False,
    enabled: bool = True,
    enabled_ratio: float = 1.0,
    pdq_threshold: int = DEFAULT_PDQ_THRESHOLD,
) -> Bank:
    name = _check_name(name)
    if _name_taken(session, name):
        raise BankExists(f"a bank named {name!r} already exists", field="name")
    no_nul(description, "description")
    writer = changes.writer(session)
    bank = Bank(
        name=name,
        description=description,
        is_allowlist=is_allowlist,
        enabled=enabled,
        enabled_ratio=_check_ratio(enabled_ratio),
        pdq_threshold=_check_threshold(pdq_threshold),
    )
    session.add(bank)
    session.flush()
    bank.version = writer.log("bank", bank.id)
    writer.flush()
    audit.record(session, actor, "bank.create", "bank", str(bank.id), {"name": name})
    return bank


def list_banks(session: Session) -> list[Bank]:
    return list(session.scalars(select(Bank).where(Bank.deleted_at.is_(None)).order_by(Bank.id)))


def get_bank(session: Session, bank_id: int) -> Bank:
    bank = session.get(Bank, bank_id)
    if bank is None or bank.deleted_at is not None:
        raise BankNotFound(f"no bank with id {bank_id}")
    return bank


def get_bank_by_name(session: Session, name: str) -> Bank:
    if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise BankNotFound(f"no bank named {name[:200]!r}")
    bank = session.scalar(select(Bank).where(Bank.name == name, Bank.deleted_at.is_(None)))
    if bank is None:
        raise BankNotFound(f"no bank named {name[:200]!r}")
    return bank


def update_bank(
    session: Session,
    actor: Actor,
    bank: Bank,
    *,
    name: str | None = None,
    description: str | None = None,
    is_allowlist: bool | None = None,
    enabled: bool | None = None,
    enabled_ratio: float | None = None,
    pdq_threshold: int | None = None,
) -> Bank:
    change: dict[str, Any] = {}
    if name is not None and name != bank.name:
        name = _check_name(name)
        if _name_taken(session, name, except_id=bank.id):
            raise BankExists(f"a bank named {name!r} already exists", field="name")
        change["name"] = [bank.name, name]
        bank.name = name
    if description is not None:
        no_nul(description, "description")
        change["description"] = True
        bank.description = description
    if is_allowlist is not None:
        change["is_allowlist"] = is_allowlist
        bank.is_allowlist = is_allowlist
    if enabled is not None:
        change["enabled"] = enabled
        bank.enabled = enabled
    if enabled_ratio is not None:
        change["enabled_ratio"] = enabled_ratio
        bank.enabled_ratio = _check_ratio(enabled_ratio)
    if pdq_threshold is not None:
        change["pdq_threshold"] = pdq_threshold
        bank.pdq_threshold = _check_threshold(pdq_threshold)
    writer = changes.writer(session)
    bank.version = writer.log("bank", bank.id)
    bank.updated_at = utcnow()
    writer.flush()
    session.flush()
    audit.record(session, actor, "bank.update", "bank", str(bank.id), change)
    return bank


def delete_bank(session: Session, actor: Actor, bank: Bank) -> None:
    """Soft delete: the bank stops matching at once and its name becomes free; rows are kept for audit."""
    old_name = bank.name
    writer = changes.writer(session)
    bank.deleted_at = utcnow()
    bank.name = f"{old_name[:160]}~deleted~{bank.id}"
    bank.version = writer.log("bank", bank.id)
    writer.flush()
    session.flush()
    audit.record(session, actor, "bank.delete", "bank", str(bank.id), {"name": old_name})


def content_count(session: Session, bank_id: int) -> int:
    query = select(func.count(BankContent.id)).where(
        BankContent.bank_id == bank_id, BankContent.removed_at.is_(None)
    )
    return int(session.scalar(query) or 0)


# Content ---------------------------------------------------------------------------------------------


def check_meta(meta: ContentMeta) -> ContentMeta:
    labels = tuple(dict.fromkeys(no_nul(label, "labels").strip() for label in meta.labels if label.strip()))
    no_nul(meta.source, "source")
    no_nul(meta.notes, "notes")
    if len(labels) > MAX_LABELS or any(len(label) > MAX_LABEL_CHARS for label in labels):
        raise InvalidInput(f"at most {MAX_LABELS} labels of {MAX_LABEL_CHARS} characters", field="labels")
    external = dict(meta.external_ids or {})
    for key, value in external.items():
        if not isinstance(key, str) or not isinstance(value, str) or len(key) > 100 or len(value) > 200:
            raise InvalidInput("external_ids maps names to ids (strings)", field="external_ids")
        no_nul(key + value, "external_ids")
    if len(meta.source) > 200:
        raise InvalidInput("source is at most 200 characters", field="source")
    return ContentMeta(labels=labels, source=meta.source, external_ids=external, notes=meta.notes)


def normalize_signals(signals: Iterable[SignalIn]) -> list[SignalIn]:
    seen: dict[tuple[str, str], SignalIn] = {}
    for i, signal in enumerate(signals):
        if signal.kind not in ("primary", "variant"):
            raise InvalidSignal("signal kind is primary or variant", field=f"signals.{i}.kind")
        st = normalize_signal_type(signal.signal_type, field=f"signals.{i}.signal_type")
        value = normalize_hash(st, signal.value, field=f"signals.{i}.hash")
        if st == VPDQ and not usable_frames(parse_vpdq(value)):
            raise InvalidSignal(
                f"the vpdq hash has no frame of quality >= {VPDQ_QUALITY_FLOOR}, so it could never match",
                field=f"signals.{i}.hash",
            )
        seen.setdefault((st, value), SignalIn(st, value, signal.kind))
    if not seen:
        raise InvalidSignal("no signals given", field="signals")
    if len(seen) > MAX_SIGNALS_PER_CONTENT:
        raise InvalidSignal(f"at most {MAX_SIGNALS_PER_CONTENT} signals per content item", field="signals")
    return list(seen.values())


def add_content(
    session: Session, actor: Actor, bank: Bank, signals: Sequence[SignalIn], meta: ContentMeta
) -> AddedContent:
    """Add one content item with its signals. Signals already in the bank are skipped (idempotent); if
    all of them are, the existing item is returned with ``created=False``."""
    wanted = normalize_signals(signals)
    meta = check_meta(meta)
    writer = changes.writer(session)
    existing = {
        (row.signal_type, row.value): row
        for row in session.scalars(
            select(BankSignal).where(
                BankSignal.bank_id == bank.id, BankSignal.value_key.in_([signal_key(s.value) for s in wanted])
            )
        )
    }
    new = [s for s in wanted if (s.signal_type, s.value) not in existing]
    if not new:
        first = next(iter(existing.values()))
        content = session.get(BankContent, first.content_id)
        assert content is not None
        return AddedContent(content=content, created=False, signals=list(existing.values()))
    content = BankContent(
        bank_id=bank.id,
        labels=list(meta.labels),
        source=meta.source,
        external_ids=dict(meta.external_ids or {}),
        notes=meta.notes,
    )
    session.add(content)
    session.flush()
    rows = [
        BankSignal(
            content_id=content.id,
            bank_id=bank.id,
            signal_type=s.signal_type,
            value=s.value,
            value_key=signal_key(s.value),
            kind=s.kind,
        )
        for s in new
    ]
    session.add_all(rows)
    session.flush()
    bank.version = writer.log_many("add", bank.id, [(content.id, row.id) for row in rows])
    writer.flush()
    audit.record(
        session,
        actor,
        "bank.content.add",
        "bank_content",
        str(content.id),
        {
            "bank_id": bank.id,
            "signals": [(s.signal_type, signal_key(s.value)) for s in new],
            "labels": meta.labels,
        },
    )
    return AddedContent(content=content, created=True, signals=rows)


def get_content(session: Session, bank: Bank, content_id: int) -> BankContent:
    content = session.get(BankContent, content_id)
    if content is None or content.bank_id != bank.id or content.removed_at is not None:
        raise ContentNotFound(f"no content {content_id} in bank {bank.name!r}")
    return content


def signals_of(session: Session, content_ids: Sequence[int]) -> dict[int, list[BankSignal]]:
    out: dict[int, list[BankSignal]] = {cid: [] for cid in content_ids}
    if content_ids:
        query = select(BankSignal).where(BankSignal.content_id.in_(content_ids)).order_by(BankSignal.id)
        for row in session.scalars(query):
            out[row.content_id].append(row)
    return out


def list_content(session: Session, bank: Bank, *, after_id: int = 0, limit: int = 100) -> list[BankContent]:
    query = (
        select(BankContent)
        .where(BankContent.bank_id == bank.id, BankContent.removed_at.is_(None), BankContent.id > after_id)
        .order_by(BankContent.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def _log_signals(session: Session, bank: Bank, content: BankContent, op: str, active: bool) -> int:
    writer = changes.writer(session)
    ids = list(session.scalars(select(BankSignal.id).where(BankSignal.content_id == content.id)))
    session.execute(update(BankSignal).where(BankSignal.content_id == content.id).values(active=active))
    bank.version = writer.log_many(op, bank.id, [(content.id, sid) for sid in ids])
    writer.flush()
    return len(ids)


def set_content_enabled(
    session: Session, actor: Actor, bank: Bank, content_id: int, *, enabled: bool, reason: str | None = None
) -> BankContent:
    """Disable one item (e.g. a false positive, with the reason) or enable it again."""
    content = get_content(session, bank, content_id)
    if not enabled and not (reason or "").strip():
        raise InvalidInput("say why the content is disabled", field="reason")
    no_nul(reason or "", "reason")
    if content.enabled != enabled:
        content.enabled = enabled
        content.disabled_reason = None if enabled else reason
        content.updated_at = utcnow()
        _log_signals(session, bank, content, "enable" if enabled else "disable", enabled)
    elif not enabled:
        content.disabled_reason = reason
    action = "bank.content.enable" if enabled else "bank.content.disable"
    audit.record(session, actor, action, "bank_content", str(content.id), {"reason": reason})
    return content


def remove_content(session: Session, actor: Actor, bank: Bank, content_id: int) -> int:
    """Remove one item from matching (kept for audit); returns how many signals stopped matching."""
    content = get_content(session, bank, content_id)
    content.removed_at = utcnow()
    count = _log_signals(session, bank, content, "remove", False)
    audit.record(session, actor, "bank.content.remove", "bank_content", str(content.id), {"bank_id": bank.id})
    return count
