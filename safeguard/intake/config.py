"""Intake settings: ``SAFEGUARD_INTAKE_*`` environment variables, and the linking and priority weights.

| variable | default | meaning |
|---|---|---|
| ``SAFEGUARD_INTAKE_DEFAULT_REGION`` | ``GB`` | region for phone numbers written without a country code |
| ``SAFEGUARD_INTAKE_CONFIG`` | unset | TOML file whose ``[linking]``, ``[priority]`` tables set weights |

Every weight below is documented in docs/intake.md ("Linking" and "Prioritisation"); the defaults are the
values the linking bench (bench/intake.py) was tuned and measured with.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from safeguard.intake.errors import InvalidConfig


class LinkConfig(BaseModel):
    """Weights of linking evidence: two suspects merge when their evidence reaches ``threshold``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(default=1.0, gt=0)
    # Strong: each alone merges.
    account_weight: float = Field(default=1.0, ge=0, description="same account id on the same platform")
    email_weight: float = Field(default=1.0, ge=0, description="same (normalised) email address")
    phone_weight: float = Field(default=1.0, ge=0, description="same phone number (E.164)")
    screen_name_weight: float = Field(default=1.0, ge=0, description="same screen name on the same platform")
    # Medium: two different pieces (or one with weak evidence) merge.
    ip_weight: float = Field(default=0.6, ge=0, description="same IP address within ip_window_hours")
    media_weight: float = Field(default=0.6, ge=0, description="same file (MD5) or PDQ-matched media")
    device_weight: float = Field(default=0.6, ge=0, description="same device id")
    # Weak: only adds to other evidence; all weak evidence between two suspects together is capped.
    username_weight: float = Field(default=0.4, ge=0, description="similar usernames (variant key)")
    weak_cap: float = Field(default=0.45, ge=0, description="most that weak evidence adds up to")
    media_cap: float = Field(default=0.6, ge=0, description="most that media in common adds up to")
    ip_window_hours: float = Field(default=72.0, gt=0)
    # 15: every neighbour found with 16 exact chunk probes; up to 31 with 272 probes (17x the cost).
    pdq_radius: int = Field(default=15, ge=0, le=31)
    # An identifier seen for this many otherwise unlinked suspects is treated as shared and stops counting.
    shared_ip_suspects: int = Field(default=4, ge=2)
    shared_media_suspects: int = Field(default=3, ge=2)
    shared_device_suspects: int = Field(default=3, ge=2)
    shared_username_suspects: int = Field(default=3, ge=2)
    # Addresses (CIDR) known to be shared: carrier NAT pools, VPN exits, public Wi-Fi, the force's own proxy.
    shared_networks: tuple[str, ...] = ()
    min_username_key_length: int = Field(default=5, ge=1)

    @model_validator(mode="after")
    def _weak_cannot_merge_alone(self) -> LinkConfig:
        if self.weak_cap >= self.threshold:
            raise ValueError("weak_cap must stay below threshold: weak evidence must never merge by itself")
        if self.media_cap >= self.threshold:
            raise ValueError("media_cap must stay below threshold: shared media alone must never merge")
        return self


class PriorityConfig(BaseModel):
    """Points per risk factor and the tier cut-offs (see docs/intake.md, "Prioritisation")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    contact_offending: float = 60
    grooming_identified_child: float = 50
    grooming: float = 20
    arranging_to_meet: float = 55
    sextortion: float = 40
    self_generated_identifiable_child: float = 35
    access_to_children: float = 35
    platform_escalated: float = 10
    minor_to_minor: float = -15
    category_a_file: float = 3.0
    category_b_file: float = 1.5
    category_c_file: float = 0.5
    unclassified_file: float = 0.25
    volume_cap: float = 30
    category_a_present: float = 15
    escalation: float = 10
    recent_days: float = 30
    recent: float = 10
    stale_days: float = 365
    stale: float = -10
    previous_package: float = 10
    previous_charge: float = 15
    referral: float = 2
    referral_cap: float = 10
    # These factors put a package in the immediate tier whatever its score.
    immediate_factors: tuple[str, ...] = (
        "contact_offending",
        "arranging_to_meet",
        "grooming_identified_child",
    )
    immediate_score: float = 90
    high_score: float = 50
    medium_score: float = 20


class IntakeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    linking: LinkConfig = LinkConfig()
    priority: PriorityConfig = PriorityConfig()


class IntakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFEGUARD_INTAKE_", env_file=".env", extra="ignore")

    default_region: str = Field(default="GB", min_length=2, max_length=2)
    config: Path | None = None


def load_config(path: Path | None) -> IntakeConfig:
    """The weights: defaults, overridden by the TOML file at ``path`` when given."""
    if path is None:
        return IntakeConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return IntakeConfig.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidConfig(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidConfig(f"{path}: {where}: {first['msg']}") from None


@lru_cache(maxsize=1)
def get_intake_settings() -> IntakeSettings:
    return IntakeSettings()


@lru_cache(maxsize=1)
def get_intake_config() -> IntakeConfig:
    return load_config(get_intake_settings().config)
