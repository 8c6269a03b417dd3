"""Many threads posting to the same conversations at once (SQLite and PostgreSQL): no lost update to a
conversation's state, a retried message id counted once, the same state as posting in sequence, and an
audit chain that still verifies. Brand-new conversations are included: their first messages race to
create the state row."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from safeguard import audit
from safeguard.audit.models import AuditRecord
from safeguard.auth import Actor
from safeguard.store.db import Database
from safeguard.text import service
from safeguard.text.config import TextSettings
from safeguard.text.models import ConversationStateRow
from safeguard.text.state import ConversationState
from tests.text.fixtures import ADVERSARIAL, GROOMING

THREADS = 6
CONVERSATIONS = ("busy-1", "busy-2")


def _post(db: Database, conversation: str, author: str, text: str, message_id: str) -> None:
    settings = TextSettings()
    scorer, digest = service.scorer_for(settings)
    with db.session() as session:
        service.post_messages(
            session,
            Actor.system("tests"),
            conversation,
            [service.IncomingMessage(author, text, message_id)],
            settings=settings,
            scorer=scorer,
            model_digest=digest,
        )


def test_concurrent_posts_lose_nothing_and_count_retries_once(db: Database) -> None:
    chat = GROOMING + ADVERSARIAL["everyday"]
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker(t: int) -> None:
        start.wait()
        try:
            for i, (author, text) in enumerate(chat):
                if i % THREADS != t and (i + 1) % THREADS != t:
                    continue  # each message is sent by two threads: the second is a retry
                for conversation in CONVERSATIONS:
                    _post(db, conversation, author, text, f"m{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    with db.read_session() as session:
        rows = {r.conversation_id: r for r in session.scalars(select(ConversationStateRow))}
        assert set(rows) == set(CONVERSATIONS)
        for row in rows.values():
            state = ConversationState.from_dict(row.state)
            assert row.messages == state.messages == len(chat)  # every message once, none lost
            assert sorted(state.recent_ids) == sorted(f"m{i}" for i in range(len(chat)))
            assert sum(a.n for a in state.authors.values()) == len(chat)
        report = audit.verify(session)
        assert report.ok, report
        records = session.scalar(select(func.count()).select_from(AuditRecord))
        assert records == 2 * len(chat) * len(CONVERSATIONS)  # every request is audited, retries too
