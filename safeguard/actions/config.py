"""Webhook settings, from ``SAFEGUARD_WEBHOOK_*`` environment variables.

| variable | default | meaning |
|---|---|---|
| ``SAFEGUARD_WEBHOOK_ALLOW_NETWORKS`` | ``[]`` | CIDRs allowed despite the deny list (JSON) |
| ``SAFEGUARD_WEBHOOK_ALLOW_HTTP`` | ``false`` | accept ``http://`` URLs (default: HTTPS only) |
| ``SAFEGUARD_WEBHOOK_RETRY_WINDOW_SECONDS`` | ``259200`` (3 days) | retry this long, then dead-letter |
| ``SAFEGUARD_WEBHOOK_BACKOFF_BASE_SECONDS`` | ``10`` | first retry delay; doubles each attempt |
| ``SAFEGUARD_WEBHOOK_BACKOFF_MAX_SECONDS`` | ``3600`` | longest delay between attempts |
| ``SAFEGUARD_WEBHOOK_TIMEOUT_SECONDS`` | ``10`` | total deadline of one attempt (connect to last byte read) |
| ``SAFEGUARD_WEBHOOK_LEASE_SECONDS`` | ``60`` | a worker that dies mid-send frees the delivery after this |
|  |  | (at least twice the timeout) |
| ``SAFEGUARD_WEBHOOK_CONCURRENCY`` | ``4`` | requests in flight per worker |
| ``SAFEGUARD_WEBHOOK_ENDPOINT_CONCURRENCY`` | ``2`` | requests in flight per endpoint, all workers together |
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFEGUARD_WEBHOOK_", env_file=".env", extra="ignore")

    allow_networks: list[str] = Field(default_factory=list)
    allow_http: bool = False
    retry_window_seconds: float = Field(default=3 * 24 * 3600, ge=0)
    backoff_base_seconds: float = Field(default=10, gt=0)
    backoff_max_seconds: float = Field(default=3600, gt=0)
    timeout_seconds: float = Field(default=10, gt=0)
    lease_seconds: float = Field(default=60, gt=0)
    concurrency: int = Field(default=4, ge=1, le=256)
    endpoint_concurrency: int = Field(default=2, ge=1, le=256)
    batch_size: int = Field(default=50, ge=1, le=10_000)


@lru_cache(maxsize=1)
def get_webhook_settings() -> WebhookSettings:
    return WebhookSettings()
