"""API keys, roles and the acting identity."""

from safeguard.auth.roles import Actor, Role

__all__ = ["Actor", "Role"]
