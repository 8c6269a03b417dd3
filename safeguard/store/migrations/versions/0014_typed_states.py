"""One behaviour vocabulary: grooming alerts filed before this revision named behaviours in review's own
words (``meeting_arrangement``, ``age_probing``...); they are renamed to the detector's
(``safeguard.text.vocabulary``), in the signals' payloads and in the cases' priority reasons.

``personal_information`` had no detector behaviour and becomes ``age_location_probing`` (asking where the
child lives or goes to school); ``other`` carried nothing and is dropped. No column changes: states stay
strings in the database (``safeguard.store.columns.StrEnumColumn``).

Revision ID: 0014_typed_states
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0014_typed_states"
down_revision = "0010_key_expiry"
branch_labels = None
depends_on = None

# Frozen copies: a migration must not change when the application's vocabulary does.
TO_DETECTOR: dict[str, str | None] = {
    "meeting_arrangement": "meeting",
    "image_request": "images_webcam",
    "sextortion": "threats_sextortion",
    "sexual_content": "sexualisation",
    "secrecy": "secrecy",
    "isolation": "isolation",
    "age_probing": "age_location_probing",
    "personal_information": "age_location_probing",
    "gifts": "gifts_money",
    "platform_move": "channel_move",
    "trust_building": "flattery_trust",
    "other": None,
}
TO_REVIEW: dict[str, str | None] = {
    "meeting": "meeting_arrangement",
    "images_webcam": "image_request",
    "threats_sextortion": "sextortion",
    "sexualisation": "sexual_content",
    "secrecy": "secrecy",
    "isolation": "isolation",
    "age_location_probing": "age_probing",
    "age_gap": "age_probing",
    "gifts_money": "gifts",
    "channel_move": "platform_move",
    "flattery_trust": "trust_building",
    "other_participant_minor": "other",
    "minor_self_disclosure": None,
}
LIVE_REASON = re.compile(r"^(child at risk now: )([a-z_, ]+)$")

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
signals = sa.table(
    "review_signals", sa.column("id", sa.BigInteger), sa.column("type", sa.String), sa.column("payload", JSON)
)
cases = sa.table(
    "review_cases",
    sa.column("id", sa.BigInteger),
    sa.column("kind", sa.String),
    sa.column("priority_parts", JSON),
)


def _rename(names: list[str], table: dict[str, str | None]) -> list[str]:
    out: list[str] = []
    for name in names:
        new = table.get(name, name)
        if new is not None and new not in out:
            out.append(new)
    return out


def _reason(reason: Any, table: dict[str, str | None]) -> Any:
    found = LIVE_REASON.match(reason) if isinstance(reason, str) else None
    if found is None:
        return reason
    return found.group(1) + ", ".join(_rename(found.group(2).split(", "), table))


def _rewrite(table: dict[str, str | None]) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(signals.c.id, signals.c.payload).where(signals.c.type == "grooming_alert"))
    for row_id, payload in rows.all():
        _update(bind, signals, row_id, "payload", payload, lambda p: _alert(p, table))
    rows = bind.execute(sa.select(cases.c.id, cases.c.priority_parts).where(cases.c.kind == "conversation"))
    for row_id, parts in rows.all():
        _update(bind, cases, row_id, "priority_parts", parts, lambda p: _parts(p, table))


def _alert(payload: dict[str, Any], table: dict[str, str | None]) -> dict[str, Any]:
    return {**payload, "behaviours": _rename(list(payload.get("behaviours") or []), table)}


def _parts(parts: dict[str, Any], table: dict[str, str | None]) -> dict[str, Any]:
    return {**parts, "reasons": [_reason(r, table) for r in parts.get("reasons") or []]}


def _update(
    bind: sa.Connection,
    table: sa.TableClause,
    row_id: int,
    column: str,
    value: Any,
    change: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    if not isinstance(value, dict):
        return
    new = change(value)
    if new != value:
        bind.execute(sa.update(table).where(table.c.id == row_id).values({column: new}))


def upgrade() -> None:
    _rewrite(TO_DETECTOR)


def downgrade() -> None:
    _rewrite(TO_REVIEW)
