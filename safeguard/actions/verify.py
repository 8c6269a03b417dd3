"""Verify Safeguard webhook signatures. Standard library only: copy this file into any receiver.

Every delivery carries::

    Safeguard-Signature: t=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
    Safeguard-Idempotency-Key: 1f0c2b9e-...   (the same on every retry of one event: process it once)

``v1`` is the hex HMAC-SHA256, keyed with the endpoint's secret, of ``f"{t}.{raw body}"``. To verify:
split the header on ``,``, recompute the HMAC over the timestamp, a dot and the raw body bytes exactly as
received (before any JSON parsing), compare in constant time with any ``v1`` value, and refuse timestamps
more than five minutes from your clock (replay protection). The same in other languages:

- Node: ``crypto.createHmac("sha256", secret).update(`${t}.${rawBody}`).digest("hex")`` and
  ``crypto.timingSafeEqual``.
- Go: ``mac := hmac.New(sha256.New, []byte(secret))``, write ``t + "." + body``,
  ``hex.EncodeToString(mac.Sum(nil))``, compare with ``hmac.Equal``.
- Shell: ``printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac "$secret"``.

Usage::

    from safeguard.actions.verify import verify_signature, InvalidSignature
    try:
        verify_signature(secret, request.body, request.headers["Safeguard-Signature"])
    except InvalidSignature:
        return 400
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

SIGNATURE_HEADER = "Safeguard-Signature"
IDEMPOTENCY_HEADER = "Safeguard-Idempotency-Key"
DEFAULT_TOLERANCE_SECONDS = 300
# A unix time in seconds has at most 11 digits until the year 5138; anything longer (or non-ASCII, signed,
# with underscores, all of which int() accepts) is refused before it can overflow the float comparison.
_TIMESTAMP = re.compile(r"[0-9]{1,11}")
# hmac.compare_digest raises TypeError on non-ASCII str, so a v1 value must look like a hex digest first.
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


class InvalidSignature(Exception):
    """The header is missing or malformed, the signature does not match, or the timestamp is too old."""


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value Safeguard sends (also handy for testing a receiver)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={compute_signature(secret, t, body)}"


def verify_signature(
    secret: str,
    body: bytes,
    header: str | None,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check a delivery; return its timestamp, or raise :class:`InvalidSignature`."""
    if not header:
        raise InvalidSignature(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            if not _TIMESTAMP.fullmatch(value):
                raise InvalidSignature("the timestamp is not a unix time in whole seconds")
            timestamp = int(value)
        elif key == "v1" and _HEX_DIGEST.fullmatch(value):
            candidates.append(value)
    if timestamp is None or not candidates:
        raise InvalidSignature("the header needs t=<timestamp> and v1=<signature>")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise InvalidSignature("the timestamp is outside the tolerance (replayed or clock skew)")
    expected = compute_signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise InvalidSignature("the signature does not match")
    return timestamp
