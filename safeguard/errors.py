"""The one error model of Safeguard.

Every capability raises subclasses of :class:`SafeguardError` (kept in its own ``errors.py``). The HTTP
layer turns them into RFC 9457 ``application/problem+json`` bodies (``safeguard.api.errors``) and the CLI
into one line on stderr with a non-zero exit (``safeguard.cli.main``). Neither layer needs to know the
subclasses: the status, the problem type and the message travel on the exception itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class TenantRefusal:
    """Why a resource was answered "not found": it exists, but belongs to another owner (a tenant).

    Attached to the ordinary not-found error (:meth:`SafeguardError.refusing`) so the client sees exactly
    what a missing resource looks like, while the HTTP layer writes a ``tenant.refused`` audit record.
    ``actor`` is the refused :class:`~safeguard.auth.Actor` (typed loosely: errors come before auth).
    """

    actor: Any
    object_type: str
    object_id: str
    owner: str


class SafeguardError(Exception):
    """Base of every error Safeguard raises on purpose.

    ``status`` is the HTTP status the API answers with; ``code`` is a short slug that becomes the problem
    ``type`` (``/problems/<code>``); ``title`` is the fixed summary of that kind of problem and ``detail``
    (the exception message) says what exactly was wrong, naming the field or item.
    """

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra
        self.refusal: TenantRefusal | None = None

    def refusing(self, refusal: TenantRefusal) -> SafeguardError:
        """This error, marked as a cross-tenant refusal (see :class:`TenantRefusal`)."""
        self.refusal = refusal
        return self

    def to_problem(self) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": f"/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.field is not None:
            problem["field"] = self.field
        problem.update(self.extra)
        return problem


class InvalidInput(SafeguardError):
    """The input is well-formed but a value is wrong (bad hash, unknown enum value, out of range)."""

    status = 422
    code = "invalid-input"
    title = "Invalid input"


class MalformedInput(SafeguardError):
    """The input cannot be parsed at all (broken JSON, corrupt file, wrong file format)."""

    status = 400
    code = "malformed-input"
    title = "Malformed input"


class NotFound(SafeguardError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(SafeguardError):
    """The request clashes with the current state (duplicate name, already decided, lease held)."""

    status = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLarge(SafeguardError):
    status = 413
    code = "payload-too-large"
    title = "Payload too large"


class UnsupportedMedia(SafeguardError):
    status = 415
    code = "unsupported-media"
    title = "Unsupported media"


class Unauthorized(SafeguardError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"


class Forbidden(SafeguardError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class TooManyRequests(SafeguardError):
    """The caller must slow down (a login throttle, a full queue); ``retry_after`` seconds is sent as the
    ``Retry-After`` header and the problem's ``retry_after`` member."""

    status = 429
    code = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: float, field: str | None = None, **extra: Any) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(detail, field=field, retry_after=self.retry_after, **extra)


class ServiceUnavailable(SafeguardError):
    """A dependency is not ready (schema not migrated, index still loading)."""

    status = 503
    code = "unavailable"
    title = "Service unavailable"
