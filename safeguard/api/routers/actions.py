"""Webhook endpoints (integrators manage their own; admins all), deliveries, dead letters and replay."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from safeguard.actions import endpoints, outbox
from safeguard.actions.config import WebhookSettings, get_webhook_settings
from safeguard.actions.models import WebhookDelivery, WebhookEndpoint
from safeguard.api.deps import db_session, read_session, require_roles
from safeguard.auth import Actor, Role
from safeguard.review.events import EVENT_TYPES

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
integrators = require_roles(Role.integrator)

EndpointId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1)]
EventType = Literal["case.opened", "decision.made", "case.escalated"]
assert set(EventType.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]


def webhook_settings(request: Request) -> WebhookSettings:
    settings: WebhookSettings | None = getattr(request.app.state, "webhook_settings", None)
    return settings or get_webhook_settings()


class WebhookOut(BaseModel):
    id: int
    owner: str
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookOut:
        return cls.model_validate(endpoint, from_attributes=True)


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret. Shown only here (and on rotation); store it now.")


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=2000)
    events: list[EventType] = Field(min_length=1, max_length=10)
    description: str = Field(default="", max_length=500)
    owner: str | None = Field(
        default=None, max_length=200, description='Admins: the integrator it is for ("api_key:<id>").'
    )


class DeliveryOut(BaseModel):
    id: int
    endpoint_id: int
    event_id: str
    event_type: str
    ordering_key: str
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None

    @classmethod
    def of(cls, row: WebhookDelivery) -> DeliveryOut:
        return cls.model_validate(row, from_attributes=True)


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class ReplayOut(BaseModel):
    replayed: int


@router.post("", response_model=WebhookCreated, status_code=201, summary="Register a webhook endpoint")
def create_webhook(
    body: WebhookCreate,
    actor: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(db_session)],
    settings: Annotated[WebhookSettings, Depends(webhook_settings)],
) -> WebhookCreated:
    created = endpoints.create_endpoint(
        session,
        actor,
        url=body.url,
        events=body.events,
        description=body.description,
        owner=body.owner,
        settings=settings,
    )
    return WebhookCreated(**WebhookOut.of(created.endpoint).model_dump(), secret=created.secret)


@router.get("", response_model=list[WebhookOut], summary="List webhook endpoints")
def list_webhooks(
    actor: Annotated[Actor, Depends(integrators)], session: Annotated[Session, Depends(read_session)]
) -> list[WebhookOut]:
    return [WebhookOut.of(e) for e in endpoints.list_endpoints(session, actor)]


@router.get("/deliveries", response_model=list[DeliveryOut], summary="Deliveries; status=dead: dead letters")
def list_deliveries(
    actor: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(read_session)],
    status: Literal["pending", "delivered", "dead"] | None = None,
    endpoint_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    rows = outbox.list_deliveries(
        session, actor, status=status, endpoint_id=endpoint_id, after=after, limit=limit
    )
    return [DeliveryOut.of(r) for r in rows]


@router.get("/deliveries/{delivery_id}", response_model=DeliveryOut, summary="One delivery")
def get_delivery(
    delivery_id: DeliveryId,
    actor: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(read_session)],
) -> DeliveryOut:
    return DeliveryOut.of(outbox.get_delivery(session, actor, delivery_id))


@router.post("/deliveries/{delivery_id}/replay", response_model=DeliveryOut, summary="Replay a dead letter")
def replay_delivery(
    delivery_id: DeliveryId,
    actor: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(db_session)],
) -> DeliveryOut:
    return DeliveryOut.of(outbox.replay(session, actor, delivery_id))


@router.post("/dead-letters/replay", response_model=ReplayOut, summary="Replay all dead letters")
def replay_dead_letters(
    actor: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(db_session)],
    body: ReplayIn | None = None,
) -> ReplayOut:
    endpoint_id = body.endpoint_id if body else None
    if endpoint_id is not None:
        endpoints.get_endpoint(session, actor, endpoint_id)
    return ReplayOut(replayed=outbox.replay_dead(session, actor, endpoint_id=endpoint_id))


@router.get("/{endpoint_id}", response_model=WebhookOut, summary="One webhook endpoint")
def get_webhook(
    endpoint_id: EndpointId,
    actor: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(read_session)],
) -> WebhookOut:
    return WebhookOut.of(endpoints.get_endpoint(session, actor, endpoint_id))


@router.post("/{endpoint_id}/rotate-secret", response_model=WebhookCreated, summary="New signing secret")
def rotate_secret(
    endpoint_id: EndpointId,
    actor: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(db_session)],
) -> WebhookCreated:
    rotated = endpoints.rotate_secret(session, actor, endpoint_id)
    return WebhookCreated(**WebhookOut.of(rotated.endpoint).model_dump(), secret=rotated.secret)


@router.delete("/{endpoint_id}", response_model=WebhookOut, summary="Deactivate a webhook endpoint")
def deactivate_webhook(
    endpoint_id: EndpointId,
    actor: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(db_session)],
) -> WebhookOut:
    return WebhookOut.of(endpoints.deactivate(session, actor, endpoint_id))


@router.post("/{endpoint_id}/reactivate", response_model=WebhookOut, summary="Reactivate a webhook endpoint")
def reactivate_webhook(
    endpoint_id: EndpointId,
    actor: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(db_session)],
) -> WebhookOut:
    return WebhookOut.of(endpoints.reactivate(session, actor, endpoint_id))
