"""20 moderators claim at once from 1,000 cases (threads; SQLite and PostgreSQL): none twice, none lost."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from safeguard.auth import Actor, Role
from safeguard.review import flows, queue
from safeguard.review.models import Case
from safeguard.store.db import Database
from tests.review.helpers import INTEGRATOR, REVIEW, match

CASES = 1_000
MODERATORS = 20


@pytest.mark.slow
def test_twenty_moderators_never_share_a_case(db: Database) -> None:
    with db.session() as session:
        for i in range(CASES):
            flows.open_case(
                session,
                INTEGRATOR,
                match(f"upload-{i}", entry=f"entry-{i}", account=f"u{i}"),
                settings=REVIEW,
            )
    claims: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(MODERATORS)

    def moderate(name: str) -> None:
        actor = Actor(kind="api_key", id=name, role=Role.moderator)
        mine: list[int] = []
        claims[name] = mine
        try:
            start.wait()
            while True:
                with db.session() as session:
                    case = queue.claim_next(session, actor, settings=REVIEW)
                    if case is None:
                        return
                    mine.append(case.id)
        except BaseException as exc:  # surfaced below, with the thread's name
            errors.append(exc)

    threads = [threading.Thread(target=moderate, args=(f"m{i}",)) for i in range(MODERATORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not errors, errors
    claimed = [case_id for ids in claims.values() for case_id in ids]
    assert len(claimed) == CASES, "a case was lost or claimed twice"
    assert Counter(claimed).most_common(1)[0][1] == 1
    assert sum(1 for ids in claims.values() if ids) > 1  # they really raced
    with db.read_session() as session:
        holders = {row[0]: row[1] for row in session.execute(select(Case.id, Case.lease_holder))}
        assert session.scalar(select(func.count()).select_from(Case).where(Case.lease_holder.is_(None))) == 0
    for name, ids in claims.items():
        assert all(holders[case_id] == f"api_key:{name}" for case_id in ids)
