"""Grooming-detection settings, from ``SAFEGUARD_TEXT_*`` environment variables.

| variable | default | meaning |
|---|---|---|
| ``SAFEGUARD_TEXT_MODEL_PATH`` | the shipped model | model file the API scores with |
| ``SAFEGUARD_TEXT_THRESHOLD`` | the model's own | risk at which an alert is raised (0-1) |
| ``SAFEGUARD_TEXT_PENDING_TEXT_SECONDS`` | ``0`` | keep text of conversations without alert (0: never) |
| ``SAFEGUARD_TEXT_ALERT_TEXT_DAYS`` | ``90`` | keep text of conversations that raised an alert |
| ``SAFEGUARD_TEXT_MAX_BATCH`` | ``1000`` | most messages in one request |
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TextSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFEGUARD_TEXT_", env_file=".env", extra="ignore")

    model_path: Path | None = Field(default=None, description="Model file; the shipped one when unset.")
    threshold: float | None = Field(default=None, gt=0, le=1, description="Alert threshold override.")
    pending_text_seconds: int = Field(
        default=0, ge=0, description="Text kept for conversations without alert."
    )
    alert_text_days: float = Field(default=90, gt=0, description="Text kept for conversations with an alert.")
    max_batch: int = Field(default=1000, ge=1, le=100_000)


@lru_cache(maxsize=1)
def get_text_settings() -> TextSettings:
    return TextSettings()
