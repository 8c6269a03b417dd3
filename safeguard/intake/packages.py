"""Suspect investigation packages: the view of everything about one suspect, search, assignment,
state and outcomes, deconfliction alerts.

States move forward: ``new`` -> ``assessed`` -> ``actioned`` -> ``closed`` (steps may be skipped; a closed
package may be reopened to ``assessed``). Outcomes (apprehended, charged, no further action, children
safeguarded) are recorded on actioned or closed packages. A closed package that receives a new referral
opens again as ``new`` with ``previous_packages`` counted (service.import_referrals).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from safeguard import audit
from safeguard.auth import Actor
from safeguard.intake.banking import bank_matches
from safeguard.intake.config import IntakeConfig, get_intake_config, get_intake_settings
from safeguard.intake.errors import (
    AlertNotFound,
    InvalidFilter,
    InvalidIdentifier,
    InvalidOutcome,
    InvalidTransition,
    ReferralNotFound,
    SuspectNotFound,
)
from safeguard.intake.identifiers import IdKind, guess_kinds, normalize_value
from safeguard.intake.linking.evidence import STRENGTH, Evidence, Rule, score
from safeguard.intake.models import (
    IntakeAlert,
    IntakeIdentifier,
    IntakeLink,
    IntakeMedia,
    IntakePending,
    IntakeReferral,
    IntakeSharedKey,
    IntakeSuspect,
)
from safeguard.intake.priority import TIER_ORDER, Features, Tier, prioritise
from safeguard.intake.states import OUTCOME_STATES, PACKAGE_STATES, TRANSITIONS, SuspectState
from safeguard.intake.store import chunked
from safeguard.intake.views import (
    EvidenceView,
    IdentifierView,
    LinkView,
    LocationView,
    MediaView,
    PackageView,
    PossibleLinkView,
    ReasonView,
    ReferralView,
    SearchHit,
    SearchResult,
    TimelineEvent,
)
from safeguard.store.base import utcnow

STATES = tuple(s.value for s in PACKAGE_STATES)
SEARCH_LIMIT = 200


def resolve(session: Session, suspect_id: int) -> tuple[IntakeSuspect, int | None]:
    """The suspect, following merges to the survivor; (suspect, id asked for when it was merged)."""
    suspect = session.get(IntakeSuspect, suspect_id)
    if suspect is None:
        raise SuspectNotFound(f"no suspect {suspect_id}")
    asked = None
    hops = 0
    while suspect.state is SuspectState.merged and suspect.merged_into is not None and hops < 100:
        asked = asked or suspect_id
        survivor = session.get(IntakeSuspect, suspect.merged_into)
        if survivor is None:
            break
        suspect, hops = survivor, hops + 1
    return suspect, asked


def package(
    session: Session, suspect_id: int, *, config: IntakeConfig | None = None, now: datetime | None = None
) -> PackageView:
    config = config or get_intake_config()
    now = now or utcnow()
    suspect, asked = resolve(session, suspect_id)
    sid = suspect.id
    referrals = list(
        session.scalars(
            select(IntakeReferral).where(IntakeReferral.suspect_id == sid).order_by(IntakeReferral.id)
        )
    )
    rids = [r.id for r in referrals]
    member = set(rids)
    identifiers = _identifier_summary(session, rids)
    media: list[IntakeMedia] = []
    for part1 in chunked(rids):
        media.extend(
            session.scalars(
                select(IntakeMedia).where(IntakeMedia.referral_id.in_(part1)).order_by(IntakeMedia.id)
            )
        )
    priority = prioritise(
        Features.from_json(suspect.features),
        config.priority,
        now,
        previous_packages=suspect.previous_packages,
        previously_charged=suspect.charged,
    )
    links = []
    for row in session.scalars(
        select(IntakeLink).where(IntakeLink.suspect_id == sid).order_by(IntakeLink.id)
    ):
        e = Evidence(
            Rule(row.rule), row.key, row.weight, row.referral_a, row.referral_b, row.detail, row.measure
        )
        links.append(
            LinkView(
                referral_a=row.referral_a,
                referral_b=row.referral_b,
                rule=row.rule,
                strength=STRENGTH[Rule(row.rule)].value,
                weight=row.weight,
                explanation=e.explanation,
                actor=row.actor,
                created_at=row.created_at,
                overruled=not (row.referral_a in member and row.referral_b in member),
            )
        )
    merged_from = list(session.scalars(select(IntakeSuspect.id).where(IntakeSuspect.merged_into == sid)))
    matches = bank_matches(session, media)
    alerts = list(
        session.scalars(
            select(IntakeAlert)
            .where(IntakeAlert.suspect_id == sid, IntakeAlert.acknowledged_at.is_(None))
            .order_by(IntakeAlert.id)
        )
    )
    return PackageView(
        suspect=suspect,
        redirected_from=asked,
        merged_from=merged_from,
        tier=priority.tier.value,
        score=priority.score,
        reasons=[ReasonView(r.factor, round(r.points, 2), r.text) for r in priority.reasons],
        referrals=referrals,
        identifiers=identifiers,
        media=[MediaView.of(m, matches.get(m.id)) for m in media],
        timeline=_timeline(suspect, referrals),
        locations=_locations(referrals),
        links=links,
        possible_links=_possible_links(session, sid, config),
        alerts=alerts,
    )


def _identifier_summary(session: Session, rids: list[int]) -> list[IdentifierView]:
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    keys: set[str] = set()
    for part2 in chunked(rids):
        for row in session.scalars(select(IntakeIdentifier).where(IntakeIdentifier.referral_id.in_(part2))):
            entry = grouped.setdefault(
                (row.kind, row.value),
                {
                    "kind": row.kind,
                    "value": row.value,
                    "key": row.key,
                    "platforms": set(),
                    "referrals": set(),
                    "first_seen": None,
                    "last_seen": None,
                    "linkable": row.linkable,
                    "note": row.note,
                },
            )
            entry["referrals"].add(row.referral_id)
            if row.platform:
                entry["platforms"].add(row.platform)
            if row.seen_at:
                entry["first_seen"] = min(filter(None, (entry["first_seen"], row.seen_at)))
                entry["last_seen"] = max(filter(None, (entry["last_seen"], row.seen_at)))
            keys.add(row.key)
    shared: dict[str, str] = {}
    for part3 in chunked(sorted(keys)):
        rows = session.execute(
            select(IntakeSharedKey.key, IntakeSharedKey.reason).where(IntakeSharedKey.key.in_(part3))
        )
        shared.update({key: reason for key, reason in rows})
    out = []
    for entry in grouped.values():
        key = entry.pop("key")
        if key in shared:
            entry["linkable"] = False
            entry["note"] = f"shared: {shared[key]}"
        entry["platforms"] = sorted(entry["platforms"])
        entry["referrals"] = sorted(entry["referrals"])
        out.append(IdentifierView(**entry))
    order = {kind.value: i for i, kind in enumerate(IdKind)}
    out.sort(key=lambda e: (order.get(e.kind, 99), e.value))
    return out


def _timeline(suspect: IntakeSuspect, referrals: list[IntakeReferral]) -> list[TimelineEvent]:
    events: list[TimelineEvent] = []
    for r in referrals:
        if r.incident_at:
            where = f" on {r.platform}" if r.platform else ""
            events.append(
                TimelineEvent(r.incident_at, "incident", f"{r.incident_type or 'incident'}{where}", r.id)
            )
        events.append(
            TimelineEvent(r.received_at, "referral", f"referral {r.source}/{r.external_id} received", r.id)
        )
    for at, kind, text in (
        (suspect.created_at, "package", "package created"),
        (
            suspect.assigned_at,
            "assigned",
            f"assigned to {suspect.assigned_to or '-'} ({suspect.assigned_force or '-'})",
        ),
        (suspect.assessed_at, "assessed", "assessed"),
        (suspect.actioned_at, "actioned", "actioned"),
        (suspect.apprehended_at, "apprehended", "suspect apprehended"),
        (suspect.charged_at, "charged", "suspect charged"),
        (suspect.no_further_action_at, "no_further_action", "no further action"),
        (suspect.safeguarded_at, "safeguarded", f"{suspect.children_safeguarded} children safeguarded"),
        (suspect.closed_at, "closed", "closed"),
    ):
        if at is not None:
            events.append(TimelineEvent(at, kind, text, None))
    events.sort(key=lambda e: e.at)
    return events


def _locations(referrals: list[IntakeReferral]) -> list[LocationView]:
    counts: dict[tuple[str | None, str | None], list[int]] = defaultdict(list)
    for r in referrals:
        if r.force_area:
            counts[(r.force_area, r.council)].append(r.id)
    return [
        LocationView(force, council, ids)
        for (force, council), ids in sorted(counts.items(), key=lambda kv: -len(kv[1]))
    ]


def _possible_links(session: Session, sid: int, config: IntakeConfig) -> list[PossibleLinkView]:
    rows = list(
        session.scalars(
            select(IntakePending).where(or_(IntakePending.suspect_a == sid, IntakePending.suspect_b == sid))
        )
    )
    by_other: dict[int, list[Evidence]] = defaultdict(list)
    for row in rows:
        other = row.suspect_b if row.suspect_a == sid else row.suspect_a
        by_other[other].append(
            Evidence(
                Rule(row.rule), row.key, row.weight, row.referral_a, row.referral_b, row.detail, row.measure
            )
        )
    keys = sorted({e.key for items in by_other.values() for e in items})
    shared: set[str] = set()
    for part4 in chunked(keys):
        shared.update(session.scalars(select(IntakeSharedKey.key).where(IntakeSharedKey.key.in_(part4))))
    out = []
    for other, evidence in by_other.items():
        out.append(
            PossibleLinkView(
                suspect_id=other,
                score=round(score(evidence, shared, config.linking), 2),
                threshold=config.linking.threshold,
                evidence=[
                    EvidenceView(
                        e.rule.value, e.explanation, e.weight, e.key not in shared, e.referral_a, e.referral_b
                    )
                    for e in evidence
                ],
            )
        )
    out.sort(key=lambda p: -p.score)
    return out


def list_packages(
    session: Session,
    *,
    state: str | None = None,
    tier: str | None = None,
    assigned_to: str | None = None,
    area: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[IntakeSuspect], int]:
    """Open packages most urgent first (tier, then score); filters narrow the list."""
    query = select(IntakeSuspect).where(IntakeSuspect.state != SuspectState.merged)
    if state:
        if state not in STATES:
            raise InvalidFilter(f"unknown state {state!r} (one of: {', '.join(STATES)})", field="state")
        query = query.where(IntakeSuspect.state == state)
    if tier:
        if tier not in Tier.__members__:
            raise InvalidFilter(
                f"unknown tier {tier!r} (one of: {', '.join(Tier.__members__)})", field="tier"
            )
        query = query.where(IntakeSuspect.tier == tier)
    if assigned_to:
        query = query.where(IntakeSuspect.assigned_to == assigned_to)
    if area:
        query = query.where(or_(IntakeSuspect.council == area, IntakeSuspect.force_area == area))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rank = case({t.value: order for t, order in TIER_ORDER.items()}, value=IntakeSuspect.tier, else_=9)
    rows = session.scalars(
        query.order_by(rank, IntakeSuspect.score.desc(), IntakeSuspect.id).limit(limit).offset(offset)
    )
    return list(rows), total


def search(session: Session, value: str, kind: str | None = None) -> SearchResult:
    """Referrals (and their suspects) carrying an identifier, normalised as imports normalise it.

    Without ``kind`` the value is tried as every kind it could be (an email, an IP, a hash, a phone, a
    name or id); ``referral`` finds a referral by its source id.
    """
    text = value.strip()
    if not text:
        raise InvalidIdentifier("empty search value", field="value")
    region = get_intake_settings().default_region
    if kind is not None and kind != "referral" and kind not in IdKind.__members__:
        raise InvalidIdentifier(f"unknown identifier kind {kind!r}", field="kind")
    kinds = (
        [IdKind(kind)] if kind and kind != "referral" else ([] if kind == "referral" else guess_kinds(text))
    )
    result = SearchResult(
        text, [k.value for k in kinds] + (["referral"] if kind in (None, "referral") else [])
    )
    wanted: list[tuple[str, str]] = []
    for candidate in kinds:
        try:
            wanted.append((candidate.value, normalize_value(candidate, text, region)))
        except InvalidIdentifier:
            if kind is not None:
                raise
    query = (
        select(
            IntakeIdentifier.kind,
            IntakeIdentifier.value,
            IntakeIdentifier.seen_at,
            IntakeReferral,
            IntakeSuspect,
        )
        .join(IntakeReferral, IntakeReferral.id == IntakeIdentifier.referral_id)
        .outerjoin(IntakeSuspect, IntakeSuspect.id == IntakeReferral.suspect_id)
    )
    for kind_value, normal in wanted:
        rows = session.execute(
            query.where(IntakeIdentifier.kind == kind_value, IntakeIdentifier.value == normal).limit(
                SEARCH_LIMIT
            )
        )
        for k, v, seen, referral, suspect in rows:
            result.hits.append(_hit(k, v, referral, suspect, seen))
    if kind in (None, "referral"):
        for referral in session.scalars(
            select(IntakeReferral).where(IntakeReferral.external_id == text).limit(SEARCH_LIMIT)
        ):
            owner = session.get(IntakeSuspect, referral.suspect_id) if referral.suspect_id else None
            result.hits.append(_hit("referral", referral.external_id, referral, owner, None))
    result.hits = result.hits[:SEARCH_LIMIT]
    return result


def _hit(
    kind: str, value: str, referral: IntakeReferral, suspect: IntakeSuspect | None, seen: datetime | None
) -> SearchHit:
    return SearchHit(
        kind=kind,
        value=value,
        referral_id=referral.id,
        source=referral.source,
        external_id=referral.external_id,
        suspect_id=suspect.id if suspect else None,
        tier=suspect.tier if suspect else None,
        state=suspect.state if suspect else None,
        assigned_to=suspect.assigned_to if suspect else None,
        seen_at=seen,
    )


def get_referral(session: Session, referral_id: int) -> ReferralView:
    referral = session.get(IntakeReferral, referral_id)
    if referral is None:
        raise ReferralNotFound(f"no referral {referral_id}")
    identifiers = [
        IdentifierView(
            kind=i.kind,
            value=i.value,
            platforms=[i.platform] if i.platform else [],
            referrals=[referral.id],
            first_seen=i.seen_at,
            last_seen=i.seen_at,
            linkable=i.linkable,
            note=i.note,
        )
        for i in session.scalars(select(IntakeIdentifier).where(IntakeIdentifier.referral_id == referral_id))
    ]
    media = session.scalars(select(IntakeMedia).where(IntakeMedia.referral_id == referral_id))
    return ReferralView(
        referral, referral.document, list(referral.warnings), identifiers, [MediaView.of(m) for m in media]
    )


# --- changing a package ---------------------------------------------------------------------------------


def _open(session: Session, suspect_id: int) -> IntakeSuspect:
    suspect = session.get(IntakeSuspect, suspect_id, with_for_update=True)
    if suspect is None:
        raise SuspectNotFound(f"no suspect {suspect_id}")
    if suspect.state is SuspectState.merged:
        raise SuspectNotFound(f"suspect {suspect_id} was merged into suspect {suspect.merged_into}")
    return suspect


def assign(
    session: Session, actor: Actor, suspect_id: int, *, officer: str | None, force: str | None
) -> IntakeSuspect:
    """Assign a package to an officer and/or force (both None: unassign). New referrals that attach to an
    assigned suspect alert the officer."""
    suspect = _open(session, suspect_id)
    before = (suspect.assigned_to, suspect.assigned_force)
    now = utcnow()
    suspect.assigned_to = officer or None
    suspect.assigned_force = force or None
    suspect.assigned_at = now if (officer or force) else None
    suspect.updated_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "intake.assign",
        "intake_suspect",
        str(suspect.id),
        {"from": before, "to": (suspect.assigned_to, suspect.assigned_force)},
    )
    return suspect


def set_state(session: Session, actor: Actor, suspect_id: int, name: str) -> IntakeSuspect:
    suspect = _open(session, suspect_id)
    if name not in STATES:
        raise InvalidTransition(f"unknown state {name!r} (one of: {', '.join(STATES)})", field="state")
    state = SuspectState(name)
    if state == suspect.state:
        return suspect
    if state not in TRANSITIONS[suspect.state]:
        allowed = ", ".join(sorted(TRANSITIONS[suspect.state]))
        raise InvalidTransition(
            f"a {suspect.state} package can move to: {allowed}; not {state}", field="state"
        )
    now = utcnow()
    before = suspect.state
    suspect.state = state
    stamp = {
        SuspectState.assessed: "assessed_at",
        SuspectState.actioned: "actioned_at",
        SuspectState.closed: "closed_at",
    }.get(state)
    if stamp:
        setattr(suspect, stamp, now)
    if before is SuspectState.closed:
        suspect.closed_at = None  # reopened
    suspect.updated_at = now
    session.flush()
    audit.record(
        session, actor, "intake.state", "intake_suspect", str(suspect.id), {"from": before, "to": state}
    )
    return suspect


def record_outcome(
    session: Session,
    actor: Actor,
    suspect_id: int,
    *,
    apprehended: bool | None = None,
    charged: bool | None = None,
    no_further_action: bool | None = None,
    children_safeguarded: int | None = None,
    notes: str | None = None,
) -> IntakeSuspect:
    suspect = _open(session, suspect_id)
    if suspect.state not in OUTCOME_STATES:
        raise InvalidTransition(
            f"outcomes are recorded on actioned or closed packages; suspect {suspect.id} is {suspect.state}",
            field="state",
        )
    will_charge = suspect.charged if charged is None else charged
    will_nfa = suspect.no_further_action if no_further_action is None else no_further_action
    if will_charge and will_nfa:
        raise InvalidOutcome(
            "a package cannot be both charged and no further action", field="no_further_action"
        )
    if children_safeguarded is not None and children_safeguarded < 0:
        raise InvalidOutcome("children_safeguarded cannot be negative", field="children_safeguarded")
    now = utcnow()
    change: dict[str, Any] = {}
    for name, value in (
        ("apprehended", apprehended),
        ("charged", charged),
        ("no_further_action", no_further_action),
    ):
        if value is not None and value != getattr(suspect, name):
            setattr(suspect, name, value)
            setattr(suspect, f"{name}_at", now if value else None)
            change[name] = value
    if children_safeguarded is not None and children_safeguarded != suspect.children_safeguarded:
        suspect.children_safeguarded = children_safeguarded
        suspect.safeguarded_at = now if children_safeguarded else None
        change["children_safeguarded"] = children_safeguarded
    if notes is not None:
        suspect.outcome_notes = notes
        change["notes"] = notes
    suspect.updated_at = now
    session.flush()
    audit.record(session, actor, "intake.outcome", "intake_suspect", str(suspect.id), change)
    return suspect


def alerts(
    session: Session, *, owner: str | None = None, include_acknowledged: bool = False, limit: int = 100
) -> list[IntakeAlert]:
    query = select(IntakeAlert)
    if owner:
        query = query.where(IntakeAlert.owner == owner)
    if not include_acknowledged:
        query = query.where(IntakeAlert.acknowledged_at.is_(None))
    return list(session.scalars(query.order_by(IntakeAlert.id.desc()).limit(limit)))


def acknowledge(session: Session, actor: Actor, alert_id: int) -> IntakeAlert:
    alert = session.get(IntakeAlert, alert_id)
    if alert is None:
        raise AlertNotFound(f"no alert {alert_id}")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = utcnow()
        alert.acknowledged_by = actor.id
        session.flush()
        audit.record(session, actor, "intake.alert.ack", "intake_alert", str(alert.id), {})
    return alert
