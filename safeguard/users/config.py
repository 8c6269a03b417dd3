"""Web sign-in settings, from ``SAFEGUARD_WEB_*`` environment variables.

| variable | default | meaning |
|---|---|---|
| ``SAFEGUARD_WEB_THROTTLE_ATTEMPTS`` | ``5`` | failures for one user name that make one address wait |
| ``SAFEGUARD_WEB_THROTTLE_MINUTES`` | ``15`` | ... counted over this long; the client waits until it ends |
| ``SAFEGUARD_WEB_LOCKOUT_ATTEMPTS`` | ``20`` | failures in a row, from any address, that lock an account |
| ``SAFEGUARD_WEB_LOCKOUT_MINUTES`` | ``15`` | how long a locked account stays locked |
| ``SAFEGUARD_WEB_SESSION_HOURS`` | ``12`` | a session ends this long after sign-in, whatever happens |
| ``SAFEGUARD_WEB_IDLE_MINUTES`` | ``60`` | a session ends after this long without a request |
| ``SAFEGUARD_WEB_SECURE_COOKIES`` | ``false`` | mark cookies Secure even over HTTP (TLS at a proxy) |
| ``SAFEGUARD_WEB_BREAK_AFTER_ITEMS`` | ``40`` | prompt a break after this many media items viewed |
| ``SAFEGUARD_WEB_BREAK_AFTER_MINUTES`` | ``50`` | ... or after this long since the last break |
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFEGUARD_WEB_", env_file=".env", extra="ignore")

    throttle_attempts: int = Field(default=5, ge=1, le=1000)
    throttle_minutes: float = Field(default=15, gt=0)
    lockout_attempts: int = Field(default=20, ge=1, le=1000)
    lockout_minutes: float = Field(default=15, gt=0)
    session_hours: float = Field(default=12, gt=0)
    idle_minutes: float = Field(default=60, gt=0)
    secure_cookies: bool = False
    break_after_items: int = Field(default=40, ge=1)
    break_after_minutes: float = Field(default=50, gt=0)

    @property
    def lockout(self) -> timedelta:
        return timedelta(minutes=self.lockout_minutes)

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(hours=self.session_hours)

    @property
    def idle_timeout(self) -> timedelta:
        return timedelta(minutes=self.idle_minutes)

    @property
    def break_interval(self) -> timedelta:
        return timedelta(minutes=self.break_after_minutes)


@lru_cache(maxsize=1)
def get_web_settings() -> WebSettings:
    return WebSettings()
