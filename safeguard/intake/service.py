"""Intake business rules: importing referrals and linking them into suspects; analysts' splits and merges.

Every function takes the caller's session (the caller owns the transaction) and writes an audit record. A
file is imported whole or not at all: it is parsed and checked completely before anything is written, and
any error leaves the transaction to be rolled back. Re-importing a referral already imported (same source,
id and content) changes nothing; the same id with different content is refused.

Linking runs under one lock per database (a PostgreSQL advisory lock; SQLite's write transaction is one
already), so two imports never link against each other's half-written state.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from safeguard import audit
from safeguard.auth import Actor
from safeguard.intake import geo
from safeguard.intake.config import IntakeConfig, get_intake_config, get_intake_settings
from safeguard.intake.errors import InvalidMerge, InvalidSplit, ReferralChanged, SuspectNotFound
from safeguard.intake.identifiers import extract
from safeguard.intake.importers import ParsedFile, parse_referrals
from safeguard.intake.linking import Alert, Linker, LinkState, link_item
from safeguard.intake.linking.engine import link_key
from safeguard.intake.models import (
    IntakeBatch,
    IntakeIdentifier,
    IntakeLink,
    IntakeMedia,
    IntakeReferral,
    IntakeSuspect,
)
from safeguard.intake.priority import Features, prioritise
from safeguard.intake.records import Account, Device, IpCapture, Location, Referral, ReportedFile, Victim
from safeguard.intake.states import OPEN_STATES, SuspectState
from safeguard.intake.store import (
    SqlLoader,
    chunked,
    existing_digests,
    table,
    write_back,
)
from safeguard.store.base import utcnow
from safeguard.store.bulk import insert_dicts, update_by_id

REFERRALS = table(IntakeReferral)
MEDIA = table(IntakeMedia)
LOCK_ID = 0x5AFE_1A7E  # the PostgreSQL advisory lock serialising linking
GC_PAUSE_OVER = 2000  # referrals in one import above which the cyclic collector is paused (see bulk())
BYTES_PER_REFERRAL = 500  # a low estimate, to guess a file's referral count before parsing it


@dataclass(slots=True)
class ImportReport:
    batch_id: int | None
    format: str
    referrals: int
    imported: int = 0
    duplicates: int = 0
    referral_ids: list[int] = field(default_factory=list)
    suspects: list[int] = field(default_factory=list)  # suspects the new referrals belong to
    suspects_created: int = 0
    merges: int = 0
    alerts: int = 0
    warnings: list[str] = field(default_factory=list)


def lock_linking(session: Session) -> None:
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})


@contextmanager
def bulk(count: int) -> Iterator[None]:
    """Pause the cyclic garbage collector while a large import builds its millions of small objects.

    None of them form reference cycles, so reference counting frees them all; the collector would only
    rescan the growing heap again and again (measured: a third of the time of a 100k-referral import).
    """
    paused = count > GC_PAUSE_OVER and gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def import_file(
    session: Session,
    actor: Actor,
    data: bytes,
    *,
    format: str | None = None,
    filename: str | None = None,
    config: IntakeConfig | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Parse a referral file (rejecting it whole on any error) and import and link its referrals."""
    with bulk(len(data) // BYTES_PER_REFERRAL):
        parsed = parse_referrals(data, format)
    digest = hashlib.sha256(data).hexdigest()
    return import_referrals(session, actor, parsed, filename=filename, digest=digest, config=config, now=now)


def import_referrals(
    session: Session,
    actor: Actor,
    parsed: ParsedFile,
    *,
    filename: str | None = None,
    digest: str = "",
    config: IntakeConfig | None = None,
    now: datetime | None = None,
) -> ImportReport:
    config = config or get_intake_config()
    now = now or utcnow()
    region = get_intake_settings().default_region
    report = ImportReport(None, parsed.format, len(parsed.referrals))
    lock_linking(session)
    existing = existing_digests(session, [(r.source, r.external_id) for r in parsed.referrals])
    new: list[Referral] = []
    for referral in parsed.referrals:
        known = existing.get((referral.source, referral.external_id))
        if known is None:
            new.append(referral)
        elif known[1] != referral.digest():
            raise ReferralChanged(
                f"referral {referral.source}/{referral.external_id} was imported before (as referral "
                f"{known[0]}) with different content; nothing in this file was imported",
                referral=referral.external_id,
            )
        else:
            report.duplicates += 1
    if not new:
        return report  # re-importing known referrals changes nothing, and is not recorded

    with bulk(len(new)):
        # With nothing stored yet (a first bulk load) linking needs no look-ups at all.
        stored_before = session.scalar(select(IntakeReferral.id).limit(1)) is not None
        batch = IntakeBatch(
            format=parsed.format,
            filename=filename,
            digest=digest or _digest(new),
            referrals=len(new),
            duplicates=report.duplicates,
            imported_by=actor.id,
            imported_at=now,
        )
        session.add(batch)
        session.flush()
        report.batch_id = batch.id
        extracted = [extract(r, region, min_username_key=config.linking.min_username_key_length) for r in new]
        areas = [geo.locate_all(r.locations) for r in new]
        ids = _insert_referrals(session, batch.id, new, extracted, areas, now)
        media_of = _insert_media(session, new, ids)
        _insert_identifiers(session, ids, extracted)
        for referral, found in zip(new, extracted, strict=True):
            report.warnings.extend(f"{referral.source}/{referral.external_id}: {w}" for w in found.warnings)
        batch.warnings = report.warnings[:1000]

        loader = SqlLoader(session, empty=not stored_before)
        state = LinkState(loader)
        linker = Linker(config.linking, state)
        items = [
            link_item(rid, found.identifiers, config.linking)
            for rid, found in zip(ids, extracted, strict=True)
        ]
        state.preload(use.key for item in items for use in item.uses)
        loader.prepare_pdq([v for item in items for v in item.pdqs], config.linking.pdq_radius)
        alerts: list[Alert] = []
        for item in items:
            alerts.extend(linker.add(item).alerts)
        written = write_back(
            session, state, new_referrals=ids, media_of=media_of, alerts=alerts, actor=actor.id
        )

        new_features = [
            Features.of(r, r.when or now, _area_key(area)) for r, area in zip(new, areas, strict=True)
        ]
        suspect_of = {
            rid: written.suspect_of_cluster.get(state.cluster(rid), state.cluster(rid)) for rid in ids
        }
        added: dict[int, Features] = {}
        for rid, features in zip(ids, new_features, strict=True):
            added.setdefault(suspect_of[rid], Features()).add(features)
        _update_suspects(session, added, written.merged, config, now)

    report.imported = len(new)
    report.referral_ids = ids
    report.suspects = sorted(set(suspect_of.values()))
    report.suspects_created = len(written.created)
    report.merges = len(state.merged)
    report.alerts = written.alerts
    audit.record(
        session,
        actor,
        "intake.import",
        "intake_batch",
        str(batch.id),
        {
            "format": parsed.format,
            "digest": batch.digest,
            "referrals": ids,
            "suspects": report.suspects,
            "merged": written.merged,
        },
    )
    return report


def _digest(referrals: Sequence[Referral]) -> str:
    return hashlib.sha256("".join(r.digest() for r in referrals).encode()).hexdigest()


def _area_key(area: geo.Area) -> str | None:
    return f"{area.force or ''}|{area.council or ''}" if area.force else None


def _insert_referrals(
    session: Session,
    batch_id: int,
    referrals: Sequence[Referral],
    extracted: Sequence[Any],
    areas: Sequence[geo.Area],
    now: datetime,
) -> list[int]:
    rows = [
        {
            "source": r.source,
            "external_id": r.external_id,
            "digest": r.digest(),
            "batch_id": batch_id,
            "received_at": r.received_at or now,
            "incident_at": r.incident_at,
            "imported_at": now,
            "incident_type": (r.incident_type or "")[:200] or None,
            "platform": (r.platform or "")[:200] or None,
            "reporter": (r.reporter or "")[:200] or None,
            "force_area": area.force,
            "council": area.council,
            "indicators": list(r.indicators),
            "warnings": found.warnings,
            "document": r.to_document(),
        }
        for r, found, area in zip(referrals, extracted, areas, strict=True)
    ]
    ids: list[int] = []
    for part1 in chunked(rows, 500):
        ids.extend(
            session.scalars(
                REFERRALS.insert().returning(REFERRALS.c.id, sort_by_parameter_order=True), list(part1)
            ).all()
        )
    return ids


def _insert_media(
    session: Session, referrals: Sequence[Referral], ids: Sequence[int]
) -> dict[tuple[int, str], list[int]]:
    rows = [
        {
            "referral_id": rid,
            "name": (f.name or "")[:500] or None,
            "md5": f.md5,
            "sha1": f.sha1,
            "sha256": f.sha256,
            "pdq": f.pdq,
            "classification": f.classification,
            "category": f.category,
            "viewed_by_platform": f.viewed_by_platform,
            "publicly_available": f.publicly_available,
            "annotations": list(f.annotations),
            "labels": list(f.labels),
        }
        for r, rid in zip(referrals, ids, strict=True)
        for f in r.files
    ]
    media_of: dict[tuple[int, str], list[int]] = {}
    for part2 in chunked(rows, 500):
        media_ids = session.scalars(
            MEDIA.insert().returning(MEDIA.c.id, sort_by_parameter_order=True), list(part2)
        ).all()
        for row, media_id in zip(part2, media_ids, strict=True):
            if isinstance(row["pdq"], str) and isinstance(row["referral_id"], int):
                media_of.setdefault((row["referral_id"], row["pdq"]), []).append(media_id)
    return media_of


def _insert_identifiers(session: Session, ids: Sequence[int], extracted: Sequence[Any]) -> None:
    rows = [
        {
            "referral_id": rid,
            "kind": i.kind.value,
            "value": i.value[:300],
            "key": link_key(i)[:400],
            "platform": i.platform,
            "seen_at": i.at,
            "linkable": i.linkable,
            "note": i.note,
        }
        for rid, found in zip(ids, extracted, strict=True)
        for i in found.identifiers
    ]
    insert_dicts(session, table(IntakeIdentifier), rows)


def _update_suspects(
    session: Session,
    added: dict[int, Features],
    merged: dict[int, int],
    config: IntakeConfig,
    now: datetime,
) -> None:
    """Fold new referrals and merged-in suspects into each suspect's features; re-prioritise; reopen
    closed packages that received new referrals (a new package on a known suspect)."""
    wanted = sorted(set(added) | set(merged) | set(merged.values()))
    rows: dict[int, IntakeSuspect] = {}
    for part4 in chunked(wanted):
        rows.update(
            {s.id: s for s in session.scalars(select(IntakeSuspect).where(IntakeSuspect.id.in_(part4)))}
        )
    totals: dict[int, Features] = {}
    for suspect_id in set(added) | set(merged.values()):
        totals[suspect_id] = Features.from_json(rows[suspect_id].features)
    for gone, survivor in merged.items():
        totals.setdefault(survivor, Features.from_json(rows[survivor].features)).add(
            Features.from_json(rows[gone].features)
        )
    for suspect_id, features in added.items():
        totals[suspect_id].add(features)
    updates = []
    for suspect_id, features in totals.items():
        row = rows[suspect_id]
        reopened: dict[str, Any] = {}
        if row.state is SuspectState.closed and suspect_id in added:
            row.previous_packages += 1
            reopened = {"state": SuspectState.new, "previous_packages": row.previous_packages}
        updates.append({"id": suspect_id, **_priority_values(row, features, config, now), **reopened})
    update_by_id(session, table(IntakeSuspect), updates)


def _priority_values(
    row: IntakeSuspect, features: Features, config: IntakeConfig, now: datetime
) -> dict[str, Any]:
    priority = prioritise(
        features,
        config.priority,
        now,
        previous_packages=row.previous_packages,
        previously_charged=row.charged,
    )
    force, council = features.main_area()
    return {
        "features": features.to_json(),
        "referral_count": features.referrals,
        "tier": priority.tier.value,
        "score": priority.score,
        "reasons": priority.reasons_json(),
        "force_area": force,
        "council": council,
        "updated_at": now,
    }


# --- analysts' decisions --------------------------------------------------------------------------------


def _live_suspect(session: Session, suspect_id: int) -> IntakeSuspect:
    suspect = session.get(IntakeSuspect, suspect_id)
    if suspect is None:
        raise SuspectNotFound(f"no suspect {suspect_id}")
    if suspect.state is SuspectState.merged:
        raise SuspectNotFound(f"suspect {suspect_id} was merged into suspect {suspect.merged_into}")
    return suspect


def split_suspect(
    session: Session,
    actor: Actor,
    suspect_id: int,
    referral_ids: Sequence[int],
    *,
    reason: str,
    config: IntakeConfig | None = None,
    now: datetime | None = None,
) -> tuple[int, int]:
    """Move referrals out of a suspect into a new suspect; automatic linking never joins them again.
    Returns (the suspect kept, the new suspect)."""
    config = config or get_intake_config()
    now = now or utcnow()
    lock_linking(session)
    suspect = _live_suspect(session, suspect_id)
    loader = SqlLoader(session)
    state = LinkState(loader)
    members = state.member_list(suspect_id)
    moving = list(dict.fromkeys(referral_ids))
    strangers = sorted(set(moving) - set(members))
    if not moving:
        raise InvalidSplit("name at least one referral to move", field="referral_ids")
    if strangers:
        raise InvalidSplit(f"referrals {strangers} are not in suspect {suspect_id}", field="referral_ids")
    if len(moving) == len(members):
        raise InvalidSplit("a split must leave at least one referral behind", field="referral_ids")
    linker = Linker(config.linking, state)
    new_cluster = linker.split(suspect_id, moving, actor=actor.id, reason=reason)
    written = write_back(
        session,
        state,
        new_referrals=[],
        media_of={},
        alerts=[],
        actor=actor.id,
        reasons={state.member_list(new_cluster)[0]: reason},
    )
    new_id = written.suspect_of_cluster[new_cluster]
    moved = set(moving)
    links = session.scalars(select(IntakeLink).where(IntakeLink.suspect_id == suspect_id))
    for link in links:
        if link.referral_a in moved and link.referral_b in moved:
            link.suspect_id = new_id
    session.flush()
    _recompute(session, [suspect.id, new_id], config, now)
    audit.record(
        session,
        actor,
        "intake.split",
        "intake_suspect",
        str(suspect_id),
        {"moved": sorted(moved), "new_suspect": new_id, "reason": reason},
    )
    return suspect.id, new_id


def merge_suspects(
    session: Session,
    actor: Actor,
    first: int,
    second: int,
    *,
    reason: str,
    config: IntakeConfig | None = None,
    now: datetime | None = None,
) -> int:
    """Merge two suspects (lifting any do-not-link between them). Returns the suspect kept."""
    config = config or get_intake_config()
    now = now or utcnow()
    if first == second:
        raise InvalidMerge("a suspect cannot be merged with itself", field="suspect_ids")
    lock_linking(session)
    a, b = _live_suspect(session, first), _live_suspect(session, second)
    if a.assigned_to and b.assigned_to and a.assigned_to != b.assigned_to:
        raise InvalidMerge(
            f"suspect {a.id} is assigned to {a.assigned_to} and suspect {b.id} to {b.assigned_to}: "
            "reassign one of them before merging (deconfliction)"
        )
    state = LinkState(SqlLoader(session))
    linker = Linker(config.linking, state)
    keep, gone = linker.merge(a.id, b.id, actor=actor.id, reason=reason)
    written = write_back(session, state, new_referrals=[], media_of={}, alerts=[], actor=actor.id)
    _update_suspects(session, {}, written.merged, config, now)
    audit.record(
        session, actor, "intake.merge", "intake_suspect", str(keep), {"merged": gone, "reason": reason}
    )
    return keep


def _recompute(session: Session, suspect_ids: Sequence[int], config: IntakeConfig, now: datetime) -> None:
    """Rebuild suspects' features from their referrals (after a split)."""
    for suspect_id in suspect_ids:
        features = Features()
        rows = session.execute(
            select(
                IntakeReferral.document,
                IntakeReferral.force_area,
                IntakeReferral.council,
                IntakeReferral.incident_at,
                IntakeReferral.received_at,
            ).where(IntakeReferral.suspect_id == suspect_id)
        )
        for document, force, council, incident_at, received_at in rows:
            area = f"{force or ''}|{council or ''}" if force else None
            features.add(Features.of(referral_from_document(document), incident_at or received_at, area))
        row = session.get(IntakeSuspect, suspect_id)
        assert row is not None
        for key, value in _priority_values(row, features, config, now).items():
            setattr(row, key, value)
    session.flush()


def reprioritise(
    session: Session, actor: Actor, *, config: IntakeConfig | None = None, now: datetime | None = None
) -> int:
    """Re-score every open package as of now (recency and escalation change with time, weights with
    configuration). Returns the number of packages re-scored."""
    config = config or get_intake_config()
    now = now or utcnow()
    count = 0
    rows = session.scalars(select(IntakeSuspect).where(IntakeSuspect.state.in_(OPEN_STATES)))
    for row in rows:
        for key, value in _priority_values(row, Features.from_json(row.features), config, now).items():
            setattr(row, key, value)
        count += 1
    session.flush()
    audit.record(session, actor, "intake.reprioritise", "intake_suspect", "*", {"count": count})
    return count


def referral_from_document(document: dict[str, Any]) -> Referral:
    """A stored referral document back as a ``Referral`` (for features and exports)."""

    def when(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    d = dict(document)
    return Referral(
        source=d["source"],
        external_id=d["external_id"],
        received_at=when(d.get("received_at")),
        incident_type=d.get("incident_type"),
        incident_at=when(d.get("incident_at")),
        platform=d.get("platform"),
        reporter=d.get("reporter"),
        person_name=d.get("person_name"),
        emails=tuple(d.get("emails", ())),
        phones=tuple(d.get("phones", ())),
        accounts=tuple(Account(**a) for a in d.get("accounts", ())),
        ips=tuple(
            IpCapture(
                i["address"], when(i.get("at")), i.get("event"), i.get("port"), i.get("possible_proxy", False)
            )
            for i in d.get("ips", ())
        ),
        devices=tuple(Device(x["kind"], x["value"], when(x.get("at"))) for x in d.get("devices", ())),
        files=tuple(
            ReportedFile(
                **{
                    **f,
                    "annotations": tuple(f.get("annotations", ())),
                    "labels": tuple(f.get("labels", ())),
                    "uploaded_at": when(f.get("uploaded_at")),
                }
            )
            for f in d.get("files", ())
        ),
        locations=tuple(Location(**x) for x in d.get("locations", ())),
        victims=tuple(Victim(**v) for v in d.get("victims", ())),
        indicators=tuple(d.get("indicators", ())),
        escalation=d.get("escalation"),
        summary=d.get("summary"),
        extra=d.get("extra", {}),
    )
