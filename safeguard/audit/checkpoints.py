"""Signed checkpoints of the audit chain's head, to keep outside the database.

``take`` verifies the chain and returns its head (record number and hash) with a time, signed with an
HMAC-SHA256 under the audit key; ``to_line`` is the JSON line ``safeguard audit checkpoint --out FILE``
appends. ``parse`` reads such a file back and refuses any line whose signature does not match, so a
checkpoint cannot be forged or edited without the key. ``verify(session, checkpoints)`` then detects a
rewrite of any record up to a checkpoint and a truncation below one.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from sqlalchemy.orm import Session

from safeguard.audit.keys import chain_key
from safeguard.audit.service import Checkpoint, canonical_json, verify
from safeguard.errors import InvalidInput
from safeguard.store.base import utcnow

FORMAT = "safeguard.audit-checkpoint/v1"


class CheckpointRefused(InvalidInput):
    """A checkpoint cannot be taken (the chain is broken) or read (malformed, or not signed by our key)."""


def _mac(seq: int, hash_: str, at: str) -> str:
    body = canonical_json({"format": FORMAT, "seq": seq, "hash": hash_, "at": at}).encode("utf-8")
    return hmac.new(chain_key(), body, hashlib.sha256).hexdigest()


def take(session: Session) -> Checkpoint:
    report = verify(session)
    if not report.ok:
        raise CheckpointRefused(
            f"the audit log is broken at record {report.first_broken_seq} ({report.problem}): "
            "no checkpoint taken"
        )
    return Checkpoint(report.records, report.head_hash, utcnow().isoformat(timespec="seconds"))


def to_line(checkpoint: Checkpoint) -> str:
    seq, hash_, at = checkpoint.seq, checkpoint.hash, checkpoint.at
    return canonical_json(
        {"format": FORMAT, "seq": seq, "hash": hash_, "at": at, "mac": _mac(seq, hash_, at)}
    )


def _one(line: str, number: int) -> Checkpoint:
    try:
        doc = json.loads(line)
        if doc.get("format") != FORMAT:
            raise ValueError("not a Safeguard audit checkpoint")
        seq, hash_, at, mac = int(doc["seq"]), str(doc["hash"]), str(doc["at"]), str(doc["mac"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointRefused(f"checkpoint line {number}: {exc}", field="checkpoint") from None
    if not hmac.compare_digest(mac, _mac(seq, hash_, at)):
        raise CheckpointRefused(
            f"checkpoint line {number} is not signed with this deployment's audit key", field="checkpoint"
        )
    return Checkpoint(seq, hash_, at)


def parse(text: str) -> list[Checkpoint]:
    """Every checkpoint of a file (one JSON line each; blank lines skipped)."""
    return [_one(line, n) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
