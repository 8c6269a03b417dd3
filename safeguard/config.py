"""Settings: one typed place, read from ``SAFEGUARD_*`` environment variables (and a ``.env`` file).

| variable | default | meaning |
|---|---|---|
| ``SAFEGUARD_HOME`` | ``./safeguard-data`` | data directory: the SQLite file, media, indexes |
| ``SAFEGUARD_DATABASE_URL`` | ``$SAFEGUARD_HOME/safeguard.db`` (SQLite) | SQLAlchemy URL (PostgreSQL: prod) |
| ``SAFEGUARD_MEDIA_DIR`` | ``$SAFEGUARD_HOME/media`` | where kept media (evidence) is stored |
| ``SAFEGUARD_LOG_LEVEL`` | ``INFO`` | Python logging level name |
| ``SAFEGUARD_MAX_BODY_BYTES`` | ``52428800`` (50 MB) | largest HTTP request body accepted |
| ``SAFEGUARD_AUDIT_KEY`` | unset | the audit chain's HMAC key, hex (else the key file) |
| ``SAFEGUARD_AUDIT_KEY_FILE`` | ``$SAFEGUARD_HOME/audit.key`` | key file; generated (0600) if absent |
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFEGUARD_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path("./safeguard-data"), description="Data directory.")
    database_url: str | None = Field(default=None, description="SQLAlchemy database URL.")
    media_dir: Path | None = Field(default=None, description="Directory for kept media.")
    log_level: str = Field(default="INFO", description="Logging level name.")
    max_body_bytes: int = Field(default=50 * 1024 * 1024, ge=1024, description="Largest request body.")
    audit_key: SecretStr | None = Field(default=None, description="Audit chain HMAC key (hex).")
    audit_key_file: Path | None = Field(default=None, description="File holding the audit key.")
    auth_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="How long a worker trusts a key it has checked; a revocation made in another process "
        "takes effect within this time (0: check every request).",
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'safeguard.db').resolve()}"

    @property
    def resolved_media_dir(self) -> Path:
        return (self.media_dir or self.home / "media").resolve()

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
