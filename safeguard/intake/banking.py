"""Media in referrals looked up in Safeguard's hash banks (the matching engine's data), when banks exist.

Exact matches only (MD5, SHA-256 and PDQ values equal to a banked signal), read straight from the banks'
tables: a package shows that a reported file is known material and the bank's labels, without loading the
matching service's in-memory index. Near (PDQ distance) matches against banks are the matching service's
job (``POST /v1/match``); between referrals, PDQ near matches are part of linking.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard.banks.models import Bank, BankContent, BankSignal
from safeguard.intake.models import IntakeMedia
from safeguard.intake.store import chunked
from safeguard.intake.views import BankMatchView

_COLUMNS = {"md5": "md5", "sha256": "sha256", "pdq": "pdq"}


def bank_matches(session: Session, media: Sequence[IntakeMedia]) -> dict[int, list[BankMatchView]]:
    """media id -> the live bank entries whose signal equals one of the file's hashes."""
    wanted: dict[tuple[str, str], list[int]] = {}
    for item in media:
        for signal_type, column in _COLUMNS.items():
            value = getattr(item, column)
            if value:
                wanted.setdefault((signal_type, value), []).append(item.id)
    found: dict[int, list[BankMatchView]] = {}
    values = sorted({value for _, value in wanted})
    for part in chunked(values):
        rows = session.execute(
            select(BankSignal.signal_type, BankSignal.value, Bank.name, Bank.is_allowlist, BankContent.labels)
            .join(Bank, Bank.id == BankSignal.bank_id)
            .join(BankContent, BankContent.id == BankSignal.content_id)
            .where(
                BankSignal.value.in_(part),
                BankSignal.active.is_(True),
                Bank.enabled.is_(True),
                Bank.deleted_at.is_(None),
                BankContent.enabled.is_(True),
                BankContent.removed_at.is_(None),
            )
        )
        for signal_type, value, bank, allowlist, labels in rows:
            for media_id in wanted.get((signal_type, value), []):
                found.setdefault(media_id, []).append(
                    BankMatchView(bank, signal_type, list(labels), allowlist)
                )
    return found
