"""A short-lived, per-process cache of authenticated API keys.

Looking a key up is one indexed query, but on the matching path it was most of the request: profiled
with py-spy under load (`POST /v1/match`, 100k hashes, one worker), the role check took 12% of all
samples against 19% for the whole request. So a worker remembers, for ``ttl`` seconds, which key digests
it found valid. What that costs: a key revoked in another process (the CLI, another worker) keeps working
in this one for at most ``ttl`` seconds; a revocation through this process clears the cache at once.
Unknown and revoked keys are never cached, so a bad key always reaches the database.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from safeguard.auth.roles import Role


@dataclass(frozen=True, slots=True)
class CachedKey:
    key_id: str
    role: Role
    expires: float


class KeyCache:
    """Key digest -> (key id, role), each entry good for ``ttl`` seconds; ``ttl=0`` turns it off."""

    def __init__(self, ttl: float, *, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, CachedKey] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> CachedKey | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry.expires <= time.monotonic():
            with self._lock:
                self._entries.pop(digest, None)
            return None
        return entry

    def put(self, digest: str, key_id: str, role: Role, *, valid_for: float | None = None) -> None:
        """Remember the key for ``ttl`` seconds, or ``valid_for`` if sooner (a key that expires)."""
        lifetime = self.ttl if valid_for is None else min(self.ttl, valid_for)
        if lifetime <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # keys are few; a flood of valid keys just costs lookups
            self._entries[digest] = CachedKey(key_id, role, time.monotonic() + lifetime)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
