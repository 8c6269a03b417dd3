"""The delivery outbox: events in, deliveries out; claiming due deliveries; results; dead letters.

``dispatch`` reads review events not yet dispatched, in order, and writes one delivery per active endpoint
of the event's integrator that subscribed to its type - in one transaction, so an event is never
dispatched twice or lost. Deliveries of one case to one endpoint go out in event order: a delivery is due
only when no earlier delivery of the same ``ordering_key`` is still pending (a dead-lettered one does not
hold the rest back; receivers can order by the ``sequence`` field).

A worker claims due deliveries with a lease (``SKIP LOCKED`` on PostgreSQL, and a conditional update on
both), at most a few per endpoint across all workers, sends them outside any transaction, then records the
result guarded by its lease token. If it dies mid-send, the lease expires
and another worker sends the same body with the same idempotency key: at-least-once delivery, exactly-once
effect for a receiver that honours the key.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from safeguard import audit
from safeguard.actions.config import WebhookSettings
from safeguard.actions.errors import DeliveryNotFound, EndpointInactive, NotDeadLettered
from safeguard.actions.models import WebhookDelivery, WebhookEndpoint
from safeguard.auth import Actor, Role
from safeguard.auth.identity import refusal
from safeguard.review.common import who
from safeguard.review.models import ReviewEvent
from safeguard.store.base import utcnow

DISPATCH_BATCH = 500


def envelope(event: ReviewEvent) -> str:
    """The JSON body receivers get (the exact bytes are signed and stored, the same on every attempt)."""
    return json.dumps(
        {
            "id": event.event_id,
            "type": event.type,
            "sequence": event.id,
            "created_at": event.created_at.isoformat(),
            "data": event.payload,
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def dispatch(session: Session, *, limit: int = DISPATCH_BATCH) -> int:
    """Fan undispatched events out to deliveries; returns how many events were dispatched.

    Rows are locked without SKIP LOCKED on purpose: a second dispatcher waits for the first rather than
    overtaking it, which keeps delivery order equal to event order."""
    events = list(
        session.scalars(
            select(ReviewEvent)
            .where(ReviewEvent.dispatched_at.is_(None))
            .order_by(ReviewEvent.id)
            .limit(limit)
            .with_for_update()
        )
    )
    if not events:
        return 0
    owners = {e.owner for e in events}
    endpoints = list(
        session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.owner.in_(owners), WebhookEndpoint.active.is_(True))
        )
    )
    now = utcnow()
    for event in events:
        body = None
        for endpoint in endpoints:
            if endpoint.owner != event.owner or event.type not in endpoint.events:
                continue
            body = body or envelope(event)
            session.add(
                WebhookDelivery(
                    endpoint_id=endpoint.id,
                    event_id=event.event_id,
                    event_seq=event.id,
                    event_type=event.type,
                    ordering_key=f"case:{event.case_id}",
                    body=body,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    retry_started_at=now,
                    created_at=now,
                )
            )
        event.dispatched_at = now
    session.flush()
    return len(events)


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: int
    lease_token: str
    url: str
    secret: str
    body: str
    event_id: str
    event_type: str
    attempt: int
    endpoint_active: bool


def _due_ids(now: datetime, per_endpoint: int) -> Select[tuple[int]]:
    """Ids of due deliveries, at most ``per_endpoint`` in flight per endpoint counting the leases every
    worker holds, so an endpoint with a backlog (or one that is slow) cannot take every slot."""
    D = WebhookDelivery
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        earlier.endpoint_id == D.endpoint_id,
        earlier.ordering_key == D.ordering_key,
        earlier.event_seq < D.event_seq,
        earlier.status == "pending",
    )
    in_flight = (
        select(D.endpoint_id.label("endpoint_id"), func.count().label("n"))
        .where(D.status == "pending", D.lease_until > now)
        .group_by(D.endpoint_id)
        .subquery()
    )
    rank = func.row_number().over(partition_by=D.endpoint_id, order_by=(D.next_attempt_at, D.id))
    ranked = (
        select(D.id.label("id"), D.endpoint_id.label("endpoint_id"), rank.label("rank"))
        .where(D.status == "pending", D.next_attempt_at <= now, _lease_free(D, now), ~blocked)
        .subquery()
    )
    return (
        select(ranked.c.id)
        .outerjoin(in_flight, in_flight.c.endpoint_id == ranked.c.endpoint_id)
        .where(ranked.c.rank + func.coalesce(in_flight.c.n, 0) <= per_endpoint)
    )


def _lease_free(D: type[WebhookDelivery], now: datetime) -> ColumnElement[bool]:
    return or_(D.lease_until.is_(None), D.lease_until <= now)


def claim_due(
    session: Session, *, limit: int, lease_seconds: float, per_endpoint: int = 1_000_000
) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries. Each lease is taken by a conditional UPDATE (pending, lease
    free) whose row count is checked, so two workers never hold one delivery at once - on PostgreSQL the
    candidates are also locked ``FOR UPDATE SKIP LOCKED``, on SQLite the claim runs in a write
    transaction."""
    now = utcnow()
    D = WebhookDelivery
    query = (
        select(D.id, D.endpoint_id, D.body, D.event_id, D.event_type, D.attempts)
        .where(D.id.in_(_due_ids(now, per_endpoint)), D.status == "pending", _lease_free(D, now))
        .order_by(D.next_attempt_at, D.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=D)
    rows = list(session.execute(query))
    if not rows:
        return []
    endpoints = {
        e.id: e
        for e in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.id.in_({r[1] for r in rows})))
    }
    until = now + timedelta(seconds=lease_seconds)
    claimed = []
    for delivery_id, endpoint_id, body, event_id, event_type, attempts in rows:
        token = uuid.uuid4().hex
        taken = session.execute(
            update(D)
            .where(D.id == delivery_id, D.status == "pending", _lease_free(D, now))
            .values(lease_token=token, lease_until=until, attempts=D.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another worker leased it between our read and our write
        endpoint = endpoints[endpoint_id]
        claimed.append(
            Claimed(
                delivery_id,
                token,
                endpoint.url,
                endpoint.secret,
                body,
                event_id,
                event_type,
                attempts + 1,
                endpoint.active,
            )
        )
    return claimed


def backoff_seconds(attempt: int, settings: WebhookSettings, rng: random.Random | None = None) -> float:
    """Exponential backoff with "equal jitter": half the delay fixed, half random, so retries of many
    deliveries that failed together spread out instead of hammering the receiver in step."""
    growth = 2.0 ** min(max(0, attempt - 1), 60)
    delay: float = min(settings.backoff_max_seconds, settings.backoff_base_seconds * growth)
    jitter: float = (rng or random.Random()).uniform(0, delay / 2)
    return delay / 2 + jitter


def record_result(
    session: Session,
    claimed: Claimed,
    *,
    ok: bool,
    status: int | None,
    error: str | None,
    settings: WebhookSettings,
    permanent: bool = False,
) -> str:
    """Store the outcome of one attempt; returns the delivery's status afterwards. A result from a worker
    whose lease was taken over is ignored (the newer attempt owns the row)."""
    row = session.get(WebhookDelivery, claimed.delivery_id, with_for_update=True)
    if row is None or row.status != "pending" or row.lease_token != claimed.lease_token:
        return row.status if row is not None else "gone"
    now = utcnow()
    row.last_status = status
    row.last_error = (error or "")[:500] or None
    row.lease_until = None
    row.lease_token = None
    if ok:
        row.status = "delivered"
        row.delivered_at = now
    elif permanent or now >= row.retry_started_at + timedelta(seconds=settings.retry_window_seconds):
        row.status = "dead"
    else:
        row.next_attempt_at = now + timedelta(seconds=backoff_seconds(row.attempts, settings))
    return row.status


def list_deliveries(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    endpoint_id: int | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).where(WebhookDelivery.id > after)
    if status:
        query = query.where(WebhookDelivery.status == status)
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    if actor.role is not Role.admin:
        mine = select(WebhookEndpoint.id).where(WebhookEndpoint.owner == who(actor))
        query = query.where(WebhookDelivery.endpoint_id.in_(mine))
    return list(session.scalars(query.order_by(WebhookDelivery.id).limit(limit)))


def get_delivery(session: Session, actor: Actor, delivery_id: int) -> WebhookDelivery:
    row = session.get(WebhookDelivery, delivery_id)
    if row is None:
        raise DeliveryNotFound(f"no delivery {delivery_id}")
    if actor.role is not Role.admin:
        endpoint = session.get(WebhookEndpoint, row.endpoint_id)
        if endpoint is None or endpoint.owner != who(actor):  # another integrator's: missing, audited
            owner = endpoint.owner if endpoint is not None else "unknown"
            raise DeliveryNotFound(f"no delivery {delivery_id}").refusing(
                refusal(actor, "webhook_delivery", str(delivery_id), owner)
            )
    return row


def _refuse_inactive(session: Session, endpoint_id: int) -> None:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is not None and not endpoint.active:
        raise EndpointInactive(
            f"webhook endpoint {endpoint_id} is deactivated; reactivate it before replaying its deliveries"
        )


def _requeue(row: WebhookDelivery, now: datetime) -> None:
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = now
    row.retry_started_at = now
    row.lease_until = None
    row.lease_token = None


def replay(session: Session, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send a dead-lettered delivery again: same body, same idempotency key, a fresh retry window."""
    row = get_delivery(session, actor, delivery_id)
    if row.status != "dead":
        raise NotDeadLettered(f"delivery {delivery_id} is {row.status}, not dead-lettered")
    _refuse_inactive(session, row.endpoint_id)
    _requeue(row, utcnow())
    audit.record(session, actor, "webhook.replay", "webhook_delivery", str(row.id))
    return row


def replay_dead(session: Session, actor: Actor, *, endpoint_id: int | None = None) -> int:
    """Replay every dead-lettered delivery (of one endpoint); returns how many."""
    if endpoint_id is not None:
        _refuse_inactive(session, endpoint_id)
    rows = list_deliveries(session, actor, status="dead", endpoint_id=endpoint_id, limit=1_000_000)
    # Across all endpoints, a deactivated one's deliveries stay dead-lettered rather than failing the call.
    inactive = set(session.scalars(select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(False))))
    rows = [r for r in rows if r.endpoint_id not in inactive]
    now = utcnow()
    for row in rows:
        _requeue(row, now)
    if rows:
        audit.record(
            session,
            actor,
            "webhook.replay_dead",
            "webhook_endpoint",
            str(endpoint_id or "*"),
            {"deliveries": [r.id for r in rows]},
        )
    return len(rows)


def counts(session: Session) -> dict[str, int]:

    return {
        s: n
        for s, n in session.execute(
            select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
        )
    }
