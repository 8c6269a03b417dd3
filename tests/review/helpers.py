"""Signals and settings shared by the review and actions tests."""

from __future__ import annotations

from safeguard.actions.config import WebhookSettings
from safeguard.auth import Actor, Role
from safeguard.review.config import ReviewSettings
from safeguard.review.signals import GroomingAlertSignal, MediaMatchSignal, Reach
from safeguard.text.vocabulary import Behaviour

INTEGRATOR = Actor(kind="api_key", id="100", role=Role.integrator)
MOD_A = Actor(kind="api_key", id="201", role=Role.moderator)
MOD_B = Actor(kind="api_key", id="202", role=Role.moderator)
SENIOR = Actor(kind="api_key", id="300", role=Role.admin)

REVIEW = ReviewSettings(four_eyes_actions=["report_to_authorities"])
# Loopback is allowed explicitly, as an operator would for an on-premises receiver.
WEBHOOKS = WebhookSettings(
    allow_networks=["127.0.0.0/8"],
    allow_http=True,
    retry_window_seconds=30,
    backoff_base_seconds=0.02,
    backoff_max_seconds=0.1,
    timeout_seconds=5,
    lease_seconds=2,
    concurrency=4,
)


def match(
    content_id: str,
    *,
    entry: str = "entry-1",
    labels: list[str] | None = None,
    distance: int = 4,
    account: str | None = "uploader-1",
    views: int = 0,
) -> MediaMatchSignal:
    return MediaMatchSignal.model_validate(
        {
            "content_id": content_id,
            "account_id": account,
            "bank": "known-csam",
            "bank_content_id": entry,
            "distance": distance,
            "labels": labels if labels is not None else ["A1"],
            "reach": Reach(views=views).model_dump(),
        }
    )


def alert(
    conversation_id: str, *, behaviours: list[Behaviour], risk: float = 0.9, live: bool = True
) -> GroomingAlertSignal:
    return GroomingAlertSignal(
        conversation_id=conversation_id,
        account_id="adult-1",
        child_account_id="child-1",
        risk=risk,
        behaviours=behaviours,
        reasons=["asked to meet after school"],
        live=live,
    )
