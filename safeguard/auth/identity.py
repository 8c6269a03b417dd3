"""One identity behind every credential: the tenant (owner) of what an integrator creates, and the person
behind a moderator's API key and UI login.

**Owners.** Everything an integrator creates (conversations, cases from its scans and reports, webhook
endpoints and their deliveries) is stored under the identity of the key that created it, ``api_key:<id>``
(:func:`owner_of`). Another integrator asking for it is answered exactly as if it did not exist (404, no
existence leak) and the refusal is audited as ``tenant.refused`` (:func:`refusal`, :func:`record_refusal`).

**People.** An API key may be tied to a UI user (``api_keys.user_id``). Four-eyes rules compare people, not
credentials: :func:`same_person` treats ``api_key:7`` (tied to alice) and ``user:alice`` as one person, so
proposing a decision with a key and confirming it in the UI is refused.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard import audit
from safeguard.auth.models import ApiKey
from safeguard.auth.roles import Actor
from safeguard.errors import TenantRefusal
from safeguard.store.db import Database
from safeguard.users.models import User


def owner_of(actor: Actor) -> str:
    """The identity stored for owners and moderators ("api_key:7", "user:alice", "cli:root")."""
    return f"{actor.kind}:{actor.id}"


def refusal(actor: Actor, object_type: str, object_id: str, owner: str) -> TenantRefusal:
    return TenantRefusal(actor=actor, object_type=object_type, object_id=object_id, owner=owner)


def record_refusal(db: Database, refused: TenantRefusal) -> None:
    """Write the ``tenant.refused`` audit record in its own transaction (the request's was rolled back or
    read-only)."""
    actor = refused.actor
    if not isinstance(actor, Actor):
        return
    with db.session() as session:
        audit.record(
            session,
            actor,
            "tenant.refused",
            refused.object_type,
            refused.object_id[:200],
            {"owner": refused.owner, "asked_by": owner_of(actor)},
        )


# --- people -----------------------------------------------------------------------------------------------


def _person(session: Session, identity: str) -> str:
    """The person behind a stored identity: ``api_key:7`` tied to alice is ``user:alice``."""
    kind, _, ident = identity.partition(":")
    if kind == "api_key" and ident.isdigit() and len(ident) <= 18:
        username = session.scalar(
            select(User.username).join(ApiKey, ApiKey.user_id == User.id).where(ApiKey.id == int(ident))
        )
        if username is not None:
            return f"user:{username}"
    return identity


def _identity(who: Actor | str) -> str:
    return owner_of(who) if isinstance(who, Actor) else who


def same_person(session: Session, a: Actor | str, b: Actor | str) -> bool:
    """Whether two credentials (actors or stored identities) are one person (see the module text)."""
    first, second = _identity(a), _identity(b)
    return first == second or _person(session, first) == _person(session, second)


def identities_of(session: Session, who: Actor | str) -> list[str]:
    """Every stored identity of the person behind ``who``: their UI login and each key tied to them."""
    person = _person(session, _identity(who))
    found = {_identity(who), person}
    kind, _, username = person.partition(":")
    if kind == "user":
        keys: Iterable[int] = session.scalars(
            select(ApiKey.id).join(User, ApiKey.user_id == User.id).where(User.username == username)
        )
        found.update(f"api_key:{key_id}" for key_id in keys)
    return sorted(found)
