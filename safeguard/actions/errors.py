"""Errors of the actions capability."""

from __future__ import annotations

from safeguard.errors import Conflict, InvalidInput, NotFound


class EndpointNotFound(NotFound):
    code = "webhook-not-found"
    title = "Webhook endpoint not found"


class DeliveryNotFound(NotFound):
    code = "delivery-not-found"
    title = "Delivery not found"


class UnsafeWebhookUrl(InvalidInput):
    """The URL points at a private, loopback or link-local address (SSRF), or is not http(s)."""

    code = "unsafe-webhook-url"
    title = "Webhook URL not allowed"


class NotDeadLettered(Conflict):
    code = "not-dead-lettered"
    title = "Delivery is not dead-lettered"


class EndpointInactive(Conflict):
    """Replaying to a deactivated endpoint would only dead-letter the delivery again."""

    code = "webhook-endpoint-inactive"
    title = "Webhook endpoint is deactivated"
