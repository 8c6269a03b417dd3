"""The database side of linking: load the neighbourhood of new referrals, and write the linker's changes back.

``SqlLoader`` answers the linking state's questions with indexed queries (postings by identifier key,
shared keys, pending evidence, owners and constraints of suspects, PDQ chunk probes). ``write_back`` turns
what the state changed into rows: suspects for new clusters, referrals moved by merges and splits, the
evidence of each link, pending evidence, shared keys, constraints, PDQ chunks and alerts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, delete, func, or_, select, tuple_, update
from sqlalchemy.orm import Session

from safeguard.intake.linking.engine import Alert
from safeguard.intake.linking.evidence import Evidence, Rule
from safeguard.intake.linking.media_index import CHUNKS, MediaIndex, chunk_parts, probe_parts
from safeguard.intake.linking.state import ClusterInfo, LinkState
from safeguard.intake.models import (
    IntakeAlert,
    IntakeIdentifier,
    IntakeLink,
    IntakeLinkBlock,
    IntakeMedia,
    IntakePdq,
    IntakePending,
    IntakeReferral,
    IntakeSharedKey,
    IntakeSuspect,
)
from safeguard.store.base import utcnow
from safeguard.store.bulk import insert_dicts, update_by_id

CHUNK = 900  # bound parameters per IN list (well inside SQLite's and PostgreSQL's limits)
T = TypeVar("T")


def table(model: type[Any]) -> Table:
    """A mapped class's table, for Core bulk statements (executemany without the ORM's per-row work)."""
    return cast(Table, model.__table__)


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _evidence(row: Any) -> Evidence:
    return Evidence(
        Rule(row.rule), row.key, row.weight, row.referral_a, row.referral_b, row.detail, row.measure
    )


class SqlLoader:
    def __init__(self, session: Session, *, empty: bool = False) -> None:
        """``empty``: nothing was stored before this import (a first bulk load skips every look-up)."""
        self.session = session
        self.empty = empty
        self._stored = MediaIndex()
        self._stored_rows: list[tuple[int, int, str]] = []  # position -> (referral, suspect, pdq)
        self._prepared = False

    def postings(self, keys: Sequence[str]) -> dict[str, list[tuple[int, int, float | None]]]:
        found: dict[str, list[tuple[int, int, float | None]]] = {}
        if self.empty:
            return found
        for part1 in chunked(list(keys)):
            rows = self.session.execute(
                select(
                    IntakeIdentifier.key,
                    IntakeIdentifier.referral_id,
                    IntakeReferral.suspect_id,
                    IntakeIdentifier.seen_at,
                )
                .join(IntakeReferral, IntakeReferral.id == IntakeIdentifier.referral_id)
                .where(IntakeIdentifier.key.in_(part1), IntakeIdentifier.linkable.is_(True))
            )
            for key, referral, suspect, seen in rows:
                if suspect is not None:
                    found.setdefault(key, []).append((referral, suspect, seen.timestamp() if seen else None))
        return found

    def shared(self, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        if self.empty:
            return found
        for part2 in chunked(list(keys)):
            rows = self.session.execute(
                select(IntakeSharedKey.key, IntakeSharedKey.reason).where(IntakeSharedKey.key.in_(part2))
            )
            found.update({key: reason for key, reason in rows})
        return found

    def clusters(self, cluster_ids: Sequence[int]) -> dict[int, ClusterInfo]:
        ids = [c for c in cluster_ids if c > 0]
        infos = {c: ClusterInfo() for c in ids}
        for part3 in chunked(ids):
            for suspect_id, owner in self.session.execute(
                select(IntakeSuspect.id, IntakeSuspect.assigned_to).where(IntakeSuspect.id.in_(part3))
            ):
                infos[suspect_id].owner = owner
            pending = self.session.execute(
                select(IntakePending).where(
                    or_(IntakePending.suspect_a.in_(part3), IntakePending.suspect_b.in_(part3))
                )
            ).scalars()
            for row in pending:
                for here, there in ((row.suspect_a, row.suspect_b), (row.suspect_b, row.suspect_a)):
                    if here in infos:
                        infos[here].pairs.setdefault(there, {})[row.key] = _evidence(row)
            side_a = IntakeReferral.__table__.alias("side_a")
            side_b = IntakeReferral.__table__.alias("side_b")
            blocks = self.session.execute(
                select(
                    IntakeLinkBlock.referral_a,
                    IntakeLinkBlock.referral_b,
                    side_a.c.suspect_id,
                    side_b.c.suspect_id,
                )
                .join(side_a, side_a.c.id == IntakeLinkBlock.referral_a)
                .join(side_b, side_b.c.id == IntakeLinkBlock.referral_b)
                .where(or_(side_a.c.suspect_id.in_(part3), side_b.c.suspect_id.in_(part3)))
            )
            for referral_a, referral_b, suspect_a, suspect_b in blocks:
                if suspect_a in infos:
                    infos[suspect_a].block_partners.add(referral_b)
                if suspect_b in infos:
                    infos[suspect_b].block_partners.add(referral_a)
        return infos

    def cluster_of(self, referral_ids: Sequence[int]) -> dict[int, int]:
        found: dict[int, int] = {}
        for part4 in chunked([r for r in referral_ids if r > 0]):
            rows = self.session.execute(
                select(IntakeReferral.id, IntakeReferral.suspect_id).where(IntakeReferral.id.in_(part4))
            )
            found.update({rid: sid for rid, sid in rows if sid is not None})
        return found

    def members(self, cluster_id: int) -> list[int]:
        if cluster_id <= 0:
            return []
        return list(
            self.session.scalars(
                select(IntakeReferral.id)
                .where(IntakeReferral.suspect_id == cluster_id)
                .order_by(IntakeReferral.id)
            )
        )

    # --- PDQ -----------------------------------------------------------------------------------------

    def prepare_pdq(self, values: Sequence[str], radius: int) -> None:
        """Load the stored media a batch's PDQ hashes may match, once, into an in-memory index.

        Small batches probe the 16 indexed chunk columns for exactly their chunk values; a batch large
        against the store reads every linkable stored hash instead (one scan beats many probes).
        """
        self._prepared = True
        if not values or self.empty:
            return
        # The highest media id bounds the number of stored hashes (COUNT(*) would scan the table).
        stored = self.session.scalar(select(func.max(IntakePdq.media_id))) or 0
        if stored == 0:
            return
        base = select(
            IntakeMedia.id, IntakeMedia.referral_id, IntakeReferral.suspect_id, IntakeMedia.pdq
        ).join(IntakeReferral, IntakeReferral.id == IntakeMedia.referral_id)
        probes: list[set[int]] = [set() for _ in range(CHUNKS)]
        for value in values:
            for position, parts in enumerate(probe_parts(int(value, 16), radius)):
                probes[position].update(parts)
        seen: set[int] = set()
        if sum(len(p) for p in probes) >= stored // 4:
            everything = base.join(IntakePdq, IntakePdq.media_id == IntakeMedia.id)
            self._add_stored(self.session.execute(everything), seen)
            return
        pdq = table(IntakePdq)
        if sum(len(p) for p in probes) <= CHUNK:
            # One query: each chunk column has its own index, and the database ORs the index look-ups.
            either = or_(*(pdq.c[f"c{n}"].in_(sorted(p)) for n, p in enumerate(probes)))
            ids = select(pdq.c.media_id).where(either)
            self._add_stored(self.session.execute(base.where(IntakeMedia.id.in_(ids))), seen)
            return
        for position, wanted in enumerate(probes):
            column = pdq.c[f"c{position}"]
            for part in chunked(sorted(wanted)):
                ids = select(pdq.c.media_id).where(column.in_(list(part)))
                self._add_stored(self.session.execute(base.where(IntakeMedia.id.in_(ids))), seen)

    def _add_stored(self, rows: Iterable[Any], seen: set[int]) -> None:
        for media_id, referral_id, suspect_id, pdq in rows:
            if media_id in seen or pdq is None or suspect_id is None:
                continue
            seen.add(media_id)
            self._stored.add(int(pdq, 16))
            self._stored_rows.append((referral_id, suspect_id, pdq))

    def pdq_near(self, value: str, radius: int) -> list[tuple[int, int, str, int]]:
        if not self._prepared:
            self.prepare_pdq([value], radius)
        found = []
        for position, distance in self._stored.near(int(value, 16), radius):
            referral_id, suspect_id, stored = self._stored_rows[position]
            found.append((referral_id, suspect_id, stored, distance))
        return found


@dataclass(slots=True)
class WriteResult:
    """How the state's cluster ids map onto suspect ids, and what was written."""

    suspect_of_cluster: dict[int, int] = field(default_factory=dict)
    created: list[int] = field(default_factory=list)
    merged: dict[int, int] = field(default_factory=dict)  # existing suspect -> suspect it merged into
    links: int = 0
    alerts: int = 0


def write_back(
    session: Session,
    state: LinkState,
    *,
    new_referrals: Sequence[int],
    media_of: dict[tuple[int, str], list[int]],
    alerts: Sequence[Alert],
    actor: str,
    reasons: dict[int, str] | None = None,
) -> WriteResult:
    """Persist what linking changed (see the module docstring). ``media_of``: (referral, pdq) -> media ids.

    One function per phase, in this order: later phases name suspects by the ids the first one creates.
    """
    w = _Write(session, state, utcnow(), WriteResult())
    _insert_suspects(w)
    _move_referrals(w, new_referrals)
    _merge_existing(w)
    _insert_links(w)
    _rewrite_pending(w)
    _mark_shared(w)
    _apply_blocks(w, actor, reasons or {})
    _insert_pdq_chunks(w, media_of)
    _insert_alerts(w, alerts)
    return w.result


@dataclass(slots=True)
class _Write:
    session: Session
    state: LinkState
    now: datetime
    result: WriteResult

    def real(self, cluster: int) -> int:
        """The suspect id of a cluster: its own when it existed, the inserted row's when it is new."""
        root = self.state.find(cluster)
        return root if root > 0 else self.result.suspect_of_cluster[root]


def _insert_suspects(w: _Write) -> None:
    """One suspect row per new cluster still standing, inserted together."""
    roots = [c for c in w.state.created if c < 0 and w.state.find(c) == c]
    suspects = table(IntakeSuspect)
    for batch in chunked(roots, 500):
        ids = w.session.scalars(
            suspects.insert().returning(suspects.c.id, sort_by_parameter_order=True),
            [{"state": "new", "created_at": w.now, "updated_at": w.now} for _ in batch],
        ).all()
        w.result.suspect_of_cluster.update(zip(batch, ids, strict=True))
        w.result.created.extend(ids)


def _move_referrals(w: _Write, new_referrals: Sequence[int]) -> None:
    """New referrals, and referrals a split moved, point at their suspect."""
    moves = {rid: w.real(w.state.cluster(rid)) for rid in new_referrals}
    moves.update({rid: w.real(cluster) for rid, cluster in w.state.reassigned.items()})
    update_by_id(w.session, table(IntakeReferral), [{"id": r, "suspect_id": s} for r, s in moves.items()])


def _merge_existing(w: _Write) -> None:
    """Existing suspects merged into others: their referrals, links and alerts follow them."""
    session = w.session
    for gone in (g for g in w.state.merged if g > 0):
        survivor = w.result.merged[gone] = w.real(gone)
        for model in (IntakeReferral, IntakeLink, IntakeAlert):
            session.execute(update(model).where(model.suspect_id == gone).values(suspect_id=survivor))
        session.execute(
            update(IntakeSuspect)
            .where(IntakeSuspect.id == gone)
            .values(state="merged", merged_into=survivor, updated_at=w.now)
        )
    # Suspects merged earlier into one merged now point at the final survivor.
    for gone, survivor in w.result.merged.items():
        session.execute(
            update(IntakeSuspect).where(IntakeSuspect.merged_into == gone).values(merged_into=survivor)
        )


def _evidence_columns(e: Evidence) -> dict[str, Any]:
    return {
        "referral_a": e.referral_a,
        "referral_b": e.referral_b,
        "rule": e.rule.value,
        "key": e.key,
        "weight": e.weight,
        "detail": e.detail,
        "measure": e.measure,
    }


def _insert_links(w: _Write) -> None:
    """The evidence behind each link made here."""
    rows = [
        {"suspect_id": w.real(cluster), **_evidence_columns(e), "actor": record.actor, "created_at": w.now}
        for cluster, record in w.state.new_links
        for e in record.evidence
    ]
    insert_dicts(w.session, table(IntakeLink), rows)
    w.result.links = len(rows)


def _rewrite_pending(w: _Write) -> None:
    """Pending evidence: rewrite every pair that changed; drop what merged-away suspects had."""
    state, session = w.state, w.session
    gone_existing = [g for g in state.merged if g > 0]
    for batch in chunked(gone_existing):
        session.execute(
            delete(IntakePending).where(
                or_(IntakePending.suspect_a.in_(batch), IntakePending.suspect_b.in_(batch))
            )
        )
    rows: list[dict[str, Any]] = []
    done: set[tuple[int, int]] = set()
    stale: set[tuple[int, int]] = set()  # pairs of suspects that existed before: rows may be stored
    for a, b in state.dirty_pairs:
        if a > 0 and b > 0:
            stale.add((a, b))
        root_a, root_b = state.find(a), state.find(b)
        if root_a == root_b:
            continue
        if root_a > 0 and root_b > 0:
            stale.add((min(root_a, root_b), max(root_a, root_b)))
        suspect_a, suspect_b = sorted((w.real(root_a), w.real(root_b)))
        if (suspect_a, suspect_b) in done:
            continue
        done.add((suspect_a, suspect_b))
        rows.extend(
            {"suspect_a": suspect_a, "suspect_b": suspect_b, **_evidence_columns(e)}
            for e in state.pair_evidence(root_a, root_b).values()
        )
    if stale:
        pair = tuple_(IntakePending.suspect_a, IntakePending.suspect_b)
        both_ways = [p for a, b in stale for p in ((a, b), (b, a))]
        for pairs in chunked(both_ways, 400):
            session.execute(delete(IntakePending).where(pair.in_(list(pairs))))
    insert_dicts(session, table(IntakePending), rows)


def _mark_shared(w: _Write) -> None:
    """Identifiers found to be shared (by households, carrier NAT pools...), each recorded once."""
    if not w.state.new_shared:
        return
    known: set[str] = set()
    for batch in chunked(list(w.state.new_shared)):
        known.update(w.session.scalars(select(IntakeSharedKey.key).where(IntakeSharedKey.key.in_(batch))))
    rows = [
        {"key": k, "reason": r, "marked_at": w.now} for k, r in w.state.new_shared.items() if k not in known
    ]
    insert_dicts(w.session, table(IntakeSharedKey), rows, batch=500)


def _apply_blocks(w: _Write, actor: str, reasons: dict[int, str]) -> None:
    """Analysts' constraints: new "never link" blocks, and blocks a merge made moot removed."""
    for referral_a, referral_b in w.state.new_blocks:
        reason = reasons.get(referral_b, "")
        w.session.add(
            IntakeLinkBlock(referral_a=referral_a, referral_b=referral_b, created_by=actor, reason=reason)
        )
    if not w.state.removed_blocks:
        return
    side_a = IntakeReferral.__table__.alias("side_a")
    side_b = IntakeReferral.__table__.alias("side_b")
    same = (
        select(IntakeLinkBlock.id)
        .join(side_a, side_a.c.id == IntakeLinkBlock.referral_a)
        .join(side_b, side_b.c.id == IntakeLinkBlock.referral_b)
        .where(side_a.c.suspect_id == side_b.c.suspect_id)
    )
    w.session.execute(delete(IntakeLinkBlock).where(IntakeLinkBlock.id.in_(list(w.session.scalars(same)))))


def _insert_pdq_chunks(w: _Write, media_of: dict[tuple[int, str], list[int]]) -> None:
    """PDQ chunks of linkable media (viral copies get none: they never link)."""
    rows = [
        {"media_id": media_id, **{f"c{n}": part for n, part in enumerate(chunk_parts(int(value, 16)))}}
        for referral_id, value in w.state.new_pdqs
        for media_id in media_of.get((referral_id, value), [])
    ]
    insert_dicts(w.session, table(IntakePdq), rows)


def _insert_alerts(w: _Write, alerts: Sequence[Alert]) -> None:
    def named(alert: Alert) -> str:
        # The owner's suspect by its final id; the other by the id its owner knows it by.
        return alert.message(lambda c: w.real(c) if c < 0 or c == alert.cluster else c)

    rows = [
        {
            "suspect_id": w.real(a.cluster),
            "owner": a.owner,
            "kind": a.kind,
            "message": named(a),
            "referral_id": a.referral_id,
            "created_at": w.now,
        }
        for a in alerts
    ]
    insert_dicts(w.session, table(IntakeAlert), rows)
    w.result.alerts = len(rows)


def existing_digests(
    session: Session, markers: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str]]:
    """(source, external id) -> (referral id, digest) for referrals already imported."""
    found: dict[tuple[str, str], tuple[int, str]] = {}
    for batch in chunked(list(markers), 400):
        rows = session.execute(
            select(
                IntakeReferral.source, IntakeReferral.external_id, IntakeReferral.id, IntakeReferral.digest
            ).where(tuple_(IntakeReferral.source, IntakeReferral.external_id).in_(list(batch)))
        )
        found.update({(s, e): (i, d) for s, e, i, d in rows})
    return found
