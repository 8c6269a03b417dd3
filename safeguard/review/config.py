"""Review settings, from ``SAFEGUARD_REVIEW_*`` environment variables.

| variable | default | meaning |
|---|---|---|
| ``SAFEGUARD_REVIEW_LEASE_SECONDS`` | ``900`` | how long a claim holds a case |
| ``SAFEGUARD_REVIEW_SLA_CONTENT_HOURS`` | ``24`` | time to decision for content cases |
| ``SAFEGUARD_REVIEW_SLA_CONVERSATION_HOURS`` | ``4`` | ... for conversation cases |
| ``SAFEGUARD_REVIEW_SLA_ACCOUNT_HOURS`` | ``48`` | ... for account cases |
| ``SAFEGUARD_REVIEW_SLA_LIVE_RISK_MINUTES`` | ``60`` | ... for any case with a child at risk now |
| ``SAFEGUARD_REVIEW_FOUR_EYES_ACTIONS`` | report_to_authorities, suspend_account | need a 2nd moderator |
| ``SAFEGUARD_REVIEW_FOUR_EYES_LABELS`` | ``[]`` | labels a second moderator confirms |
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReviewSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFEGUARD_REVIEW_", env_file=".env", extra="ignore")

    lease_seconds: float = Field(default=900, gt=0)
    sla_content_hours: float = Field(default=24, gt=0)
    sla_conversation_hours: float = Field(default=4, gt=0)
    sla_account_hours: float = Field(default=48, gt=0)
    sla_live_risk_minutes: float = Field(default=60, gt=0)
    four_eyes_actions: list[str] = Field(default_factory=lambda: ["report_to_authorities", "suspend_account"])
    four_eyes_labels: list[str] = Field(default_factory=list)

    def sla(self, kind: str, live_risk: bool) -> timedelta:
        if live_risk:
            return timedelta(minutes=self.sla_live_risk_minutes)
        hours = {
            "content": self.sla_content_hours,
            "conversation": self.sla_conversation_hours,
            "account": self.sla_account_hours,
        }[kind]
        return timedelta(hours=hours)


@lru_cache(maxsize=1)
def get_review_settings() -> ReviewSettings:
    return ReviewSettings()
