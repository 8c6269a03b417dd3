"""Webhook endpoints per integrator: create (the secret is shown once), list, rotate the secret, delete."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard import audit
from safeguard.actions import ssrf
from safeguard.actions.config import WebhookSettings, get_webhook_settings
from safeguard.actions.errors import EndpointNotFound
from safeguard.actions.models import WebhookEndpoint
from safeguard.auth import Actor, Role
from safeguard.auth.identity import refusal
from safeguard.errors import InvalidInput
from safeguard.review.common import who
from safeguard.review.events import EVENT_TYPES
from safeguard.store.base import utcnow


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def create_endpoint(
    session: Session,
    actor: Actor,
    *,
    url: str,
    events: Sequence[str],
    description: str = "",
    owner: str | None = None,
    settings: WebhookSettings | None = None,
) -> CreatedEndpoint:
    """Register a URL for the integrator's events. ``owner`` (admin only) registers it for another
    integrator ("api_key:<id>"); by default the endpoint receives the caller's own cases' events."""
    settings = settings or get_webhook_settings()
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        raise InvalidInput(
            f"events must be some of {', '.join(EVENT_TYPES)}" + (f"; unknown: {unknown}" if unknown else ""),
            field="events",
        )
    if owner is not None and actor.role is not Role.admin and owner != who(actor):
        raise InvalidInput(
            "only an admin may register an endpoint for another integrator", field="owner"
        ).refusing(refusal(actor, "webhook", "new", owner))
    ssrf.resolve(url, allow_http=settings.allow_http, allow_networks=settings.allow_networks)
    secret = new_secret()
    endpoint = WebhookEndpoint(
        owner=owner or who(actor),
        url=url,
        events=sorted(set(events)),
        secret=secret,
        description=description,
        active=True,
        created_at=utcnow(),
        created_by=who(actor),
    )
    session.add(endpoint)
    session.flush()
    audit.record(
        session, actor, "webhook.create", "webhook", str(endpoint.id), {"url": url, "events": events}
    )
    return CreatedEndpoint(endpoint, secret)


def _visible(actor: Actor, endpoint: WebhookEndpoint | None) -> bool:
    return endpoint is not None and (actor.role is Role.admin or endpoint.owner == who(actor))


def get_endpoint(session: Session, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise EndpointNotFound(f"no webhook endpoint {endpoint_id}")
    if not _visible(actor, endpoint):  # another integrator's: answered as missing, audited
        raise EndpointNotFound(f"no webhook endpoint {endpoint_id}").refusing(
            refusal(actor, "webhook", str(endpoint_id), endpoint.owner)
        )
    return endpoint


def list_endpoints(session: Session, actor: Actor) -> list[WebhookEndpoint]:
    query = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
    if actor.role is not Role.admin:
        query = query.where(WebhookEndpoint.owner == who(actor))
    return list(session.scalars(query))


def rotate_secret(session: Session, actor: Actor, endpoint_id: int) -> CreatedEndpoint:
    """A new secret, effective for the next attempt of every delivery (the old one stops working)."""
    endpoint = get_endpoint(session, actor, endpoint_id)
    endpoint.secret = new_secret()
    audit.record(session, actor, "webhook.rotate_secret", "webhook", str(endpoint.id))
    return CreatedEndpoint(endpoint, endpoint.secret)


def deactivate(session: Session, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    """Stop sending to the endpoint: it gets no new deliveries; pending ones are dead-lettered by the worker
    when they come due (replayable once it is active again)."""
    endpoint = get_endpoint(session, actor, endpoint_id)
    endpoint.active = False
    audit.record(session, actor, "webhook.deactivate", "webhook", str(endpoint.id))
    return endpoint


def reactivate(session: Session, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    """Send to the endpoint again: new events reach it, and its dead letters can be replayed."""
    endpoint = get_endpoint(session, actor, endpoint_id)
    endpoint.active = True
    audit.record(session, actor, "webhook.reactivate", "webhook", str(endpoint.id))
    return endpoint
