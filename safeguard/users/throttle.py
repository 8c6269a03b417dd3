"""Per-client sign-in throttle: failures counted per (client address, user name), in memory.

The account lock-out (``users.service.login``) is shared by everyone who types that user name, so an
attacker could use it to keep a real user out. The throttle stops one client first: after
``attempts`` failed sign-ins for one user name within ``window`` that client gets
:class:`LoginThrottled` (429 with ``Retry-After``) without a password check, while the same user signing
in from another address is not affected. A success clears the client's count. The table is bounded
(``max_entries``, oldest first out), so a flood of made-up names cannot grow memory without end.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from safeguard.errors import TooManyRequests


class LoginThrottled(TooManyRequests):
    code = "login-throttled"
    title = "Too many sign-in attempts"


@dataclass(slots=True)
class _Entry:
    failures: int
    first_at: float


class LoginThrottle:
    def __init__(self, attempts: int, window_s: float, *, max_entries: int = 100_000) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, client: str, username: str, now: float | None = None) -> None:
        """Raise :class:`LoginThrottled` when this client has used up its attempts for this name."""
        now = time.monotonic() if now is None else now
        with self._lock:
            entry = self._entries.get((client, username))
            if entry is None:
                return
            left = entry.first_at + self.window_s - now
            if left <= 0:
                del self._entries[(client, username)]
                return
            if entry.failures >= self.attempts:
                raise LoginThrottled(
                    f"too many failed sign-ins from this address; try again in {int(left) + 1} s",
                    retry_after=left,
                )

    def failed(self, client: str, username: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        key = (client, username)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.first_at + self.window_s <= now:
                entry = self._entries[key] = _Entry(0, now)
            entry.failures += 1
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def succeeded(self, client: str, username: str) -> None:
        with self._lock:
            self._entries.pop((client, username), None)
